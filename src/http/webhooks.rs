//! `/v1/webhook-endpoints`: where a partner's systems are told of changes instead of polling,
//! the deliveries made to them, and the events written to the outbox by the other resources.

use actix_web::http::header::LOCATION;
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use sea_orm::DbErr;
use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::{ArrayBuilder, OneOfBuilder, Type};
use utoipa::openapi::{ObjectBuilder, Ref};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use super::AppState;
use super::auth::{Caller, PartnerOnly};
use super::etag::{EntityTags, IfMatch, OptionalIfMatch, with_etag};
use super::extract::{ValidJson, ValidQuery};
use super::fields::{self, parsed, present};
use super::pagination::{self, Cursor, list_type};
use super::responses::*;
use crate::delivery::{Refusal, admit};
use crate::domain::Title;
use crate::domain::webhook::{DeliveryStatus, EventType, SigningSecret, WebhookUrl};
use crate::error::{ApiError, FieldError};
use crate::http::idempotency::Idempotency;
use crate::i18n::Text;
use crate::store::webhooks::{
    self as store, Delivery, EndpointChanges, EndpointRow, NewEndpoint, Notice,
};
use crate::store::{PageRequest, VersionCheck};

const TAG: &str = "webhooks";

/// The outbox entry announcing `event_type` to `partner_id`'s endpoints (every partner's when
/// `None`), carrying resources as the API shows them.
pub fn notice(
    event_type: EventType,
    partner_id: Option<Uuid>,
    data: impl Serialize,
) -> Result<Notice, DbErr> {
    let data = serde_json::to_value(data)
        .map_err(|err| DbErr::Custom(format!("cannot serialise the event's data: {err}")))?;
    Ok(Notice {
        event_type,
        partner_id,
        data,
        may_be_heard: true,
    })
}

/// A resource as the API shows it, for an event; a row that cannot be shown stops the change.
pub fn describe<T>(resource: Result<T, ApiError>) -> Result<T, DbErr> {
    resource.map_err(|err| DbErr::Custom(format!("cannot describe the event's resource: {err}")))
}

/// How the API is configured to treat endpoint URLs and rotations.
#[derive(Debug, Clone, Copy)]
pub struct EndpointPolicy {
    pub allow_private_networks: bool,
    pub secret_grace: std::time::Duration,
}

fn endpoint_example() -> serde_json::Value {
    serde_json::json!({
        "id": "0193a1f9-2a3b-7c4d-8e5f-6a7b8c9d0e1f",
        "partner_id": "0193a1f0-1b2c-7d3e-8f40-5a6b7c8d9e0f",
        "url": "https://hooks.yunqi.cn/escalade",
        "description": "工单系统",
        "events": ["escalation.status_changed", "escalation.note_added"],
        "enabled": true,
        "secret_rotated_at": null,
        "previous_secret_expires_at": null,
        "version": 1,
        "created_at": "2026-11-25T08:00:00Z",
        "updated_at": "2026-11-25T08:00:00Z"
    })
}

fn created_endpoint_example() -> serde_json::Value {
    let mut example = endpoint_example();
    example["secret"] = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD7bl1IQjx1WI=".into();
    example
}

/// A partner's webhook endpoint. The signing secret is never shown again after creation or
/// rotation.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = endpoint_example)]
pub struct WebhookEndpoint {
    pub id: Uuid,
    pub partner_id: Uuid,
    #[schema(value_type = WebhookUrl)]
    pub url: String,
    pub description: Option<String>,
    /// The event types delivered to this endpoint.
    pub events: Vec<EventType>,
    /// Disabled endpoints receive nothing; their pending deliveries wait.
    pub enabled: bool,
    pub secret_rotated_at: Option<DateTime<Utc>>,
    /// Until when the secret before the last rotation still signs deliveries too.
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
    /// Increases with every change; the `ETag` is this number in quotes.
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<EndpointRow> for WebhookEndpoint {
    fn from(row: EndpointRow) -> Self {
        let events = store::subscribed(&row);
        let now = Utc::now();
        WebhookEndpoint {
            id: row.id,
            partner_id: row.partner_id,
            url: row.url,
            description: row.description,
            events,
            enabled: row.enabled,
            secret_rotated_at: row.secret_rotated_at,
            previous_secret_expires_at: row.previous_secret_expires_at.filter(|until| *until > now),
            version: row.version,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

/// An endpoint with its signing secret: the answer to creation and rotation, the only times
/// the secret is shown.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = created_endpoint_example)]
pub struct WebhookEndpointWithSecret {
    #[serde(flatten)]
    pub endpoint: WebhookEndpoint,
    /// `whsec_` and the base64 of 32 random bytes. The HMAC key is the decoded bytes.
    #[schema(example = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD7bl1IQjx1WI=")]
    pub secret: String,
}

list_type!(
    /// A page of webhook endpoints, oldest first.
    WebhookEndpointList of WebhookEndpoint,
    example = endpoint_example
);

/// The event types of an endpoint: at least one, none twice.
fn event_set() -> ArrayBuilder {
    ArrayBuilder::new()
        .items(Ref::from_schema_name(EventType::name()))
        .min_items(Some(1))
        .max_items(Some(EventType::ALL.len()))
        .unique_items(true)
        .description(Some(
            "The event types to deliver: at least one, none twice.",
        ))
}

fn optional_event_set() -> OneOfBuilder {
    OneOfBuilder::new()
        .item(event_set())
        .item(ObjectBuilder::new().schema_type(Type::Null))
}

/// A new endpoint.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "url": "https://hooks.yunqi.cn/escalade",
    "description": "工单系统",
    "events": ["escalation.status_changed", "escalation.note_added"]
}))]
pub struct CreateWebhookEndpoint {
    /// Where to POST events. Its host must resolve to public addresses only.
    #[validate(required, custom(function = "fields::webhook_url"))]
    #[schema(value_type = WebhookUrl, required = true)]
    pub url: Option<String>,
    #[validate(required, length(min = 1), custom(function = "fields::distinct"))]
    #[schema(schema_with = event_set, required = true)]
    pub events: Option<Vec<EventType>>,
    /// What the endpoint is for, to recognise it by.
    #[validate(custom(function = "fields::title"))]
    #[schema(value_type = Option<Title>)]
    pub description: Option<String>,
    /// Default `true`.
    pub enabled: Option<bool>,
}

/// Fields to change; those absent or `null` keep their value.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"events": ["escalation.created", "escalation.status_changed"], "enabled": true}))]
pub struct UpdateWebhookEndpoint {
    #[validate(custom(function = "fields::webhook_url"))]
    #[schema(value_type = Option<WebhookUrl>)]
    pub url: Option<String>,
    /// Replaces the whole list.
    #[validate(length(min = 1), custom(function = "fields::distinct"))]
    #[schema(schema_with = optional_event_set)]
    pub events: Option<Vec<EventType>>,
    #[validate(custom(function = "fields::title"))]
    #[schema(value_type = Option<Title>)]
    pub description: Option<String>,
    pub enabled: Option<bool>,
}

/// One attempt at a delivery.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryAttempt {
    /// 1 for the first attempt.
    pub number: i32,
    pub started_at: DateTime<Utc>,
    pub duration_ms: i32,
    /// The endpoint's HTTP status; `null` when it did not answer.
    pub response_status: Option<i32>,
    /// Why there was no answer (timeout, connection refused, address not allowed); `null`
    /// when the endpoint answered.
    pub error: Option<String>,
}

fn delivery_example() -> serde_json::Value {
    serde_json::json!({
        "id": "0193a1fa-3b4c-7d5e-8f60-7a8b9c0d1e2f",
        "endpoint_id": "0193a1f9-2a3b-7c4d-8e5f-6a7b8c9d0e1f",
        "event_id": "0193a1fa-3b4c-7d5e-8f60-7a8b9c0d1e20",
        "event_type": "escalation.status_changed",
        "status": "delivered",
        "attempt_count": 2,
        "next_attempt_at": null,
        "delivered_at": "2026-11-25T08:00:07Z",
        "created_at": "2026-11-25T08:00:00Z",
        "payload": {
            "type": "escalation.status_changed",
            "timestamp": "2026-11-25T08:00:00.000000Z",
            "data": {"escalation": {"id": "0193a1f4-5e6f-7a8b-9c0d-1e2f3a4b5c6d", "number": "ESC-000042", "status": "in_progress"},
                     "previous_status": "submitted"}
        },
        "attempts": [
            {"number": 1, "started_at": "2026-11-25T08:00:00Z", "duration_ms": 10000, "response_status": null,
             "error": "timed out waiting for the endpoint"},
            {"number": 2, "started_at": "2026-11-25T08:00:07Z", "duration_ms": 84, "response_status": 204, "error": null}
        ]
    })
}

/// One event's delivery to one endpoint, with every attempt.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = delivery_example)]
pub struct WebhookDelivery {
    pub id: Uuid,
    pub endpoint_id: Uuid,
    /// The `webhook-id` header: the same on every attempt, and for every endpoint.
    pub event_id: Uuid,
    pub event_type: EventType,
    pub status: DeliveryStatus,
    pub attempt_count: i32,
    /// When the next attempt is due; `null` unless pending.
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    /// The body sent: `type`, `timestamp` and `data`.
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
    pub attempts: Vec<DeliveryAttempt>,
}

impl TryFrom<Delivery> for WebhookDelivery {
    type Error = ApiError;

    fn try_from(delivery: Delivery) -> Result<Self, ApiError> {
        let row = delivery.row;
        let corrupt = |what: &str| {
            ApiError::internal(format!(
                "stored delivery {} has an unreadable {what}",
                row.id
            ))
        };
        let status = DeliveryStatus::parse(&row.status).ok_or_else(|| corrupt("status"))?;
        Ok(WebhookDelivery {
            id: row.id,
            endpoint_id: row.endpoint_id,
            event_id: row.event_id,
            event_type: EventType::parse(&row.event_type).ok_or_else(|| corrupt("event type"))?,
            status,
            attempt_count: row.attempt_count,
            next_attempt_at: (status == DeliveryStatus::Pending).then_some(row.next_attempt_at),
            delivered_at: row.delivered_at,
            created_at: row.created_at,
            payload: serde_json::from_str(&delivery.body).map_err(|_| corrupt("payload"))?,
            attempts: delivery
                .attempts
                .into_iter()
                .map(|attempt| DeliveryAttempt {
                    number: attempt.number,
                    started_at: attempt.started_at,
                    duration_ms: attempt.duration_ms,
                    response_status: attempt.response_status,
                    error: attempt.error,
                })
                .collect(),
        })
    }
}

list_type!(
    /// A page of deliveries, oldest first.
    WebhookDeliveryList of WebhookDelivery,
    example = delivery_example
);

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DeliveryQuery {
    /// Only deliveries in this status.
    pub status: Option<DeliveryStatus>,
    /// Page size, 1–100 (default 25).
    #[validate(range(min = 1, max = 100))]
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u64>,
    #[param(value_type = Option<Cursor>, inline)]
    pub cursor: Option<String>,
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct EndpointQuery {
    /// Page size, 1–100 (default 25).
    #[validate(range(min = 1, max = 100))]
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u64>,
    #[param(value_type = Option<Cursor>, inline)]
    pub cursor: Option<String>,
}

fn partner_of(caller: &Caller<PartnerOnly>) -> Result<Uuid, ApiError> {
    caller
        .partner_id
        .ok_or_else(|| ApiError::internal("partner key without partner"))
}

/// The URL, if the deployment lets endpoints reach where it points.
async fn admitted(policy: &EndpointPolicy, raw: &str) -> Result<WebhookUrl, ApiError> {
    let url = parsed("url", raw, WebhookUrl::parse)?;
    admit(&url, policy.allow_private_networks)
        .await
        .map_err(|refusal| {
            let error = match refusal {
                Refusal::Unresolvable => FieldError::new(
                    "url",
                    "unresolvable_host",
                    Text::new("field-url-unresolvable"),
                ),
                Refusal::NotPublic(address) => FieldError::new(
                    "url",
                    "address_not_allowed",
                    Text::new("field-url-not-public").with("address", address.to_string()),
                ),
            };
            ApiError::invalid_fields(vec![error])
        })?;
    Ok(url)
}

async fn visible(
    state: &AppState,
    caller: &Caller<PartnerOnly>,
    id: Uuid,
) -> Result<EndpointRow, ApiError> {
    store::get(&state.db, partner_of(caller)?, id)
        .await?
        .ok_or(ApiError::not_found("webhook endpoint"))
}

fn found(endpoint: WebhookEndpoint) -> HttpResponse {
    with_etag(HttpResponse::Ok(), endpoint.version).json(endpoint)
}

fn with_secret(row: EndpointRow, secret: &SigningSecret) -> WebhookEndpointWithSecret {
    WebhookEndpointWithSecret {
        endpoint: row.into(),
        secret: secret.as_str().to_owned(),
    }
}

/// Create a webhook endpoint
///
/// Subscribes a URL of yours to event types. The answer carries the signing `secret`, shown
/// only here: every delivery is signed with it per Standard Webhooks (`webhook-id`,
/// `webhook-timestamp`, `webhook-signature`). The URL must be http(s) and its host must
/// resolve to public addresses only.
#[utoipa::path(
    operation_id = "createWebhookEndpoint",
    tag = TAG,
    request_body = CreateWebhookEndpoint,
    responses(
        (status = 201, description = "Created; the secret is shown this once.", body = WebhookEndpointWithSecret,
            headers(("Location" = String, description = "URL of the new endpoint."),
                    ("ETag" = String, description = "Version tag for `If-Match`."))),
        RequestFailures, BodyFailures,
        (status = 403, response = Forbidden),
    ),
)]
#[post("/webhook-endpoints")]
#[tracing::instrument(skip_all)]
pub async fn create_endpoint(
    caller: Caller<PartnerOnly>,
    state: web::Data<AppState>,
    idempotency: Idempotency,
    policy: web::Data<EndpointPolicy>,
    body: ValidJson<CreateWebhookEndpoint>,
) -> Result<HttpResponse, ApiError> {
    let partner_id = partner_of(&caller)?;
    let body = body.0;
    let url = present("url", body.url)?;
    let new = NewEndpoint {
        partner_id,
        url: admitted(&policy, &url).await?,
        description: body
            .description
            .map(|d| parsed("description", &d, Title::parse))
            .transpose()?,
        events: present("events", body.events)?,
        enabled: body.enabled.unwrap_or(true),
    };
    idempotency.claim(&state.db).await?;
    let secret = SigningSecret::generate();
    let row = store::create(&state.db, &state.keys, new, &secret).await?;
    tracing::info!(endpoint_id = %row.id, "webhook endpoint created");
    let created = with_secret(row, &secret);
    let mut response = with_etag(HttpResponse::Created(), created.endpoint.version);
    response.insert_header((
        LOCATION,
        format!("/v1/webhook-endpoints/{}", created.endpoint.id),
    ));
    Ok(response.json(created))
}

/// List webhook endpoints
///
/// The calling partner's webhook endpoints with the events each subscribes to; secrets are not
/// shown.
#[utoipa::path(
    operation_id = "listWebhookEndpoints",
    tag = TAG,
    params(EndpointQuery),
    responses(
        (status = 200, description = "A page of your endpoints.", body = WebhookEndpointList,
            headers(("Link" = String, description = "`<…>; rel=\"next\"` when another page follows."))),
        RequestFailures,
        (status = 403, response = Forbidden),
    ),
)]
#[get("/webhook-endpoints")]
#[tracing::instrument(skip_all)]
pub async fn list_endpoints(
    caller: Caller<PartnerOnly>,
    state: web::Data<AppState>,
    query: ValidQuery<EndpointQuery>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let page = pagination::page_request(query.limit, query.cursor.as_deref())?;
    let rows = store::list(&state.db, partner_of(&caller)?, page).await?;
    pagination::respond::<WebhookEndpointList, _>(&req, rows, |row| Ok(row.into()))
}

/// Get a webhook endpoint
///
/// One of the calling partner's webhook endpoints, without its secret.
#[utoipa::path(
    operation_id = "getWebhookEndpoint",
    tag = TAG,
    params(("id" = Uuid, Path, description = "The endpoint's id.")),
    responses(
        (status = 200, description = "The endpoint (without its secret).", body = WebhookEndpoint,
            headers(("ETag" = String, description = "Version tag for `If-Match`."))),
        ReadFailures,
        (status = 403, response = Forbidden),
    ),
)]
#[get("/webhook-endpoints/{id}")]
#[tracing::instrument(skip_all, fields(endpoint_id = %id))]
pub async fn get_endpoint(
    caller: Caller<PartnerOnly>,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    Ok(found(visible(&state, &caller, *id).await?.into()))
}

/// Update a webhook endpoint
///
/// Changes the fields sent and keeps the others. Requires `If-Match`.
#[utoipa::path(
    operation_id = "updateWebhookEndpoint",
    tag = TAG,
    params(
        ("id" = Uuid, Path, description = "The endpoint's id."),
        ("If-Match" = inline(EntityTags), Header, description = "The `ETag` from your last read, e.g. `\"3\"`."),
    ),
    request_body = UpdateWebhookEndpoint,
    responses(
        (status = 200, description = "The updated endpoint.", body = WebhookEndpoint,
            headers(("ETag" = String, description = "The new version tag."))),
        ReadFailures, BodyFailures, ConditionFailures,
        (status = 403, response = Forbidden),
    ),
)]
#[patch("/webhook-endpoints/{id}")]
#[tracing::instrument(skip_all, fields(endpoint_id = %id))]
pub async fn update_endpoint(
    caller: Caller<PartnerOnly>,
    state: web::Data<AppState>,
    policy: web::Data<EndpointPolicy>,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    body: ValidJson<UpdateWebhookEndpoint>,
) -> Result<HttpResponse, ApiError> {
    let current = visible(&state, &caller, *id).await?;
    let expected = if_match.check(current.version)?;
    let body = body.0;
    let url = match body.url {
        Some(url) => Some(admitted(&policy, &url).await?),
        None => None,
    };
    let changes = EndpointChanges {
        url,
        description: body
            .description
            .map(|d| parsed("description", &d, Title::parse).map(Some))
            .transpose()?,
        events: body.events,
        enabled: body.enabled,
    };
    let updated = store::update(&state.db, current.id, &expected, changes)
        .await?
        .ok_or(ApiError::PreconditionFailed)?;
    Ok(found(updated.into()))
}

/// Delete a webhook endpoint
///
/// Stops deliveries to it and deletes their history. Honours `If-Match` when sent.
#[utoipa::path(
    operation_id = "deleteWebhookEndpoint",
    tag = TAG,
    params(
        ("id" = Uuid, Path, description = "The endpoint's id."),
        ("If-Match" = inline(Option<EntityTags>), Header, nullable = false, description = "Delete only at this version."),
    ),
    responses(
        (status = 204, description = "Deleted."),
        ReadFailures,
        (status = 403, response = Forbidden),
        (status = 412, response = PreconditionFailed),
    ),
)]
#[delete("/webhook-endpoints/{id}")]
#[tracing::instrument(skip_all, fields(endpoint_id = %id))]
pub async fn delete_endpoint(
    caller: Caller<PartnerOnly>,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    if_match: OptionalIfMatch,
) -> Result<HttpResponse, ApiError> {
    let current = visible(&state, &caller, *id).await?;
    if !if_match.0.admits(current.version) {
        return Err(ApiError::PreconditionFailed);
    }
    if !store::delete(&state.db, current.id, &if_match.0).await? {
        return Err(match if_match.0 {
            VersionCheck::Any => ApiError::not_found("webhook endpoint"),
            VersionCheck::OneOf(_) => ApiError::PreconditionFailed,
        });
    }
    tracing::info!(endpoint_id = %current.id, "webhook endpoint deleted");
    Ok(HttpResponse::NoContent().finish())
}

/// Rotate an endpoint's secret
///
/// Issues a new signing secret, shown only in this answer. The previous one keeps signing
/// deliveries alongside it (two `v1,` signatures) for the configured grace period, so your
/// receiver can switch without missing a delivery. Requires `If-Match`.
#[utoipa::path(
    operation_id = "rotateWebhookSecret",
    tag = TAG,
    params(
        ("id" = Uuid, Path, description = "The endpoint's id."),
        ("If-Match" = inline(EntityTags), Header, description = "The `ETag` from your last read, e.g. `\"3\"`."),
    ),
    responses(
        (status = 200, description = "The endpoint with its new secret, shown this once.", body = WebhookEndpointWithSecret,
            headers(("ETag" = String, description = "The new version tag."))),
        ReadFailures, ConditionFailures,
        (status = 403, response = Forbidden),
    ),
)]
#[post("/webhook-endpoints/{id}/rotate-secret")]
#[tracing::instrument(skip_all, fields(endpoint_id = %id))]
pub async fn rotate_secret(
    caller: Caller<PartnerOnly>,
    state: web::Data<AppState>,
    idempotency: Idempotency,
    policy: web::Data<EndpointPolicy>,
    id: web::Path<Uuid>,
    if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    let current = visible(&state, &caller, *id).await?;
    let expected = if_match.check(current.version)?;
    idempotency.claim(&state.db).await?;
    let secret = SigningSecret::generate();
    let grace = chrono::Duration::from_std(policy.secret_grace).unwrap_or(chrono::Duration::MAX);
    let rotated = store::rotate_secret(
        &state.db,
        &state.keys,
        current.id,
        &expected,
        &secret,
        Utc::now() + grace,
    )
    .await?
    .ok_or(ApiError::PreconditionFailed)?;
    tracing::info!(endpoint_id = %rotated.id, "webhook secret rotated");
    let answer = with_secret(rotated, &secret);
    Ok(with_etag(HttpResponse::Ok(), answer.endpoint.version).json(answer))
}

/// List an endpoint's deliveries
///
/// Every event delivered or to be delivered to the endpoint, oldest first, each with all its
/// attempts.
#[utoipa::path(
    operation_id = "listWebhookDeliveries",
    tag = TAG,
    params(("id" = Uuid, Path, description = "The endpoint's id."), DeliveryQuery),
    responses(
        (status = 200, description = "A page of deliveries.", body = WebhookDeliveryList,
            headers(("Link" = String, description = "`<…>; rel=\"next\"` when another page follows."))),
        ReadFailures,
        (status = 403, response = Forbidden),
    ),
)]
#[get("/webhook-endpoints/{id}/deliveries")]
#[tracing::instrument(skip_all, fields(endpoint_id = %id))]
pub async fn list_deliveries(
    caller: Caller<PartnerOnly>,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    query: ValidQuery<DeliveryQuery>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let endpoint = visible(&state, &caller, *id).await?;
    let page: PageRequest = pagination::page_request(query.limit, query.cursor.as_deref())?;
    let rows = store::deliveries(&state.db, endpoint.id, query.status, page).await?;
    pagination::respond::<WebhookDeliveryList, _>(&req, rows, WebhookDelivery::try_from)
}

/// Get a delivery
///
/// One delivery of an event to the endpoint, with every attempt: when it started, how long it took,
/// the status answered or the error.
#[utoipa::path(
    operation_id = "getWebhookDelivery",
    tag = TAG,
    params(
        ("id" = Uuid, Path, description = "The endpoint's id."),
        ("delivery_id" = Uuid, Path, description = "The delivery's id."),
    ),
    responses(
        (status = 200, description = "The delivery and its attempts.", body = WebhookDelivery),
        ReadFailures,
        (status = 403, response = Forbidden),
    ),
)]
#[get("/webhook-endpoints/{id}/deliveries/{delivery_id}")]
#[tracing::instrument(skip_all)]
pub async fn get_delivery(
    caller: Caller<PartnerOnly>,
    state: web::Data<AppState>,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    let (endpoint_id, delivery_id) = path.into_inner();
    let endpoint = visible(&state, &caller, endpoint_id).await?;
    let delivery: WebhookDelivery = store::delivery(&state.db, endpoint.id, delivery_id)
        .await?
        .ok_or(ApiError::not_found("delivery"))?
        .try_into()?;
    Ok(HttpResponse::Ok().json(delivery))
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(create_endpoint)
        .service(list_endpoints)
        .service(get_endpoint)
        .service(update_endpoint)
        .service(delete_endpoint)
        .service(rotate_secret)
        .service(list_deliveries)
        .service(get_delivery);
}
