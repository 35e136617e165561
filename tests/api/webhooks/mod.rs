//! Webhooks: partners register endpoints under `/v1/webhook-endpoints`, and escalade delivers
//! what happens to them (escalations, notes, incidents, remediation requests) as signed
//! Standard Webhooks messages, retried with backoff until a horizon, each attempt recorded.
//!
//! `api` covers the endpoints resource; `delivery` runs a real receiver (`receiver`) and follows
//! events from the change that causes them to the request the partner gets.

mod api;
mod delivery;
pub mod receiver;

use std::time::Duration;

use escalade::config::{ServeSettings, WebhookSettings};
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{Answer, TestApp, spawn_app_with};

pub const ENDPOINTS: &str = "/v1/webhook-endpoints";

/// Every event type, as the contract lists them.
pub const EVENT_TYPES: [&str; 6] = [
    "escalation.created",
    "escalation.status_changed",
    "escalation.note_added",
    "service_incident.created",
    "service_incident.resolved",
    "remediation_plan.requested",
];

pub fn endpoint_path(id: Uuid) -> String {
    format!("{ENDPOINTS}/{id}")
}

pub fn deliveries_path(endpoint_id: Uuid) -> String {
    format!("{}/deliveries", endpoint_path(endpoint_id))
}

pub fn delivery_path(endpoint_id: Uuid, delivery_id: Uuid) -> String {
    format!("{}/{delivery_id}", deliveries_path(endpoint_id))
}

/// Webhook settings for fast tests: receivers on loopback are allowed, the worker looks every
/// 50 ms and retries after 50 ms, doubling up to a second.
pub fn fast_webhooks() -> WebhookSettings {
    WebhookSettings {
        allow_private_networks: true,
        poll_interval_ms: 50,
        backoff_base_ms: 50,
        backoff_max_secs: 1,
        timeout_ms: 1000,
        ..WebhookSettings::default()
    }
}

/// The server with [`fast_webhooks`].
pub async fn spawn_webhook_app() -> TestApp {
    spawn_webhook_app_with(fast_webhooks()).await
}

pub async fn spawn_webhook_app_with(webhooks: WebhookSettings) -> TestApp {
    spawn_app_with(ServeSettings {
        webhooks,
        ..ServeSettings::default()
    })
    .await
}

/// A valid endpoint body.
pub fn endpoint_body(url: &str, events: &[&str]) -> Value {
    json!({"url": url, "events": events})
}

/// Creates an endpoint from `body` as `key`; asserts 201 and returns the answer (with the secret).
pub async fn create_endpoint_from(app: &TestApp, key: &str, body: &Value) -> Answer {
    app.created(ENDPOINTS, key, body).await
}

/// Creates an endpoint for `url` subscribed to `events` as `key`; asserts 201.
pub async fn create_endpoint(app: &TestApp, key: &str, url: &str, events: &[&str]) -> Answer {
    create_endpoint_from(app, key, &endpoint_body(url, events)).await
}

/// Asserts a problem with this status and code; `label` names the case when the status differs.
#[track_caller]
pub fn assert_problem(answer: &Answer, label: &str, status: u16, code: &str) {
    assert_eq!(answer.status, status, "{label}: {}", answer.body);
    answer.problem(status, code);
}

/// The secret of a 201 or rotate answer.
#[track_caller]
pub fn secret(answer: &Answer) -> String {
    answer.body["secret"]
        .as_str()
        .unwrap_or_else(|| panic!("a secret: {}", answer.body))
        .to_owned()
}

pub use crate::helpers::uuid;

/// `POST {endpoint}/rotate-secret` with `If-Match` when given.
pub async fn rotate(app: &TestApp, key: &str, id: Uuid, if_match: Option<&str>) -> Answer {
    let mut request = app.request(
        Method::POST,
        &format!("{}/rotate-secret", endpoint_path(id)),
        key,
    );
    if let Some(tag) = if_match {
        request = request.header("If-Match", tag);
    }
    app.send(request).await
}

/// Every delivery of an endpoint (oldest first), as `key`.
pub async fn deliveries(app: &TestApp, key: &str, endpoint_id: Uuid) -> Vec<Value> {
    app.get_query(&deliveries_path(endpoint_id), key, &[("limit", "100")])
        .await
        .items()
        .clone()
}

/// Waits until the endpoint has a delivery of the event `event_id` in `status`; returns it as
/// `GET /deliveries/{id}` shows it.
pub async fn delivery_of(
    app: &TestApp,
    key: &str,
    endpoint_id: Uuid,
    event_id: &str,
    status: &str,
) -> Value {
    let listed = eventually(
        &format!("a {status} delivery of event {event_id} to endpoint {endpoint_id}"),
        async || {
            deliveries(app, key, endpoint_id)
                .await
                .into_iter()
                .find(|delivery| delivery["event_id"] == event_id && delivery["status"] == status)
        },
    )
    .await;
    let read = app
        .read_ok(&delivery_path(endpoint_id, uuid(&listed["id"])), key)
        .await;
    read.body
}

/// Waits until some delivery of the endpoint, as `GET /deliveries/{id}` shows it, passes
/// `done`; returns it.
pub async fn delivery_where(
    app: &TestApp,
    key: &str,
    endpoint_id: Uuid,
    what: &str,
    done: impl Fn(&Value) -> bool,
) -> Value {
    eventually(what, async || {
        for listed in deliveries(app, key, endpoint_id).await {
            let read = app
                .read_ok(&delivery_path(endpoint_id, uuid(&listed["id"])), key)
                .await;
            if done(&read.body) {
                return Some(read.body);
            }
        }
        None
    })
    .await
}

/// Polls `probe` every 50 ms until it gives a value; panics after 20 s naming `what`.
pub async fn eventually<T>(what: &str, probe: impl AsyncFnMut() -> Option<T>) -> T {
    crate::faults::eventually_within(Duration::from_secs(20), what, probe).await
}
