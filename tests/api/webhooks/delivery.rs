//! Delivery: each change writes its event in the same transaction, and the worker POSTs it,
//! signed, to every enabled endpoint subscribed to it — retrying failures with backoff until
//! the horizon, recording every attempt — with receivers that succeed, fail, hang and redirect.

use std::collections::HashSet;
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration as StdDuration;

use chrono::{Duration, FixedOffset, Utc};
use escalade::config::WebhookSettings;
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use super::receiver::{
    Received, Receiver, Script, assert_signed, sign, signatures, verification_error,
};
use super::{
    ENDPOINTS, EVENT_TYPES, create_endpoint, create_endpoint_from, deliveries, deliveries_path,
    delivery_of, delivery_path, delivery_where, endpoint_body, endpoint_path, eventually,
    fast_webhooks, rotate, secret, spawn_webhook_app_with, uuid,
};
use crate::helpers::{
    Answer, ESCALATIONS, TestApp, TestDatabase, TestPartner, engineer, escalation_body,
    escalation_path, incident_body, incident_path, notes_path, send_concurrently, timestamp,
};
use crate::world::World;

const CREATED: [&str; 1] = ["escalation.created"];

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

/// The world on a server with [`fast_webhooks`].
async fn webhook_world() -> World {
    webhook_world_with(|_| {}).await
}

/// The world on a server with [`fast_webhooks`], `tune` applied to them.
async fn webhook_world_with(tune: impl FnOnce(&mut WebhookSettings)) -> World {
    let mut settings = fast_webhooks();
    tune(&mut settings);
    World::over(spawn_webhook_app_with(settings).await).await
}

/// Submits an escalation as `partner` for a fresh customer of its own (so it never duplicates
/// another); returns the answer.
async fn escalate(app: &TestApp, partner: &TestPartner) -> Answer {
    let customer_id = app.create_escalatable_customer(partner, "standard").await;
    app.submit_escalation(&partner.key, &escalation_body(customer_id))
        .await
}

/// `path` as the partner reads it.
async fn read_as(app: &TestApp, partner: &TestPartner, path: &str) -> Value {
    let read = app.read_ok(path, &partner.key).await;
    read.body
}

/// Causes one event of `event_type` concerning `partner`, staff acting as the world's operator;
/// returns the `data` its message must carry, read back through the API as the contract
/// describes it.
async fn cause(world: &World, partner: &TestPartner, event_type: &str) -> Value {
    let (app, operator) = (&world.app, world.operator.as_str());
    match event_type {
        "escalation.created" => {
            let created = escalate(app, partner).await;
            let escalation = read_as(app, partner, &escalation_path(created.id())).await;
            json!({ "escalation": escalation })
        }
        "escalation.status_changed" => {
            let created = escalate(app, partner).await;
            app.start_work(operator, created.id(), &created.etag())
                .await;
            let escalation = read_as(app, partner, &escalation_path(created.id())).await;
            json!({"escalation": escalation, "previous_status": "submitted"})
        }
        "escalation.note_added" => {
            let created = escalate(app, partner).await;
            let text = "请提供一封退信的完整邮件头。";
            let note = app.add_note(operator, created.id(), text).await;
            note_data(&created, &note)
        }
        "service_incident.created" | "service_incident.resolved" => {
            let mut incident = app.create_incident(operator, &incident_body("azure")).await;
            if event_type.ends_with("resolved") {
                incident = app.move_incident(operator, &incident, "resolved").await;
            }
            json!({"incident": read_as(app, partner, &incident_path(incident.id())).await})
        }
        "remediation_plan.requested" => {
            let china = FixedOffset::east_opt(8 * 3600).unwrap();
            let respond_by = Utc::now().with_timezone(&china).date_naive() + Duration::days(14);
            let reason = "过去 90 天内多个升级属于合作伙伴自行处理的范畴。";
            let path = format!("/v1/partners/{}/remediation-plans", partner.id);
            let body = json!({"reason": reason, "respond_by": respond_by});
            let plan = app.created(&path, operator, &body).await;
            json!({"remediation_plan": plan.body})
        }
        other => panic!("no way to cause {other}"),
    }
}

/// The `data` of the `escalation.note_added` message for `note` on `escalation`.
fn note_data(escalation: &Answer, note: &Answer) -> Value {
    json!({
        "escalation_id": escalation.id(),
        "escalation_number": escalation.body["number"],
        "note": note.body
    })
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

/// The requests of `event_type` among `received`.
fn of_type<'a>(received: &'a [Received], event_type: &str) -> Vec<&'a Received> {
    received
        .iter()
        .filter(|r| r.event_type() == event_type)
        .collect()
}

/// Asserts `request` is the message of `event_type` carrying `data`, POSTed as JSON and signed
/// with `secret`.
#[track_caller]
fn assert_message(request: &Received, secret: &str, event_type: &str, data: &Value) {
    assert_eq!(request.method, "POST");
    let content_type = request.content_type.as_deref().unwrap_or_default();
    let media_type = content_type.split(';').next().map(str::trim);
    assert_eq!(media_type, Some("application/json"), "{request:?}");
    let id = request.id();
    assert!(
        id.parse::<Uuid>().is_ok(),
        "webhook-id {id} is an event id (a uuid)"
    );
    assert_signed(request, secret);
    let body = request.json();
    assert_eq!(body["type"], event_type, "{body}");
    let sent_at = timestamp(&body["timestamp"]);
    let now = (Utc::now() - sent_at).abs() < Duration::minutes(1);
    assert!(now, "timestamp {sent_at} is about now");
    assert_eq!(&body["data"], data, "the data of {event_type}");
}

#[track_caller]
fn attempts(delivery: &Value) -> &Vec<Value> {
    delivery["attempts"]
        .as_array()
        .unwrap_or_else(|| panic!("an attempts list: {delivery}"))
}

/// `response_status` of each attempt of a delivery, in order.
fn attempt_statuses(delivery: &Value) -> Vec<Value> {
    let attempts = attempts(delivery).iter();
    attempts
        .map(|attempt| attempt["response_status"].clone())
        .collect()
}

/// Asserts the delivery's first attempt got no answer but an error, and the delivery waits for
/// another.
#[track_caller]
fn assert_unanswered(delivery: &Value, label: &str) {
    let attempt = &attempts(delivery)[0];
    assert!(attempt["response_status"].is_null(), "{label}: {attempt}");
    let error = attempt["error"].as_str().unwrap_or_default();
    assert!(
        !error.is_empty(),
        "{label}: the error is described: {attempt}"
    );
    assert_eq!(delivery["status"], "pending", "{label}: {delivery}");
}

/// Whether the series `series` (name and labels exactly as exposed) counts at least one.
fn counted(text: &str, series: &str) -> bool {
    let mut lines = text.lines().filter(|line| !line.starts_with('#'));
    let value = lines.find_map(|line| line.strip_prefix(series)?.strip_prefix(' '));
    value
        .and_then(|v| v.trim().parse::<f64>().ok())
        .is_some_and(|n| n >= 1.0)
}

/// Whether `text` exposes a series of the metric `name`.
fn exposes(text: &str, name: &str) -> bool {
    text.lines().any(|line| {
        line.strip_prefix(name)
            .is_some_and(|rest| rest.starts_with(' ') || rest.starts_with('{'))
    })
}

// ---------------------------------------------------------------------------------------------
// One event, end to end; every event type to its subscribers alone
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_new_escalation_is_delivered_once_signed_to_a_subscribed_endpoint_and_counted() {
    // Arrange
    let world = webhook_world().await;
    let (app, key) = (&world.app, world.key());
    let endpoint = listening(app, key, Script::Always(204), &CREATED).await;

    // Act
    let created = world.submit().await;

    // Assert
    let received = endpoint.receiver.wait_for(1).await;
    let request = &received[0];
    let escalation = world.escalation(key, created.id()).await.body;
    let expected = json!({ "escalation": escalation });
    assert_message(request, &endpoint.secret, "escalation.created", &expected);
    assert_eq!(request.path, "/hooks/escalade");
    let delivery = delivery_of(app, key, endpoint.id, request.id(), "delivered").await;
    assert_eq!(delivery["endpoint_id"], json!(endpoint.id));
    assert_eq!(delivery["event_type"], "escalation.created");
    assert_eq!(delivery["attempt_count"], 1);
    assert!(delivery["next_attempt_at"].is_null(), "{delivery}");
    assert!(timestamp(&delivery["delivered_at"]) >= timestamp(&delivery["created_at"]));
    assert_eq!(delivery["payload"], request.json(), "what was sent");
    let attempt = &attempts(&delivery)[0];
    assert_eq!(attempt["number"], 1);
    assert_eq!(attempt["response_status"], 204);
    assert!(attempt["error"].is_null(), "{attempt}");
    assert!(attempt["duration_ms"].is_u64(), "{attempt}");
    timestamp(&attempt["started_at"]);
    assert_eq!(endpoint.receiver.count(), 1, "exactly one request");
    assert_eq!(deliveries(app, key, endpoint.id).await.len(), 1);
    let text = app.metrics().await;
    let delivered = r#"escalade_webhook_attempts_total{outcome="delivered"}"#;
    assert!(counted(&text, delivered), "{text}");
    for name in [
        "escalade_outbox_pending_deliveries",
        "escalade_outbox_oldest_pending_seconds",
    ] {
        assert!(exposes(&text, name), "missing {name} in:\n{text}");
    }
}

/// Each event type in turn, on one server, each with a partner of its own listening on two
/// endpoints: one subscribed to that type alone, one to every other type. Only the first gets
/// the event, with the data the contract describes. A later event the second does want shows
/// the worker has been past both.
#[tokio::test]
async fn each_event_type_reaches_only_its_subscribers_with_the_data_the_contract_describes() {
    let world = webhook_world().await;
    let app = &world.app;

    for (n, event_type) in EVENT_TYPES.into_iter().enumerate() {
        // Arrange
        let partner = app.create_partner(&format!("合作伙伴 {n}")).await;
        let mut other_types = EVENT_TYPES.to_vec();
        other_types.retain(|t| *t != event_type);
        let subscribed = listening(app, &partner.key, Script::Always(204), &[event_type]).await;
        let others = listening(app, &partner.key, Script::Always(204), &other_types).await;

        // Act
        let data = cause(&world, &partner, event_type).await;

        // Assert
        let received = subscribed.receiver.wait_for(1).await;
        assert_message(&received[0], &subscribed.secret, event_type, &data);
        let marker_type = match event_type.starts_with("service_incident") {
            true => "remediation_plan.requested",
            false => "service_incident.created",
        };
        let marker = subject(&cause(&world, &partner, marker_type).await);
        let marked = |data: &Value| subject(data) == marker;
        others.receiver.wait_for_event(marker_type, marked).await;
        let types = subscribed.receiver.event_types();
        assert_eq!(types, [event_type], "one message, of its type only");
        let other_got = others.receiver.event_types();
        let leaked = other_got.iter().any(|t| t == event_type);
        assert!(!leaked, "{event_type}: {other_got:?}");
        let other_deliveries = deliveries(app, &partner.key, others.id).await;
        let leaked = other_deliveries
            .iter()
            .any(|d| d["event_type"] == event_type);
        assert!(!leaked, "{event_type}: {other_deliveries:?}");
    }
}

/// Each change writes its event with it, whoever makes it: the submission, every transition
/// (the partner's too) and every note; a refused change writes none.
#[tokio::test]
async fn every_change_is_an_event_and_a_refused_change_none() {
    // Arrange
    let world = webhook_world().await;
    let (app, key, operator) = (&world.app, world.key(), world.operator.as_str());
    let endpoint = listening(app, key, Script::Always(204), &EVENT_TYPES).await;
    let mut critical = world.body.clone();
    critical["severity"] = json!("critical");
    let start = json!({"to": "in_progress", "engineer": engineer()});

    // Act: refusals among the changes
    let refused = app.post(ESCALATIONS, key, &critical).await;
    let created = world.submit().await;
    let id = created.id();
    let stale = app.transition(operator, id, "\"7\"", &start).await;
    let started = app.start_work(operator, id, &created.etag()).await;
    let waiting = json!({"to": "awaiting_partner"});
    let waiting = app
        .transition(operator, id, &started.etag(), &waiting)
        .await;
    let answer = json!({"to": "in_progress"});
    let answered = app.transition(key, id, &waiting.etag(), &answer).await;
    let notes = notes_path(id);
    let empty_note = app.post(&notes, key, &json!({"text": ""})).await;
    let note = app.add_note(key, id, "已附上退信邮件头。").await;

    // Assert
    refused.problem(422, "criteria_not_met");
    stale.problem(412, "stale_version");
    empty_note.problem(422, "validation_failed");
    for answer in [&waiting, &answered] {
        assert_eq!(answer.status, 200, "{}", answer.body);
    }
    let (receiver, note_added) = (&endpoint.receiver, "escalation.note_added");
    let noted = |data: &Value| data["note"]["id"] == note.body["id"];
    receiver.wait_for_event(note_added, noted).await;
    let received = receiver.wait_for(5).await;
    let types: Vec<String> = received.iter().map(Received::event_type).collect();
    assert_eq!(received.len(), 5, "nothing for what was refused: {types:?}");
    assert_eq!(deliveries(app, key, endpoint.id).await.len(), 5);
    let ids: HashSet<&str> = received.iter().map(Received::id).collect();
    assert_eq!(ids.len(), 5, "one event per change");
    let first = of_type(&received, CREATED[0]);
    assert_eq!(first.len(), 1, "{types:?}");
    assert_eq!(first[0].json()["data"]["escalation"]["id"], json!(id));
    let mut moves: Vec<String> = of_type(&received, "escalation.status_changed")
        .into_iter()
        .map(|request| {
            assert_signed(request, &endpoint.secret);
            let data = &request.json()["data"];
            let (from, to) = (&data["previous_status"], &data["escalation"]["status"]);
            format!("{} -> {}", from.as_str().unwrap(), to.as_str().unwrap())
        })
        .collect();
    moves.sort();
    let mut expected = [
        "submitted -> in_progress",
        "in_progress -> awaiting_partner",
        "awaiting_partner -> in_progress",
    ];
    expected.sort();
    assert_eq!(moves, expected);
    let noted = of_type(&received, note_added);
    assert_eq!(noted.len(), 1, "{types:?}");
    let data = note_data(&created, &note);
    assert_message(noted[0], &endpoint.secret, note_added, &data);
}

// ---------------------------------------------------------------------------------------------
// Who gets what
// ---------------------------------------------------------------------------------------------

/// Three partners listening: incident events reach every partner subscribed to them, with one
/// webhook-id per event and each endpoint signing with its own secret; a partner's escalations
/// and plans reach its own endpoints only.
#[tokio::test]
async fn incident_events_reach_every_subscribed_partner_and_the_rest_only_its_own() {
    // Arrange
    let world = webhook_world().await;
    let (app, operator) = (&world.app, world.operator.as_str());
    let stranger = app.create_partner("蓝海科技").await;
    let uninterested = app.create_partner("远山科技").await;
    let ours = listening(app, world.key(), Script::Always(204), &EVENT_TYPES).await;
    let theirs = listening(app, &stranger.key, Script::Always(204), &EVENT_TYPES).await;
    let escalation_types = ["escalation.created", "escalation.status_changed"];
    let escalations_only = listening(
        app,
        &uninterested.key,
        Script::Always(204),
        &escalation_types,
    )
    .await;

    // Act: escalation.created comes with each of the first two
    for event_type in [
        "escalation.status_changed",
        "escalation.note_added",
        "remediation_plan.requested",
    ] {
        cause(&world, &world.partner, event_type).await;
    }
    let incident = app.create_incident(operator, &incident_body("azure")).await;
    app.move_incident(operator, &incident, "resolved").await;

    // Assert
    let about_it = |data: &Value| data["incident"]["id"] == json!(incident.id());
    let resolved = "service_incident.resolved";
    theirs.receiver.wait_for_event(resolved, about_it).await;
    eventually(
        "the partner's own endpoint to get all six types",
        async || {
            let types: HashSet<String> = ours.receiver.event_types().into_iter().collect();
            (types.len() == 6).then_some(())
        },
    )
    .await;
    let incident_messages = |endpoint: &Endpoint| {
        let received = endpoint.receiver.received();
        let mut messages: Vec<(String, String)> = received
            .iter()
            .filter(|request| request.event_type().starts_with("service_incident"))
            .map(|request| {
                assert_signed(request, &endpoint.secret);
                assert!(about_it(&request.json()["data"]), "{:?}", request.json());
                (request.event_type(), request.id().to_owned())
            })
            .collect();
        messages.sort();
        messages
    };
    let (ours_got, theirs_got) = (incident_messages(&ours), incident_messages(&theirs));
    let types: Vec<&str> = ours_got.iter().map(|(t, _)| t.as_str()).collect();
    assert_eq!(types, ["service_incident.created", resolved]);
    let why = "the same events, with the same webhook-id everywhere";
    assert_eq!(ours_got, theirs_got, "{why}");
    assert_ne!(ours_got[0].1, ours_got[1].1, "two events, two ids");
    let ours_received = ours.receiver.received();
    let ours_first = of_type(&ours_received, "service_incident.created")[0];
    let error = verification_error(ours_first, &theirs.secret);
    assert!(error.is_some(), "each endpoint signs with its own secret");
    let why = "nothing of another partner's escalations or plans";
    let their_types = theirs.receiver.event_types();
    assert_eq!(their_types.len(), 2, "{why}: {their_types:?}");
    assert_eq!(deliveries(app, &stranger.key, theirs.id).await.len(), 2);
    assert_eq!(escalations_only.receiver.count(), 0);
    let listed = deliveries(app, &uninterested.key, escalations_only.id).await;
    assert!(listed.is_empty(), "{listed:?}");
}

#[tokio::test]
async fn only_enabled_endpoints_that_existed_at_the_event_get_it() {
    // Arrange
    let world = webhook_world().await;
    let (app, key) = (&world.app, world.key());
    let types = ["escalation.created", "escalation.note_added"];
    let early = listening(app, key, Script::Always(204), &types).await;
    let born_disabled = Receiver::start(Script::Always(204));
    let mut body = endpoint_body(&born_disabled.url(), &types);
    body["enabled"] = json!(false);
    let disabled_at_birth = create_endpoint_from(app, key, &body).await;
    let later_disabled = listening(app, key, Script::Always(204), &types).await;
    let path = endpoint_path(later_disabled.id);
    let current = app.get(&path, key).await;
    let disable = json!({"enabled": false});
    let disabled = app.patch(&path, key, Some(&current.etag()), &disable).await;
    assert_eq!(disabled.status, 200, "{}", disabled.body);

    // Act
    let created = world.submit().await;
    let late = listening(app, key, Script::Always(204), &types).await;
    let text = "补充：问题仍在持续。";
    app.add_note(key, created.id(), text).await;

    // Assert
    let about = |data: &Value| data["escalation"]["id"] == json!(created.id());
    early.receiver.wait_for_event(types[0], about).await;
    late.receiver.wait_for_event(types[1], |_| true).await;
    early.receiver.wait_for(2).await;
    let late_got = late.receiver.event_types();
    assert_eq!(late_got, [types[1]], "not what came before it");
    assert_eq!(deliveries(app, key, late.id).await.len(), 1);
    assert_eq!(born_disabled.count(), 0);
    assert_eq!(later_disabled.receiver.count(), 0);
    for id in [disabled_at_birth.id(), later_disabled.id] {
        assert!(deliveries(app, key, id).await.is_empty());
    }
}

// ---------------------------------------------------------------------------------------------
// Failures, retries, timeouts, the horizon
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_flaky_endpoint_gets_the_same_signed_message_until_it_accepts() {
    // Arrange
    let world = webhook_world().await;
    let (app, key) = (&world.app, world.key());
    let endpoint = listening(app, key, Script::FailFirst(3), &CREATED).await;

    // Act
    world.submit().await;

    // Assert
    let what = "the delivery to be delivered after three failures";
    let delivered = |delivery: &Value| delivery["status"] == "delivered";
    let delivery = delivery_where(app, key, endpoint.id, what, delivered).await;
    assert_eq!(delivery["attempt_count"], 4);
    let statuses = attempt_statuses(&delivery);
    assert_eq!(statuses, [json!(500), json!(500), json!(500), json!(204)]);
    let numbers: Vec<&Value> = attempts(&delivery).iter().map(|a| &a["number"]).collect();
    assert_eq!(numbers, [&json!(1), &json!(2), &json!(3), &json!(4)]);
    for attempt in attempts(&delivery) {
        let no_error = attempt["error"].is_null();
        assert!(no_error, "an HTTP answer is no error: {attempt}");
    }
    let starts: Vec<_> = attempts(&delivery)
        .iter()
        .map(|attempt| timestamp(&attempt["started_at"]))
        .collect();
    for (n, pair) in starts.windows(2).enumerate() {
        // The n-th retry waits at least half of 50 ms · 2^(n-1).
        let least = Duration::milliseconds(25 << n) - Duration::milliseconds(5);
        let waited = pair[1] - pair[0];
        let retry = n + 1;
        assert!(
            waited >= least,
            "retry {retry} came {waited} after the one before"
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

/// One escalation, four endpoints: only the one answering 2xx has it delivered; a 4xx, a
/// redirect (never followed) and a refused connection are failed attempts, retried.
#[tokio::test]
async fn any_2xx_is_delivered_and_a_4xx_a_redirect_or_a_refused_connection_is_retried() {
    // Arrange
    let world = webhook_world().await;
    let (app, key) = (&world.app, world.key());
    let accepted = listening(app, key, Script::Always(202), &CREATED).await;
    let gone = listening(app, key, Script::Always(410), &CREATED).await;
    let target = Receiver::start(Script::Always(204));
    let redirecting = listening(app, key, Script::RedirectTo(target.url()), &CREATED).await;
    // A port that was free a moment ago: the listener is dropped at once.
    let closed = TcpListener::bind("127.0.0.1:0").unwrap().local_addr();
    let closed = format!("http://{}/hooks", closed.unwrap());
    let refusing = create_endpoint(app, key, &closed, &CREATED).await.id();

    // Act
    world.submit().await;

    // Assert
    let delivered = |d: &Value| d["status"] == "delivered";
    let delivered = delivery_where(app, key, accepted.id, "a 202 to count", delivered).await;
    assert_eq!(attempt_statuses(&delivered), [json!(202)]);
    let retried = |d: &Value| attempts(d).len() >= 2;
    for (endpoint, status) in [(&gone, 410), (&redirecting, 307)] {
        let what = format!("a {status} to be retried");
        let delivery = delivery_where(app, key, endpoint.id, &what, retried).await;
        assert_eq!(delivery["status"], "pending", "{status}");
        let statuses = attempt_statuses(&delivery);
        assert!(statuses.iter().all(|s| *s == status), "{delivery}");
    }
    assert_eq!(target.count(), 0, "the redirect was not followed");
    let tried = |d: &Value| !attempts(d).is_empty();
    let what = "an attempt on a closed port";
    let refused = delivery_where(app, key, refusing, what, tried).await;
    assert_unanswered(&refused, "a refused connection");
}

#[tokio::test]
async fn an_attempt_that_times_out_is_recorded_without_a_status() {
    // Arrange
    let world = webhook_world_with(|settings| settings.timeout_ms = 500).await;
    let (app, key) = (&world.app, world.key());
    let endpoint = listening(app, key, Script::Hang, &CREATED).await;

    // Act
    world.submit().await;

    // Assert
    let tried = |delivery: &Value| !attempts(delivery).is_empty();
    let what = "an attempt that timed out";
    let delivery = delivery_where(app, key, endpoint.id, what, tried).await;
    assert_unanswered(&delivery, "a timeout");
    let attempt = &attempts(&delivery)[0];
    let duration = attempt["duration_ms"].as_u64().expect("a duration");
    let cut_off = (400..5_000).contains(&duration);
    assert!(cut_off, "cut off at about 500 ms: {attempt}");
    assert!(delivery["delivered_at"].is_null());
    let reached = endpoint.receiver.count();
    assert!(reached >= 1, "the request did reach the receiver");
}

#[tokio::test]
async fn a_delivery_is_given_up_after_the_horizon() {
    // Arrange
    let world = webhook_world_with(|settings| settings.horizon_secs = 1).await;
    let (app, key) = (&world.app, world.key());
    let endpoint = listening(app, key, Script::Always(500), &CREATED).await;

    // Act
    world.submit().await;

    // Assert
    let given_up = |delivery: &Value| delivery["status"] == "failed";
    let what = "the delivery to be given up";
    let failed = delivery_where(app, key, endpoint.id, what, given_up).await;
    let made = attempts(&failed).len();
    assert!(made >= 1, "{failed}");
    assert_eq!(failed["attempt_count"], made);
    assert!(attempt_statuses(&failed).iter().all(|s| *s == 500));
    assert!(failed["next_attempt_at"].is_null(), "{failed}");
    assert!(failed["delivered_at"].is_null(), "{failed}");
    let horizon = timestamp(&failed["created_at"]) + Duration::seconds(1);
    for attempt in attempts(&failed) {
        let started = timestamp(&attempt["started_at"]);
        let in_time = started <= horizon + Duration::milliseconds(500);
        assert!(
            in_time,
            "no attempt is scheduled past the horizon: {attempt}"
        );
    }
    let received = endpoint.receiver.count();
    assert_eq!(received, made, "every request is an attempt, recorded");
    // Nothing can be polled for here: the point is that nothing more happens.
    tokio::time::sleep(StdDuration::from_millis(1500)).await;
    let after = endpoint.receiver.count();
    assert_eq!(after, received, "no request after giving up");
    let path = delivery_path(endpoint.id, uuid(&failed["id"]));
    assert_eq!(app.get(&path, key).await.body, failed);
    let text = app.metrics().await;
    for outcome in ["given_up", "failed"] {
        let series = format!(r#"escalade_webhook_attempts_total{{outcome="{outcome}"}}"#);
        assert!(counted(&text, &series), "{outcome}: {text}");
    }
}

// ---------------------------------------------------------------------------------------------
// Secret rotation
// ---------------------------------------------------------------------------------------------

/// Rotates the endpoint's secret as `key`; asserts 200 and returns the answer.
async fn rotate_secret(app: &TestApp, key: &str, endpoint: &Endpoint) -> Answer {
    let current = app.get(&endpoint_path(endpoint.id), key).await;
    let rotated = rotate(app, key, endpoint.id, Some(&current.etag())).await;
    assert_eq!(rotated.status, 200, "{}", rotated.body);
    rotated
}

#[tokio::test]
async fn after_a_rotation_deliveries_are_signed_with_the_new_and_the_old_secret() {
    // Arrange
    let world = webhook_world().await;
    let (app, key) = (&world.app, world.key());
    let endpoint = listening(app, key, Script::Always(204), &CREATED).await;
    let rotated = rotate_secret(app, key, &endpoint).await;
    let (old, new) = (&endpoint.secret, secret(&rotated));
    assert_ne!(old, &new);
    assert!(rotated.body["previous_secret_expires_at"].is_string());

    // Act
    world.submit().await;

    // Assert
    let received = endpoint.receiver.wait_for(1).await;
    let request = &received[0];
    let header = request.webhook_signature.as_deref().unwrap();
    let timestamp = request.webhook_timestamp.as_deref().unwrap();
    let signed = |secret: &str| sign(secret, request.id(), timestamp, &request.body);
    let (by_new, by_old) = (signed(&new), signed(old));
    let why = "two signatures, the new secret's first";
    let expected = [by_new.as_str(), by_old.as_str()];
    assert_eq!(signatures(header), expected, "{why}");
    assert_signed(request, &new);
    assert_signed(request, old);
}

#[tokio::test]
async fn once_the_grace_period_is_over_only_the_new_secret_signs() {
    // Arrange
    let world = webhook_world_with(|settings| settings.secret_grace_secs = 0).await;
    let (app, key) = (&world.app, world.key());
    let endpoint = listening(app, key, Script::Always(204), &CREATED).await;
    let new = secret(&rotate_secret(app, key, &endpoint).await);
    tokio::time::sleep(StdDuration::from_millis(1100)).await;

    // Act
    world.submit().await;

    // Assert
    let received = endpoint.receiver.wait_for(1).await;
    let request = &received[0];
    let header = request.webhook_signature.as_deref().unwrap();
    assert_eq!(signatures(header).len(), 1, "{request:?}");
    assert_signed(request, &new);
    assert!(verification_error(request, &endpoint.secret).is_some());
}

// ---------------------------------------------------------------------------------------------
// The deliveries API
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn deliveries_are_listed_oldest_first_filtered_by_status_and_paged() {
    // Arrange: the first incident is accepted, the second keeps failing.
    let world = webhook_world().await;
    let (app, key, operator) = (&world.app, world.key(), world.operator.as_str());
    let types = ["service_incident.created"];
    let endpoint = listening(app, key, Script::FailAfter(1), &types).await;
    let elsewhere = listening(app, key, Script::Always(204), &CREATED).await;
    app.create_incident(operator, &incident_body("azure")).await;
    let delivered = |d: &Value| d["status"] == "delivered";
    let what = "the first delivered";
    let first = delivery_where(app, key, endpoint.id, what, delivered).await;
    let power_bi = incident_body("power-bi");
    app.create_incident(operator, &power_bi).await;
    let tried = |d: &Value| d["status"] == "pending" && !attempts(d).is_empty();
    let second = delivery_where(app, key, endpoint.id, "the second tried", tried).await;
    let (first_id, second_id) = (uuid(&first["id"]), uuid(&second["id"]));
    let path = deliveries_path(endpoint.id);
    let filters: [(&str, &[Uuid]); 3] = [
        ("delivered", &[first_id]),
        ("pending", &[second_id]),
        ("failed", &[]),
    ];

    // Act
    let all = app.get(&path, key).await;
    let page_one = app.get_query(&path, key, &[("limit", "1")]).await;
    let cursor = page_one.body["next_cursor"].as_str();
    let cursor = cursor.expect("a next_cursor after a full page");
    let page_two = app
        .get_query(&path, key, &[("limit", "1"), ("cursor", cursor)])
        .await;

    // Assert
    assert_eq!(all.item_ids(), [first_id, second_id], "oldest first");
    for (listed, read) in all.items().iter().zip([&first, &second]) {
        for field in ["id", "event_id", "payload"] {
            assert_eq!(listed[field], read[field], "{field}");
        }
    }
    for (status, expected) in filters {
        let listed = app.get_query(&path, key, &[("status", status)]).await;
        assert_eq!(listed.item_ids(), expected, "{status}");
    }
    assert_eq!(page_one.item_ids(), [first_id]);
    assert_eq!(page_two.item_ids(), [second_id]);
    assert!(page_two.body["next_cursor"].is_null(), "{}", page_two.body);
    assert!(second["next_attempt_at"].is_string(), "pending: {second}");
    assert!(second["delivered_at"].is_null());
    assert_eq!(second["event_type"], "service_incident.created");
    assert!(first["next_attempt_at"].is_null());
    for other in [
        delivery_path(elsewhere.id, first_id),
        delivery_path(endpoint.id, Uuid::now_v7()),
    ] {
        app.get(&other, key).await.problem(404, "not_found");
    }
    assert_eq!(elsewhere.receiver.count(), 0);
}

// ---------------------------------------------------------------------------------------------
// Several instances; proxies
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_deliver_each_event_to_each_endpoint_exactly_once() {
    // Arrange
    let world = webhook_world().await;
    let (app, key) = (&world.app, world.key());
    let sibling = app.spawn_sibling();
    let types = ["service_incident.created"];
    let first = listening(app, key, Script::Always(204), &types).await;
    let second = listening(app, key, Script::Always(204), &types).await;
    let services = ["azure", "power-bi", "microsoft-365", "dynamics-365"];
    let requests = (0..10)
        .map(|i| {
            let instance = if i % 2 == 0 { app } else { &sibling };
            let request = instance.request(Method::POST, "/v1/service-incidents", &world.operator);
            request.json(&incident_body(services[i % services.len()]))
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
            let listed = deliveries(app, key, endpoint.id).await;
            (listed.len() == 10 && listed.iter().all(|d| d["status"] == "delivered")).then_some(())
        })
        .await;
        let received = endpoint.receiver.received();
        let ids: HashSet<&str> = received.iter().map(Received::id).collect();
        assert_eq!(ids.len(), 10);
        let requests = received.len();
        assert_eq!(
            requests, 10,
            "each event once, not {requests} requests for 10"
        );
        for delivery in deliveries(app, key, endpoint.id).await {
            assert_eq!(delivery["attempt_count"], 1, "{delivery}");
        }
    }
}

/// A listener standing in for a proxy: it counts the connections it gets and answers none.
fn counting_proxy() -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let connections = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&connections);
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
/// deliveries to loopback, where the demo partner subscribes `url` to incidents and the demo
/// operator opens one.
async fn serve_an_incident_through_proxies(
    database: &TestDatabase,
    proxy_environment: &str,
    extra: &[&str],
    url: &str,
) -> crate::cli::Served {
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
    let served = crate::cli::serve_with(command, &[&["--demo"][..], extra].concat());
    let client = reqwest::Client::new();
    let subscription = endpoint_body(url, &["service_incident.created"]);
    for (role, path, body) in [
        ("partner", ENDPOINTS, subscription),
        ("operator", "/v1/service-incidents", incident_body("azure")),
    ] {
        let (url, key) = (served.url(path), served.demo_key(role));
        let request = client.post(url).bearer_auth(key);
        let answer = request.json(&body).send().await.unwrap();
        assert_eq!(answer.status(), 201, "{role}");
    }
    served
}

#[tokio::test]
async fn deliveries_ignore_proxies_named_by_the_environment() {
    // Arrange
    let (proxy, connections) = counting_proxy();
    let receiver = Receiver::start(Script::Always(204));
    let database = TestDatabase::migrated().await;

    // Act
    let served = serve_an_incident_through_proxies(&database, &proxy, &[], &receiver.url()).await;

    // Assert: delivered straight to the endpoint, which the address check saw.
    receiver.wait_for(1).await;
    served.stop();
    assert_eq!(connections.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn deliveries_use_the_proxy_configured_for_them() {
    // Arrange
    let (proxy, connections) = counting_proxy();
    let receiver = Receiver::start(Script::Always(204));
    let database = TestDatabase::migrated().await;
    let (environment, configured) = ("http://127.0.0.1:1", ["--webhook-proxy", proxy.as_str()]);

    // Act
    let served =
        serve_an_incident_through_proxies(&database, environment, &configured, &receiver.url())
            .await;

    // Assert
    eventually("a connection to the configured proxy", async || {
        (connections.load(Ordering::SeqCst) > 0).then_some(())
    })
    .await;
    served.stop();
    assert_eq!(receiver.count(), 0);
}
