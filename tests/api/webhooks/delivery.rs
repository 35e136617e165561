//! Delivery: each change writes its event in the same transaction, and the worker POSTs it,
//! signed, to every enabled endpoint subscribed to it — retrying failures with backoff until
//! the horizon, recording every attempt — with receivers that succeed, fail, hang and redirect.

use std::collections::HashSet;
use std::time::Duration as StdDuration;

use chrono::{Duration, FixedOffset, Utc};
use escalade::config::WebhookSettings;
use serde_json::{Value, json};
use uuid::Uuid;

use super::receiver::{
    Received, Receiver, Script, assert_signed, sign, signatures, verification_error,
};
use super::{
    ENDPOINTS, EVENT_TYPES, create_endpoint, create_endpoint_from, deliveries, deliveries_path,
    delivery_of, delivery_path, delivery_where, endpoint_body, endpoint_path, eventually,
    fast_webhooks, rotate, secret, spawn_webhook_app, spawn_webhook_app_with, uuid,
};
use crate::helpers::{
    Answer, ESCALATIONS, EscalationFixture, TestApp, escalation_body, escalation_path,
    incident_body, incident_path, send_concurrently, timestamp,
};

// ---------------------------------------------------------------------------------------------
// Helpers local to this module
// ---------------------------------------------------------------------------------------------

/// A partner ready to escalate, and an operator.
struct Desk {
    fixture: EscalationFixture,
    operator: String,
}

impl Desk {
    async fn new(app: &TestApp) -> Self {
        Desk {
            fixture: app.escalation_fixture("standard").await,
            operator: app.operator_key().await,
        }
    }

    fn partner(&self) -> &str {
        &self.fixture.partner.key
    }
}

/// An endpoint registered for a receiver of its own.
struct Endpoint {
    id: Uuid,
    secret: String,
    receiver: Receiver,
}

/// Starts a receiver answering as `script` and registers it as `key`, subscribed to `events`.
async fn listening(app: &TestApp, key: &str, script: Script, events: &[&str]) -> Endpoint {
    let receiver = Receiver::start(script);
    let created = create_endpoint(app, key, &receiver.url(), events).await;
    Endpoint {
        id: created.id(),
        secret: secret(&created),
        receiver,
    }
}

fn engineer() -> Value {
    json!({"name": "李娜", "email": "li.na@oe.21vianet.com", "phone": "+86 10 5555 0123"})
}

/// Submits an escalation for a fresh customer of the desk's partner (so it never duplicates
/// another); returns the answer.
async fn submit(app: &TestApp, desk: &Desk) -> Answer {
    let customer_id = app
        .create_escalatable_customer(&desk.fixture.partner, "standard")
        .await;
    app.submit_escalation(desk.partner(), &escalation_body(customer_id))
        .await
}

/// The escalation as its partner reads it.
async fn read_escalation(app: &TestApp, desk: &Desk, id: Uuid) -> Value {
    let read = app.get(&escalation_path(id), desk.partner()).await;
    assert_eq!(read.status, 200, "{}", read.body);
    read.body
}

/// Causes one event of `event_type` concerning the desk's partner; returns the `data` its
/// message must carry, read back through the API as the contract describes it.
async fn cause(app: &TestApp, desk: &Desk, event_type: &str) -> Value {
    let operator = desk.operator.as_str();
    match event_type {
        "escalation.created" => {
            let created = submit(app, desk).await;
            json!({"escalation": read_escalation(app, desk, created.id()).await})
        }
        "escalation.status_changed" => {
            let created = submit(app, desk).await;
            let started = app
                .transition(
                    operator,
                    created.id(),
                    &created.etag(),
                    &json!({"to": "in_progress", "engineer": engineer()}),
                )
                .await;
            assert_eq!(started.status, 200, "{}", started.body);
            json!({
                "escalation": read_escalation(app, desk, created.id()).await,
                "previous_status": "submitted"
            })
        }
        "escalation.note_added" => {
            let created = submit(app, desk).await;
            let note = app
                .post(
                    &format!("{}/notes", escalation_path(created.id())),
                    operator,
                    &json!({"text": "请提供一封退信的完整邮件头。"}),
                )
                .await;
            assert_eq!(note.status, 201, "{}", note.body);
            json!({
                "escalation_id": created.id(),
                "escalation_number": created.body["number"],
                "note": note.body
            })
        }
        "service_incident.created" => {
            let incident = app.create_incident(operator, &incident_body("azure")).await;
            json!({"incident": read_incident(app, desk, incident.id()).await})
        }
        "service_incident.resolved" => {
            let incident = app.create_incident(operator, &incident_body("azure")).await;
            let resolved = app.move_incident(operator, &incident, "resolved").await;
            json!({"incident": read_incident(app, desk, resolved.id()).await})
        }
        "remediation_plan.requested" => {
            let respond_by = Utc::now()
                .with_timezone(&FixedOffset::east_opt(8 * 3600).unwrap())
                .date_naive()
                + Duration::days(14);
            let plan = app
                .post(
                    &format!("/v1/partners/{}/remediation-plans", desk.fixture.partner.id),
                    operator,
                    &json!({
                        "reason": "过去 90 天内多个升级属于合作伙伴自行处理的范畴。",
                        "respond_by": respond_by
                    }),
                )
                .await;
            assert_eq!(plan.status, 201, "{}", plan.body);
            json!({"remediation_plan": plan.body})
        }
        other => panic!("no way to cause {other}"),
    }
}

async fn read_incident(app: &TestApp, desk: &Desk, id: Uuid) -> Value {
    let read = app.get(&incident_path(id), desk.partner()).await;
    assert_eq!(read.status, 200, "{}", read.body);
    read.body
}

/// The id of what a message's `data` is about.
fn subject(data: &Value) -> Value {
    [
        &data["escalation"]["id"],
        &data["escalation_id"],
        &data["incident"]["id"],
        &data["remediation_plan"]["id"],
    ]
    .into_iter()
    .find(|id| !id.is_null())
    .cloned()
    .unwrap_or(Value::Null)
}

/// Asserts `request` is the message of `event_type` carrying `data`, POSTed as JSON and signed
/// with `secret`.
#[track_caller]
fn assert_message(request: &Received, secret: &str, event_type: &str, data: &Value) {
    assert_eq!(request.method, "POST");
    assert_eq!(
        request
            .content_type
            .as_deref()
            .and_then(|value| value.split(';').next())
            .map(str::trim),
        Some("application/json"),
        "{request:?}"
    );
    assert!(
        request.id().parse::<Uuid>().is_ok(),
        "webhook-id {} is an event id (a uuid)",
        request.id()
    );
    assert_signed(request, secret);
    let body = request.json();
    assert_eq!(body["type"], event_type, "{body}");
    let sent_at = timestamp(&body["timestamp"]);
    assert!(
        (Utc::now() - sent_at).abs() < Duration::minutes(1),
        "timestamp {sent_at} is about now"
    );
    assert_eq!(&body["data"], data, "the data of {event_type}");
}

/// `response_status` of each attempt of a delivery, in order.
fn attempt_statuses(delivery: &Value) -> Vec<Value> {
    attempts(delivery)
        .iter()
        .map(|attempt| attempt["response_status"].clone())
        .collect()
}

#[track_caller]
fn attempts(delivery: &Value) -> &Vec<Value> {
    delivery["attempts"]
        .as_array()
        .unwrap_or_else(|| panic!("an attempts list: {delivery}"))
}

async fn metrics(app: &TestApp) -> String {
    let response = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    response.text().await.unwrap()
}

/// The value of the series `series` (name and labels exactly as exposed) in `text`.
fn metric(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .find_map(|line| {
            line.strip_prefix(series)?
                .strip_prefix(' ')?
                .trim()
                .parse()
                .ok()
        })
}

/// Whether `text` exposes a series of the metric `name`.
fn exposes(text: &str, name: &str) -> bool {
    text.lines().any(|line| {
        line.strip_prefix(name)
            .is_some_and(|rest| rest.starts_with(' ') || rest.starts_with('{'))
    })
}

// ---------------------------------------------------------------------------------------------
// One event, end to end
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_new_escalation_is_delivered_once_signed_to_a_subscribed_endpoint() {
    // Arrange
    let app = spawn_webhook_app().await;
    let desk = Desk::new(&app).await;
    let endpoint = listening(
        &app,
        desk.partner(),
        Script::Always(204),
        &["escalation.created"],
    )
    .await;

    // Act
    let created = app
        .submit_escalation(desk.partner(), &desk.fixture.body)
        .await;

    // Assert
    let received = endpoint.receiver.wait_for(1).await;
    let request = &received[0];
    let expected = json!({"escalation": read_escalation(&app, &desk, created.id()).await});
    assert_message(request, &endpoint.secret, "escalation.created", &expected);
    assert_eq!(
        request.json()["data"]["escalation"]["id"],
        json!(created.id())
    );
    assert_eq!(request.path, "/hooks/escalade");
    let delivery = delivery_of(&app, desk.partner(), endpoint.id, request.id(), "delivered").await;
    assert_eq!(delivery["endpoint_id"], json!(endpoint.id));
    assert_eq!(delivery["event_type"], "escalation.created");
    assert_eq!(delivery["attempt_count"], 1);
    assert!(delivery["next_attempt_at"].is_null(), "{delivery}");
    assert!(timestamp(&delivery["delivered_at"]) >= timestamp(&delivery["created_at"]));
    assert_eq!(
        delivery["payload"],
        request.json(),
        "the payload is what was sent"
    );
    let attempt = &attempts(&delivery)[0];
    assert_eq!(attempt["number"], 1);
    assert_eq!(attempt["response_status"], 204);
    assert!(attempt["error"].is_null(), "{attempt}");
    assert!(attempt["duration_ms"].is_u64(), "{attempt}");
    timestamp(&attempt["started_at"]);
    assert_eq!(endpoint.receiver.count(), 1, "exactly one request");
    assert_eq!(deliveries(&app, desk.partner(), endpoint.id).await.len(), 1);
}

// ---------------------------------------------------------------------------------------------
// Every event type reaches its subscribers and no one else
// ---------------------------------------------------------------------------------------------

/// Causes an `event_type` event with two endpoints of the partner listening: one subscribed to
/// that type alone, one to every other type. Only the first gets it, with the data the contract
/// describes. A later event the second does want shows the worker has been past both.
async fn only_subscribers_get(event_type: &str) {
    // Arrange
    let app = spawn_webhook_app().await;
    let desk = Desk::new(&app).await;
    let other_types: Vec<&str> = EVENT_TYPES
        .into_iter()
        .filter(|t| *t != event_type)
        .collect();
    let subscribed = listening(&app, desk.partner(), Script::Always(204), &[event_type]).await;
    let others = listening(&app, desk.partner(), Script::Always(204), &other_types).await;

    // Act
    let data = cause(&app, &desk, event_type).await;

    // Assert
    let received = subscribed.receiver.wait_for(1).await;
    assert_message(&received[0], &subscribed.secret, event_type, &data);
    let marker_type = if event_type.starts_with("service_incident") {
        "remediation_plan.requested"
    } else {
        "service_incident.created"
    };
    let marker = subject(&cause(&app, &desk, marker_type).await);
    others
        .receiver
        .wait_for_event(marker_type, |data| subject(data) == marker)
        .await;
    assert_eq!(
        subscribed.receiver.event_types(),
        [event_type],
        "one message, of its type only"
    );
    assert!(
        !others
            .receiver
            .event_types()
            .iter()
            .any(|t| t == event_type),
        "{:?}",
        others.receiver.event_types()
    );
    assert!(
        deliveries(&app, desk.partner(), others.id)
            .await
            .iter()
            .all(|delivery| delivery["event_type"] != event_type)
    );
}

#[tokio::test]
async fn escalation_created_reaches_only_its_subscribers() {
    only_subscribers_get("escalation.created").await;
}

#[tokio::test]
async fn escalation_status_changed_reaches_only_its_subscribers_with_the_previous_status() {
    only_subscribers_get("escalation.status_changed").await;
}

#[tokio::test]
async fn escalation_note_added_reaches_only_its_subscribers() {
    only_subscribers_get("escalation.note_added").await;
}

#[tokio::test]
async fn service_incident_created_reaches_only_its_subscribers() {
    only_subscribers_get("service_incident.created").await;
}

#[tokio::test]
async fn service_incident_resolved_reaches_only_its_subscribers() {
    only_subscribers_get("service_incident.resolved").await;
}

#[tokio::test]
async fn remediation_plan_requested_reaches_only_its_subscribers() {
    only_subscribers_get("remediation_plan.requested").await;
}

#[tokio::test]
async fn a_partners_note_is_an_event_too() {
    // Arrange
    let app = spawn_webhook_app().await;
    let desk = Desk::new(&app).await;
    let endpoint = listening(
        &app,
        desk.partner(),
        Script::Always(204),
        &["escalation.note_added"],
    )
    .await;
    let created = submit(&app, &desk).await;

    // Act
    let note = app
        .post(
            &format!("{}/notes", escalation_path(created.id())),
            desk.partner(),
            &json!({"text": "已附上退信邮件头。"}),
        )
        .await;

    // Assert
    assert_eq!(note.status, 201, "{}", note.body);
    let received = endpoint.receiver.wait_for(1).await;
    let expected = json!({
        "escalation_id": created.id(),
        "escalation_number": created.body["number"],
        "note": note.body
    });
    assert_message(
        &received[0],
        &endpoint.secret,
        "escalation.note_added",
        &expected,
    );
}

#[tokio::test]
async fn every_transition_is_a_status_changed_event() {
    // Arrange
    let app = spawn_webhook_app().await;
    let desk = Desk::new(&app).await;
    let endpoint = listening(
        &app,
        desk.partner(),
        Script::Always(204),
        &["escalation.status_changed"],
    )
    .await;
    let created = submit(&app, &desk).await;
    let id = created.id();

    // Act
    let started = app
        .transition(
            &desk.operator,
            id,
            &created.etag(),
            &json!({"to": "in_progress", "engineer": engineer()}),
        )
        .await;
    let waiting = app
        .transition(
            &desk.operator,
            id,
            &started.etag(),
            &json!({"to": "awaiting_partner"}),
        )
        .await;
    let answered = app
        .transition(
            desk.partner(),
            id,
            &waiting.etag(),
            &json!({"to": "in_progress"}),
        )
        .await;

    // Assert
    for answer in [&started, &waiting, &answered] {
        assert_eq!(answer.status, 200, "{}", answer.body);
    }
    let received = endpoint.receiver.wait_for(3).await;
    let mut moves: Vec<(String, String)> = received
        .iter()
        .map(|request| {
            assert_signed(request, &endpoint.secret);
            let data = &request.json()["data"];
            (
                data["previous_status"].as_str().unwrap().to_owned(),
                data["escalation"]["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    moves.sort();
    let mut expected = vec![
        ("submitted".to_owned(), "in_progress".to_owned()),
        ("in_progress".to_owned(), "awaiting_partner".to_owned()),
        ("awaiting_partner".to_owned(), "in_progress".to_owned()),
    ];
    expected.sort();
    assert_eq!(moves, expected);
    let ids: HashSet<&str> = received.iter().map(Received::id).collect();
    assert_eq!(ids.len(), 3, "one event per transition");
}

// ---------------------------------------------------------------------------------------------
// Who gets what
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn service_incident_events_reach_every_subscribed_partner() {
    // Arrange
    let app = spawn_webhook_app().await;
    let operator = app.operator_key().await;
    let incident_types = ["service_incident.created", "service_incident.resolved"];
    let first = app.create_partner("云桥科技").await;
    let second = app.create_partner("蓝海科技").await;
    let uninterested = app.create_partner("远山科技").await;
    let ours = listening(&app, &first.key, Script::Always(204), &incident_types).await;
    let theirs = listening(&app, &second.key, Script::Always(204), &incident_types).await;
    let escalations_only = listening(
        &app,
        &uninterested.key,
        Script::Always(204),
        &["escalation.created", "escalation.status_changed"],
    )
    .await;

    // Act
    let incident = app
        .create_incident(&operator, &incident_body("azure"))
        .await;
    app.move_incident(&operator, &incident, "resolved").await;

    // Assert
    let by_type = |endpoint: &Endpoint, received: &[Received]| {
        let mut messages: Vec<(String, String)> = received
            .iter()
            .map(|request| {
                assert_signed(request, &endpoint.secret);
                assert_eq!(
                    request.json()["data"]["incident"]["id"],
                    json!(incident.id())
                );
                (request.event_type(), request.id().to_owned())
            })
            .collect();
        messages.sort();
        messages
    };
    let ours_got = by_type(&ours, &ours.receiver.wait_for(2).await);
    let theirs_got = by_type(&theirs, &theirs.receiver.wait_for(2).await);
    assert_eq!(
        ours_got.iter().map(|(t, _)| t.as_str()).collect::<Vec<_>>(),
        incident_types
    );
    assert_eq!(
        ours_got, theirs_got,
        "the same events, with the same webhook-id for every endpoint"
    );
    assert_ne!(ours_got[0].1, ours_got[1].1, "two events, two ids");
    let ours_first = &ours.receiver.received()[0];
    assert!(
        verification_error(ours_first, &theirs.secret).is_some(),
        "each endpoint signs with its own secret"
    );
    assert_eq!(escalations_only.receiver.count(), 0);
    assert!(
        deliveries(&app, &uninterested.key, escalations_only.id)
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn escalation_events_never_reach_another_partners_endpoint() {
    // Arrange
    let app = spawn_webhook_app().await;
    let desk = Desk::new(&app).await;
    let stranger = app.create_partner("蓝海科技").await;
    let ours = listening(&app, desk.partner(), Script::Always(204), &EVENT_TYPES).await;
    let theirs = listening(&app, &stranger.key, Script::Always(204), &EVENT_TYPES).await;

    // Act
    for event_type in [
        "escalation.created",
        "escalation.status_changed",
        "escalation.note_added",
        "remediation_plan.requested",
    ] {
        cause(&app, &desk, event_type).await;
    }
    let marker = subject(&cause(&app, &desk, "service_incident.created").await);

    // Assert
    theirs
        .receiver
        .wait_for_event("service_incident.created", |data| subject(data) == marker)
        .await;
    eventually(
        "the partner's own endpoint to get all five types",
        async || {
            let types: HashSet<String> = ours.receiver.event_types().into_iter().collect();
            (types.len() == 5).then_some(())
        },
    )
    .await;
    assert_eq!(
        theirs.receiver.event_types(),
        ["service_incident.created"],
        "nothing of another partner's escalations or plans"
    );
    let their_deliveries = deliveries(&app, &stranger.key, theirs.id).await;
    assert_eq!(their_deliveries.len(), 1, "{their_deliveries:?}");
}

#[tokio::test]
async fn a_disabled_endpoint_gets_nothing() {
    // Arrange
    let app = spawn_webhook_app().await;
    let desk = Desk::new(&app).await;
    let enabled = listening(
        &app,
        desk.partner(),
        Script::Always(204),
        &["escalation.created"],
    )
    .await;
    let born_disabled = Receiver::start(Script::Always(204));
    let mut body = endpoint_body(&born_disabled.url(), &["escalation.created"]);
    body["enabled"] = json!(false);
    let disabled_at_birth = create_endpoint_from(&app, desk.partner(), &body).await;
    let later_disabled = listening(
        &app,
        desk.partner(),
        Script::Always(204),
        &["escalation.created"],
    )
    .await;
    let current = app
        .get(&endpoint_path(later_disabled.id), desk.partner())
        .await;
    let disabled = app
        .patch(
            &endpoint_path(later_disabled.id),
            desk.partner(),
            Some(&current.etag()),
            &json!({"enabled": false}),
        )
        .await;
    assert_eq!(disabled.status, 200, "{}", disabled.body);

    // Act
    let created = submit(&app, &desk).await;

    // Assert
    enabled
        .receiver
        .wait_for_event("escalation.created", |data| {
            data["escalation"]["id"] == json!(created.id())
        })
        .await;
    assert_eq!(born_disabled.count(), 0);
    assert_eq!(later_disabled.receiver.count(), 0);
    for id in [disabled_at_birth.id(), later_disabled.id] {
        assert!(deliveries(&app, desk.partner(), id).await.is_empty());
    }
}

#[tokio::test]
async fn an_endpoint_created_after_an_event_does_not_get_it() {
    // Arrange
    let app = spawn_webhook_app().await;
    let desk = Desk::new(&app).await;
    let types = ["escalation.created", "escalation.note_added"];
    let early = listening(&app, desk.partner(), Script::Always(204), &types).await;

    // Act
    let created = submit(&app, &desk).await;
    let late = listening(&app, desk.partner(), Script::Always(204), &types).await;
    let note = app
        .post(
            &format!("{}/notes", escalation_path(created.id())),
            desk.partner(),
            &json!({"text": "补充：问题仍在持续。"}),
        )
        .await;
    assert_eq!(note.status, 201, "{}", note.body);

    // Assert
    late.receiver
        .wait_for_event("escalation.note_added", |_| true)
        .await;
    early.receiver.wait_for(2).await;
    assert_eq!(late.receiver.event_types(), ["escalation.note_added"]);
    assert_eq!(deliveries(&app, desk.partner(), late.id).await.len(), 1);
}

// ---------------------------------------------------------------------------------------------
// Failures, retries, timeouts, the horizon
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_flaky_endpoint_gets_the_same_signed_message_until_it_accepts() {
    // Arrange
    let app = spawn_webhook_app().await;
    let desk = Desk::new(&app).await;
    let endpoint = listening(
        &app,
        desk.partner(),
        Script::FailFirst(3),
        &["escalation.created"],
    )
    .await;

    // Act
    submit(&app, &desk).await;

    // Assert
    let delivery = delivery_where(
        &app,
        desk.partner(),
        endpoint.id,
        "the delivery to be delivered after three failures",
        |delivery| delivery["status"] == "delivered",
    )
    .await;
    assert_eq!(delivery["attempt_count"], 4);
    assert_eq!(
        attempt_statuses(&delivery),
        [json!(500), json!(500), json!(500), json!(204)]
    );
    let numbers: Vec<&Value> = attempts(&delivery).iter().map(|a| &a["number"]).collect();
    assert_eq!(numbers, [&json!(1), &json!(2), &json!(3), &json!(4)]);
    for attempt in attempts(&delivery) {
        assert!(
            attempt["error"].is_null(),
            "an HTTP answer is no error: {attempt}"
        );
    }
    let starts: Vec<_> = attempts(&delivery)
        .iter()
        .map(|attempt| timestamp(&attempt["started_at"]))
        .collect();
    for (n, pair) in starts.windows(2).enumerate() {
        // The n-th retry waits at least half of 50 ms · 2^(n-1).
        let least = Duration::milliseconds(25 << n) - Duration::milliseconds(5);
        assert!(
            pair[1] - pair[0] >= least,
            "retry {} came {} after the attempt before it",
            n + 1,
            pair[1] - pair[0]
        );
    }
    let received = endpoint.receiver.received();
    assert_eq!(received.len(), 4);
    for request in &received {
        assert_signed(request, &endpoint.secret);
        assert_eq!(request.id(), delivery["event_id"], "the same webhook-id");
        assert_eq!(request.body, received[0].body, "the same body bytes");
    }
    assert_eq!(delivery["payload"], received[0].json());
}

#[tokio::test]
async fn any_2xx_is_delivered_and_a_4xx_is_a_failed_attempt() {
    // Arrange
    let app = spawn_webhook_app().await;
    let desk = Desk::new(&app).await;
    let accepted = listening(
        &app,
        desk.partner(),
        Script::Always(202),
        &["escalation.created"],
    )
    .await;
    let gone = listening(
        &app,
        desk.partner(),
        Script::Always(410),
        &["escalation.created"],
    )
    .await;

    // Act
    submit(&app, &desk).await;

    // Assert
    let delivered = delivery_where(&app, desk.partner(), accepted.id, "a 202 to count", |d| {
        d["status"] == "delivered"
    })
    .await;
    assert_eq!(attempt_statuses(&delivered), [json!(202)]);
    let retried = delivery_where(&app, desk.partner(), gone.id, "a 410 to be retried", |d| {
        attempts(d).len() >= 2
    })
    .await;
    assert_eq!(retried["status"], "pending");
    assert!(attempt_statuses(&retried).iter().all(|s| *s == 410));
}

#[tokio::test]
async fn an_attempt_that_times_out_is_recorded_without_a_status() {
    // Arrange
    let app = spawn_webhook_app_with(WebhookSettings {
        timeout_ms: 500,
        ..fast_webhooks()
    })
    .await;
    let desk = Desk::new(&app).await;
    let endpoint = listening(&app, desk.partner(), Script::Hang, &["escalation.created"]).await;

    // Act
    submit(&app, &desk).await;

    // Assert
    let delivery = delivery_where(
        &app,
        desk.partner(),
        endpoint.id,
        "an attempt that timed out",
        |delivery| !attempts(delivery).is_empty(),
    )
    .await;
    let attempt = &attempts(&delivery)[0];
    assert!(attempt["response_status"].is_null(), "{attempt}");
    assert!(
        attempt["error"]
            .as_str()
            .is_some_and(|error| !error.is_empty()),
        "a timeout is described: {attempt}"
    );
    let duration = attempt["duration_ms"].as_u64().expect("a duration");
    assert!(
        (400..5_000).contains(&duration),
        "the attempt was cut off at about 500 ms: {attempt}"
    );
    assert_eq!(delivery["status"], "pending", "{delivery}");
    assert!(delivery["delivered_at"].is_null());
    assert!(
        endpoint.receiver.count() >= 1,
        "the request did reach the receiver"
    );
}

#[tokio::test]
async fn a_refused_connection_is_a_failed_attempt_with_an_error() {
    // Arrange
    let app = spawn_webhook_app().await;
    let desk = Desk::new(&app).await;
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let endpoint = create_endpoint(
        &app,
        desk.partner(),
        &format!("http://127.0.0.1:{closed}/hooks"),
        &["escalation.created"],
    )
    .await;

    // Act
    submit(&app, &desk).await;

    // Assert
    let delivery = delivery_where(
        &app,
        desk.partner(),
        endpoint.id(),
        "an attempt on a closed port",
        |delivery| !attempts(delivery).is_empty(),
    )
    .await;
    let attempt = &attempts(&delivery)[0];
    assert!(attempt["response_status"].is_null(), "{attempt}");
    assert!(
        attempt["error"]
            .as_str()
            .is_some_and(|error| !error.is_empty()),
        "{attempt}"
    );
    assert_eq!(delivery["status"], "pending");
}

#[tokio::test]
async fn redirects_are_not_followed() {
    // Arrange
    let app = spawn_webhook_app().await;
    let desk = Desk::new(&app).await;
    let target = Receiver::start(Script::Always(204));
    let redirecting = listening(
        &app,
        desk.partner(),
        Script::RedirectTo(target.url()),
        &["escalation.created"],
    )
    .await;

    // Act
    submit(&app, &desk).await;

    // Assert
    let delivery = delivery_where(
        &app,
        desk.partner(),
        redirecting.id,
        "two attempts answered with a redirect",
        |delivery| attempts(delivery).len() >= 2,
    )
    .await;
    assert!(
        attempt_statuses(&delivery).iter().all(|s| *s == 307),
        "{delivery}"
    );
    assert_eq!(delivery["status"], "pending");
    assert_eq!(target.count(), 0, "the redirect was not followed");
}

#[tokio::test]
async fn a_delivery_is_given_up_after_the_horizon() {
    // Arrange
    let app = spawn_webhook_app_with(WebhookSettings {
        horizon_secs: 1,
        ..fast_webhooks()
    })
    .await;
    let desk = Desk::new(&app).await;
    let endpoint = listening(
        &app,
        desk.partner(),
        Script::Always(500),
        &["escalation.created"],
    )
    .await;

    // Act
    submit(&app, &desk).await;

    // Assert
    let failed = delivery_where(
        &app,
        desk.partner(),
        endpoint.id,
        "the delivery to be given up",
        |delivery| delivery["status"] == "failed",
    )
    .await;
    let made = attempts(&failed).len();
    assert!(made >= 1, "{failed}");
    assert_eq!(failed["attempt_count"], made);
    assert!(attempt_statuses(&failed).iter().all(|s| *s == 500));
    assert!(failed["next_attempt_at"].is_null(), "{failed}");
    assert!(failed["delivered_at"].is_null(), "{failed}");
    let horizon = timestamp(&failed["created_at"]) + Duration::seconds(1);
    for attempt in attempts(&failed) {
        assert!(
            timestamp(&attempt["started_at"]) <= horizon + Duration::milliseconds(500),
            "no attempt is scheduled past the horizon: {attempt}"
        );
    }
    let received = endpoint.receiver.count();
    assert_eq!(received, made, "every request is an attempt, recorded");
    // Nothing can be polled for here: the point is that nothing more happens.
    tokio::time::sleep(StdDuration::from_millis(1500)).await;
    assert_eq!(
        endpoint.receiver.count(),
        received,
        "no request after giving up"
    );
    let later = app
        .get(
            &delivery_path(endpoint.id, uuid(&failed["id"])),
            desk.partner(),
        )
        .await;
    assert_eq!(later.body, failed);
    let text = metrics(&app).await;
    let given_up = metric(
        &text,
        r#"escalade_webhook_attempts_total{outcome="given_up"}"#,
    );
    assert!(given_up.is_some_and(|n| n >= 1.0), "{text}");
    let failed_attempts = metric(
        &text,
        r#"escalade_webhook_attempts_total{outcome="failed"}"#,
    );
    assert!(failed_attempts.is_some_and(|n| n >= 1.0), "{text}");
}

// ---------------------------------------------------------------------------------------------
// Secret rotation
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn after_a_rotation_deliveries_are_signed_with_the_new_and_the_old_secret() {
    // Arrange
    let app = spawn_webhook_app().await;
    let desk = Desk::new(&app).await;
    let endpoint = listening(
        &app,
        desk.partner(),
        Script::Always(204),
        &["escalation.created"],
    )
    .await;
    let current = app.get(&endpoint_path(endpoint.id), desk.partner()).await;
    let rotated = rotate(&app, desk.partner(), endpoint.id, Some(&current.etag())).await;
    assert_eq!(rotated.status, 200, "{}", rotated.body);
    let (old, new) = (endpoint.secret.clone(), secret(&rotated));
    assert_ne!(old, new);
    assert!(rotated.body["previous_secret_expires_at"].is_string());

    // Act
    submit(&app, &desk).await;

    // Assert
    let received = endpoint.receiver.wait_for(1).await;
    let request = &received[0];
    let header = request.webhook_signature.as_deref().unwrap();
    let timestamp = request.webhook_timestamp.as_deref().unwrap();
    assert_eq!(
        signatures(header),
        [
            sign(&new, request.id(), timestamp, &request.body).as_str(),
            sign(&old, request.id(), timestamp, &request.body).as_str()
        ],
        "two signatures, the new secret's first"
    );
    assert_signed(request, &new);
    assert_signed(request, &old);
}

#[tokio::test]
async fn once_the_grace_period_is_over_only_the_new_secret_signs() {
    // Arrange
    let app = spawn_webhook_app_with(WebhookSettings {
        secret_grace_secs: 0,
        ..fast_webhooks()
    })
    .await;
    let desk = Desk::new(&app).await;
    let endpoint = listening(
        &app,
        desk.partner(),
        Script::Always(204),
        &["escalation.created"],
    )
    .await;
    let current = app.get(&endpoint_path(endpoint.id), desk.partner()).await;
    let rotated = rotate(&app, desk.partner(), endpoint.id, Some(&current.etag())).await;
    assert_eq!(rotated.status, 200, "{}", rotated.body);
    let new = secret(&rotated);
    tokio::time::sleep(StdDuration::from_millis(1100)).await;

    // Act
    submit(&app, &desk).await;

    // Assert
    let received = endpoint.receiver.wait_for(1).await;
    let request = &received[0];
    assert_eq!(
        signatures(request.webhook_signature.as_deref().unwrap()).len(),
        1,
        "{request:?}"
    );
    assert_signed(request, &new);
    assert!(verification_error(request, &endpoint.secret).is_some());
}

// ---------------------------------------------------------------------------------------------
// The deliveries API
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn deliveries_are_listed_oldest_first_filtered_by_status_and_paged() {
    // Arrange: the first incident is accepted, the second keeps failing.
    let app = spawn_webhook_app().await;
    let partner = app.create_partner("云桥科技").await;
    let operator = app.operator_key().await;
    let endpoint = listening(
        &app,
        &partner.key,
        Script::FailAfter(1),
        &["service_incident.created"],
    )
    .await;
    let elsewhere = listening(
        &app,
        &partner.key,
        Script::Always(204),
        &["escalation.created"],
    )
    .await;
    app.create_incident(&operator, &incident_body("azure"))
        .await;
    let first = delivery_where(
        &app,
        &partner.key,
        endpoint.id,
        "the first delivered",
        |d| d["status"] == "delivered",
    )
    .await;
    app.create_incident(&operator, &incident_body("power-bi"))
        .await;
    let second = delivery_where(&app, &partner.key, endpoint.id, "the second tried", |d| {
        d["status"] == "pending" && !attempts(d).is_empty()
    })
    .await;
    let path = deliveries_path(endpoint.id);
    let ids = |answer: &Answer| answer.item_ids();

    // Act
    let all = app.get(&path, &partner.key).await;
    let delivered = app
        .get_query(&path, &partner.key, &[("status", "delivered")])
        .await;
    let pending = app
        .get_query(&path, &partner.key, &[("status", "pending")])
        .await;
    let failed = app
        .get_query(&path, &partner.key, &[("status", "failed")])
        .await;
    let page_one = app.get_query(&path, &partner.key, &[("limit", "1")]).await;
    let cursor = page_one.body["next_cursor"]
        .as_str()
        .expect("a next_cursor after a full page")
        .to_owned();
    let page_two = app
        .get_query(&path, &partner.key, &[("limit", "1"), ("cursor", &cursor)])
        .await;
    let foreign = app
        .get(
            &delivery_path(elsewhere.id, uuid(&first["id"])),
            &partner.key,
        )
        .await;

    // Assert
    let (first_id, second_id) = (uuid(&first["id"]), uuid(&second["id"]));
    assert_eq!(ids(&all), [first_id, second_id], "oldest first");
    assert_eq!(ids(&delivered), [first_id]);
    assert_eq!(ids(&pending), [second_id]);
    assert!(ids(&failed).is_empty());
    assert_eq!(ids(&page_one), [first_id]);
    assert_eq!(ids(&page_two), [second_id]);
    assert!(page_two.body["next_cursor"].is_null(), "{}", page_two.body);
    assert!(second["next_attempt_at"].is_string(), "pending: {second}");
    assert!(second["delivered_at"].is_null());
    assert_eq!(second["event_type"], "service_incident.created");
    assert!(first["next_attempt_at"].is_null());
    for (listed, read) in [(&all.items()[0], &first), (&all.items()[1], &second)] {
        assert_eq!(listed["id"], read["id"]);
        assert_eq!(listed["event_id"], read["event_id"]);
        assert_eq!(listed["payload"], read["payload"]);
    }
    foreign.problem(404, "not_found");
    assert_eq!(elsewhere.receiver.count(), 0);
}

#[tokio::test]
async fn an_unknown_delivery_is_404() {
    // Arrange
    let app = spawn_webhook_app().await;
    let partner = app.create_partner("云桥科技").await;
    let endpoint = listening(
        &app,
        &partner.key,
        Script::Always(204),
        &["escalation.created"],
    )
    .await;

    // Act
    let answer = app
        .get(&delivery_path(endpoint.id, Uuid::now_v7()), &partner.key)
        .await;

    // Assert
    answer.problem(404, "not_found");
}

#[tokio::test]
async fn metrics_count_webhook_attempts_and_pending_deliveries() {
    // Arrange
    let app = spawn_webhook_app().await;
    let desk = Desk::new(&app).await;
    let endpoint = listening(
        &app,
        desk.partner(),
        Script::Always(204),
        &["escalation.created"],
    )
    .await;
    submit(&app, &desk).await;
    delivery_where(&app, desk.partner(), endpoint.id, "a delivery", |d| {
        d["status"] == "delivered"
    })
    .await;

    // Act
    let text = metrics(&app).await;

    // Assert
    let delivered = metric(
        &text,
        r#"escalade_webhook_attempts_total{outcome="delivered"}"#,
    );
    assert!(delivered.is_some_and(|n| n >= 1.0), "{text}");
    for name in [
        "escalade_outbox_pending_deliveries",
        "escalade_outbox_oldest_pending_seconds",
    ] {
        assert!(exposes(&text, name), "missing {name} in:\n{text}");
    }
}

// ---------------------------------------------------------------------------------------------
// Events are written with the change, or not at all
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_refused_change_causes_no_event() {
    // Arrange
    let app = spawn_webhook_app().await;
    let desk = Desk::new(&app).await;
    let endpoint = listening(&app, desk.partner(), Script::Always(204), &EVENT_TYPES).await;
    let critical = desk
        .fixture
        .edited(|body| body["severity"] = json!("critical"));

    // Act: a submission that fails the criteria, then one that passes
    let refused = app.post(ESCALATIONS, desk.partner(), &critical).await;
    let created = app
        .submit_escalation(desk.partner(), &desk.fixture.body)
        .await;
    let stale = app
        .transition(
            &desk.operator,
            created.id(),
            "\"7\"",
            &json!({"to": "in_progress", "engineer": engineer()}),
        )
        .await;
    let notes = format!("{}/notes", escalation_path(created.id()));
    let empty_note = app.post(&notes, desk.partner(), &json!({"text": ""})).await;
    let note = app
        .post(&notes, desk.partner(), &json!({"text": "最后一条。"}))
        .await;

    // Assert
    refused.problem(422, "criteria_not_met");
    stale.problem(412, "stale_version");
    empty_note.problem(422, "validation_failed");
    assert_eq!(note.status, 201, "{}", note.body);
    endpoint
        .receiver
        .wait_for_event("escalation.note_added", |_| true)
        .await;
    let received = endpoint.receiver.wait_for(2).await;
    let types: HashSet<String> = received.iter().map(Received::event_type).collect();
    assert_eq!(
        types,
        HashSet::from([
            "escalation.created".to_owned(),
            "escalation.note_added".to_owned()
        ])
    );
    assert_eq!(endpoint.receiver.count(), 2, "nothing for what was refused");
    let listed = deliveries(&app, desk.partner(), endpoint.id).await;
    assert_eq!(listed.len(), 2, "{listed:?}");
    let created_message = received
        .iter()
        .find(|request| request.event_type() == "escalation.created")
        .unwrap();
    assert_eq!(
        created_message.json()["data"]["escalation"]["id"],
        json!(created.id())
    );
}

// ---------------------------------------------------------------------------------------------
// Several instances
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_deliver_each_event_to_each_endpoint_exactly_once() {
    // Arrange
    let app = spawn_webhook_app().await;
    let sibling = app.spawn_sibling();
    let partner = app.create_partner("云桥科技").await;
    let operator = app.operator_key().await;
    let types = ["service_incident.created"];
    let first = listening(&app, &partner.key, Script::Always(204), &types).await;
    let second = listening(&app, &partner.key, Script::Always(204), &types).await;
    let services = ["azure", "power-bi", "microsoft-365", "dynamics-365"];
    let requests = (0..10)
        .map(|i| {
            let instance = if i % 2 == 0 { &app } else { &sibling };
            instance
                .request(reqwest::Method::POST, "/v1/service-incidents", &operator)
                .json(&incident_body(services[i % services.len()]))
        })
        .collect();

    // Act
    let answers = send_concurrently(requests).await;

    // Assert
    for answer in &answers {
        assert_eq!(answer.status, 201, "{}", answer.body);
    }
    for endpoint in [&first, &second] {
        eventually("all ten deliveries recorded as delivered", async || {
            let listed = deliveries(&app, &partner.key, endpoint.id).await;
            (listed.len() == 10 && listed.iter().all(|d| d["status"] == "delivered")).then_some(())
        })
        .await;
        let received = endpoint.receiver.received();
        let ids: HashSet<&str> = received.iter().map(Received::id).collect();
        assert_eq!(ids.len(), 10);
        assert_eq!(
            received.len(),
            10,
            "each event once, but {} requests came for {} events",
            received.len(),
            ids.len()
        );
        for delivery in deliveries(&app, &partner.key, endpoint.id).await {
            assert_eq!(delivery["attempt_count"], 1, "{delivery}");
        }
    }
}

/// A listener standing in for a proxy: it counts the connections it gets and answers none.
fn counting_proxy() -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let connections = std::sync::Arc::new(AtomicUsize::new(0));
    let counted = std::sync::Arc::clone(&connections);
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            counted.fetch_add(1, Ordering::SeqCst);
            held.push(stream);
        }
    });
    (url, connections)
}

/// `escalade serve --demo` in a process of its own, with `proxy_environment` and fast
/// deliveries to loopback; the partner and operator keys it printed.
fn serve_with_proxies(
    database: &crate::helpers::TestDatabase,
    proxy_environment: &str,
    extra: &[&str],
) -> (crate::cli::Served, String, String) {
    let mut command = crate::cli::escalade(database);
    for variable in [
        "HTTP_PROXY",
        "http_proxy",
        "HTTPS_PROXY",
        "https_proxy",
        "ALL_PROXY",
    ] {
        command.env(variable, proxy_environment);
    }
    command
        .env_remove("NO_PROXY")
        .env_remove("no_proxy")
        .env("ESCALADE_WEBHOOK_ALLOW_PRIVATE_NETWORKS", "1")
        .env("ESCALADE_WEBHOOK_POLL_INTERVAL_MS", "50")
        .env("ESCALADE_WEBHOOK_TIMEOUT_MS", "500");
    let mut args = vec!["--demo"];
    args.extend_from_slice(extra);
    let served = crate::cli::serve_with(command, &args);
    let (partner, operator) = (served.demo_key("partner"), served.demo_key("operator"));
    (served, partner, operator)
}

/// Subscribes `url` to incidents as `partner`, then opens an incident as `operator`.
async fn an_incident_for(served: &crate::cli::Served, partner: &str, operator: &str, url: &str) {
    let client = reqwest::Client::new();
    let created = client
        .post(served.url(ENDPOINTS))
        .bearer_auth(partner)
        .json(&endpoint_body(url, &["service_incident.created"]))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let incident = client
        .post(served.url("/v1/service-incidents"))
        .bearer_auth(operator)
        .json(&crate::helpers::incident_body("azure"))
        .send()
        .await
        .unwrap();
    assert_eq!(incident.status(), 201);
}

#[tokio::test]
async fn deliveries_ignore_proxies_named_by_the_environment() {
    // Arrange
    let (proxy, connections) = counting_proxy();
    let receiver = Receiver::start(Script::Always(204));
    let database = crate::helpers::TestDatabase::migrated().await;
    let (served, partner, operator) = serve_with_proxies(&database, &proxy, &[]);

    // Act
    an_incident_for(&served, &partner, &operator, &receiver.url()).await;

    // Assert: delivered straight to the endpoint, which the address check saw.
    receiver.wait_for(1).await;
    served.stop();
    assert_eq!(connections.load(std::sync::atomic::Ordering::SeqCst), 0);
}

#[tokio::test]
async fn deliveries_use_the_proxy_configured_for_them() {
    // Arrange
    let (proxy, connections) = counting_proxy();
    let receiver = Receiver::start(Script::Always(204));
    let database = crate::helpers::TestDatabase::migrated().await;
    let (served, partner, operator) = serve_with_proxies(
        &database,
        "http://127.0.0.1:1",
        &["--webhook-proxy", &proxy],
    );

    // Act
    an_incident_for(&served, &partner, &operator, &receiver.url()).await;

    // Assert
    eventually("a connection to the configured proxy", async || {
        (connections.load(std::sync::atomic::Ordering::SeqCst) > 0).then_some(())
    })
    .await;
    served.stop();
    assert_eq!(receiver.count(), 0);
}
