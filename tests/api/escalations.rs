//! `/v1/escalations`: submitting an escalation (the answer, its number and SLA clock, its
//! `created` event), the shape of the body, who sees what, and customers that
//! escalations keep from being deleted. The dry run, the list, notes, criteria and lifecycle
//! have modules of their own.

use chrono::{Datelike, Duration, FixedOffset, Timelike, Utc, Weekday};
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{
    Answer, ESCALATIONS, TestApp, TestPartner, escalation_body, escalation_path, spawn_app,
    timestamp,
};

// ---------------------------------------------------------------------------------------------
// Helpers local to this module
// ---------------------------------------------------------------------------------------------

fn notes_path(id: Uuid) -> String {
    format!("{}/notes", escalation_path(id))
}

fn events_path(id: Uuid) -> String {
    format!("{}/events", escalation_path(id))
}

/// `POST /v1/escalations` with a raw body and this `Content-Type` (none when `None`).
async fn post_raw(
    app: &TestApp,
    key: &str,
    content_type: Option<&str>,
    body: impl Into<reqwest::Body>,
) -> Answer {
    let mut request = app.request(Method::POST, ESCALATIONS, key).body(body);
    if let Some(content_type) = content_type {
        request = request.header("Content-Type", content_type);
    }
    app.send(request).await
}

/// The numbers of a 200 list answer's escalations, in order.
#[track_caller]
fn numbers(answer: &Answer) -> Vec<String> {
    answer
        .items()
        .iter()
        .map(|e| e["number"].as_str().expect("a number").to_owned())
        .collect()
}

/// The field errors as (field, code) pairs, sorted.
fn field_codes(answer: &Answer) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = answer.body["errors"]
        .as_array()
        .expect("an errors array")
        .iter()
        .map(|e| {
            (
                e["field"].as_str().unwrap().to_owned(),
                e["code"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    pairs.sort();
    pairs
}

fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = expected
        .iter()
        .map(|(f, c)| ((*f).to_owned(), (*c).to_owned()))
        .collect();
    pairs.sort();
    pairs
}

/// Every escalation visible to `key`, newest first.
async fn all_numbers(app: &TestApp, key: &str) -> Vec<String> {
    numbers(
        &app.get_query(ESCALATIONS, key, &[("order", "newest")])
            .await,
    )
}

/// The events of escalation `id` as `key`, oldest first.
async fn events(app: &TestApp, key: &str, id: Uuid) -> Vec<Value> {
    app.get(&events_path(id), key).await.items().clone()
}

/// Submits `body` with `severity` and `category` changed; asserts 201.
async fn submit_as(
    app: &TestApp,
    partner: &TestPartner,
    body: &Value,
    severity: &str,
    category: &str,
) -> Answer {
    let mut body = body.clone();
    body["severity"] = json!(severity);
    body["category"] = json!(category);
    app.submit_escalation(&partner.key, &body).await
}

/// A Beijing wall-clock reading of a UTC time.
fn in_beijing(time: chrono::DateTime<Utc>) -> chrono::DateTime<FixedOffset> {
    time.with_timezone(&FixedOffset::east_opt(8 * 3600).unwrap())
}

/// Asserts `due` is a Beijing business moment: Monday to Friday, 09:00 to 18:00.
#[track_caller]
fn assert_business_hours(due: chrono::DateTime<Utc>) {
    let local = in_beijing(due);
    assert!(
        !matches!(local.weekday(), Weekday::Sat | Weekday::Sun),
        "{local} is a weekend day"
    );
    let minutes = local.hour() * 60 + local.minute();
    let exact = local.second() == 0 && local.nanosecond() == 0;
    assert!(
        (9 * 60..18 * 60).contains(&minutes) || (minutes == 18 * 60 && exact),
        "{local} is outside 09:00–18:00 Beijing time"
    );
}

// ---------------------------------------------------------------------------------------------
// Create
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_partner_submits_an_escalation_that_meets_every_criterion() {
    // Arrange
    let app = spawn_app().await;
    let fixture = app.escalation_fixture("standard").await;

    // Act
    let answer = app
        .post(ESCALATIONS, &fixture.partner.key, &fixture.body)
        .await;

    // Assert
    assert_eq!(answer.status, 201, "{}", answer.body);
    let id = answer.id();
    assert_eq!(id.get_version_num(), 7, "ids are UUID v7");
    assert_eq!(
        answer.header("location"),
        Some(escalation_path(id).as_str())
    );
    assert_eq!(answer.etag(), "\"1\"");
    let escalation = &answer.body;
    assert_eq!(escalation["number"], "ESC-000001");
    assert_eq!(escalation["status"], "submitted");
    assert_eq!(escalation["partner_id"], json!(fixture.partner.id));
    assert_eq!(escalation["customer_id"], json!(fixture.customer_id));
    assert_eq!(escalation["service_key"], "microsoft-365");
    assert_eq!(escalation["category"], "service_unavailable");
    assert_eq!(escalation["severity"], "moderate");
    assert_eq!(escalation["title"], fixture.body["title"]);
    assert_eq!(escalation["description"], fixture.body["description"]);
    assert_eq!(
        escalation["business_impact"],
        fixture.body["business_impact"]
    );
    assert_eq!(escalation["reasons"], json!(["lacks_support_tools"]));
    assert_eq!(escalation["justification"], fixture.body["justification"]);
    assert_eq!(
        escalation["troubleshooting"]["steps"],
        fixture.body["troubleshooting"]["steps"]
    );
    assert_eq!(
        escalation["troubleshooting"]["admin_center_attempted"],
        true
    );
    assert_eq!(escalation["unrelated_incident_ids"], json!([]));
    assert_eq!(
        escalation["contact"]["phone"], "+861055550199",
        "the phone is stored in E.164 form"
    );
    assert_eq!(escalation["contact"]["last_name"], "张");
    assert!(escalation["engineer"].is_null());
    assert_eq!(escalation["sla"]["breached"], false);
    assert!(escalation["sla"]["first_response_at"].is_null());
    assert!(escalation["resolution"].is_null());
    assert!(escalation["resolved_at"].is_null());
    assert!(escalation["misescalation"].is_null());
    assert_eq!(escalation["version"], 1);
    let read = app.get(&escalation_path(id), &fixture.partner.key).await;
    assert_eq!(read.status, 200, "{}", read.body);
    assert_eq!(read.etag(), "\"1\"");
    assert_eq!(read.body, answer.body, "the answer is what is stored");
}

#[tokio::test]
async fn numbers_are_esc_and_six_digits_and_count_up() {
    // Arrange
    let app = spawn_app().await;
    let fixture = app.escalation_fixture("standard").await;

    // Act
    let first = submit_as(
        &app,
        &fixture.partner,
        &fixture.body,
        "moderate",
        "product_bug",
    )
    .await;
    let second = submit_as(
        &app,
        &fixture.partner,
        &fixture.body,
        "minimal",
        "billing_dispute",
    )
    .await;

    // Assert
    for answer in [&first, &second] {
        let number = answer.body["number"].as_str().unwrap();
        let digits = number.strip_prefix("ESC-").expect("ESC- prefix");
        assert!(
            digits.len() == 6 && digits.bytes().all(|b| b.is_ascii_digit()),
            "{number}"
        );
    }
    assert_eq!(
        [&first.body["number"], &second.body["number"]],
        ["ESC-000001", "ESC-000002"]
    );
}

#[tokio::test]
async fn a_critical_escalation_is_due_two_hours_after_it_was_created() {
    // Arrange
    let app = spawn_app().await;
    let fixture = app.escalation_fixture("premium").await;
    let mut body = fixture.body.clone();
    body["severity"] = json!("critical");

    // Act
    let answer = app.submit_escalation(&fixture.partner.key, &body).await;

    // Assert
    let created_at = timestamp(&answer.body["created_at"]);
    let due = timestamp(&answer.body["sla"]["response_due_at"]);
    assert_eq!(
        due,
        created_at + Duration::hours(2),
        "critical runs 2 hours around the clock from creation: {}",
        answer.body["sla"]
    );
    assert_eq!(answer.body["sla"]["breached"], false);
}

#[tokio::test]
async fn moderate_and_minimal_escalations_are_due_within_beijing_business_hours() {
    // Arrange
    let app = spawn_app().await;
    let fixture = app.escalation_fixture("standard").await;

    for (severity, category, hours) in [
        ("moderate", "service_unavailable", 4),
        ("minimal", "product_bug", 8),
    ] {
        // Act
        let answer = submit_as(&app, &fixture.partner, &fixture.body, severity, category).await;

        // Assert
        let created_at = timestamp(&answer.body["created_at"]);
        let due = timestamp(&answer.body["sla"]["response_due_at"]);
        assert!(due > created_at, "{severity}: due after creation");
        assert!(
            due - created_at >= Duration::hours(hours),
            "{severity}: {hours} business hours are at least {hours} hours: {due} vs {created_at}"
        );
        assert!(
            due - created_at <= Duration::days(4),
            "{severity}: business hours never span more than a weekend"
        );
        assert_business_hours(due);
        assert_eq!(answer.body["sla"]["breached"], false);
    }
}

#[tokio::test]
async fn minimal_is_due_after_moderate_which_is_due_after_critical() {
    // Arrange
    let app = spawn_app().await;
    let fixture = app.escalation_fixture("premium").await;

    // Act
    let critical = submit_as(
        &app,
        &fixture.partner,
        &fixture.body,
        "critical",
        "service_unavailable",
    )
    .await;
    let moderate = submit_as(
        &app,
        &fixture.partner,
        &fixture.body,
        "moderate",
        "product_bug",
    )
    .await;
    let minimal = submit_as(
        &app,
        &fixture.partner,
        &fixture.body,
        "minimal",
        "undocumented_defect",
    )
    .await;

    // Assert
    let due = |answer: &Answer| timestamp(&answer.body["sla"]["response_due_at"]);
    assert!(due(&critical) < due(&moderate));
    assert!(due(&moderate) < due(&minimal));
}

#[tokio::test]
async fn creating_records_one_created_event_by_the_partner() {
    // Arrange
    let app = spawn_app().await;
    let fixture = app.escalation_fixture("standard").await;

    // Act
    let answer = app
        .submit_escalation(&fixture.partner.key, &fixture.body)
        .await;

    // Assert
    let events = events(&app, &fixture.partner.key, answer.id()).await;
    assert_eq!(events.len(), 1, "{events:?}");
    let event = &events[0];
    assert_eq!(event["kind"], "created");
    assert_eq!(event["actor"]["role"], "partner");
    assert!(event["actor"]["key_id"].is_string());
    assert!(event["before"].is_null());
    assert_eq!(event["after"]["number"], answer.body["number"]);
    assert_eq!(event["after"]["status"], "submitted");
    assert_eq!(event["after"]["severity"], "moderate");
    assert_eq!(event["after"]["customer_id"], json!(fixture.customer_id));
    assert_eq!(
        timestamp(&event["at"]),
        timestamp(&answer.body["created_at"]),
        "the event is written with the escalation"
    );
}

#[tokio::test]
async fn optional_fields_may_be_left_out() {
    // Arrange: no unrelated incidents, contact defaults for language, time zone and 24x7
    let app = spawn_app().await;
    let fixture = app.escalation_fixture("standard").await;
    let mut body = fixture.body.clone();
    let contact = body["contact"].as_object_mut().unwrap();
    for field in ["preferred_language", "time_zone", "available_24x7", "phone"] {
        contact.remove(field);
    }
    body["contact"]["preferred_contact_method"] = json!("email");

    // Act
    let answer = app.submit_escalation(&fixture.partner.key, &body).await;

    // Assert
    let contact = &answer.body["contact"];
    assert_eq!(contact["preferred_language"], "zh-Hans");
    assert_eq!(contact["time_zone"], "Asia/Shanghai");
    assert_eq!(contact["available_24x7"], false);
    assert!(contact["phone"].is_null());
}

// ---------------------------------------------------------------------------------------------
// Shape first
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn several_bad_fields_are_all_listed_and_nothing_is_written() {
    // Arrange
    let app = spawn_app().await;
    let fixture = app.escalation_fixture("standard").await;
    let mut body = fixture.body.clone();
    body["severity"] = json!("urgent");
    body["title"] = json!("");
    body["contact"]["email"] = json!("not an address");
    body["contact"]["time_zone"] = json!("Mars/Olympus_Mons");
    // The shape of a number, but none that China's numbering plan has.
    body["contact"]["phone"] = json!("+86 1234 5678");
    body["category"] = json!("coffee_machine_broken");

    // Act
    let answer = app.post(ESCALATIONS, &fixture.partner.key, &body).await;

    // Assert
    answer.problem(422, "validation_failed");
    assert_eq!(
        answer.error_fields(),
        [
            "category",
            "contact.email",
            "contact.phone",
            "contact.time_zone",
            "severity",
            "title"
        ]
    );
    assert!(all_numbers(&app, &fixture.partner.key).await.is_empty());
    assert!(all_numbers(&app, &app.admin_key).await.is_empty());
}

#[tokio::test]
async fn an_empty_body_lists_every_required_field() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("Empty").await;

    // Act
    let answer = app.post(ESCALATIONS, &partner.key, &json!({})).await;

    // Assert
    answer.problem(422, "validation_failed");
    assert_eq!(
        answer.error_fields(),
        [
            "business_impact",
            "category",
            "contact",
            "customer_id",
            "description",
            "problem_started_at",
            "service_key",
            "severity",
            "title",
            "troubleshooting"
        ]
    );
}

#[tokio::test]
async fn a_value_of_the_wrong_json_type_is_422_naming_the_field() {
    // Arrange
    let app = spawn_app().await;
    let fixture = app.escalation_fixture("standard").await;
    let cases: [(&str, Value, &str, &str); 6] = [
        ("customer_id", json!(42), "customer_id", "invalid_type"),
        (
            "reasons",
            json!("lacks_training"),
            "reasons",
            "invalid_type",
        ),
        (
            "problem_started_at",
            json!("yesterday"),
            "problem_started_at",
            "invalid_type",
        ),
        ("title", json!(["Exchange"]), "title", "invalid_type"),
        ("contact", json!("张伟"), "contact", "invalid_type"),
        (
            "unrelated_incident_ids",
            json!(["not-a-uuid"]),
            "unrelated_incident_ids",
            "invalid_type",
        ),
    ];

    for (field, value, expected_field, expected_code) in cases {
        let mut body = fixture.body.clone();
        body[field] = value.clone();

        // Act
        let answer = app.post(ESCALATIONS, &fixture.partner.key, &body).await;

        // Assert
        answer.problem(422, "validation_failed");
        let fields = field_codes(&answer);
        assert_eq!(fields.len(), 1, "{field}: {}", answer.body);
        assert!(
            fields[0].0.starts_with(expected_field) && fields[0].1 == expected_code,
            "{field}: {value}: {fields:?}"
        );
    }
    let mut nested = fixture.body.clone();
    nested["troubleshooting"]["admin_center_attempted"] = json!("yes");
    let answer = app.post(ESCALATIONS, &fixture.partner.key, &nested).await;
    answer.problem(422, "validation_failed");
    assert_eq!(
        field_codes(&answer),
        pairs(&[("troubleshooting.admin_center_attempted", "invalid_type")])
    );
    assert!(all_numbers(&app, &fixture.partner.key).await.is_empty());
}

#[tokio::test]
async fn an_unknown_field_is_422_unknown_field_at_any_depth() {
    // Arrange
    let app = spawn_app().await;
    let fixture = app.escalation_fixture("standard").await;
    let mut body = fixture.body.clone();
    body["priority"] = json!("high");
    body["contact"]["wechat"] = json!("zhangwei_cb");

    // Act
    let answer = app.post(ESCALATIONS, &fixture.partner.key, &body).await;

    // Assert
    answer.problem(422, "validation_failed");
    assert_eq!(
        field_codes(&answer),
        pairs(&[
            ("contact.wechat", "unknown_field"),
            ("priority", "unknown_field")
        ])
    );
}

#[tokio::test]
async fn the_shape_is_judged_before_the_criteria() {
    // Arrange: an unknown customer (404 if judged) and a bad field
    let app = spawn_app().await;
    let partner = app.create_partner("Shape first").await;
    let mut body = escalation_body(Uuid::now_v7());
    body["severity"] = json!("urgent");

    // Act
    let created = app.post(ESCALATIONS, &partner.key, &body).await;
    let validated = app
        .post(&format!("{ESCALATIONS}/validate"), &partner.key, &body)
        .await;

    // Assert
    for answer in [&created, &validated] {
        answer.problem(422, "validation_failed");
        assert_eq!(answer.error_fields(), ["severity"]);
        assert!(answer.body.get("violations").is_none());
    }
}

#[tokio::test]
async fn malformed_json_is_400() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("Malformed").await;

    for body in [r#"{"customer_id":"#, "", "not json"] {
        // Act
        let answer = post_raw(&app, &partner.key, Some("application/json"), body).await;

        // Assert
        answer.problem(400, "malformed_json");
    }
}

#[tokio::test]
async fn a_body_not_declared_as_json_is_415() {
    // Arrange
    let app = spawn_app().await;
    let fixture = app.escalation_fixture("standard").await;
    let body = fixture.body.to_string();

    for content_type in [None, Some("text/plain"), Some("application/xml")] {
        // Act
        let answer = post_raw(&app, &fixture.partner.key, content_type, body.clone()).await;

        // Assert
        answer.problem(415, "unsupported_media_type");
    }
    assert!(all_numbers(&app, &fixture.partner.key).await.is_empty());
}

#[tokio::test]
async fn a_body_over_64_kib_is_413() {
    // Arrange
    let app = spawn_app().await;
    let fixture = app.escalation_fixture("standard").await;
    let mut body = fixture.body.clone();
    body["description"] = json!("邮".repeat(25_000)); // 75,000 bytes of UTF-8
    let bytes = body.to_string();
    assert!(bytes.len() > 64 * 1024);

    // Act
    let answer = post_raw(&app, &fixture.partner.key, Some("application/json"), bytes).await;

    // Assert
    answer.problem(413, "body_too_large");
    assert!(all_numbers(&app, &fixture.partner.key).await.is_empty());
}

// ---------------------------------------------------------------------------------------------
// Roles and visibility
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn operators_and_admins_cannot_create_or_validate() {
    // Arrange
    let app = spawn_app().await;
    let fixture = app.escalation_fixture("standard").await;
    let operator = app.operator_key().await;

    for key in [&operator, &app.admin_key] {
        // Act
        let created = app.post(ESCALATIONS, key, &fixture.body).await;
        let validated = app
            .post(&format!("{ESCALATIONS}/validate"), key, &fixture.body)
            .await;

        // Assert
        created.problem(403, "forbidden");
        validated.problem(403, "forbidden");
    }
    assert!(all_numbers(&app, &app.admin_key).await.is_empty());
}

#[tokio::test]
async fn without_a_key_escalations_are_401() {
    // Arrange
    let app = spawn_app().await;
    let fixture = app.escalation_fixture("standard").await;

    // Act
    let created = app
        .send(app.client.post(app.url(ESCALATIONS)).json(&fixture.body))
        .await;
    let listed = app.send(app.client.get(app.url(ESCALATIONS))).await;

    // Assert
    created.problem(401, "unauthorized");
    listed.problem(401, "unauthorized");
}

#[tokio::test]
async fn another_partner_sees_nothing_of_an_escalation() {
    // Arrange
    let app = spawn_app().await;
    let fixture = app.escalation_fixture("standard").await;
    let escalation = app
        .submit_escalation(&fixture.partner.key, &fixture.body)
        .await;
    let id = escalation.id();
    let other = app.create_partner("Nosy partner").await;

    // Act
    let read = app.get(&escalation_path(id), &other.key).await;
    let moved = app
        .transition(&other.key, id, "\"1\"", &json!({"to": "withdrawn"}))
        .await;
    let noted = app
        .post(&notes_path(id), &other.key, &json!({"text": "看一眼"}))
        .await;
    let notes = app.get(&notes_path(id), &other.key).await;
    let trail = app.get(&events_path(id), &other.key).await;
    let listed = app.get(ESCALATIONS, &other.key).await;
    let filtered = app
        .get_query(
            ESCALATIONS,
            &other.key,
            &[("partner_id", &fixture.partner.id.to_string())],
        )
        .await;

    // Assert
    for answer in [&read, &moved, &noted, &notes, &trail] {
        answer.problem(404, "not_found");
    }
    assert!(listed.items().is_empty());
    assert!(filtered.items().is_empty());
    let after = app.get(&escalation_path(id), &fixture.partner.key).await;
    assert_eq!(after.body, escalation.body, "nothing changed");
    assert_eq!(events(&app, &fixture.partner.key, id).await.len(), 1);
}

#[tokio::test]
async fn an_unknown_escalation_is_404_for_everyone() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("Nobody's").await;
    let operator = app.operator_key().await;
    let id = Uuid::now_v7();

    for key in [&partner.key, &operator, &app.admin_key] {
        // Act
        let read = app.get(&escalation_path(id), key).await;
        let trail = app.get(&events_path(id), key).await;

        // Assert
        read.problem(404, "not_found");
        trail.problem(404, "not_found");
    }
}

#[tokio::test]
async fn a_malformed_escalation_id_is_400_and_validate_takes_only_post() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("Paths").await;

    // Act
    let malformed = app
        .get(&format!("{ESCALATIONS}/ESC-000001"), &partner.key)
        .await;
    let validate = app
        .get(&format!("{ESCALATIONS}/validate"), &partner.key)
        .await;

    // Assert
    malformed.problem(400, "invalid_path_parameter");
    assert_eq!(malformed.error_fields(), ["id"]);
    validate.problem(405, "method_not_allowed");
    assert_eq!(validate.header("allow"), Some("POST"));
}

#[tokio::test]
async fn operators_and_admins_see_every_partners_escalations() {
    // Arrange
    let app = spawn_app().await;
    let first = app.escalation_fixture("standard").await;
    let second = app.escalation_fixture("standard").await;
    let a = app.submit_escalation(&first.partner.key, &first.body).await;
    let b = app
        .submit_escalation(&second.partner.key, &second.body)
        .await;
    let operator = app.operator_key().await;

    for key in [&operator, &app.admin_key] {
        // Act
        let listed = app.get(ESCALATIONS, key).await;
        let read_a = app.get(&escalation_path(a.id()), key).await;
        let read_b = app.get(&escalation_path(b.id()), key).await;

        // Assert
        let mut ids = listed.item_ids();
        ids.sort();
        let mut expected = vec![a.id(), b.id()];
        expected.sort();
        assert_eq!(ids, expected);
        assert_eq!(read_a.body, a.body);
        assert_eq!(read_b.body, b.body);
        assert_eq!(read_a.etag(), "\"1\"");
    }
    assert_eq!(
        app.get(ESCALATIONS, &first.partner.key).await.item_ids(),
        [a.id()],
        "a partner sees only its own"
    );
}

// ---------------------------------------------------------------------------------------------
// Customers with escalations
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_customer_with_escalations_cannot_be_deleted() {
    // Arrange
    let app = spawn_app().await;
    let fixture = app.escalation_fixture("standard").await;
    let escalation = app
        .submit_escalation(&fixture.partner.key, &fixture.body)
        .await;
    let withdrawn = app
        .transition(
            &fixture.partner.key,
            escalation.id(),
            "\"1\"",
            &json!({"to": "withdrawn"}),
        )
        .await;
    assert_eq!(withdrawn.status, 200, "{}", withdrawn.body);
    let path = format!("/v1/customers/{}", fixture.customer_id);

    // Act
    let answer = app.delete(&path, &fixture.partner.key).await;

    // Assert
    answer.problem(409, "customer_in_use");
    let still = app.get(&path, &fixture.partner.key).await;
    assert_eq!(still.status, 200, "{}", still.body);
    let other = app
        .create_customer(&fixture.partner, "没有升级的客户有限公司")
        .await;
    let deleted = app
        .delete(
            &format!("/v1/customers/{}", other.id()),
            &fixture.partner.key,
        )
        .await;
    assert_eq!(deleted.status, 204, "a customer without escalations goes");
}
