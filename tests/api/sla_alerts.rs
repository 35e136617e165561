//! SLA alerts: the warning and the breach announced once each, by whichever of two instances
//! comes first, through the outbox to webhooks and the event feed; the first response that
//! stops them; the triage queue's `at_risk` and `breached` filters; the metrics.
//!
//! Time passes by moving an escalation's times into the past in the database, as the clock
//! would, and the watch looks every second.

use std::time::Duration;

use chrono::Utc;
use escalade::config::ServeSettings;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{ESCALATIONS, TestApp, escalation_path, spawn_app_with};

fn watching_every_second() -> ServeSettings {
    let mut settings = ServeSettings::default();
    settings.sla.sla_check_interval_secs = 1;
    settings
}

/// A critical escalation (2 hours around the clock, warned after 96 minutes) submitted by a new
/// partner: its id and the partner's key.
async fn critical_escalation(app: &TestApp) -> (Uuid, String) {
    let fixture = app.escalation_fixture("premium").await;
    let body = fixture.edited(|body| body["severity"] = json!("critical"));
    let escalation = app.submit_escalation(&fixture.partner.key, &body).await;
    (escalation.id(), fixture.partner.key)
}

/// Moves the escalation's clock: submitted `elapsed_minutes` ago, so with its 2-hour response
/// time, and its next alert due now.
async fn age(app: &TestApp, id: Uuid, elapsed_minutes: i64) {
    let now = Utc::now();
    let created = now - chrono::Duration::minutes(elapsed_minutes);
    let changed = app
        .execute_sql(
            "UPDATE escalations SET created_at = $1, response_due_at = $2, sla_alert_at = $3 \
             WHERE id = $4",
            vec![
                created.into(),
                (created + chrono::Duration::hours(2)).into(),
                (now - chrono::Duration::seconds(1)).into(),
                id.into(),
            ],
        )
        .await;
    assert_eq!(changed, 1);
}

/// The SLA events of the escalation in the outbox, oldest first.
async fn sla_events(app: &TestApp, id: Uuid) -> Vec<String> {
    app.texts(&format!(
        "SELECT event_type FROM webhook_events \
         WHERE event_type LIKE 'escalation.sla_%' AND body LIKE '%{id}%' ORDER BY position, id"
    ))
    .await
}

/// Waits (up to 10 s) until the escalation has `count` SLA events, then a few looks more, and
/// returns them.
async fn settled_sla_events(app: &TestApp, id: Uuid, count: usize) -> Vec<String> {
    for _ in 0..100 {
        if sla_events(app, id).await.len() >= count {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Three more looks by each instance: none may add a second announcement.
    tokio::time::sleep(Duration::from_millis(3_200)).await;
    sla_events(app, id).await
}

async fn metric(app: &TestApp, name: &str) -> f64 {
    let text = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find_map(|line| line.strip_prefix(&format!("{name} ")))
        .and_then(|value| value.parse().ok())
        .unwrap_or_else(|| panic!("{name} in /metrics"))
}

#[tokio::test]
async fn two_instances_announce_the_warning_then_the_breach_once_each() {
    let app = spawn_app_with(watching_every_second()).await;
    let sibling = app.spawn_sibling();
    let (id, partner_key) = critical_escalation(&app).await;
    let operator = app.operator_key().await;
    assert!(sla_events(&app, id).await.is_empty());

    // 100 minutes of 120 gone: past the warning (80 %), not yet due.
    age(&app, id, 100).await;
    assert_eq!(
        settled_sla_events(&app, id, 1).await,
        ["escalation.sla_warning"]
    );
    let at_risk = app
        .get_query(ESCALATIONS, &operator, &[("at_risk", "true")])
        .await;
    assert_eq!(at_risk.item_ids(), [id]);
    let not_at_risk = app
        .get_query(ESCALATIONS, &operator, &[("at_risk", "false")])
        .await;
    assert!(!not_at_risk.item_ids().contains(&id));
    assert_eq!(metric(&app, "escalade_escalations_at_risk").await, 1.0);
    let breached = app
        .get_query(ESCALATIONS, &partner_key, &[("breached", "true")])
        .await;
    assert!(breached.item_ids().is_empty());

    // Past due.
    age(&app, id, 121).await;
    assert_eq!(
        settled_sla_events(&app, id, 2).await,
        ["escalation.sla_warning", "escalation.sla_breached"]
    );
    let breached = app
        .get_query(ESCALATIONS, &partner_key, &[("breached", "true")])
        .await;
    assert_eq!(breached.item_ids(), [id]);
    let at_risk = app
        .get_query(ESCALATIONS, &operator, &[("at_risk", "true")])
        .await;
    assert!(
        at_risk.item_ids().is_empty(),
        "overdue is no longer at risk"
    );
    let announced = metric(&app, "escalade_escalations_breached_total").await
        + metric(&sibling, "escalade_escalations_breached_total").await;
    assert_eq!(
        announced, 1.0,
        "one breach, counted by the instance that announced it"
    );
    assert_eq!(metric(&app, "escalade_escalations_at_risk").await, 0.0);

    // The breach event carries the escalation as the API shows it.
    let feed = app
        .get_query(
            "/v1/events",
            &partner_key,
            &[("type", "escalation.sla_breached")],
        )
        .await;
    assert_eq!(feed.status, 200, "{}", feed.body);
    let event = &feed.body["items"][0];
    assert_eq!(event["data"]["escalation"]["id"], json!(id));
    assert_eq!(event["data"]["escalation"]["sla"]["breached"], true);
}

#[tokio::test]
async fn an_escalation_found_overdue_gets_the_breach_alone() {
    let app = spawn_app_with(watching_every_second()).await;
    let (id, _) = critical_escalation(&app).await;
    age(&app, id, 150).await;
    assert_eq!(
        settled_sla_events(&app, id, 1).await,
        ["escalation.sla_breached"]
    );
}

#[tokio::test]
async fn an_operators_first_note_is_the_first_response_and_stops_the_alerts() {
    let app = spawn_app_with(watching_every_second()).await;
    let (id, partner_key) = critical_escalation(&app).await;
    let operator = app.operator_key().await;
    let before = app.get(&escalation_path(id), &partner_key).await;

    // A partner's note is not a response.
    app.add_note(&partner_key, id, "客户再次确认问题仍然存在。")
        .await;
    let still = app.get(&escalation_path(id), &partner_key).await;
    assert_eq!(still.body["sla"]["first_response_at"], Value::Null);

    let note = app
        .add_note(&operator, id, "已收到，正在查看传输日志。")
        .await;
    let answered = app.get(&escalation_path(id), &partner_key).await;
    assert_eq!(
        answered.body["sla"]["first_response_at"], note.body["created_at"],
        "{}",
        answered.body
    );
    assert_ne!(answered.etag(), before.etag(), "the escalation changed");
    app.add_note(&operator, id, "日志已导出。").await;
    let unchanged = app.get(&escalation_path(id), &partner_key).await;
    assert_eq!(
        unchanged.body["sla"]["first_response_at"], answered.body["sla"]["first_response_at"],
        "only the first note is the first response"
    );

    // However late it now looks, an answered escalation is never announced.
    age(&app, id, 150).await;
    assert!(settled_sla_events(&app, id, 1).await.is_empty());
    let alert = app
        .texts(&format!(
            "SELECT CAST(sla_alert_at AS TEXT) FROM escalations WHERE id = '{id}'"
        ))
        .await;
    assert!(alert.is_empty(), "no alert remains: {alert:?}");
}

#[tokio::test]
async fn taking_an_escalation_up_stops_its_alerts() {
    let app = spawn_app_with(watching_every_second()).await;
    let (id, partner_key) = critical_escalation(&app).await;
    let operator = app.operator_key().await;
    let current = app.get(&escalation_path(id), &operator).await;
    app.start_work(&operator, id, &current.etag()).await;
    let at_risk = app
        .get_query(ESCALATIONS, &partner_key, &[("at_risk", "true")])
        .await;
    assert!(at_risk.item_ids().is_empty());
    age(&app, id, 150).await;
    assert!(settled_sla_events(&app, id, 1).await.is_empty());
}
