//! `/v1/partners`: the CSP partners escalade serves. Admins write; operators read; a partner
//! reads itself.

use actix_web::http::header::LOCATION;
use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use super::AppState;
use super::auth::{AdminOnly, Anyone, Caller, Staff};
use super::etag::{EntityTags, IfMatch, with_etag};
use super::extract::{ValidJson, ValidQuery};
use super::fields::{self, parsed, present};
use super::pagination::{self, Cursor, list_type};
use super::responses::*;
use crate::domain::{CountryCode, DisplayName, MpnId, PartnerStatus};
use crate::entity::partner::Model;
use crate::error::{ApiError, ResultExt};
use crate::http::idempotency::Idempotency;
use crate::store::partners::{self as store, NewPartner, PartnerChanges, PartnerFilter};

const TAG: &str = "partners";

pub(super) fn partner_example() -> serde_json::Value {
    serde_json::json!({
        "id": "0193a1f0-1b2c-7d3e-8f40-5a6b7c8d9e0f",
        "name": "云桥科技 CloudBridge",
        "mpn_id": "6123456",
        "tenant_id": "9f1e2d3c-4b5a-4978-8a6b-5c4d3e2f1a0b",
        "country": "CN",
        "status": "active",
        "version": 1,
        "created_at": "2026-11-24T08:00:00Z",
        "updated_at": "2026-11-24T08:00:00Z"
    })
}

/// A CSP partner reselling 21Vianet-operated clouds.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = partner_example)]
pub struct Partner {
    pub id: Uuid,
    pub name: String,
    /// Microsoft Partner Network id (digits).
    pub mpn_id: String,
    /// The partner's own directory tenant, which escalations never cover.
    pub tenant_id: Uuid,
    /// ISO 3166-1 alpha-2.
    pub country: String,
    pub status: PartnerStatus,
    /// Increases with every change; the `ETag` is this number in quotes.
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl TryFrom<Model> for Partner {
    type Error = ApiError;

    fn try_from(row: Model) -> Result<Self, ApiError> {
        let status = PartnerStatus::parse(&row.status).ok_or_else(|| {
            ApiError::internal(format!("stored partner status `{}` is unknown", row.status))
        })?;
        Ok(Partner {
            id: row.id,
            name: row.name,
            mpn_id: row.mpn_id,
            tenant_id: row.tenant_id,
            country: row.country,
            status,
            version: row.version,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

list_type!(
    /// A page of partners.
    PartnerList of Partner,
    example = partner_example
);

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "name": "云桥科技 CloudBridge", "mpn_id": "6123456",
    "tenant_id": "9f1e2d3c-4b5a-4978-8a6b-5c4d3e2f1a0b", "country": "CN"
}))]
pub struct CreatePartner {
    #[validate(required, custom(function = "fields::display_name"))]
    #[schema(value_type = DisplayName, required = true)]
    pub name: Option<String>,
    /// Unique.
    #[validate(required, custom(function = "fields::mpn_id"))]
    #[schema(value_type = MpnId, required = true)]
    pub mpn_id: Option<String>,
    /// The partner's own directory tenant; unique.
    #[validate(required)]
    #[schema(required = true, nullable = false)]
    pub tenant_id: Option<Uuid>,
    /// Default `CN` when absent or `null`.
    #[validate(custom(function = "fields::country"))]
    #[schema(value_type = Option<CountryCode>)]
    pub country: Option<String>,
}

/// Fields to change; those absent or `null` keep their value. `tenant_id` cannot change.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"status": "suspended"}))]
pub struct UpdatePartner {
    #[validate(custom(function = "fields::display_name"))]
    #[schema(value_type = Option<DisplayName>)]
    pub name: Option<String>,
    #[validate(custom(function = "fields::mpn_id"))]
    #[schema(value_type = Option<MpnId>)]
    pub mpn_id: Option<String>,
    #[validate(custom(function = "fields::country"))]
    #[schema(value_type = Option<CountryCode>)]
    pub country: Option<String>,
    pub status: Option<PartnerStatus>,
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PartnerQuery {
    pub status: Option<PartnerStatus>,
    #[validate(custom(function = "fields::country"))]
    #[param(value_type = Option<CountryCode>)]
    pub country: Option<String>,
    /// Page size, 1–100 (default 25).
    #[validate(range(min = 1, max = 100))]
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u64>,
    #[param(value_type = Option<Cursor>, inline)]
    pub cursor: Option<String>,
}

fn found(partner: Partner) -> HttpResponse {
    with_etag(HttpResponse::Ok(), partner.version).json(partner)
}

/// Create a partner
///
/// Admins register a CSP partner by its Microsoft Partner Network id and directory tenant; its keys
/// are then created with `POST /v1/api-keys`.
#[utoipa::path(
    operation_id = "createPartner",
    tag = TAG,
    request_body = CreatePartner,
    responses(
        (status = 201, description = "Created.", body = Partner,
            headers(("Location" = String, description = "URL of the new partner."),
                    ("ETag" = String, description = "Version tag for `If-Match`."))),
        RequestFailures, BodyFailures,
        (status = 403, response = Forbidden),
        (status = 409, response = Conflict),
    ),
)]
#[post("/partners")]
#[tracing::instrument(skip_all)]
pub async fn create_partner(
    _caller: Caller<AdminOnly>,
    state: web::Data<AppState>,
    idempotency: Idempotency,
    body: ValidJson<CreatePartner>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    let name = present("name", body.name)?;
    let mpn_id = present("mpn_id", body.mpn_id)?;
    let new = NewPartner {
        name: parsed("name", &name, DisplayName::parse)?,
        mpn_id: parsed("mpn_id", &mpn_id, MpnId::parse)?,
        tenant_id: present("tenant_id", body.tenant_id)?,
        country: parsed(
            "country",
            body.country.as_deref().unwrap_or("CN"),
            fields::parse_country,
        )?,
    };
    idempotency.claim(&state.db).await?;
    let partner: Partner = store::create(&state.db, new)
        .await
        .on_unique(store::UNIQUE_KEYS)?
        .try_into()?;
    let mut response = with_etag(HttpResponse::Created(), partner.version);
    response.insert_header((LOCATION, format!("/v1/partners/{}", partner.id)));
    Ok(response.json(partner))
}

/// List partners
///
/// Every CSP partner, filtered by `status` or `country`; for admins and operators.
#[utoipa::path(
    operation_id = "listPartners",
    tag = TAG,
    params(PartnerQuery),
    responses(
        (status = 200, description = "A page of partners.", body = PartnerList,
            headers(("Link" = String, description = "`<…>; rel=\"next\"` when another page follows."))),
        RequestFailures,
        (status = 403, response = Forbidden),
    ),
)]
#[get("/partners")]
#[tracing::instrument(skip_all)]
pub async fn list_partners(
    _caller: Caller<Staff>,
    state: web::Data<AppState>,
    query: ValidQuery<PartnerQuery>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let query = query.0;
    let page = pagination::page_request(query.limit, query.cursor.as_deref())?;
    let filter = PartnerFilter {
        status: query.status,
        country: query
            .country
            .as_deref()
            .map(|c| parsed("country", c, fields::parse_country))
            .transpose()?,
    };
    let rows = store::list(&state.db, filter, page).await?;
    pagination::respond::<PartnerList, _>(&req, rows, Partner::try_from)
}

/// Get a partner
///
/// Admins and operators read any partner; a partner reads only itself.
#[utoipa::path(
    operation_id = "getPartner",
    tag = TAG,
    params(("id" = Uuid, Path, description = "The partner's id.")),
    responses(
        (status = 200, description = "The partner.", body = Partner,
            headers(("ETag" = String, description = "Version tag for `If-Match`."))),
        ReadFailures,
    ),
)]
#[get("/partners/{id}")]
#[tracing::instrument(skip_all, fields(partner_id = %id))]
pub async fn get_partner(
    caller: Caller<Anyone>,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let row = store::get(&state.db, *id)
        .await?
        .filter(|row| caller.scope().admits(row.id))
        .ok_or(ApiError::not_found("partner"))?;
    Ok(found(row.try_into()?))
}

/// Update a partner
///
/// Requires `If-Match`. Suspending a partner keeps its keys working for reads; its escalations are
/// refused while it is suspended.
#[utoipa::path(
    operation_id = "updatePartner",
    tag = TAG,
    params(
        ("id" = Uuid, Path, description = "The partner's id."),
        ("If-Match" = inline(EntityTags), Header, description = "The `ETag` from your last read, e.g. `\"3\"`."),
    ),
    request_body = UpdatePartner,
    responses(
        (status = 200, description = "The updated partner.", body = Partner,
            headers(("ETag" = String, description = "The new version tag."))),
        ReadFailures, BodyFailures, ConditionFailures,
        (status = 403, response = Forbidden),
        (status = 409, response = Conflict),
    ),
)]
#[patch("/partners/{id}")]
#[tracing::instrument(skip_all, fields(partner_id = %id))]
pub async fn update_partner(
    _caller: Caller<AdminOnly>,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    body: ValidJson<UpdatePartner>,
) -> Result<HttpResponse, ApiError> {
    let current = store::get(&state.db, *id)
        .await?
        .ok_or(ApiError::not_found("partner"))?;
    let expected = if_match.check(current.version)?;
    let body = body.0;
    let changes = PartnerChanges {
        name: body
            .name
            .map(|name| parsed("name", &name, DisplayName::parse))
            .transpose()?,
        mpn_id: body
            .mpn_id
            .map(|mpn| parsed("mpn_id", &mpn, MpnId::parse))
            .transpose()?,
        country: body
            .country
            .map(|c| parsed("country", &c, fields::parse_country))
            .transpose()?,
        status: body.status,
    };
    let updated = store::update(&state.db, current.id, &expected, changes)
        .await
        .on_unique(store::UNIQUE_KEYS)?
        .ok_or(ApiError::PreconditionFailed)?;
    Ok(found(updated.try_into()?))
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(create_partner)
        .service(list_partners)
        .service(get_partner)
        .service(update_partner);
}
