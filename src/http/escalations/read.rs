//! Reading escalations: one, or a list that is a partner's history or 21Vianet's triage queue.

use actix_web::{HttpRequest, HttpResponse, get, web};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use super::TAG;
use super::output::{Escalation, escalation_example};
use crate::domain::escalation::{Language, Severity, Status};
use crate::domain::{Principal, Role, ServiceKey};
use crate::error::ApiError;
use crate::http::AppState;
use crate::http::auth::{Anyone, Caller};
use crate::http::etag::with_etag;
use crate::http::extract::ValidQuery;
use crate::http::fields;
use crate::http::pagination::{self, Cursor, list_type};
use crate::http::responses::*;
use crate::store::escalations::{self as store, EscalationFilter, EscalationRow, Order};

list_type!(
    /// A page of escalations.
    EscalationList of Escalation,
    example = escalation_example
);

/// How a list is ordered: `newest` first (a partner's default), or `due`: the earliest first
/// response due first, the triage queue (the default for operators and admins).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ListOrder {
    Newest,
    Due,
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct EscalationQuery {
    /// The escalation's number (`ESC-000412`, `000412` or `412`), or any part of at least 2
    /// characters of its title or of its customer's name or domain (matched as customer search
    /// matches). Combines with every other filter; the default order is then newest first for
    /// everyone.
    #[validate(length(max = 200))]
    #[param(min_length = 2, max_length = 200, example = "ESC-000412")]
    pub q: Option<String>,
    pub status: Option<Status>,
    pub severity: Option<Severity>,
    /// Only escalations about this service.
    #[validate(custom(function = "fields::service_key"))]
    #[param(value_type = Option<ServiceKey>, inline)]
    pub service: Option<String>,
    /// Only this partner's (operators and admins; partners only ever see their own).
    pub partner_id: Option<Uuid>,
    pub customer_id: Option<Uuid>,
    /// `true`: only escalations whose first response was late or is overdue; `false`: only
    /// the others.
    pub breached: Option<bool>,
    /// `true`: only open escalations still waiting for their first response with their SLA
    /// warning time passed (80 % of the response time, by default) and not yet overdue;
    /// `false`: only the others.
    pub at_risk: Option<bool>,
    /// Only escalations whose first response is due before this time.
    pub due_before: Option<DateTime<Utc>>,
    /// Only escalations whose partner contact wants to be helped in this language.
    pub contact_language: Option<Language>,
    /// Only escalations assigned to this person of 21Vianet's (for an operator, their own id
    /// from `/v1/me`: "assigned to me").
    pub engineer_person_id: Option<Uuid>,
    /// Default: `newest` for partners and for searches (`q`), `due` for operators and admins.
    #[param(inline)]
    pub order: Option<ListOrder>,
    /// Page size, 1–100 (default 25).
    #[validate(range(min = 1, max = 100))]
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u64>,
    #[param(value_type = Option<Cursor>, inline)]
    pub cursor: Option<String>,
}

/// The escalation if the caller may see it; 404 otherwise, as for one that does not exist.
pub(super) async fn visible(
    state: &AppState,
    caller: &Principal,
    id: Uuid,
) -> Result<EscalationRow, ApiError> {
    store::get(&state.db, caller.scope(), id)
        .await?
        .ok_or(ApiError::not_found("escalation"))
}

/// Get an escalation
///
/// One escalation: what the partner submitted, its status, the engineer, the SLA clock
/// (`response_due_at`, `first_response_at`, `breached`) and, when rejected as a misescalation, the
/// reason. Partners read their own; operators any.
#[utoipa::path(
    operation_id = "getEscalation",
    tag = TAG,
    params(("id" = Uuid, Path, description = "The escalation's id.")),
    responses(
        (status = 200, description = "The escalation.", body = Escalation,
            headers(("ETag" = String, description = "Version tag for `If-Match`."))),
        ReadFailures,
    ),
)]
#[get("/escalations/{id}")]
#[tracing::instrument(skip_all, fields(escalation_id = %id))]
pub async fn get_escalation(
    caller: Caller<Anyone>,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let escalation = Escalation::from_row(visible(&state, &caller, *id).await?, Utc::now())?;
    Ok(with_etag(HttpResponse::Ok(), escalation.version).json(escalation))
}

/// List escalations
///
/// Partners see their own, newest first. Operators and admins see every partner's as a triage
/// queue: earliest first response due first, filtered by status, severity, service, partner,
/// customer, SLA breach or due time.
#[utoipa::path(
    operation_id = "listEscalations",
    tag = TAG,
    params(EscalationQuery),
    responses(
        (status = 200, description = "A page of escalations.", body = EscalationList,
            headers(("Link" = String, description = "`<…>; rel=\"next\"` when another page follows."))),
        RequestFailures,
    ),
)]
#[get("/escalations")]
#[tracing::instrument(skip_all)]
pub async fn list_escalations(
    caller: Caller<Anyone>,
    state: web::Data<AppState>,
    query: ValidQuery<EscalationQuery>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let query = query.0;
    let page = pagination::page_request(query.limit, query.cursor.as_deref())?;
    let q = fields::search_text("q", query.q)?;
    let order = match query.order {
        Some(ListOrder::Newest) => Order::Newest,
        Some(ListOrder::Due) => Order::Due,
        None if caller.role == Role::Partner || q.is_some() => Order::Newest,
        None => Order::Due,
    };
    let filter = EscalationFilter {
        status: query.status,
        severity: query.severity,
        service_key: query.service,
        partner_id: query.partner_id,
        customer_id: query.customer_id,
        breached: query.breached,
        at_risk: query.at_risk,
        due_before: query.due_before,
        contact_language: query.contact_language,
        engineer_person_id: query.engineer_person_id,
        q,
    };
    let now = Utc::now();
    let rows = store::list(&state.db, caller.scope(), filter, order, page, now).await?;
    pagination::respond::<EscalationList, _>(&req, rows, |row| Escalation::from_row(row, now))
}
