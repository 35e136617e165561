//! `/v1/service-incidents`: service health — staff open incidents, publish dated updates and move
//! them to resolution; everyone reads them, filters them and pages through them.

use std::collections::HashSet;

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{Answer, TestApp, incident_body, incident_path, spawn_app};

const INCIDENTS: &str = "/v1/service-incidents";

// ---------------------------------------------------------------------------------------------
// Helpers local to this module
// ---------------------------------------------------------------------------------------------

fn updates_path(id: Uuid) -> String {
    format!("{INCIDENTS}/{id}/updates")
}

fn timestamp(value: &Value) -> DateTime<Utc> {
    value
        .as_str()
        .and_then(|text| DateTime::parse_from_rfc3339(text).ok())
        .map(|time| time.with_timezone(&Utc))
        .unwrap_or_else(|| panic!("an RFC 3339 timestamp, got {value}"))
}

/// An incident on `service_key` that started at `started_at`.
fn started(service_key: &str, started_at: &str) -> Value {
    let mut body = incident_body(service_key);
    body["started_at"] = json!(started_at);
    body
}

/// Publishes an update as `key`, asserting 201.
async fn publish(app: &TestApp, key: &str, id: Uuid, text: &str) -> Answer {
    let answer = app
        .post(&updates_path(id), key, &json!({"text": text}))
        .await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    answer
}

/// The texts of an incident's updates, in order.
fn texts(incident: &Value) -> Vec<&str> {
    incident["updates"]
        .as_array()
        .expect("an updates list")
        .iter()
        .map(|update| update["text"].as_str().expect("a text"))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Create
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn an_operator_opens_an_incident() {
    // Arrange
    let app = spawn_app().await;
    let operator = app.operator_key().await;
    let body = json!({
        "service_key": "microsoft-365",
        "title": "Exchange Online 邮件投递延迟",
        "severity": "critical",
        "status": "mitigating",
        "started_at": "2026-11-24T14:10:00+08:00"
    });

    // Act
    let answer = app.post(INCIDENTS, &operator, &body).await;

    // Assert
    assert_eq!(answer.status, 201, "{}", answer.body);
    let id = answer.id();
    assert_eq!(answer.header("location"), Some(incident_path(id).as_str()));
    assert_eq!(answer.etag(), "\"1\"");
    assert_eq!(id.get_version_num(), 7, "ids are UUID v7");
    let incident = &answer.body;
    assert_eq!(incident["service_key"], "microsoft-365");
    assert_eq!(incident["title"], "Exchange Online 邮件投递延迟");
    assert_eq!(incident["severity"], "critical");
    assert_eq!(incident["status"], "mitigating");
    assert_eq!(
        timestamp(&incident["started_at"]),
        timestamp(&json!("2026-11-24T06:10:00Z"))
    );
    assert_eq!(incident["resolved_at"], Value::Null);
    assert_eq!(incident["updates"], json!([]));
    assert_eq!(incident["version"], 1);
    let read = app.get(answer.header("location").unwrap(), &operator).await;
    assert_eq!(read.status, 200, "{}", read.body);
    assert_eq!(read.body, answer.body);
}

#[tokio::test]
async fn an_admin_opens_an_incident_investigating_from_now_by_default() {
    // Arrange
    let app = spawn_app().await;
    let before = Utc::now();

    // Act
    let answer = app
        .post(INCIDENTS, &app.admin_key, &incident_body("azure"))
        .await;

    // Assert
    let after = Utc::now();
    assert_eq!(answer.status, 201, "{}", answer.body);
    assert_eq!(answer.body["status"], "investigating");
    let started_at = timestamp(&answer.body["started_at"]);
    assert!(
        before - Duration::seconds(1) <= started_at && started_at <= after + Duration::seconds(1),
        "started_at {started_at} is not now ({before} .. {after})"
    );
}

#[tokio::test]
async fn announced_maintenance_may_start_in_the_future() {
    // Arrange
    let app = spawn_app().await;
    let operator = app.operator_key().await;
    let tomorrow = (Utc::now() + Duration::days(1)).to_rfc3339_opts(SecondsFormat::Secs, true);

    // Act
    let answer = app
        .post(INCIDENTS, &operator, &started("power-bi", &tomorrow))
        .await;

    // Assert
    assert_eq!(answer.status, 201, "{}", answer.body);
    assert_eq!(
        timestamp(&answer.body["started_at"]),
        timestamp(&json!(tomorrow))
    );
}

#[tokio::test]
async fn an_incident_on_a_service_not_in_the_catalog_is_404() {
    // Arrange
    let app = spawn_app().await;
    let operator = app.operator_key().await;

    // Act
    let answer = app
        .post(INCIDENTS, &operator, &incident_body("contoso-backup"))
        .await;

    // Assert
    answer.problem(404, "not_found");
    let list = app.get(INCIDENTS, &operator).await;
    assert!(list.items().is_empty());
}

#[tokio::test]
async fn a_bad_severity_or_opening_status_is_422() {
    // Arrange
    let app = spawn_app().await;
    let operator = app.operator_key().await;
    let mut body = incident_body("azure");
    body["severity"] = json!("major");
    body["status"] = json!("resolved");
    body["started_at"] = json!("yesterday");

    // Act
    let answer = app.post(INCIDENTS, &operator, &body).await;

    // Assert
    answer.problem(422, "validation_failed");
    assert_eq!(answer.error_fields(), ["severity", "started_at", "status"]);
}

#[tokio::test]
async fn missing_and_malformed_fields_are_all_listed() {
    // Arrange
    let app = spawn_app().await;
    let operator = app.operator_key().await;

    // Act
    let empty = app.post(INCIDENTS, &operator, &json!({})).await;
    let malformed = app
        .post(
            INCIDENTS,
            &operator,
            &json!({"service_key": "Azure", "title": " ", "severity": "warning"}),
        )
        .await;

    // Assert
    empty.problem(422, "validation_failed");
    assert_eq!(empty.error_fields(), ["service_key", "severity", "title"]);
    malformed.problem(422, "validation_failed");
    assert_eq!(malformed.error_fields(), ["service_key", "title"]);
}

#[tokio::test]
async fn partners_cannot_open_update_or_publish_incidents() {
    // Arrange
    let app = spawn_app().await;
    let operator = app.operator_key().await;
    let partner = app.create_partner("世纪互联合作伙伴").await;
    let incident = app
        .create_incident(&operator, &incident_body("azure"))
        .await;
    let id = incident.id();

    // Act
    let created = app
        .post(INCIDENTS, &partner.key, &incident_body("azure"))
        .await;
    let patched = app
        .patch(
            &incident_path(id),
            &partner.key,
            Some("\"1\""),
            &json!({"status": "resolved"}),
        )
        .await;
    let published = app
        .post(
            &updates_path(id),
            &partner.key,
            &json!({"text": "客户反馈已恢复"}),
        )
        .await;

    // Assert
    created.problem(403, "forbidden");
    patched.problem(403, "forbidden");
    published.problem(403, "forbidden");
    let read = app.get(&incident_path(id), &partner.key).await;
    assert_eq!(read.body, incident.body, "nothing changed");
    assert_eq!(app.get(INCIDENTS, &operator).await.item_ids(), [id]);
}

// ---------------------------------------------------------------------------------------------
// Read
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn everyone_reads_incidents() {
    // Arrange
    let app = spawn_app().await;
    let operator = app.operator_key().await;
    let partner = app.create_partner("世纪互联合作伙伴").await;
    let incident = app
        .create_incident(&operator, &incident_body("azure"))
        .await;

    for key in [&partner.key, &operator, &app.admin_key] {
        // Act
        let read = app.get(&incident_path(incident.id()), key).await;
        let list = app.get(INCIDENTS, key).await;

        // Assert
        assert_eq!(read.status, 200, "{}", read.body);
        assert_eq!(read.etag(), "\"1\"");
        assert_eq!(read.body, incident.body);
        assert_eq!(list.item_ids(), [incident.id()]);
        assert_eq!(list.items()[0], incident.body);
    }
}

#[tokio::test]
async fn an_unknown_incident_is_404() {
    // Arrange
    let app = spawn_app().await;
    let operator = app.operator_key().await;
    let id = Uuid::now_v7();

    // Act
    let read = app.get(&incident_path(id), &operator).await;
    let patched = app
        .patch(
            &incident_path(id),
            &operator,
            Some("\"1\""),
            &json!({"status": "resolved"}),
        )
        .await;
    let published = app
        .post(&updates_path(id), &operator, &json!({"text": "已恢复"}))
        .await;

    // Assert
    read.problem(404, "not_found");
    patched.problem(404, "not_found");
    published.problem(404, "not_found");
}

// ---------------------------------------------------------------------------------------------
// Updates
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn publishing_an_update_appends_it_and_bumps_the_version() {
    // Arrange
    let app = spawn_app().await;
    let operator = app.operator_key().await;
    let incident = app
        .create_incident(&operator, &incident_body("microsoft-365"))
        .await;
    let id = incident.id();

    // Act
    let first = app
        .post(
            &updates_path(id),
            &operator,
            &json!({"text": "正在调查华东区域的邮件投递延迟。"}),
        )
        .await;
    let second = app
        .post(
            &updates_path(id),
            &app.admin_key,
            &json!({"text": "已定位到传输队列积压，正在扩容。\n预计一小时内恢复。"}),
        )
        .await;

    // Assert
    assert_eq!(first.status, 201, "{}", first.body);
    assert_eq!(first.header("location"), Some(incident_path(id).as_str()));
    assert_eq!(first.etag(), "\"2\"");
    assert_eq!(first.body["version"], 2);
    assert_eq!(texts(&first.body), ["正在调查华东区域的邮件投递延迟。"]);
    assert_eq!(second.status, 201, "{}", second.body);
    assert_eq!(second.etag(), "\"3\"");
    assert_eq!(
        texts(&second.body),
        [
            "正在调查华东区域的邮件投递延迟。",
            "已定位到传输队列积压，正在扩容。\n预计一小时内恢复。"
        ],
        "oldest first"
    );
    let published: Vec<DateTime<Utc>> = second.body["updates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|update| timestamp(&update["published_at"]))
        .collect();
    assert!(published[0] <= published[1], "{published:?}");
    assert_eq!(
        second.body["updates"][0], first.body["updates"][0],
        "earlier updates are kept as they were"
    );
    let read = app.get(&incident_path(id), &operator).await;
    assert_eq!(read.body, second.body);
    assert_eq!(read.etag(), "\"3\"");
}

#[tokio::test]
async fn publishing_an_update_makes_an_older_etag_stale() {
    // Arrange
    let app = spawn_app().await;
    let operator = app.operator_key().await;
    let incident = app
        .create_incident(&operator, &incident_body("azure"))
        .await;
    publish(&app, &operator, incident.id(), "正在调查。").await;

    // Act
    let stale = app
        .patch(
            &incident_path(incident.id()),
            &operator,
            Some(&incident.etag()),
            &json!({"status": "mitigating"}),
        )
        .await;

    // Assert
    stale.problem(412, "stale_version");
}

#[tokio::test]
async fn updates_are_append_only() {
    // Arrange
    let app = spawn_app().await;
    let operator = app.operator_key().await;
    let incident = app
        .create_incident(&operator, &incident_body("azure"))
        .await;
    let published = publish(&app, &operator, incident.id(), "正在调查。").await;
    let id = incident.id();

    // Act
    let rewritten = app
        .patch(
            &incident_path(id),
            &operator,
            Some(&published.etag()),
            &json!({"updates": [{"text": "一切正常。"}]}),
        )
        .await;
    let replaced = app
        .send(
            app.request(Method::PUT, &updates_path(id), &operator)
                .json(&json!({"text": "一切正常。"})),
        )
        .await;
    let deleted = app.delete(&updates_path(id), &operator).await;

    // Assert
    rewritten.problem(422, "validation_failed");
    assert_eq!(rewritten.error_fields(), ["updates"]);
    replaced.problem(405, "method_not_allowed");
    deleted.problem(405, "method_not_allowed");
    let read = app.get(&incident_path(id), &operator).await;
    assert_eq!(read.body, published.body);
}

#[tokio::test]
async fn a_blank_or_missing_update_text_is_refused() {
    // Arrange
    let app = spawn_app().await;
    let operator = app.operator_key().await;
    let incident = app
        .create_incident(&operator, &incident_body("azure"))
        .await;

    for body in [json!({"text": "   "}), json!({"text": ""}), json!({})] {
        // Act
        let answer = app
            .post(&updates_path(incident.id()), &operator, &body)
            .await;

        // Assert
        answer.problem(422, "validation_failed");
        assert_eq!(answer.error_fields(), ["text"], "{body}");
    }
    let read = app.get(&incident_path(incident.id()), &operator).await;
    assert_eq!(read.etag(), "\"1\"");
    assert_eq!(read.body["updates"], json!([]));
}

// ---------------------------------------------------------------------------------------------
// Status
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn investigating_and_mitigating_move_either_way() {
    // Arrange
    let app = spawn_app().await;
    let operator = app.operator_key().await;
    let incident = app
        .create_incident(&operator, &incident_body("azure"))
        .await;

    // Act
    let mitigating = app
        .patch(
            &incident_path(incident.id()),
            &operator,
            Some(&incident.etag()),
            &json!({"status": "mitigating", "severity": "critical", "title": "华北 2 区域虚拟机不可用"}),
        )
        .await;
    let investigating = app
        .move_incident(&app.admin_key, &mitigating, "investigating")
        .await;

    // Assert
    assert_eq!(mitigating.status, 200, "{}", mitigating.body);
    assert_eq!(mitigating.body["status"], "mitigating");
    assert_eq!(mitigating.body["severity"], "critical");
    assert_eq!(mitigating.body["title"], "华北 2 区域虚拟机不可用");
    assert_eq!(mitigating.etag(), "\"2\"");
    assert_eq!(investigating.body["status"], "investigating");
    assert_eq!(investigating.body["severity"], "critical");
    assert_eq!(investigating.etag(), "\"3\"");
    assert_eq!(investigating.body["resolved_at"], Value::Null);
}

#[tokio::test]
async fn resolving_sets_resolved_at() {
    // Arrange
    let app = spawn_app().await;
    let operator = app.operator_key().await;
    let incident = app
        .create_incident(&operator, &incident_body("azure"))
        .await;
    let mitigating = app.move_incident(&operator, &incident, "mitigating").await;
    let before = Utc::now();

    // Act
    let resolved = app.move_incident(&operator, &mitigating, "resolved").await;

    // Assert
    let after = Utc::now();
    assert_eq!(resolved.body["status"], "resolved");
    assert_eq!(resolved.etag(), "\"3\"");
    let resolved_at = timestamp(&resolved.body["resolved_at"]);
    assert!(
        before - Duration::seconds(1) <= resolved_at && resolved_at <= after + Duration::seconds(1),
        "resolved_at {resolved_at} is not now ({before} .. {after})"
    );
    let read = app.get(&incident_path(incident.id()), &operator).await;
    assert_eq!(read.body, resolved.body);
}

#[tokio::test]
async fn an_incident_resolves_straight_from_investigating() {
    // Arrange
    let app = spawn_app().await;
    let operator = app.operator_key().await;
    let incident = app
        .create_incident(&operator, &incident_body("power-apps"))
        .await;

    // Act
    let resolved = app.move_incident(&operator, &incident, "resolved").await;

    // Assert
    assert_eq!(resolved.body["status"], "resolved");
    assert!(resolved.body["resolved_at"].is_string());
}

#[tokio::test]
async fn a_resolved_incident_cannot_move_again() {
    // Arrange
    let app = spawn_app().await;
    let operator = app.operator_key().await;
    let incident = app
        .create_incident(&operator, &incident_body("azure"))
        .await;
    let resolved = app.move_incident(&operator, &incident, "resolved").await;

    for to in ["investigating", "mitigating"] {
        // Act
        let answer = app
            .patch(
                &incident_path(incident.id()),
                &operator,
                Some(&resolved.etag()),
                &json!({"status": to}),
            )
            .await;

        // Assert
        let problem = answer.problem(409, "invalid_transition");
        assert_eq!(answer.error_fields(), ["status"]);
        let detail = problem["detail"].as_str().unwrap();
        assert!(
            detail.contains("resolved") && detail.contains(to) && detail.contains("final"),
            "{detail}"
        );
        assert!(
            problem["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("is final"),
            "{problem}"
        );
    }
    let read = app.get(&incident_path(incident.id()), &operator).await;
    assert_eq!(read.body, resolved.body);
}

#[tokio::test]
async fn resolving_again_keeps_the_first_resolved_at() {
    // Arrange
    let app = spawn_app().await;
    let operator = app.operator_key().await;
    let incident = app
        .create_incident(&operator, &incident_body("azure"))
        .await;
    let resolved = app.move_incident(&operator, &incident, "resolved").await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;

    // Act
    let again = app.move_incident(&operator, &resolved, "resolved").await;

    // Assert
    assert_eq!(again.body["status"], "resolved");
    assert_eq!(
        timestamp(&again.body["resolved_at"]),
        timestamp(&resolved.body["resolved_at"]),
        "the first resolution time stays"
    );
    let read = app.get(&incident_path(incident.id()), &operator).await;
    assert_eq!(read.body["resolved_at"], resolved.body["resolved_at"]);
}

#[tokio::test]
async fn a_resolved_incident_still_takes_a_closing_update() {
    // Arrange
    let app = spawn_app().await;
    let operator = app.operator_key().await;
    let incident = app
        .create_incident(&operator, &incident_body("azure"))
        .await;
    let resolved = app.move_incident(&operator, &incident, "resolved").await;

    // Act
    let closing = publish(&app, &operator, incident.id(), "事后分析报告已发布。").await;

    // Assert
    assert_eq!(closing.body["status"], "resolved");
    assert_eq!(closing.body["resolved_at"], resolved.body["resolved_at"]);
    assert_eq!(texts(&closing.body), ["事后分析报告已发布。"]);
}

#[tokio::test]
async fn an_update_without_if_match_is_428_and_a_stale_one_412() {
    // Arrange
    let app = spawn_app().await;
    let operator = app.operator_key().await;
    let incident = app
        .create_incident(&operator, &incident_body("azure"))
        .await;
    let path = incident_path(incident.id());

    // Act
    let without = app
        .patch(&path, &operator, None, &json!({"status": "resolved"}))
        .await;
    let first = app
        .patch(
            &path,
            &operator,
            Some("\"1\""),
            &json!({"severity": "critical"}),
        )
        .await;
    let stale = app
        .patch(
            &path,
            &operator,
            Some("\"1\""),
            &json!({"status": "resolved"}),
        )
        .await;

    // Assert
    without.problem(428, "if_match_required");
    assert_eq!(first.status, 200, "{}", first.body);
    stale.problem(412, "stale_version");
    let read = app.get(&path, &operator).await;
    assert_eq!(read.body["status"], "investigating");
    assert_eq!(read.body["severity"], "critical");
    assert_eq!(read.etag(), "\"2\"");
}

#[tokio::test]
async fn an_update_is_validated() {
    // Arrange
    let app = spawn_app().await;
    let operator = app.operator_key().await;
    let incident = app
        .create_incident(&operator, &incident_body("azure"))
        .await;

    // Act
    let answer = app
        .patch(
            &incident_path(incident.id()),
            &operator,
            Some("\"1\""),
            &json!({"status": "closed", "severity": "major", "title": "", "service_key": "power-bi"}),
        )
        .await;

    // Assert
    answer.problem(422, "validation_failed");
    assert_eq!(
        answer.error_fields(),
        ["service_key", "severity", "status", "title"]
    );
}

#[tokio::test]
async fn concurrent_updates_with_the_same_etag_let_exactly_one_through() {
    // Arrange
    let app = spawn_app().await;
    let operator = app.operator_key().await;
    let incident = app
        .create_incident(&operator, &incident_body("azure"))
        .await;
    let url = app.url(&incident_path(incident.id()));

    // Act
    let mut tasks = Vec::new();
    for n in 0..10 {
        let request = app
            .client
            .patch(&url)
            .bearer_auth(&operator)
            .header("If-Match", "\"1\"")
            .json(&json!({"status": "mitigating", "title": format!("并发更新 {n}")}));
        tasks.push(tokio::spawn(async move {
            Answer::read(request.send().await.expect("the request is sent")).await
        }));
    }
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.expect("the request task completes"));
    }

    // Assert
    let winners: Vec<&Answer> = answers.iter().filter(|a| a.status == 200).collect();
    assert_eq!(
        winners.len(),
        1,
        "statuses: {:?}",
        answers.iter().map(|a| a.status).collect::<Vec<_>>()
    );
    for loser in answers.iter().filter(|a| a.status != 200) {
        loser.problem(412, "stale_version");
    }
    let read = app.get(&incident_path(incident.id()), &operator).await;
    assert_eq!(read.etag(), "\"2\"");
    assert_eq!(read.body["title"], winners[0].body["title"]);
}

// ---------------------------------------------------------------------------------------------
// List filters and pagination
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn the_list_filters_on_service_status_and_activity() {
    // Arrange
    let app = spawn_app().await;
    let operator = app.operator_key().await;
    let partner = app.create_partner("世纪互联合作伙伴").await;
    let azure_investigating = app
        .create_incident(&operator, &incident_body("azure"))
        .await
        .id();
    let mut mitigating = incident_body("azure");
    mitigating["status"] = json!("mitigating");
    let azure_mitigating = app.create_incident(&operator, &mitigating).await.id();
    let m365 = app
        .create_incident(&operator, &incident_body("microsoft-365"))
        .await;
    let m365_resolved = app.move_incident(&operator, &m365, "resolved").await.id();
    let power_bi = app
        .create_incident(&operator, &incident_body("power-bi"))
        .await
        .id();
    let list = async |params: &[(&str, &str)]| {
        app.get_query(INCIDENTS, &partner.key, params)
            .await
            .item_ids()
    };

    // Act / Assert
    assert_eq!(
        list(&[]).await,
        [
            azure_investigating,
            azure_mitigating,
            m365_resolved,
            power_bi
        ]
    );
    assert_eq!(
        list(&[("service", "azure")]).await,
        [azure_investigating, azure_mitigating]
    );
    assert_eq!(list(&[("status", "mitigating")]).await, [azure_mitigating]);
    assert_eq!(
        list(&[("status", "investigating")]).await,
        [azure_investigating, power_bi]
    );
    assert_eq!(
        list(&[("active", "true")]).await,
        [azure_investigating, azure_mitigating, power_bi]
    );
    assert_eq!(list(&[("active", "false")]).await, [m365_resolved]);
    assert_eq!(list(&[("status", "resolved")]).await, [m365_resolved]);
    assert!(
        list(&[("service", "microsoft-365"), ("active", "true")])
            .await
            .is_empty()
    );
    assert_eq!(
        list(&[
            ("service", "azure"),
            ("active", "true"),
            ("status", "investigating")
        ])
        .await,
        [azure_investigating]
    );
    assert!(list(&[("service", "dynamics-365")]).await.is_empty());
}

#[tokio::test]
async fn the_list_filters_on_a_started_at_range() {
    // Arrange
    let app = spawn_app().await;
    let operator = app.operator_key().await;
    let march = app
        .create_incident(&operator, &started("azure", "2026-03-10T00:00:00Z"))
        .await
        .id();
    let january = app
        .create_incident(&operator, &started("azure", "2026-01-10T00:00:00Z"))
        .await
        .id();
    let february = app
        .create_incident(&operator, &started("azure", "2026-02-10T00:00:00Z"))
        .await
        .id();
    let list = async |params: &[(&str, &str)]| {
        let ids: HashSet<Uuid> = app
            .get_query(INCIDENTS, &operator, params)
            .await
            .item_ids()
            .into_iter()
            .collect();
        ids
    };
    let set = |ids: &[Uuid]| ids.iter().copied().collect::<HashSet<Uuid>>();

    // Act / Assert
    assert_eq!(
        list(&[
            ("started_after", "2026-02-01T00:00:00Z"),
            ("started_before", "2026-03-01T00:00:00Z")
        ])
        .await,
        set(&[february])
    );
    assert_eq!(
        list(&[("started_after", "2026-02-01T00:00:00Z")]).await,
        set(&[february, march])
    );
    assert_eq!(
        list(&[("started_before", "2026-02-01T00:00:00Z")]).await,
        set(&[january])
    );
    assert_eq!(
        list(&[("started_after", "2026-02-10T00:00:00Z")]).await,
        set(&[february, march]),
        "started_after includes its bound"
    );
    assert_eq!(
        list(&[("started_before", "2026-02-10T00:00:00Z")]).await,
        set(&[january]),
        "started_before excludes its bound"
    );
    assert_eq!(
        list(&[
            ("started_after", "2026-02-10T08:00:00+08:00"),
            ("started_before", "2026-03-10T08:00:00.001+08:00")
        ])
        .await,
        set(&[february, march]),
        "offsets are honoured"
    );
    assert!(
        list(&[
            ("started_after", "2026-03-01T00:00:00Z"),
            ("started_before", "2026-02-01T00:00:00Z")
        ])
        .await
        .is_empty()
    );
}

#[tokio::test]
async fn a_bad_query_is_400_invalid_query() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("世纪互联合作伙伴").await;

    for (params, field) in [
        (&[("started_after", "yesterday")][..], "started_after"),
        (
            &[("started_before", "2026-02-30T00:00:00Z")],
            "started_before",
        ),
        (&[("started_after", "2026-02-01")], "started_after"),
        (&[("active", "maybe")], "active"),
        (&[("status", "closed")], "status"),
        (&[("service", "Azure")], "service"),
        (&[("limit", "0")], "limit"),
        (&[("cursor", "AAAA")], "cursor"),
    ] {
        // Act
        let answer = app.get_query(INCIDENTS, &partner.key, params).await;

        // Assert
        answer.problem(400, "invalid_query");
        assert_eq!(answer.error_fields(), [field], "{params:?}");
    }
}

#[tokio::test]
async fn the_list_pages_one_at_a_time() {
    // Arrange
    let app = spawn_app().await;
    let operator = app.operator_key().await;
    let partner = app.create_partner("世纪互联合作伙伴").await;
    let mut created = Vec::new();
    for service_key in ["azure", "power-bi", "azure", "azure"] {
        created.push(
            app.create_incident(&operator, &incident_body(service_key))
                .await
                .id(),
        );
    }
    let azure: Vec<Uuid> = [created[0], created[2], created[3]].to_vec();

    // Act
    let mut pages = Vec::new();
    let mut answer = app
        .get_query(
            INCIDENTS,
            &partner.key,
            &[("limit", "1"), ("service", "azure")],
        )
        .await;
    loop {
        pages.push(answer.item_ids());
        let Some(cursor) = answer.body["next_cursor"].as_str().map(str::to_owned) else {
            assert_eq!(answer.next_link(), None);
            break;
        };
        let link = answer.next_link().expect("a Link to the next page");
        assert!(link.contains("service=azure"), "{link}");
        answer = app
            .get_query(
                INCIDENTS,
                &partner.key,
                &[("limit", "1"), ("service", "azure"), ("cursor", &cursor)],
            )
            .await;
    }

    // Assert
    assert_eq!(
        pages,
        azure.iter().map(|id| vec![*id]).collect::<Vec<_>>(),
        "one per page, oldest first"
    );
}

#[tokio::test]
async fn listed_incidents_carry_their_updates() {
    // Arrange
    let app = spawn_app().await;
    let operator = app.operator_key().await;
    let first = app
        .create_incident(&operator, &incident_body("azure"))
        .await;
    let second = app
        .create_incident(&operator, &incident_body("power-bi"))
        .await;
    publish(&app, &operator, first.id(), "第一条").await;
    publish(&app, &operator, second.id(), "另一条").await;
    publish(&app, &operator, first.id(), "第二条").await;

    // Act
    let list = app.get(INCIDENTS, &operator).await;

    // Assert
    let items = list.items();
    assert_eq!(texts(&items[0]), ["第一条", "第二条"]);
    assert_eq!(texts(&items[1]), ["另一条"]);
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
    let mut body = incident_body("azure");
    body["status"] = json!("mitigating");

    for round in 0..40 {
        let incident = app.create_incident(&operator, &body).await;
        let url = app.url(&incident_path(incident.id()));

        // Act
        let mut tasks = Vec::new();
        for n in 0..6 {
            let (status, if_match) = if n == 0 {
                ("resolved", incident.etag())
            } else {
                ("investigating", "*".to_owned())
            };
            let request = app
                .client
                .patch(&url)
                .bearer_auth(&operator)
                .header("If-Match", if_match)
                .json(&json!({"status": status}));
            tasks.push(tokio::spawn(async move {
                let answer = Answer::read(request.send().await.expect("the request is sent")).await;
                (status, answer)
            }));
        }
        let mut resolution_accepted = false;
        for task in tasks {
            let (status, answer) = task.await.expect("the request task completes");
            assert!(
                matches!(answer.status, 200 | 409 | 412),
                "{status}: {}",
                answer.body
            );
            resolution_accepted |= status == "resolved" && answer.status == 200;
        }

        // Assert
        let read = app.get(&incident_path(incident.id()), &operator).await;
        if resolution_accepted {
            assert_eq!(
                read.body["status"], "resolved",
                "round {round}: a resolution answered 200, then a wildcard PATCH reopened the \
                 resolved incident: {}",
                read.body
            );
        }
    }
}
