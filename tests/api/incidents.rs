//! `/v1/service-incidents`: service health — staff open incidents, publish dated updates and move
//! them to resolution; everyone reads them, filters them and pages through them.

use std::collections::HashSet;

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{
    Answer, TestApp, incident_body, incident_path, send_concurrently, spawn_app, timestamp,
};
use crate::world::World;

const INCIDENTS: &str = "/v1/service-incidents";

/// `If-Match` for an incident as it was opened.
const AS_OPENED: Option<&str> = Some("\"1\"");

/// The status and code of a refusal.
type Refusal = (u16, &'static str);
const BAD_QUERY: Refusal = (400, "invalid_query");
const FORBIDDEN: Refusal = (403, "forbidden");
const NOT_FOUND: Refusal = (404, "not_found");
const NOT_ALLOWED: Refusal = (405, "method_not_allowed");
const INVALID: Refusal = (422, "validation_failed");

/// The parameters of a list query.
type Query<'a> = &'a [(&'a str, &'a str)];

fn updates_path(id: Uuid) -> String {
    format!("{INCIDENTS}/{id}/updates")
}

fn status(to: &str) -> Value {
    json!({ "status": to })
}

fn text(text: &str) -> Value {
    json!({ "text": text })
}

/// An incident body on `service_key` with `field` set to `value`.
fn incident_with(service_key: &str, field: &str, value: &str) -> Value {
    let mut body = incident_body(service_key);
    body[field] = json!(value);
    body
}

/// Opens an incident on `service_key` as `key` (staff), asserting 201.
async fn open(app: &TestApp, key: &str, service_key: &str) -> Answer {
    app.create_incident(key, &incident_body(service_key)).await
}

/// Publishes an update as `key`, asserting 201.
async fn publish(app: &TestApp, key: &str, id: Uuid, update: &str) -> Answer {
    app.created(&updates_path(id), key, &text(update)).await
}

/// The texts of an incident's updates, in order.
fn texts(incident: &Value) -> Vec<&str> {
    let updates = incident["updates"].as_array().expect("an updates list");
    updates
        .iter()
        .map(|u| u["text"].as_str().unwrap())
        .collect()
}

/// Asserts `time` lies between `before` and `after`, give or take a second.
#[track_caller]
fn assert_between(time: &Value, before: DateTime<Utc>, after: DateTime<Utc>) {
    let (time, slack) = (timestamp(time), Duration::seconds(1));
    assert!(
        before - slack <= time && time <= after + slack,
        "{time} is not now ({before} .. {after})"
    );
}

/// Asserts a problem with this status and code naming exactly `fields` (space-separated).
#[track_caller]
fn assert_refused(answer: &Answer, label: &str, (status, code): Refusal, fields: &str) {
    assert_eq!(answer.status, status, "{label}: {}", answer.body);
    answer.problem(status, code);
    assert_eq!(answer.error_fields().join(" "), fields, "{label}");
}

// ---------------------------------------------------------------------------------------------
// Create
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn staff_open_incidents_investigating_from_now_unless_told_otherwise() {
    // Arrange
    let world = World::new().await;
    let (app, operator) = (&world.app, &world.operator);
    let full = json!({
        "service_key": "microsoft-365",
        "title": "Exchange Online 邮件投递延迟",
        "severity": "critical",
        "status": "mitigating",
        "started_at": "2026-11-24T14:10:00+08:00"
    });
    let tomorrow = (Utc::now() + Duration::days(1)).to_rfc3339_opts(SecondsFormat::Secs, true);
    let announced = incident_with("power-bi", "started_at", &tomorrow);

    // Act
    let opened = app.create_incident(operator, &full).await;
    let before = Utc::now();
    let by_default = open(app, &app.admin_key, "azure").await;
    let after = Utc::now();
    let maintenance = app.create_incident(operator, &announced).await;

    // Assert
    let (id, incident) = (opened.id(), &opened.body);
    assert_eq!(opened.header("location"), Some(incident_path(id).as_str()));
    assert_eq!(opened.etag(), "\"1\"");
    assert_eq!(id.get_version_num(), 7, "ids are UUID v7");
    for field in ["service_key", "title", "severity", "status"] {
        assert_eq!(incident[field], full[field], "{field}");
    }
    let started_at = timestamp(&incident["started_at"]);
    assert_eq!(started_at, timestamp(&json!("2026-11-24T06:10:00Z")));
    assert_eq!(incident["resolved_at"], Value::Null);
    assert_eq!(incident["updates"], json!([]));
    assert_eq!(incident["version"], 1);
    let read = app
        .read_ok(opened.header("location").unwrap(), operator)
        .await;
    assert_eq!(read.body, opened.body);
    assert_eq!(by_default.body["status"], "investigating");
    assert_between(&by_default.body["started_at"], before, after);
    let starts = timestamp(&maintenance.body["started_at"]);
    let why = "maintenance may start later";
    assert_eq!(starts, timestamp(&json!(tomorrow)), "{why}");
}

#[tokio::test]
async fn a_refused_incident_names_every_bad_field_and_nothing_is_opened() {
    // Arrange
    let world = World::new().await;
    let (app, operator) = (&world.app, &world.operator);
    let unknown = incident_body("contoso-backup");
    let mut bad = incident_with("azure", "severity", "major");
    bad["status"] = json!("resolved");
    bad["started_at"] = json!("yesterday");
    let malformed = json!({"service_key": "Azure", "title": " ", "severity": "warning"});
    let cases = [
        ("a service not in the catalog", unknown, NOT_FOUND, ""),
        ("bad values", bad, INVALID, "severity started_at status"),
        ("nothing", json!({}), INVALID, "service_key severity title"),
        ("malformed", malformed, INVALID, "service_key title"),
    ];

    for (label, body, refusal, fields) in cases {
        // Act
        let answer = app.post(INCIDENTS, operator, &body).await;

        // Assert
        assert_refused(&answer, label, refusal, fields);
    }
    assert!(app.get(INCIDENTS, operator).await.items().is_empty());
}

// ---------------------------------------------------------------------------------------------
// Who may do what
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn everyone_reads_incidents_only_staff_change_them_and_an_unknown_one_is_404() {
    // Arrange
    let world = World::new().await;
    let (app, operator, partner) = (&world.app, &world.operator, world.key());
    let incident = open(app, operator, "azure").await;
    let (id, unknown) = (incident.id(), Uuid::now_v7());
    let (path, updates) = (incident_path(id), updates_path(id));
    let (lost, lost_updates) = (incident_path(unknown), updates_path(unknown));
    let (azure, resolve, update) = (incident_body("azure"), status("resolved"), text("已恢复"));

    // Act
    let resolve_as = async |path: &str, key: &str| app.patch(path, key, AS_OPENED, &resolve).await;
    let partner_tries = [
        ("open", app.post(INCIDENTS, partner, &azure).await),
        ("update", resolve_as(&path, partner).await),
        ("publish", app.post(&updates, partner, &update).await),
    ];
    let unknown_tries = [
        ("read", app.get(&lost, operator).await),
        ("update", resolve_as(&lost, operator).await),
        ("publish", app.post(&lost_updates, operator, &update).await),
    ];

    // Assert
    for (label, answer) in &partner_tries {
        assert_refused(answer, label, FORBIDDEN, "");
    }
    for (label, answer) in &unknown_tries {
        assert_refused(answer, label, NOT_FOUND, "");
    }
    for key in [partner, operator, &app.admin_key] {
        let read = app.read_ok(&path, key).await;
        assert_eq!(read.etag(), "\"1\"");
        assert_eq!(read.body, incident.body, "nothing changed");
        let list = app.get(INCIDENTS, key).await;
        assert_eq!(list.item_ids(), [id]);
        assert_eq!(list.items()[0], incident.body);
    }
}

// ---------------------------------------------------------------------------------------------
// Updates
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn published_updates_append_oldest_first_bump_the_version_and_show_in_the_list() {
    // Arrange
    let world = World::new().await;
    let (app, operator) = (&world.app, &world.operator);
    let incident = open(app, operator, "microsoft-365").await;
    let other = open(app, operator, "power-bi").await;
    let (id, path) = (incident.id(), incident_path(incident.id()));
    let seen = "正在调查华东区域的邮件投递延迟。";
    let found = "已定位到传输队列积压，正在扩容。\n预计一小时内恢复。";

    // Act
    let first = publish(app, operator, id, seen).await;
    publish(app, operator, other.id(), "另一条").await;
    let second = publish(app, &app.admin_key, id, found).await;
    let mitigating = status("mitigating");
    let stale = app
        .patch(&path, operator, Some(&incident.etag()), &mitigating)
        .await;

    // Assert
    assert_eq!(first.header("location"), Some(path.as_str()));
    assert_eq!(first.etag(), "\"2\"");
    assert_eq!(first.body["version"], 2);
    assert_eq!(texts(&first.body), [seen]);
    assert_eq!(second.etag(), "\"3\"");
    assert_eq!(texts(&second.body), [seen, found], "oldest first");
    let published = |n: usize| timestamp(&second.body["updates"][n]["published_at"]);
    assert!(published(0) <= published(1));
    let kept = &first.body["updates"][0];
    let why = "earlier updates are kept as they were";
    assert_eq!(&second.body["updates"][0], kept, "{why}");
    stale.problem(412, "stale_version");
    let read = app.get(&path, operator).await;
    assert_eq!(read.body, second.body);
    assert_eq!(read.etag(), "\"3\"");
    let listed = app.get(INCIDENTS, operator).await;
    assert_eq!(texts(&listed.items()[0]), [seen, found]);
    assert_eq!(texts(&listed.items()[1]), ["另一条"]);
}

#[tokio::test]
async fn updates_are_append_only_and_need_a_text() {
    // Arrange
    let world = World::new().await;
    let (app, operator) = (&world.app, &world.operator);
    let id = open(app, operator, "azure").await.id();
    let published = publish(app, operator, id, "正在调查。").await;
    let path = incident_path(id);
    let on_updates = |method| app.request(method, &updates_path(id), operator);
    let post = |body: Value| on_updates(Method::POST).json(&body);
    let rewrite = app
        .request(Method::PATCH, &path, operator)
        .header("If-Match", published.etag())
        .json(&json!({"updates": [{"text": "一切正常。"}]}));
    let replace = on_updates(Method::PUT).json(&text("一切正常。"));
    let cases = [
        ("rewritten", rewrite, INVALID, "updates"),
        ("replaced", replace, NOT_ALLOWED, ""),
        ("deleted", on_updates(Method::DELETE), NOT_ALLOWED, ""),
        ("blank", post(text("   ")), INVALID, "text"),
        ("empty", post(text("")), INVALID, "text"),
        ("missing", post(json!({})), INVALID, "text"),
    ];

    for (label, request, refusal, fields) in cases {
        // Act
        let answer = app.send(request).await;

        // Assert
        assert_refused(&answer, label, refusal, fields);
    }
    let read = app.get(&path, operator).await;
    assert_eq!(read.etag(), published.etag());
    assert_eq!(read.body, published.body);
}

// ---------------------------------------------------------------------------------------------
// Status
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn investigating_and_mitigating_move_either_way_and_either_resolves() {
    // Arrange
    let world = World::new().await;
    let (app, operator) = (&world.app, &world.operator);
    let incident = open(app, operator, "power-apps").await;
    let mitigated = incident_with("azure", "status", "mitigating");
    let mitigated = app.create_incident(operator, &mitigated).await;
    let title = "华北 2 区域虚拟机不可用";
    let changes = json!({"status": "mitigating", "severity": "critical", "title": title});
    let path = incident_path(incident.id());

    // Act
    let mitigating = app.patch(&path, operator, AS_OPENED, &changes).await;
    let investigating = app
        .move_incident(&app.admin_key, &mitigating, "investigating")
        .await;
    let before = Utc::now();
    let resolved = app
        .move_incident(operator, &investigating, "resolved")
        .await;
    let resolved_mitigated = app.move_incident(operator, &mitigated, "resolved").await;
    let after = Utc::now();

    // Assert
    assert_eq!(mitigating.status, 200, "{}", mitigating.body);
    for field in ["status", "severity", "title"] {
        assert_eq!(mitigating.body[field], changes[field], "{field}");
    }
    assert_eq!(mitigating.etag(), "\"2\"");
    assert_eq!(investigating.body["status"], "investigating");
    assert_eq!(investigating.body["severity"], "critical");
    assert_eq!(investigating.etag(), "\"3\"");
    assert_eq!(investigating.body["resolved_at"], Value::Null);
    for (answer, version) in [(&resolved, "\"4\""), (&resolved_mitigated, "\"2\"")] {
        assert_eq!(answer.body["status"], "resolved");
        assert_eq!(answer.etag(), version);
        assert_between(&answer.body["resolved_at"], before, after);
        let read = app.get(&incident_path(answer.id()), operator).await;
        assert_eq!(read.body, answer.body);
    }
}

#[tokio::test]
async fn resolved_is_final_keeps_its_first_resolved_at_and_takes_closing_updates() {
    // Arrange
    let world = World::new().await;
    let (app, operator) = (&world.app, &world.operator);
    let incident = open(app, operator, "azure").await;
    let path = incident_path(incident.id());
    let resolved = app.move_incident(operator, &incident, "resolved").await;
    let tag = resolved.etag();
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;

    // Act
    let mut reopened = Vec::new();
    for to in ["investigating", "mitigating"] {
        let answer = app.patch(&path, operator, Some(&tag), &status(to)).await;
        reopened.push((to, answer));
    }
    let again = app.move_incident(operator, &resolved, "resolved").await;
    let closing = publish(app, operator, incident.id(), "事后分析报告已发布。").await;

    // Assert
    for (to, answer) in &reopened {
        let problem = answer.problem(409, "invalid_transition");
        assert_eq!(answer.error_fields(), ["status"]);
        let detail = problem["detail"].as_str().unwrap();
        assert!(
            detail.contains("resolved") && detail.contains(to) && detail.contains("final"),
            "{detail}"
        );
        let message = problem["errors"][0]["message"].as_str().unwrap();
        assert!(message.contains("is final"), "{problem}");
    }
    let first_resolution = timestamp(&resolved.body["resolved_at"]);
    assert_eq!(again.body["status"], "resolved");
    assert_eq!(
        timestamp(&again.body["resolved_at"]),
        first_resolution,
        "it stays"
    );
    assert_eq!(closing.body["status"], "resolved");
    assert_eq!(closing.body["resolved_at"], resolved.body["resolved_at"]);
    assert_eq!(texts(&closing.body), ["事后分析报告已发布。"]);
    assert_eq!(app.get(&path, operator).await.body, closing.body);
}

#[tokio::test]
async fn a_change_needs_a_current_if_match_and_valid_fields() {
    // Arrange
    let world = World::new().await;
    let (app, operator) = (&world.app, &world.operator);
    let path = incident_path(open(app, operator, "azure").await.id());
    let invalid =
        json!({"status": "closed", "severity": "major", "title": "", "service_key": "power-bi"});

    // Act
    let without = app.patch(&path, operator, None, &status("resolved")).await;
    let refused = app.patch(&path, operator, AS_OPENED, &invalid).await;
    let critical = json!({"severity": "critical"});
    let first = app.patch(&path, operator, AS_OPENED, &critical).await;
    let stale = app
        .patch(&path, operator, AS_OPENED, &status("resolved"))
        .await;

    // Assert
    without.problem(428, "if_match_required");
    let fields = "service_key severity status title";
    assert_refused(&refused, "invalid", INVALID, fields);
    assert_eq!(first.status, 200, "{}", first.body);
    stale.problem(412, "stale_version");
    let read = app.get(&path, operator).await;
    assert_eq!(read.body["status"], "investigating");
    assert_eq!(read.body["severity"], "critical");
    assert_eq!(read.etag(), "\"2\"");
}

#[tokio::test]
async fn concurrent_updates_with_the_same_etag_let_exactly_one_through() {
    // Arrange
    let app = spawn_app().await;
    let operator = app.operator_key().await;
    let path = incident_path(open(&app, &operator, "azure").await.id());
    let requests = (0..10)
        .map(|n| {
            let body = json!({"status": "mitigating", "title": format!("并发更新 {n}")});
            let request = app.request(Method::PATCH, &path, &operator);
            request.header("If-Match", "\"1\"").json(&body)
        })
        .collect();

    // Act
    let answers = send_concurrently(requests).await;

    // Assert
    let statuses: Vec<u16> = answers.iter().map(|a| a.status).collect();
    let winners: Vec<&Answer> = answers.iter().filter(|a| a.status == 200).collect();
    assert_eq!(winners.len(), 1, "statuses: {statuses:?}");
    for loser in answers.iter().filter(|a| a.status != 200) {
        loser.problem(412, "stale_version");
    }
    let read = app.get(&path, &operator).await;
    assert_eq!(read.etag(), "\"2\"");
    assert_eq!(read.body["title"], winners[0].body["title"]);
}

/// `resolved` is final whatever `If-Match` says: a PATCH with `If-Match: *` that read the
/// incident before it was resolved must not reopen it once the resolution has committed. Each
/// round races one resolution against wildcard moves back to investigating; the first round that
/// ends with a resolved incident reopened fails the test.
#[tokio::test]
async fn a_resolution_stays_final_against_concurrent_wildcard_updates() {
    // Arrange
    let app = spawn_app().await;
    let operator = app.operator_key().await;
    let body = incident_with("azure", "status", "mitigating");

    for round in 0..40 {
        let incident = app.create_incident(&operator, &body).await;
        let path = incident_path(incident.id());
        let requests = (0..6)
            .map(|n| {
                let (to, if_match) = match n {
                    0 => ("resolved", incident.etag()),
                    _ => ("investigating", "*".to_owned()),
                };
                let request = app.request(Method::PATCH, &path, &operator);
                request.header("If-Match", if_match).json(&status(to))
            })
            .collect();

        // Act
        let answers = send_concurrently(requests).await;

        // Assert
        for answer in &answers {
            assert!(matches!(answer.status, 200 | 409 | 412), "{}", answer.body);
        }
        if answers[0].status == 200 {
            let read = app.get(&path, &operator).await;
            assert_eq!(
                read.body["status"], "resolved",
                "round {round}: a resolution answered 200, then a wildcard PATCH reopened the \
                 resolved incident: {}",
                read.body
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// List filters and pagination
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn the_list_filters_on_service_status_and_activity_and_refuses_a_bad_query() {
    // Arrange
    let world = World::new().await;
    let (app, operator, partner) = (&world.app, &world.operator, world.key());
    let azure = open(app, operator, "azure").await.id();
    let mitigating = incident_with("azure", "status", "mitigating");
    let mitigating = app.create_incident(operator, &mitigating).await.id();
    let m365 = open(app, operator, "microsoft-365").await;
    let resolved = app.move_incident(operator, &m365, "resolved").await.id();
    let power_bi = open(app, operator, "power-bi").await.id();
    let everything = [azure, mitigating, resolved, power_bi];
    let filters: [(Query, &[Uuid]); 10] = [
        (&[], &everything),
        (&[("service", "azure")], &[azure, mitigating]),
        (&[("status", "mitigating")], &[mitigating]),
        (&[("status", "investigating")], &[azure, power_bi]),
        (&[("active", "true")], &[azure, mitigating, power_bi]),
        (&[("active", "false")], &[resolved]),
        (&[("status", "resolved")], &[resolved]),
        (&[("service", "microsoft-365"), ("active", "true")], &[]),
        (
            &[
                ("service", "azure"),
                ("active", "true"),
                ("status", "investigating"),
            ],
            &[azure],
        ),
        (&[("service", "dynamics-365")], &[]),
    ];
    let refusals = [
        ("started_after", "yesterday"),
        ("started_before", "2026-02-30T00:00:00Z"),
        ("started_after", "2026-02-01"),
        ("active", "maybe"),
        ("status", "closed"),
        ("service", "Azure"),
        ("limit", "0"),
        ("cursor", "AAAA"),
    ];

    for (params, expected) in filters {
        // Act
        let listed = app.get_query(INCIDENTS, partner, params).await;

        // Assert
        assert_eq!(listed.item_ids(), expected, "{params:?}");
    }
    for (name, value) in refusals {
        // Act
        let answer = app.get_query(INCIDENTS, partner, &[(name, value)]).await;

        // Assert
        assert_refused(&answer, &format!("{name}={value}"), BAD_QUERY, name);
    }
}

#[tokio::test]
async fn the_list_filters_on_a_started_at_range() {
    // Arrange
    let app = spawn_app().await;
    let operator = app.operator_key().await;
    let open = async |day: &str| {
        let body = incident_with("azure", "started_at", &format!("2026-{day}T00:00:00Z"));
        app.create_incident(&operator, &body).await.id()
    };
    let march = open("03-10").await;
    let january = open("01-10").await;
    let february = open("02-10").await;
    let feb_1 = "2026-02-01T00:00:00Z";
    let feb_10 = "2026-02-10T00:00:00Z";
    let mar_1 = "2026-03-01T00:00:00Z";
    let (after, before) = ("started_after", "started_before");
    let offsets = [
        (after, "2026-02-10T08:00:00+08:00"),
        (before, "2026-03-10T08:00:00.001+08:00"),
    ];
    let cases: [(&str, Query, &[Uuid]); 7] = [
        ("a range", &[(after, feb_1), (before, mar_1)], &[february]),
        ("after", &[(after, feb_1)], &[february, march]),
        ("before", &[(before, feb_1)], &[january]),
        ("after is inclusive", &[(after, feb_10)], &[february, march]),
        ("before is exclusive", &[(before, feb_10)], &[january]),
        ("offsets are honoured", &offsets, &[february, march]),
        ("an empty range", &[(after, mar_1), (before, feb_1)], &[]),
    ];

    for (label, params, expected) in cases {
        // Act
        let listed = app.get_query(INCIDENTS, &operator, params).await;

        // Assert
        let ids: HashSet<Uuid> = listed.item_ids().into_iter().collect();
        assert_eq!(ids, expected.iter().copied().collect(), "{label}");
    }
}

#[tokio::test]
async fn the_list_pages_one_at_a_time() {
    // Arrange
    let world = World::new().await;
    let (app, operator, partner) = (&world.app, &world.operator, world.key());
    let mut azure = Vec::new();
    for service_key in ["azure", "power-bi", "azure", "azure"] {
        let id = open(app, operator, service_key).await.id();
        if service_key == "azure" {
            azure.push(vec![id]);
        }
    }

    // Act: every Link carries its page's next_cursor, and only the last page has neither
    let query = [("limit", "1"), ("service", "azure")];
    let pages = app
        .every_page(app.get_query(INCIDENTS, partner, &query).await, partner)
        .await;

    // Assert: the Links keep the filter
    let pages: Vec<Vec<Uuid>> = pages.iter().map(Answer::item_ids).collect();
    assert_eq!(pages, azure, "one per page, oldest first");
}
