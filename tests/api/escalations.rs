//! `/v1/escalations`: submitting an escalation (the answer, its number and SLA clock, its
//! `created` event), the shape of the body, who sees what, and customers that escalations keep
//! from being deleted. The dry run, the list, notes, criteria and lifecycle have modules of
//! their own.
//!
//! Also home to steps the other escalation modules (and `remediation`) share: the dry run's
//! path, the audit trail, a body of another severity and category, and a premium customer's.

use chrono::Duration;
use migration::{Migrator, MigratorTrait};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::customers::{Fields, edited, without};
use crate::helpers::{
    ESCALATIONS, TestApp, escalation_body, escalation_path, notes_path, timestamp,
};
use crate::world::World;

/// `/v1/escalations/validate`, the dry run.
pub(crate) const VALIDATE: &str = "/v1/escalations/validate";

fn events_path(id: Uuid) -> String {
    format!("{}/events", escalation_path(id))
}

/// The audit trail of escalation `id` as `key`, oldest first.
pub(crate) async fn audit_trail(app: &TestApp, key: &str, id: Uuid) -> Vec<Value> {
    app.get(&events_path(id), key).await.items().clone()
}

/// `body` with this severity and category.
pub(crate) fn rated(body: &Value, severity: &str, category: &str) -> Value {
    let rating = [("severity", json!(severity)), ("category", json!(category))];
    edited(body.clone(), &rating)
}

/// An escalation body like the world's, for a new premium customer of the world's partner.
pub(crate) async fn premium_body(world: &World) -> Value {
    let partner = &world.partner;
    escalation_body(
        world
            .app
            .create_escalatable_customer(partner, "premium")
            .await,
    )
}

// ---------------------------------------------------------------------------------------------
// Create
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_submitted_escalation_is_stored_as_sent_numbered_in_turn_with_a_created_event() {
    // Arrange: the second leaves out the contact's optional fields
    let world = World::new().await;
    let sent = &world.body;
    let optional = [
        "contact.preferred_language",
        "contact.time_zone",
        "contact.available_24x7",
        "contact.phone",
    ];
    let by_email = [("contact.preferred_contact_method", json!("email"))];
    let second_sent = without(
        edited(rated(sent, "minimal", "product_bug"), &by_email),
        &optional,
    );

    // Act
    let answer = world.app.post(ESCALATIONS, world.key(), sent).await;
    let read = world.escalation(world.key(), answer.id()).await;
    let events = audit_trail(&world.app, world.key(), answer.id()).await;
    let second = world.app.post(ESCALATIONS, world.key(), &second_sent).await;

    // Assert
    assert_eq!(answer.status, 201, "{}", answer.body);
    let id = answer.id();
    assert_eq!(id.get_version_num(), 7, "ids are UUID v7");
    let location = escalation_path(id);
    assert_eq!(answer.header("location"), Some(location.as_str()));
    assert_eq!(answer.etag(), "\"1\"");
    let null = Value::Null;
    answer.holds(
        "the first",
        &[
            ("number", json!("ESC-000001")),
            ("status", json!("submitted")),
            ("partner_id", json!(world.partner.id)),
            ("customer_id", json!(world.customer_id)),
            ("service_key", json!("microsoft-365")),
            ("category", json!("service_unavailable")),
            ("severity", json!("moderate")),
            ("title", sent["title"].clone()),
            ("description", sent["description"].clone()),
            ("business_impact", sent["business_impact"].clone()),
            ("reasons", json!(["lacks_support_tools"])),
            ("justification", sent["justification"].clone()),
            (
                "troubleshooting.steps",
                sent["troubleshooting"]["steps"].clone(),
            ),
            ("troubleshooting.admin_center_attempted", json!(true)),
            ("unrelated_incident_ids", json!([])),
            ("contact.phone", json!("+861055550199")), // in E.164
            ("contact.last_name", json!("张")),
            ("engineer", null.clone()),
            ("sla.breached", json!(false)),
            ("sla.first_response_at", null.clone()),
            ("resolution", null.clone()),
            ("resolved_at", null.clone()),
            ("misescalation", null.clone()),
            ("version", json!(1)),
        ],
    );
    assert_eq!(read.status, 200, "{}", read.body);
    assert_eq!(read.etag(), "\"1\"");
    assert_eq!(read.body, answer.body, "the answer is what is stored");
    assert_eq!(events.len(), 1, "{events:?}");
    let event = &events[0];
    assert_eq!(event["kind"], "created");
    assert_eq!(event["actor"]["role"], "partner");
    assert!(event["actor"]["key_id"].is_string());
    assert!(event["before"].is_null());
    assert_eq!(event["after"]["number"], "ESC-000001");
    assert_eq!(event["after"]["status"], "submitted");
    assert_eq!(event["after"]["severity"], "moderate");
    assert_eq!(event["after"]["customer_id"], json!(world.customer_id));
    assert_eq!(
        timestamp(&event["at"]),
        timestamp(&answer.body["created_at"]),
        "the event is written with the escalation"
    );
    assert_eq!(second.status, 201, "{}", second.body);
    second.holds(
        "the optional fields left out",
        &[
            ("number", json!("ESC-000002")),
            ("contact.preferred_language", json!("zh-Hans")),
            ("contact.time_zone", json!("Asia/Shanghai")),
            ("contact.available_24x7", json!(false)),
            ("contact.phone", null),
        ],
    );
}

/// Each escalation's first response is due when `/v1/sla/due` says for its severity and category
/// at the instant it was created, in the window the policy gives them: critical 2 hours around
/// the clock, technical problems 09:00–24:00 every day, billing ones on business days.
#[tokio::test]
async fn each_escalation_is_due_when_the_sla_clock_of_its_severity_and_category_says() {
    // Arrange
    let world = World::new().await;
    let body = premium_body(&world).await;
    let mut dues = Vec::new();

    for (severity, category, days) in [
        ("critical", "service_unavailable", "around_the_clock"),
        ("moderate", "product_bug", "daily"),
        ("minimal", "undocumented_defect", "daily"),
        ("moderate", "billing_dispute", "business_days"),
    ] {
        // Act
        let rated = rated(&body, severity, category);
        let answer = world.app.submit_escalation(world.key(), &rated).await;
        let created_at = answer.body["created_at"].as_str().unwrap().to_owned();
        let params = [
            ("severity", severity),
            ("category", category),
            ("from", &created_at),
        ];
        let asked = world
            .app
            .get_query("/v1/sla/due", world.key(), &params)
            .await;

        // Assert
        let sla = &answer.body["sla"];
        let due = timestamp(&sla["response_due_at"]);
        assert_eq!(
            due,
            timestamp(&asked.body["response_due_at"]),
            "{severity} {category}"
        );
        assert_eq!(sla["window"], asked.body["window"], "{severity} {category}");
        assert_eq!(sla["window"]["days"], days, "{severity} {category}");
        if severity == "critical" {
            let elapsed = due - timestamp(&answer.body["created_at"]);
            assert_eq!(elapsed, Duration::hours(2), "around the clock: {sla}");
        }
        assert_eq!(sla["breached"], false, "{severity}");
        dues.push(due);
    }
    let in_order = dues[..3].windows(2).all(|w| w[0] < w[1]);
    assert!(in_order, "critical, moderate, minimal: {dues:?}");
}

/// Escalations submitted before the SLA policy became data keep the clock they were given:
/// critical around the clock, the other severities on business days from 09:00 to 18:00.
#[tokio::test]
async fn escalations_from_before_the_sla_policy_keep_the_windows_they_ran_in() {
    // Arrange
    let world = World::new().await;
    let body = premium_body(&world).await;
    let critical = rated(&body, "critical", "service_unavailable");
    let critical = world.app.submit_escalation(world.key(), &critical).await;
    let moderate = rated(&body, "moderate", "product_bug");
    let moderate = world.app.submit_escalation(world.key(), &moderate).await;

    // Act: back to before the windows were kept (past the one migration that followed), and
    // forward again.
    let db = &world.app.db;
    Migrator::down(db, Some(2)).await.expect("down");
    Migrator::up(db, Some(2)).await.expect("up");

    // Assert
    for (answer, window) in [
        (critical, json!({"days": "around_the_clock"})),
        (
            moderate,
            json!({"days": "business_days", "opens": "09:00", "closes": "18:00"}),
        ),
    ] {
        let read = world.escalation(world.key(), answer.id()).await;
        assert_eq!(read.body["sla"]["window"], window);
        assert_eq!(
            read.body["sla"]["response_due_at"],
            answer.body["sla"]["response_due_at"]
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Shape first
// ---------------------------------------------------------------------------------------------

/// Every field error is listed at once, named by its path, before any criterion is judged; a
/// body that is not JSON, not declared as JSON or too large is refused whole; nothing is
/// written.
#[tokio::test]
async fn an_escalation_of_the_wrong_shape_is_refused_and_nothing_is_written() {
    // Arrange
    let world = World::new().await;
    let (app, key, body) = (&world.app, world.key(), &world.body);
    let several_rules_broken = edited(
        body.clone(),
        &[
            ("severity", json!("urgent")),
            ("title", json!("")),
            ("contact.email", json!("not an address")),
            ("contact.time_zone", json!("Mars/Olympus_Mons")),
            // The shape of a number, but none that China's numbering plan has.
            ("contact.phone", json!("+86 1234 5678")),
            ("category", json!("coffee_machine_broken")),
        ],
    );
    let required = [
        "business_impact",
        "category",
        "contact",
        "customer_id",
        "description",
        "problem_started_at",
        "service_key",
        "severity",
        "title",
        "troubleshooting",
    ]
    .map(|field| (field, "required"));
    let unknown = [
        ("priority", json!("high")),
        ("contact.wechat", json!("zhangwei_cb")),
    ];
    // An unknown customer would be 404, were the criteria judged.
    let urgent = [("severity", json!("urgent"))];
    let unknown_customer = edited(escalation_body(Uuid::now_v7()), &urgent);
    let cases: [(&str, Value, Fields); 4] = [
        (
            "several rules broken",
            several_rules_broken,
            &[
                ("category", "invalid_value"),
                ("contact.email", "invalid_email"),
                ("contact.phone", "invalid_phone"),
                ("contact.time_zone", "invalid_time_zone"),
                ("severity", "invalid_value"),
                ("title", "length"),
            ],
        ),
        ("an empty body", json!({}), &required),
        (
            "unknown fields at any depth",
            edited(body.clone(), &unknown),
            &[
                ("contact.wechat", "unknown_field"),
                ("priority", "unknown_field"),
            ],
        ),
        (
            "an unknown customer",
            unknown_customer.clone(),
            &[("severity", "invalid_value")],
        ),
    ];
    let json = Some("application/json");
    let whole = body.to_string();
    let too_large = edited(body.clone(), &[("description", json!("邮".repeat(25_000)))]);
    let too_large = too_large.to_string(); // 75,000 bytes of UTF-8
    assert!(too_large.len() > 64 * 1024);
    let (malformed, unsupported) = ((400, "malformed_json"), (415, "unsupported_media_type"));

    for (label, body, fields) in cases {
        // Act
        let answer = app.post(ESCALATIONS, key, &body).await;

        // Assert
        answer.case_refused(label, 422, "validation_failed", fields);
        assert!(answer.body.get("violations").is_none(), "{label}");
    }
    for (field, value, item) in [
        ("customer_id", json!(42), ""),
        ("reasons", json!("lacks_training"), ""),
        ("problem_started_at", json!("yesterday"), ""),
        ("title", json!(["Exchange"]), ""),
        ("contact", json!("张伟"), ""),
        ("unrelated_incident_ids", json!(["not-a-uuid"]), "[0]"),
        ("troubleshooting.admin_center_attempted", json!("yes"), ""),
    ] {
        // Act
        let wrong = edited(body.clone(), &[(field, value)]);
        let answer = app.post(ESCALATIONS, key, &wrong).await;

        // Assert
        let named = format!("{field}{item}");
        answer.case_refused(field, 422, "validation_failed", &[(&named, "invalid_type")]);
    }
    for (label, content_type, body, (status, code)) in [
        ("cut short", json, r#"{"customer_id":"#, malformed),
        ("empty", json, "", malformed),
        ("not JSON", json, "not json", malformed),
        ("no Content-Type", None, &whole, unsupported),
        ("text/plain", Some("text/plain"), &whole, unsupported),
        ("XML", Some("application/xml"), &whole, unsupported),
        ("over 64 KiB", json, &too_large, (413, "body_too_large")),
    ] {
        // Act
        let answer = app
            .post_raw(ESCALATIONS, key, content_type, body.to_owned())
            .await;

        // Assert
        answer.case_refused(label, status, code, &[]);
    }
    let validated = app.post(VALIDATE, key, &unknown_customer).await;
    validated.case_refused(
        "validated",
        422,
        "validation_failed",
        &[("severity", "invalid_value")],
    );
    assert!(validated.body.get("violations").is_none());
    assert!(world.escalations().await.items().is_empty());
    let everyone = app.get(ESCALATIONS, &app.admin_key).await;
    assert!(everyone.items().is_empty(), "nothing was written");
}

// ---------------------------------------------------------------------------------------------
// Roles and visibility
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn only_partners_submit_and_staff_see_every_partners_escalations() {
    // Arrange
    let world = World::new().await;
    let app = &world.app;
    let second = app.escalation_fixture("standard").await;
    let staff = [&world.operator, &app.admin_key];

    // Act
    let mut refused = Vec::new();
    for key in staff {
        refused.push(app.post(ESCALATIONS, key, &world.body).await);
        refused.push(app.post(VALIDATE, key, &world.body).await);
    }
    let a = world.submit().await;
    let b = app
        .submit_escalation(&second.partner.key, &second.body)
        .await;

    // Assert
    for answer in refused {
        answer.problem(403, "forbidden");
    }
    let mut both = vec![a.id(), b.id()];
    both.sort();
    for key in staff {
        let mut listed = app.get(ESCALATIONS, key).await.item_ids();
        listed.sort();
        assert_eq!(listed, both, "nothing else was written");
        let read_a = world.escalation(key, a.id()).await;
        assert_eq!((read_a.etag(), &read_a.body), ("\"1\"".to_owned(), &a.body));
        assert_eq!(world.escalation(key, b.id()).await.body, b.body);
    }
    let own = world.escalations().await.item_ids();
    assert_eq!(own, [a.id()], "a partner sees only its own");
}

#[tokio::test]
async fn strangers_unknown_and_malformed_ids_find_nothing() {
    // Arrange
    let world = World::new().await;
    let app = &world.app;
    let escalation = world.submit().await;
    let id = escalation.id();
    let other = app.create_partner("Nosy partner").await;
    let (nosy, partner, unknown) = (other.key.as_str(), world.key(), Uuid::now_v7());
    let (operator, admin) = (world.operator.as_str(), app.admin_key.as_str());
    let partner_id = world.partner.id.to_string();
    let (look, withdraw) = (json!({"text": "看一眼"}), json!({"to": "withdrawn"}));
    let reads = [
        ("another partner", nosy, escalation_path(id)),
        ("another partner", nosy, notes_path(id)),
        ("another partner", nosy, events_path(id)),
        ("its partner", partner, escalation_path(unknown)),
        ("its partner", partner, events_path(unknown)),
        ("an operator", operator, escalation_path(unknown)),
        ("an operator", operator, events_path(unknown)),
        ("an admin", admin, escalation_path(unknown)),
        ("an admin", admin, events_path(unknown)),
    ];

    // Act
    let created = app.client.post(app.url(ESCALATIONS)).json(&world.body);
    let unauthorized = [
        app.send(created).await,
        app.send(app.client.get(app.url(ESCALATIONS))).await,
    ];
    let moved = app.transition(nosy, id, "\"1\"", &withdraw).await;
    let noted = app.post(&notes_path(id), nosy, &look).await;
    let listed = app.get(ESCALATIONS, nosy).await;
    let filtered = app
        .get_query(ESCALATIONS, nosy, &[("partner_id", &partner_id)])
        .await;
    let malformed = app.get(&format!("{ESCALATIONS}/ESC-000001"), partner).await;
    let validate = app.get(VALIDATE, partner).await;

    // Assert
    for answer in unauthorized {
        answer.problem(401, "unauthorized");
    }
    moved.case_refused("moved by another partner", 404, "not_found", &[]);
    noted.case_refused("noted by another partner", 404, "not_found", &[]);
    assert!(listed.items().is_empty());
    assert!(filtered.items().is_empty());
    let invalid_id = [("id", "invalid_uuid")];
    malformed.case_refused("malformed id", 400, "invalid_path_parameter", &invalid_id);
    validate.problem(405, "method_not_allowed");
    assert_eq!(validate.header("allow"), Some("POST"));
    for (who, key, path) in reads {
        // Act
        let answer = app.get(&path, key).await;

        // Assert
        answer.case_refused(&format!("{path} read by {who}"), 404, "not_found", &[]);
    }
    let after = world.escalation(partner, id).await;
    assert_eq!(after.body, escalation.body, "nothing changed");
    assert_eq!(audit_trail(app, partner, id).await.len(), 1);
}

// ---------------------------------------------------------------------------------------------
// Customers with escalations
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_customer_with_escalations_cannot_be_deleted() {
    // Arrange: its only escalation withdrawn
    let world = World::new().await;
    let (app, partner) = (&world.app, world.key());
    let id = world.submit().await.id();
    let withdraw = json!({"to": "withdrawn"});
    assert_eq!(
        app.transition(partner, id, "\"1\"", &withdraw).await.status,
        200
    );
    let path = format!("/v1/customers/{}", world.customer_id);
    let other = app.create_customer(&world.partner, "没有升级的客户").await;

    // Act
    let answer = app.delete(&path, partner).await;
    let other_path = format!("/v1/customers/{}", other.id());
    let without_escalations = app.delete(&other_path, partner).await;

    // Assert
    answer.problem(409, "customer_in_use");
    app.read_ok(&path, partner).await;
    let gone = without_escalations.status;
    assert_eq!(gone, 204, "a customer without escalations goes");
}
