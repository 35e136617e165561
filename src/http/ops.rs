//! Operational endpoints outside `/v1`, without authentication: liveness and readiness.

use actix_web::{HttpResponse, get, web};
use serde::Serialize;
use utoipa::ToSchema;

use super::AppState;
use super::responses::ServiceUnavailable;
use crate::error::ApiError;

const TAG: &str = "operations";

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok` (alive) or `ready` (the database answers).
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

/// Readiness
///
/// 200 when the database answers, 503 when it does not; load balancers route on this.
#[utoipa::path(
    operation_id = "readyz",
    tag = TAG,
    security(),
    responses(
        (status = 200, description = "Ready to serve.", body = Health, example = json!({"status": "ready"})),
        (status = 503, response = ServiceUnavailable),
    ),
)]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    state.db.ping().await.map_err(ApiError::Unavailable)?;
    Ok(HttpResponse::Ok().json(Health { status: "ready" }))
}
