//! Escalation quality and remediation plans, under `/v1/partners/{id}`: how often a partner
//! escalates incorrectly, and the plans 21Vianet requests when it does too often.

use actix_web::http::header::LOCATION;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use super::AppState;
use super::auth::{Anyone, Caller, PartnerOnly, Staff};
use super::etag::{EntityTags, OptionalIfMatch, with_etag};
use super::extract::{ValidJson, ValidQuery};
use super::fields::{self, parsed, present};
use super::pagination::{self, Cursor, list_type};
use super::responses::*;
use crate::domain::remediation::{PlanStatus, QUALITY_WINDOW, is_overdue, today_in_beijing};
use crate::domain::webhook::EventType;
use crate::domain::{Paragraph, Principal};
use crate::entity::remediation_plan::Model;
use crate::error::{ApiError, FieldError};
use crate::http::event_data::RemediationPlanData;
use crate::http::idempotency::Idempotency;
use crate::http::webhooks::{describe, notice};
use crate::i18n::{Language, Text};
use crate::store::{escalations, partners, remediation as store};

const TAG: &str = "remediation";

/// A partner's escalation quality over the last 90 days.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "partner_id": "0193a1f0-1b2c-7d3e-8f40-5a6b7c8d9e0f", "window_days": 90, "since": "2026-08-26T10:00:00Z",
    "escalations": 12, "misescalations": 4, "rate": 0.3333, "threshold": 0.25, "min_escalations": 8,
    "exceeds_threshold": true,
    "summary": "4 of 12 escalations in the last 90 days were rejected as misescalations (33.3%): at or above the 25.0% threshold, so 21Vianet may request a remediation plan."
}))]
pub struct EscalationQuality {
    pub partner_id: Uuid,
    pub window_days: i64,
    /// The start of the window.
    pub since: DateTime<Utc>,
    /// Escalations created in the window.
    pub escalations: u64,
    /// Of those, how many 21Vianet rejected as incorrectly escalated.
    pub misescalations: u64,
    /// `misescalations / escalations`, 0 without escalations.
    pub rate: f64,
    /// The rate at which remediation is called for.
    pub threshold: f64,
    /// Fewer escalations than this are too few to judge.
    pub min_escalations: u64,
    /// Whether 21Vianet may request a remediation plan on these numbers.
    pub exceeds_threshold: bool,
    /// The numbers and the verdict in a sentence, in the answer's language.
    #[schema(
        example = "4 of 12 escalations in the last 90 days were rejected as misescalations (33.3%): above the 25.0% threshold, so 21Vianet may request a remediation plan."
    )]
    pub summary: String,
}

fn plan_example() -> serde_json::Value {
    serde_json::json!({
        "id": "0193a1f8-4d5e-7f6a-8b7c-8d9e0f1a2b3c",
        "partner_id": "0193a1f0-1b2c-7d3e-8f40-5a6b7c8d9e0f",
        "reason": "过去 90 天内 12 个升级中有 4 个属于合作伙伴自行处理的范畴（操作指导类问题）。",
        "respond_by": "2026-12-08",
        "status": "requested",
        "overdue": false,
        "acknowledged_at": null,
        "completed_at": null,
        "version": 1,
        "created_at": "2026-11-24T08:00:00Z",
        "updated_at": "2026-11-24T08:00:00Z"
    })
}

/// A remediation plan 21Vianet requested from a partner.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = plan_example)]
pub struct RemediationPlan {
    pub id: Uuid,
    pub partner_id: Uuid,
    pub reason: String,
    /// The date (Beijing time) by which the partner must acknowledge.
    pub respond_by: NaiveDate,
    pub status: PlanStatus,
    /// Still `requested` after `respond_by`: new escalations fail `partner_in_good_standing`.
    pub overdue: bool,
    pub acknowledged_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl TryFrom<Model> for RemediationPlan {
    type Error = ApiError;

    fn try_from(row: Model) -> Result<Self, ApiError> {
        let status = PlanStatus::parse(&row.status).ok_or_else(|| {
            ApiError::internal(format!("stored plan status `{}` is unknown", row.status))
        })?;
        Ok(RemediationPlan {
            overdue: is_overdue(status, row.respond_by, today_in_beijing(Utc::now())),
            status,
            id: row.id,
            partner_id: row.partner_id,
            reason: row.reason,
            respond_by: row.respond_by,
            acknowledged_at: row.acknowledged_at,
            completed_at: row.completed_at,
            version: row.version,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

list_type!(
    /// A page of remediation plans, oldest first.
    RemediationPlanList of RemediationPlan,
    example = plan_example
);

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reason": "过去 90 天内 12 个升级中有 4 个属于合作伙伴自行处理的范畴。", "respond_by": "2026-12-08"}))]
pub struct RequestPlan {
    #[validate(required, custom(function = "fields::paragraph"))]
    #[schema(value_type = Paragraph, required = true)]
    pub reason: Option<String>,
    /// Today or later, Beijing time.
    #[validate(required)]
    #[schema(required = true, nullable = false)]
    pub respond_by: Option<NaiveDate>,
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PlanQuery {
    /// Page size, 1–100 (default 25).
    #[validate(range(min = 1, max = 100))]
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u64>,
    #[param(value_type = Option<Cursor>, inline)]
    pub cursor: Option<String>,
}

/// The partner, if the caller may see it: staff see all, a partner itself.
async fn visible_partner(state: &AppState, caller: &Principal, id: Uuid) -> Result<Uuid, ApiError> {
    partners::get(&state.db, id)
        .await?
        .filter(|partner| caller.scope().admits(partner.id))
        .map(|partner| partner.id)
        .ok_or(ApiError::not_found("partner"))
}

async fn visible_plan(
    state: &AppState,
    caller: &Principal,
    partner_id: Uuid,
    id: Uuid,
) -> Result<Model, ApiError> {
    let partner_id = visible_partner(state, caller, partner_id).await?;
    store::get(&state.db, partner_id, id)
        .await?
        .ok_or(ApiError::not_found("remediation plan"))
}

fn found(plan: RemediationPlan) -> HttpResponse {
    with_etag(HttpResponse::Ok(), plan.version).json(plan)
}

/// Escalation quality
///
/// Over the last 90 days: escalations, how many were rejected as misescalations, the rate, and
/// whether it crosses the configured threshold. Operators, admins, and the partner itself.
#[utoipa::path(
    operation_id = "getEscalationQuality",
    tag = TAG,
    params(("id" = Uuid, Path, description = "The partner's id.")),
    responses(
        (status = 200, description = "The partner's escalation quality.", body = EscalationQuality),
        ReadFailures,
    ),
)]
#[get("/partners/{id}/escalation-quality")]
#[tracing::instrument(skip_all, fields(partner_id = %id))]
pub async fn get_quality(
    caller: Caller<Anyone>,
    language: Language,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let partner_id = visible_partner(&state, &caller, *id).await?;
    let since = Utc::now() - QUALITY_WINDOW;
    let (total, misescalations) = escalations::quality_counts(&state.db, partner_id, since).await?;
    let quality = state.policy.assess(total, misescalations);
    Ok(HttpResponse::Ok().json(EscalationQuality {
        partner_id,
        window_days: QUALITY_WINDOW.num_days(),
        since,
        escalations: quality.escalations,
        misescalations: quality.misescalations,
        rate: (quality.rate * 10_000.0).round() / 10_000.0,
        threshold: state.policy.threshold,
        min_escalations: state.policy.min_escalations,
        exceeds_threshold: quality.exceeds_threshold,
        summary: quality
            .summary(&state.policy, QUALITY_WINDOW.num_days())
            .render(language),
    }))
}

/// Request a remediation plan
///
/// 21Vianet asks the partner to engage in a remediation plan by a date. While a plan is still
/// `requested` after that date, the partner's new escalations fail `partner_in_good_standing`.
#[utoipa::path(
    operation_id = "requestRemediationPlan",
    tag = TAG,
    params(("id" = Uuid, Path, description = "The partner's id.")),
    request_body = RequestPlan,
    responses(
        (status = 201, description = "Requested.", body = RemediationPlan,
            headers(("Location" = String, description = "URL of the plan."),
                    ("ETag" = String, description = "Version tag."))),
        ReadFailures, BodyFailures,
        (status = 403, response = Forbidden),
    ),
)]
#[post("/partners/{id}/remediation-plans")]
#[tracing::instrument(skip_all, fields(partner_id = %id))]
pub async fn request_plan(
    caller: Caller<Staff>,
    state: web::Data<AppState>,
    idempotency: Idempotency,
    id: web::Path<Uuid>,
    body: ValidJson<RequestPlan>,
) -> Result<HttpResponse, ApiError> {
    let partner_id = visible_partner(&state, &caller, *id).await?;
    let body = body.0;
    let reason = present("reason", body.reason)?;
    let reason = parsed("reason", &reason, Paragraph::parse)?;
    let respond_by = present("respond_by", body.respond_by)?;
    if respond_by < today_in_beijing(Utc::now()) {
        return Err(ApiError::invalid_fields(vec![FieldError::new(
            "respond_by",
            "in_the_past",
            Text::new("field-respond-by-in-the-past"),
        )]));
    }
    idempotency.claim(&state.db).await?;
    let announce = |plan: &Model| {
        let plan = describe(RemediationPlan::try_from(plan.clone()))?;
        notice(
            EventType::RemediationPlanRequested,
            Some(partner_id),
            RemediationPlanData {
                remediation_plan: plan,
            },
        )
    };
    let plan: RemediationPlan = store::create(
        &state.db,
        &state.writes,
        partner_id,
        reason,
        respond_by,
        announce,
    )
    .await?
    .try_into()?;
    tracing::info!(plan_id = %plan.id, partner_id = %partner_id, "remediation plan requested");
    let mut response = with_etag(HttpResponse::Created(), plan.version);
    response.insert_header((
        LOCATION,
        format!("/v1/partners/{partner_id}/remediation-plans/{}", plan.id),
    ));
    Ok(response.json(plan))
}

/// List remediation plans
///
/// The remediation plans 21Vianet requested of a partner, oldest first, with their status and
/// `respond_by` date. Staff read any partner's; a partner its own.
#[utoipa::path(
    operation_id = "listRemediationPlans",
    tag = TAG,
    params(("id" = Uuid, Path, description = "The partner's id."), PlanQuery),
    responses(
        (status = 200, description = "A page of plans.", body = RemediationPlanList,
            headers(("Link" = String, description = "`<…>; rel=\"next\"` when another page follows."))),
        ReadFailures,
    ),
)]
#[get("/partners/{id}/remediation-plans")]
#[tracing::instrument(skip_all, fields(partner_id = %id))]
pub async fn list_plans(
    caller: Caller<Anyone>,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    query: ValidQuery<PlanQuery>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let partner_id = visible_partner(&state, &caller, *id).await?;
    let page = pagination::page_request(query.limit, query.cursor.as_deref())?;
    let rows = store::list(&state.db, partner_id, page).await?;
    pagination::respond::<RemediationPlanList, _>(&req, rows, RemediationPlan::try_from)
}

/// Get a remediation plan
///
/// One remediation plan: why it was requested, by when the partner must respond, and whether it was
/// acknowledged or completed.
#[utoipa::path(
    operation_id = "getRemediationPlan",
    tag = TAG,
    params(
        ("id" = Uuid, Path, description = "The partner's id."),
        ("plan_id" = Uuid, Path, description = "The plan's id."),
    ),
    responses(
        (status = 200, description = "The plan.", body = RemediationPlan,
            headers(("ETag" = String, description = "Version tag."))),
        ReadFailures,
    ),
)]
#[get("/partners/{id}/remediation-plans/{plan_id}")]
#[tracing::instrument(skip_all)]
pub async fn get_plan(
    caller: Caller<Anyone>,
    state: web::Data<AppState>,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    let (partner_id, plan_id) = path.into_inner();
    Ok(found(
        visible_plan(&state, &caller, partner_id, plan_id)
            .await?
            .try_into()?,
    ))
}

/// Moves a plan to `to` if that is its next status; 409 naming the possible move otherwise.
async fn advance(
    state: &AppState,
    plan: Model,
    if_match: OptionalIfMatch,
    to: PlanStatus,
) -> Result<HttpResponse, ApiError> {
    let from = PlanStatus::parse(&plan.status)
        .ok_or_else(|| ApiError::internal("stored plan status is unknown"))?;
    if from.next() != Some(to) {
        let possible = from.next().map(|next| next.as_str().into());
        return Err(ApiError::invalid_transition(
            "status",
            Text::new("thing-remediation-plan"),
            from.as_str(),
            to.as_str(),
            possible.into_iter().collect(),
        ));
    }
    let expected = if_match.check(plan.version)?;
    let updated: RemediationPlan = store::advance(&state.db, plan.id, &expected, to)
        .await?
        .ok_or(ApiError::PreconditionFailed)?
        .try_into()?;
    Ok(found(updated))
}

/// Acknowledge a remediation plan
///
/// The partner agrees to engage in the plan. Honours `If-Match` when sent.
#[utoipa::path(
    operation_id = "acknowledgeRemediationPlan",
    tag = TAG,
    params(
        ("id" = Uuid, Path, description = "The partner's id."),
        ("plan_id" = Uuid, Path, description = "The plan's id."),
        ("If-Match" = inline(Option<EntityTags>), Header, nullable = false, description = "Only at this version."),
    ),
    responses(
        (status = 200, description = "Acknowledged.", body = RemediationPlan,
            headers(("ETag" = String, description = "The new version tag."))),
        ReadFailures,
        (status = 403, response = Forbidden),
        (status = 409, response = Conflict),
        (status = 412, response = PreconditionFailed),
    ),
)]
#[post("/partners/{id}/remediation-plans/{plan_id}/acknowledge")]
#[tracing::instrument(skip_all)]
pub async fn acknowledge_plan(
    caller: Caller<PartnerOnly>,
    state: web::Data<AppState>,
    idempotency: Idempotency,
    path: web::Path<(Uuid, Uuid)>,
    if_match: OptionalIfMatch,
) -> Result<HttpResponse, ApiError> {
    let (partner_id, plan_id) = path.into_inner();
    let plan = visible_plan(&state, &caller, partner_id, plan_id).await?;
    idempotency.claim(&state.db).await?;
    advance(&state, plan, if_match, PlanStatus::Acknowledged).await
}

/// Complete a remediation plan
///
/// 21Vianet closes an acknowledged plan. Honours `If-Match` when sent.
#[utoipa::path(
    operation_id = "completeRemediationPlan",
    tag = TAG,
    params(
        ("id" = Uuid, Path, description = "The partner's id."),
        ("plan_id" = Uuid, Path, description = "The plan's id."),
        ("If-Match" = inline(Option<EntityTags>), Header, nullable = false, description = "Only at this version."),
    ),
    responses(
        (status = 200, description = "Completed.", body = RemediationPlan,
            headers(("ETag" = String, description = "The new version tag."))),
        ReadFailures,
        (status = 403, response = Forbidden),
        (status = 409, response = Conflict),
        (status = 412, response = PreconditionFailed),
    ),
)]
#[post("/partners/{id}/remediation-plans/{plan_id}/complete")]
#[tracing::instrument(skip_all)]
pub async fn complete_plan(
    caller: Caller<Staff>,
    state: web::Data<AppState>,
    idempotency: Idempotency,
    path: web::Path<(Uuid, Uuid)>,
    if_match: OptionalIfMatch,
) -> Result<HttpResponse, ApiError> {
    let (partner_id, plan_id) = path.into_inner();
    let plan = visible_plan(&state, &caller, partner_id, plan_id).await?;
    idempotency.claim(&state.db).await?;
    advance(&state, plan, if_match, PlanStatus::Completed).await
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(get_quality)
        .service(request_plan)
        .service(list_plans)
        .service(get_plan)
        .service(acknowledge_plan)
        .service(complete_plan);
}
