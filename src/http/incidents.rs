//! `/v1/service-incidents`: service health. Operators and admins publish incidents and their
//! updates; everyone reads them.

use actix_web::http::header::LOCATION;
use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use super::AppState;
use super::auth::{Anyone, Caller, Staff};
use super::etag::{EntityTags, IfMatch, with_etag};
use super::extract::{ValidJson, ValidQuery};
use super::fields::{self, optional, parsed, present};
use super::pagination::{self, Cursor, list_type};
use super::responses::*;
use super::services::existing as existing_service;
use super::webhooks::{describe, notice};
use crate::domain::webhook::EventType;
use crate::domain::{IncidentSeverity, IncidentStatus, Paragraph, ServiceKey, Title};
use crate::error::ApiError;
use crate::http::event_data::IncidentData;
use crate::http::idempotency::Idempotency;
use crate::i18n::{Language, Text};
use crate::store::incidents::{
    self as store, Incident, IncidentChanges, IncidentFilter, IncidentText, NewIncident,
};

const TAG: &str = "service-incidents";

/// One published update about an incident.
#[derive(Debug, Serialize, ToSchema)]
pub struct IncidentUpdate {
    pub published_at: DateTime<Utc>,
    /// In the answer's language (`Content-Language`) when the update was written in it, the
    /// base text otherwise.
    pub text: String,
    /// The text in Simplified Chinese, as written; `null` when there is none.
    pub text_zh: Option<String>,
}

pub(super) fn incident_example() -> serde_json::Value {
    serde_json::json!({
        "id": "0193a1f5-1a2b-7c3d-8e4f-5a6b7c8d9e0f",
        "service_key": "microsoft-365",
        "title": "Exchange Online mail delivery delays",
        "title_zh": "Exchange Online 邮件投递延迟",
        "severity": "warning",
        "status": "mitigating",
        "started_at": "2026-11-24T06:10:00Z",
        "resolved_at": null,
        "updates": [
            {"published_at": "2026-11-24T06:30:00Z",
             "text": "We are investigating mail delivery delays in the China East region.",
             "text_zh": "正在调查华东区域的邮件投递延迟。"},
            {"published_at": "2026-11-24T07:05:00Z",
             "text": "A backlog in the transport queues has been found; capacity is being added.",
             "text_zh": "已定位到传输队列积压，正在扩容。"}
        ],
        "version": 3,
        "created_at": "2026-11-24T06:20:00Z",
        "updated_at": "2026-11-24T07:05:00Z"
    })
}

/// An incident on a service: what service health shows, and what escalations are checked
/// against.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = incident_example)]
pub struct ServiceIncident {
    pub id: Uuid,
    #[schema(value_type = ServiceKey)]
    pub service_key: String,
    /// In the answer's language (`Content-Language`) when the incident has a title in it, the
    /// base title otherwise.
    pub title: String,
    /// The title in Simplified Chinese, as written; `null` when there is none.
    pub title_zh: Option<String>,
    pub severity: IncidentSeverity,
    pub status: IncidentStatus,
    pub started_at: DateTime<Utc>,
    /// Set when the incident is resolved; a resolved incident stays resolved.
    pub resolved_at: Option<DateTime<Utc>>,
    /// Oldest first.
    pub updates: Vec<IncidentUpdate>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl ServiceIncident {
    /// The incident as answered in `language`.
    pub fn read(incident: Incident, language: Language) -> Result<Self, ApiError> {
        let row = incident.row;
        let unknown = |what: &str, value: &str| {
            ApiError::internal(format!("stored incident {what} `{value}` is unknown"))
        };
        Ok(ServiceIncident {
            severity: IncidentSeverity::parse(&row.severity)
                .ok_or_else(|| unknown("severity", &row.severity))?,
            status: IncidentStatus::parse(&row.status)
                .ok_or_else(|| unknown("status", &row.status))?,
            id: row.id,
            service_key: row.service_key,
            title: language.pick(&row.title, row.title_zh.as_deref()),
            title_zh: row.title_zh,
            started_at: row.started_at,
            resolved_at: row.resolved_at,
            updates: incident
                .updates
                .into_iter()
                .map(|update| IncidentUpdate {
                    published_at: update.published_at,
                    text: language.pick(&update.text, update.text_zh.as_deref()),
                    text_zh: update.text_zh,
                })
                .collect(),
            version: row.version,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

list_type!(
    /// A page of service incidents.
    ServiceIncidentList of ServiceIncident,
    example = incident_example
);

/// How an incident starts: `investigating` or already `mitigating`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OpeningStatus {
    Investigating,
    Mitigating,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "service_key": "microsoft-365", "title": "Exchange Online mail delivery delays",
    "title_zh": "Exchange Online 邮件投递延迟", "severity": "warning",
    "status": "investigating", "started_at": "2026-11-24T06:10:00Z"
}))]
pub struct CreateIncident {
    #[validate(required, custom(function = "fields::service_key"))]
    #[schema(value_type = ServiceKey, required = true)]
    pub service_key: Option<String>,
    /// In English, or in the one language the operator writes.
    #[validate(required, custom(function = "fields::title"))]
    #[schema(value_type = Title, required = true)]
    pub title: Option<String>,
    /// In Simplified Chinese, for callers who read Chinese.
    #[validate(custom(function = "fields::title"))]
    #[schema(value_type = Option<Title>)]
    pub title_zh: Option<String>,
    #[validate(required)]
    #[schema(required = true, nullable = false)]
    pub severity: Option<IncidentSeverity>,
    /// Default `investigating`.
    pub status: Option<OpeningStatus>,
    /// When the problem began, as far as known; default now. May lie ahead for announced
    /// maintenance.
    pub started_at: Option<DateTime<Utc>>,
}

/// Fields to change; those absent or `null` keep their value. Moving to `resolved` sets
/// `resolved_at`; a resolved incident cannot move again.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"status": "resolved"}))]
pub struct UpdateIncident {
    #[validate(custom(function = "fields::title"))]
    #[schema(value_type = Option<Title>)]
    pub title: Option<String>,
    #[validate(custom(function = "fields::title"))]
    #[schema(value_type = Option<Title>)]
    pub title_zh: Option<String>,
    pub severity: Option<IncidentSeverity>,
    pub status: Option<IncidentStatus>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "text": "A backlog in the transport queues has been found; capacity is being added.",
    "text_zh": "已定位到传输队列积压，正在扩容。"
}))]
pub struct PublishUpdate {
    /// In English, or in the one language the operator writes.
    #[validate(required, custom(function = "fields::paragraph"))]
    #[schema(value_type = Paragraph, required = true)]
    pub text: Option<String>,
    /// In Simplified Chinese, for callers who read Chinese.
    #[validate(custom(function = "fields::paragraph"))]
    #[schema(value_type = Option<Paragraph>)]
    pub text_zh: Option<String>,
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct IncidentQuery {
    /// Only incidents on this service.
    #[validate(custom(function = "fields::service_key"))]
    #[param(value_type = Option<ServiceKey>, inline)]
    pub service: Option<String>,
    pub status: Option<IncidentStatus>,
    /// `true`: only unresolved incidents; `false`: only resolved ones.
    pub active: Option<bool>,
    /// Only incidents that started at or after this time.
    pub started_after: Option<DateTime<Utc>>,
    /// Only incidents that started before this time.
    pub started_before: Option<DateTime<Utc>>,
    /// Page size, 1–100 (default 25).
    #[validate(range(min = 1, max = 100))]
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u64>,
    #[param(value_type = Option<Cursor>, inline)]
    pub cursor: Option<String>,
}

fn found(incident: ServiceIncident) -> HttpResponse {
    with_etag(HttpResponse::Ok(), incident.version).json(incident)
}

async fn existing(state: &AppState, id: Uuid) -> Result<Incident, ApiError> {
    store::get(&state.db, id)
        .await?
        .ok_or(ApiError::not_found("service incident"))
}

/// Open an incident
///
/// Operators publish a service health incident on a service. While it is unresolved, escalations
/// about that service must name it as unrelated (`no_active_incident`); partners subscribed to
/// `service_incident.created` are told.
#[utoipa::path(
    operation_id = "createServiceIncident",
    tag = TAG,
    request_body = CreateIncident,
    responses(
        (status = 201, description = "Created.", body = ServiceIncident,
            headers(("Location" = String, description = "URL of the new incident."),
                    ("ETag" = String, description = "Version tag for `If-Match`."))),
        ReadFailures, BodyFailures,
        (status = 403, response = Forbidden),
    ),
)]
#[post("/service-incidents")]
#[tracing::instrument(skip_all)]
pub async fn create_incident(
    _caller: Caller<Staff>,
    state: web::Data<AppState>,
    language: Language,
    idempotency: Idempotency,
    body: ValidJson<CreateIncident>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    let service_key = present("service_key", body.service_key)?;
    let title = present("title", body.title)?;
    let new = NewIncident {
        service_key: parsed("service_key", &service_key, ServiceKey::parse)?,
        title: parsed("title", &title, Title::parse)?,
        title_zh: optional("title_zh", body.title_zh, Title::parse)?,
        severity: present("severity", body.severity)?,
        status: match body.status.unwrap_or(OpeningStatus::Investigating) {
            OpeningStatus::Investigating => IncidentStatus::Investigating,
            OpeningStatus::Mitigating => IncidentStatus::Mitigating,
        },
        started_at: body.started_at.unwrap_or_else(Utc::now),
    };
    existing_service(&state, new.service_key.as_str()).await?;
    idempotency.claim(&state.db).await?;
    let announce = |incident: &Incident| {
        let incident = describe(ServiceIncident::read(incident.clone(), Language::English))?;
        notice(
            EventType::ServiceIncidentCreated,
            None,
            IncidentData { incident },
        )
    };
    let incident = ServiceIncident::read(
        store::create(&state.db, &state.writes, new, announce).await?,
        language,
    )?;
    let mut response = with_etag(HttpResponse::Created(), incident.version);
    response.insert_header((LOCATION, format!("/v1/service-incidents/{}", incident.id)));
    Ok(response.json(incident))
}

/// List service incidents
///
/// Oldest first; `active=true` gives the current service health.
#[utoipa::path(
    operation_id = "listServiceIncidents",
    tag = TAG,
    params(IncidentQuery),
    responses(
        (status = 200, description = "A page of incidents.", body = ServiceIncidentList,
            headers(("Link" = String, description = "`<…>; rel=\"next\"` when another page follows."))),
        RequestFailures,
    ),
)]
#[get("/service-incidents")]
#[tracing::instrument(skip_all)]
pub async fn list_incidents(
    _caller: Caller<Anyone>,
    state: web::Data<AppState>,
    language: Language,
    query: ValidQuery<IncidentQuery>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let query = query.0;
    let page = pagination::page_request(query.limit, query.cursor.as_deref())?;
    let filter = IncidentFilter {
        service_key: query.service,
        status: query.status,
        active: query.active,
        started_after: query.started_after,
        started_before: query.started_before,
    };
    let rows = store::list(&state.db, filter, page).await?;
    pagination::respond::<ServiceIncidentList, _>(&req, rows, |incident| {
        ServiceIncident::read(incident, language)
    })
}

/// Get a service incident
///
/// One incident with its updates, oldest first. Everyone reads service health.
#[utoipa::path(
    operation_id = "getServiceIncident",
    tag = TAG,
    params(("id" = Uuid, Path, description = "The incident's id.")),
    responses(
        (status = 200, description = "The incident with its updates.", body = ServiceIncident,
            headers(("ETag" = String, description = "Version tag for `If-Match`."))),
        ReadFailures,
    ),
)]
#[get("/service-incidents/{id}")]
#[tracing::instrument(skip_all, fields(incident_id = %id))]
pub async fn get_incident(
    _caller: Caller<Anyone>,
    state: web::Data<AppState>,
    language: Language,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    Ok(found(ServiceIncident::read(
        existing(&state, *id).await?,
        language,
    )?))
}

/// Update or resolve an incident
///
/// Requires `If-Match`. `investigating` and `mitigating` move either way; either may become
/// `resolved`, which sets `resolved_at` and is final (409 for any other move).
#[utoipa::path(
    operation_id = "updateServiceIncident",
    tag = TAG,
    params(
        ("id" = Uuid, Path, description = "The incident's id."),
        ("If-Match" = inline(EntityTags), Header, description = "The `ETag` from your last read, e.g. `\"3\"`."),
    ),
    request_body = UpdateIncident,
    responses(
        (status = 200, description = "The updated incident.", body = ServiceIncident,
            headers(("ETag" = String, description = "The new version tag."))),
        ReadFailures, BodyFailures, ConditionFailures,
        (status = 403, response = Forbidden),
        (status = 409, response = Conflict),
    ),
)]
#[patch("/service-incidents/{id}")]
#[tracing::instrument(skip_all, fields(incident_id = %id))]
pub async fn update_incident(
    _caller: Caller<Staff>,
    state: web::Data<AppState>,
    language: Language,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    body: ValidJson<UpdateIncident>,
) -> Result<HttpResponse, ApiError> {
    let current = existing(&state, *id).await?;
    let expected = if_match.check(current.row.version)?;
    let from = IncidentStatus::parse(&current.row.status).ok_or_else(|| {
        ApiError::internal(format!(
            "stored incident status `{}` is unknown",
            current.row.status
        ))
    })?;
    let body = body.0;
    if let Some(to) = body.status.filter(|to| !from.may_become(*to)) {
        return Err(ApiError::invalid_transition(
            "status",
            Text::new("thing-incident"),
            from.as_str(),
            to.as_str(),
            from.next()
                .iter()
                .map(|next| next.as_str().into())
                .collect(),
        ));
    }
    let changes = IncidentChanges {
        title: optional("title", body.title, Title::parse)?,
        title_zh: optional("title_zh", body.title_zh, Title::parse)?,
        severity: body.severity,
        status: body.status,
    };
    let announce_resolution = |incident: &Incident| {
        let incident = describe(ServiceIncident::read(incident.clone(), Language::English))?;
        notice(
            EventType::ServiceIncidentResolved,
            None,
            IncidentData { incident },
        )
    };
    let updated = store::update(
        &state.db,
        &state.writes,
        current.row.id,
        &expected,
        changes,
        announce_resolution,
    )
    .await?
    .ok_or(ApiError::PreconditionFailed)?;
    Ok(found(ServiceIncident::read(updated, language)?))
}

/// Publish an update
///
/// Appends a dated update to the incident (updates are never edited). Answers with the whole
/// incident and its new `ETag`.
#[utoipa::path(
    operation_id = "publishServiceIncidentUpdate",
    tag = TAG,
    params(("id" = Uuid, Path, description = "The incident's id.")),
    request_body = PublishUpdate,
    responses(
        (status = 201, description = "Published; the incident with all its updates.", body = ServiceIncident,
            headers(("Location" = String, description = "URL of the incident."),
                    ("ETag" = String, description = "The incident's new version tag."))),
        ReadFailures, BodyFailures,
        (status = 403, response = Forbidden),
    ),
)]
#[post("/service-incidents/{id}/updates")]
#[tracing::instrument(skip_all, fields(incident_id = %id))]
pub async fn publish_update(
    _caller: Caller<Staff>,
    state: web::Data<AppState>,
    language: Language,
    idempotency: Idempotency,
    id: web::Path<Uuid>,
    body: ValidJson<PublishUpdate>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    let text = present("text", body.text)?;
    let text = IncidentText {
        text: parsed("text", &text, Paragraph::parse)?,
        text_zh: optional("text_zh", body.text_zh, Paragraph::parse)?,
    };
    store::get(&state.db, *id)
        .await?
        .ok_or(ApiError::not_found("service incident"))?;
    idempotency.claim(&state.db).await?;
    let published = store::publish_update(&state.db, &state.writes, *id, text)
        .await?
        .ok_or(ApiError::not_found("service incident"))?;
    let incident = ServiceIncident::read(published, language)?;
    let mut response = with_etag(HttpResponse::Created(), incident.version);
    response.insert_header((LOCATION, format!("/v1/service-incidents/{}", incident.id)));
    Ok(response.json(incident))
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(create_incident)
        .service(list_incidents)
        .service(get_incident)
        .service(update_incident)
        .service(publish_update);
}
