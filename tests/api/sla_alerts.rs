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

use crate::faults::eventually_within;
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
    let due = created + chrono::Duration::hours(2);
    let alert = now - chrono::Duration::seconds(1);
    let sql = "UPDATE escalations SET created_at = $1, response_due_at = $2, sla_alert_at = $3 \
               WHERE id = $4";
    let times = vec![created.into(), due.into(), alert.into(), id.into()];
    let changed = app.execute_sql(sql, times).await;
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

/// The value of the metric `name` on `app`.
async fn metric(app: &TestApp, name: &str) -> f64 {
    let text = app.metrics().await;
    let value = text
        .lines()
        .find_map(|line| line.strip_prefix(&format!("{name} ")));
    value
        .and_then(|value| value.parse().ok())
        .unwrap_or_else(|| panic!("{name} in /metrics"))
}

#[tokio::test]
async fn two_instances_announce_the_warning_then_the_breach_once_each() {
    // Arrange
    let app = spawn_app_with(watching_every_second()).await;
    let sibling = app.spawn_sibling();
    let (id, partner_key) = critical_escalation(&app).await;
    let operator = app.operator_key().await;
    let listed = async |key: &str, filter: &str, value: &str| {
        app.get_query(ESCALATIONS, key, &[(filter, value)])
            .await
            .item_ids()
    };
    assert!(sla_events(&app, id).await.is_empty());

    // Act: 100 minutes of 120 gone: past the warning (80 %), not yet due.
    age(&app, id, 100).await;

    // Assert
    let warned = settled_sla_events(&app, id, 1).await;
    assert_eq!(warned, ["escalation.sla_warning"]);
    assert_eq!(listed(&operator, "at_risk", "true").await, [id]);
    assert!(!listed(&operator, "at_risk", "false").await.contains(&id));
    assert_eq!(metric(&app, "escalade_escalations_at_risk").await, 1.0);
    assert!(listed(&partner_key, "breached", "true").await.is_empty());

    // Act: past due.
    age(&app, id, 121).await;

    // Assert
    let announced = settled_sla_events(&app, id, 2).await;
    let both = ["escalation.sla_warning", "escalation.sla_breached"];
    assert_eq!(announced, both);
    assert_eq!(listed(&partner_key, "breached", "true").await, [id]);
    let at_risk = listed(&operator, "at_risk", "true").await;
    assert!(at_risk.is_empty(), "overdue is no longer at risk");
    let breaches = metric(&app, "escalade_escalations_breached_total").await
        + metric(&sibling, "escalade_escalations_breached_total").await;
    assert_eq!(breaches, 1.0, "counted by the instance that announced it");
    assert_eq!(metric(&app, "escalade_escalations_at_risk").await, 0.0);
    // The breach event carries the escalation as the API shows it.
    let breached = [("type", "escalation.sla_breached")];
    let feed = app.get_query("/v1/events", &partner_key, &breached).await;
    let escalation = &feed.items()[0]["data"]["escalation"];
    assert_eq!(escalation["id"], json!(id));
    assert_eq!(escalation["sla"]["breached"], true);
}

#[tokio::test]
async fn an_escalation_found_overdue_gets_the_breach_alone_unless_answered_or_taken_up() {
    // Arrange
    let app = spawn_app_with(watching_every_second()).await;
    let operator = app.operator_key().await;
    let (unanswered, _) = critical_escalation(&app).await;
    let (noted, partner_key) = critical_escalation(&app).await;
    let (taken_up, other_partner) = critical_escalation(&app).await;
    let read = async |id: Uuid| app.get(&escalation_path(id), &partner_key).await;
    let before = read(noted).await;
    // A partner's note is not a response.
    app.add_note(&partner_key, noted, "客户再次确认问题仍然存在。")
        .await;
    let unanswered_yet = read(noted).await.body["sla"]["first_response_at"].clone();
    assert_eq!(unanswered_yet, Value::Null);
    // An operator's first note is, and only the first.
    let note = app
        .add_note(&operator, noted, "已收到，正在查看传输日志。")
        .await;
    let answered = read(noted).await;
    let first_response = &answered.body["sla"]["first_response_at"];
    assert_eq!(*first_response, note.body["created_at"], "{answered:?}");
    assert_ne!(answered.etag(), before.etag(), "the escalation changed");
    app.add_note(&operator, noted, "日志已导出。").await;
    let unchanged = read(noted).await;
    let still_first = &unchanged.body["sla"]["first_response_at"];
    assert_eq!(still_first, first_response, "only the first note");
    let current = app.get(&escalation_path(taken_up), &operator).await;
    app.start_work(&operator, taken_up, &current.etag()).await;
    let at_risk = [("at_risk", "true")];
    let at_risk = app.get_query(ESCALATIONS, &other_partner, &at_risk).await;
    assert!(at_risk.item_ids().is_empty());

    // Act: however late each now looks.
    for id in [unanswered, noted, taken_up] {
        age(&app, id, 150).await;
    }

    // Assert: the watch has looked since (it announced the unanswered one's breach), and three
    // times more; it clears an answered escalation's alert and never announces it.
    let breached = settled_sla_events(&app, unanswered, 1).await;
    assert_eq!(breached, ["escalation.sla_breached"]);
    for id in [noted, taken_up] {
        let alert = format!("SELECT CAST(sla_alert_at AS TEXT) FROM escalations WHERE id = '{id}'");
        let what = format!("the alert of {id} to be cleared");
        eventually_within(Duration::from_secs(10), &what, async || {
            app.texts(&alert).await.is_empty().then_some(())
        })
        .await;
        assert!(sla_events(&app, id).await.is_empty(), "{id}");
    }
}
