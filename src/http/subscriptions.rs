//! `/v1/customers/{customer_id}/subscriptions`: which services a customer has. Partners manage
//! their own customers' subscriptions; admins and operators read them.

use actix_web::http::header::LOCATION;
use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use super::AppState;
use super::auth::{Anyone, Caller, PartnerOnly};
use super::etag::{EntityTags, IfMatch, with_etag};
use super::extract::{ValidJson, ValidQuery};
use super::fields::{self, optional, parsed, present};
use super::pagination::{self, Cursor, list_type};
use super::responses::*;
use super::services::existing as existing_service;
use crate::domain::{Principal, ServiceKey, SubscriptionStatus, Title};
use crate::entity::customer::Model as CustomerRow;
use crate::entity::subscription::Model;
use crate::error::{ApiError, ResultExt};
use crate::http::idempotency::Idempotency;
use crate::i18n::Text;
use crate::store::customers;
use crate::store::subscriptions::{
    self as store, NewSubscription, SubscriptionChanges, SubscriptionFilter,
};

const TAG: &str = "subscriptions";
const MAX_QUANTITY: i32 = 1_000_000;

fn subscription_example() -> serde_json::Value {
    serde_json::json!({
        "id": "0193a1f4-5c6d-7e8f-9a0b-1c2d3e4f5a6b",
        "customer_id": "0193a1f2-7c4e-7d2a-9b1e-2f3c4d5e6f70",
        "service_key": "microsoft-365",
        "offer_name": "Office 365 E3 (operated by 21Vianet)",
        "quantity": 250,
        "status": "active",
        "version": 1,
        "created_at": "2026-11-24T08:00:00Z",
        "updated_at": "2026-11-24T08:00:00Z"
    })
}

/// A customer's subscription to a service.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = subscription_example)]
pub struct Subscription {
    pub id: Uuid,
    pub customer_id: Uuid,
    #[schema(value_type = ServiceKey)]
    pub service_key: String,
    pub offer_name: String,
    /// Licences or units, at least 1.
    pub quantity: i32,
    pub status: SubscriptionStatus,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl TryFrom<Model> for Subscription {
    type Error = ApiError;

    fn try_from(row: Model) -> Result<Self, ApiError> {
        let status = SubscriptionStatus::parse(&row.status).ok_or_else(|| {
            ApiError::internal(format!(
                "stored subscription status `{}` is unknown",
                row.status
            ))
        })?;
        Ok(Subscription {
            id: row.id,
            customer_id: row.customer_id,
            service_key: row.service_key,
            offer_name: row.offer_name,
            quantity: row.quantity,
            status,
            version: row.version,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

list_type!(
    /// A page of subscriptions.
    SubscriptionList of Subscription,
    example = subscription_example
);

/// How a subscription starts: `active`, or `pending` until provisioned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum InitialStatus {
    Active,
    Pending,
}

impl From<InitialStatus> for SubscriptionStatus {
    fn from(status: InitialStatus) -> Self {
        match status {
            InitialStatus::Active => SubscriptionStatus::Active,
            InitialStatus::Pending => SubscriptionStatus::Pending,
        }
    }
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"service_key": "microsoft-365", "offer_name": "Office 365 E3 (operated by 21Vianet)", "quantity": 250, "status": "active"}))]
pub struct CreateSubscription {
    /// A service in the catalog (404 when there is none).
    #[validate(required, custom(function = "fields::service_key"))]
    #[schema(value_type = ServiceKey, required = true)]
    pub service_key: Option<String>,
    #[validate(required, custom(function = "fields::title"))]
    #[schema(value_type = Title, required = true)]
    pub offer_name: Option<String>,
    #[serde(default, deserialize_with = "fields::integral")]
    #[validate(required, range(min = 1, max = MAX_QUANTITY))]
    #[schema(required = true, nullable = false, minimum = 1, maximum = 1_000_000)]
    pub quantity: Option<i32>,
    /// Default `active`.
    pub status: Option<InitialStatus>,
}

/// Fields to change; those absent or `null` keep their value. Status moves: `pending` →
/// `active` or `deleted`; `active` → `suspended` or `deleted`; `suspended` → `active` or
/// `deleted`; `deleted` is final.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"status": "suspended"}))]
pub struct UpdateSubscription {
    #[validate(custom(function = "fields::title"))]
    #[schema(value_type = Option<Title>)]
    pub offer_name: Option<String>,
    #[serde(default, deserialize_with = "fields::integral")]
    #[validate(range(min = 1, max = MAX_QUANTITY))]
    #[schema(minimum = 1, maximum = 1_000_000)]
    pub quantity: Option<i32>,
    pub status: Option<SubscriptionStatus>,
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SubscriptionQuery {
    pub status: Option<SubscriptionStatus>,
    #[validate(custom(function = "fields::service_key"))]
    #[param(value_type = Option<ServiceKey>, inline)]
    pub service_key: Option<String>,
    /// Page size, 1–100 (default 25).
    #[validate(range(min = 1, max = 100))]
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u64>,
    #[param(value_type = Option<Cursor>, inline)]
    pub cursor: Option<String>,
}

/// The customer if the caller may see it; 404 otherwise, as for one that does not exist.
pub(super) async fn visible_customer(
    state: &AppState,
    caller: &Principal,
    id: Uuid,
) -> Result<CustomerRow, ApiError> {
    customers::get(&state.db, caller.scope(), id)
        .await?
        .ok_or(ApiError::not_found("customer"))
}

fn found(subscription: Subscription) -> HttpResponse {
    with_etag(HttpResponse::Ok(), subscription.version).json(subscription)
}

/// Add a subscription
///
/// Records that the customer has a service. One live (not deleted) subscription per customer and
/// service: a second is 409.
#[utoipa::path(
    operation_id = "createSubscription",
    tag = TAG,
    params(("customer_id" = Uuid, Path, description = "The customer's id.")),
    request_body = CreateSubscription,
    responses(
        (status = 201, description = "Created.", body = Subscription,
            headers(("Location" = String, description = "URL of the new subscription."),
                    ("ETag" = String, description = "Version tag for `If-Match`."))),
        ReadFailures, BodyFailures,
        (status = 403, response = Forbidden),
        (status = 409, response = Conflict),
    ),
)]
#[post("/customers/{customer_id}/subscriptions")]
#[tracing::instrument(skip_all, fields(customer_id = %customer_id))]
pub async fn create_subscription(
    caller: Caller<PartnerOnly>,
    state: web::Data<AppState>,
    idempotency: Idempotency,
    customer_id: web::Path<Uuid>,
    body: ValidJson<CreateSubscription>,
) -> Result<HttpResponse, ApiError> {
    let customer = visible_customer(&state, &caller, *customer_id).await?;
    let body = body.0;
    let service_key = present("service_key", body.service_key)?;
    let offer_name = present("offer_name", body.offer_name)?;
    let new = NewSubscription {
        service_key: parsed("service_key", &service_key, ServiceKey::parse)?,
        offer_name: parsed("offer_name", &offer_name, Title::parse)?,
        quantity: present("quantity", body.quantity)?,
        status: body.status.unwrap_or(InitialStatus::Active).into(),
    };
    existing_service(&state, new.service_key.as_str()).await?;
    idempotency.claim(&state.db).await?;
    let subscription: Subscription =
        store::create(&state.db, customer.partner_id, customer.id, new)
            .await
            .on_unique(store::UNIQUE_KEYS)?
            .try_into()?;
    let mut response = with_etag(HttpResponse::Created(), subscription.version);
    response.insert_header((
        LOCATION,
        format!(
            "/v1/customers/{}/subscriptions/{}",
            customer.id, subscription.id
        ),
    ));
    Ok(response.json(subscription))
}

/// List a customer's subscriptions
///
/// The services a customer has, filtered by `status` or `service_key`. Partners list their own
/// customers' subscriptions; staff any customer's.
#[utoipa::path(
    operation_id = "listSubscriptions",
    tag = TAG,
    params(("customer_id" = Uuid, Path, description = "The customer's id."), SubscriptionQuery),
    responses(
        (status = 200, description = "A page of subscriptions, oldest first.", body = SubscriptionList,
            headers(("Link" = String, description = "`<…>; rel=\"next\"` when another page follows."))),
        ReadFailures,
    ),
)]
#[get("/customers/{customer_id}/subscriptions")]
#[tracing::instrument(skip_all, fields(customer_id = %customer_id))]
pub async fn list_subscriptions(
    caller: Caller<Anyone>,
    state: web::Data<AppState>,
    customer_id: web::Path<Uuid>,
    query: ValidQuery<SubscriptionQuery>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let customer = visible_customer(&state, &caller, *customer_id).await?;
    let query = query.0;
    let page = pagination::page_request(query.limit, query.cursor.as_deref())?;
    let filter = SubscriptionFilter {
        status: query.status,
        service_key: query.service_key,
    };
    let rows = store::list(&state.db, customer.id, filter, page).await?;
    pagination::respond::<SubscriptionList, _>(&req, rows, Subscription::try_from)
}

async fn visible_subscription(
    state: &AppState,
    caller: &Principal,
    customer_id: Uuid,
    id: Uuid,
) -> Result<Model, ApiError> {
    let customer = visible_customer(state, caller, customer_id).await?;
    store::get(&state.db, customer.id, id)
        .await?
        .ok_or(ApiError::not_found("subscription"))
}

/// Get a subscription
///
/// One subscription of a customer. Another partner's customer is 404, as for one that does not
/// exist.
#[utoipa::path(
    operation_id = "getSubscription",
    tag = TAG,
    params(
        ("customer_id" = Uuid, Path, description = "The customer's id."),
        ("id" = Uuid, Path, description = "The subscription's id."),
    ),
    responses(
        (status = 200, description = "The subscription.", body = Subscription,
            headers(("ETag" = String, description = "Version tag for `If-Match`."))),
        ReadFailures,
    ),
)]
#[get("/customers/{customer_id}/subscriptions/{id}")]
#[tracing::instrument(skip_all)]
pub async fn get_subscription(
    caller: Caller<Anyone>,
    state: web::Data<AppState>,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    let (customer_id, id) = path.into_inner();
    Ok(found(
        visible_subscription(&state, &caller, customer_id, id)
            .await?
            .try_into()?,
    ))
}

/// Update a subscription
///
/// Requires `If-Match`. Status moves: `pending` → `active` or `deleted`; `active` →
/// `suspended` or `deleted`; `suspended` → `active` or `deleted`. `deleted` is final: any
/// change to a deleted subscription, like any other move, is 409 naming the allowed ones.
#[utoipa::path(
    operation_id = "updateSubscription",
    tag = TAG,
    params(
        ("customer_id" = Uuid, Path, description = "The customer's id."),
        ("id" = Uuid, Path, description = "The subscription's id."),
        ("If-Match" = inline(EntityTags), Header, description = "The `ETag` from your last read, e.g. `\"3\"`."),
    ),
    request_body = UpdateSubscription,
    responses(
        (status = 200, description = "The updated subscription.", body = Subscription,
            headers(("ETag" = String, description = "The new version tag."))),
        ReadFailures, BodyFailures, ConditionFailures,
        (status = 403, response = Forbidden),
        (status = 409, response = Conflict),
    ),
)]
#[patch("/customers/{customer_id}/subscriptions/{id}")]
#[tracing::instrument(skip_all)]
pub async fn update_subscription(
    caller: Caller<PartnerOnly>,
    state: web::Data<AppState>,
    path: web::Path<(Uuid, Uuid)>,
    if_match: IfMatch,
    body: ValidJson<UpdateSubscription>,
) -> Result<HttpResponse, ApiError> {
    let (customer_id, id) = path.into_inner();
    let current = visible_subscription(&state, &caller, customer_id, id).await?;
    let expected = if_match.check(current.version)?;
    let from = SubscriptionStatus::parse(&current.status).ok_or_else(|| {
        ApiError::internal(format!(
            "stored subscription status `{}` is unknown",
            current.status
        ))
    })?;
    let body = body.0;
    let refused = |to: &str| {
        ApiError::invalid_transition(
            "status",
            Text::new("thing-subscription"),
            from.as_str(),
            to,
            from.next()
                .iter()
                .map(|next| next.as_str().into())
                .collect(),
        )
    };
    if from == SubscriptionStatus::Deleted {
        return Err(refused(body.status.map_or(from.as_str(), |to| to.as_str())));
    }
    if let Some(to) = body.status.filter(|to| !from.may_become(*to)) {
        return Err(refused(to.as_str()));
    }
    let changes = SubscriptionChanges {
        offer_name: optional("offer_name", body.offer_name, Title::parse)?,
        quantity: body.quantity,
        status: body.status,
    };
    let updated = store::update(&state.db, current.id, &expected, changes)
        .await?
        .ok_or(ApiError::PreconditionFailed)?;
    Ok(found(updated.try_into()?))
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(create_subscription)
        .service(list_subscriptions)
        .service(get_subscription)
        .service(update_subscription);
}
