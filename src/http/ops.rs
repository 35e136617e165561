//! Operational endpoints outside `/v1`, without authentication: liveness and readiness.

use actix_web::{HttpResponse, get, web};
use chrono::{DateTime, Datelike, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::AppState;
use super::responses::ServiceUnavailable;
use crate::domain::calendar::BusinessCalendar;
use crate::domain::clock::today_in_beijing;
use crate::error::ApiError;

const TAG: &str = "operations";

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok`: the process is alive.
    #[schema(example = "ok")]
    pub status: &'static str,
}

/// Liveness
///
/// 200 while the process serves HTTP; it does not touch the database.
#[utoipa::path(
    operation_id = "healthz",
    tag = TAG,
    security(),
    responses((status = 200, description = "The process is alive.", body = Health,
        example = json!({"status": "ok"}))),
)]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Health { status: "ok" })
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Readiness {
    /// `ready`: the database answers.
    #[schema(example = "ready")]
    pub status: &'static str,
    pub details: ReadinessDetails,
}

/// What an operator should know while the service serves.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReadinessDetails {
    /// The years the business calendar has a notice for.
    pub calendar_years: Vec<i32>,
    /// Where rate limits are counted: `postgresql` or `redis` (every instance together), or
    /// `instance` (each on its own: SQLite, or while the shared store does not answer).
    #[schema(example = "postgresql")]
    pub rate_limits: &'static str,
    /// Signing people in: `off` (API keys only), `ready` (the identity provider's keys are
    /// loaded) or `keys_not_loaded` (people cannot sign in until they are).
    #[schema(example = "ready")]
    pub people_sign_in: &'static str,
    /// Things that work, but not as well as they should: a business calendar missing for this
    /// year or the next, say.
    pub warnings: Vec<String>,
}

/// What the business calendar lacks at `now`: this year's or next year's notice (in Beijing).
pub fn calendar_warnings(calendar: &BusinessCalendar, now: DateTime<Utc>) -> Vec<String> {
    let this_year = today_in_beijing(now).year();
    (this_year..=this_year + 1)
        .filter(|year| calendar.year(*year).is_none())
        .map(|year| {
            format!(
                "no business calendar for {year}: the SLA clock counts every weekday of {year} \
                 as a business day until {year}.json is added to --calendar-dir"
            )
        })
        .collect()
}

/// Readiness
///
/// 200 when the database answers, 503 when it does not; load balancers route on this. The
/// details tell what works but should be seen to, such as a year missing from the business
/// calendar.
#[utoipa::path(
    operation_id = "readyz",
    tag = TAG,
    security(),
    responses(
        (status = 200, description = "Ready to serve.", body = Readiness, example = json!({
            "status": "ready",
            "details": {"calendar_years": [2024, 2025, 2026], "rate_limits": "postgresql", "people_sign_in": "ready", "warnings": [
                "no business calendar for 2027: the SLA clock counts every weekday of 2027 as a business day until 2027.json is added to --calendar-dir"
            ]}
        })),
        (status = 503, response = ServiceUnavailable),
    ),
)]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    state.db.ping().await.map_err(ApiError::Unavailable)?;
    let calendar = state.sla.calendar();
    let mut warnings = calendar_warnings(calendar, Utc::now());
    let rate_limits = match &state.rate_limit_store {
        Some(store) if store.reachable() => store.name(),
        Some(store) => {
            warnings.push(format!(
                "the shared rate limit store ({}) does not answer: each instance counts on its \
                 own until it does, so a key may make its quota on every instance",
                store.name()
            ));
            "instance"
        }
        None => "instance",
    };
    let people_sign_in = match &state.identity {
        None => "off",
        Some(provider) if provider.keys_loaded() => "ready",
        Some(provider) => {
            warnings.push(format!(
                "the identity provider's keys are not loaded from {}: people cannot sign in \
                 until they are (API keys work)",
                provider.settings().metadata_url
            ));
            "keys_not_loaded"
        }
    };
    Ok(HttpResponse::Ok().json(Readiness {
        status: "ready",
        details: ReadinessDetails {
            calendar_years: calendar.years().collect(),
            rate_limits,
            people_sign_in,
            warnings,
        },
    }))
}
