//! `GET /v1/me`: who the caller is.

use actix_web::{HttpResponse, get, web};
use serde::Serialize;
use utoipa::ToSchema;

use super::AppState;
use super::api_keys::ApiKey;
use super::auth::{Anyone, Caller};
use super::partners::Partner;
use super::responses::*;
use crate::domain::{Role, Scope};
use crate::error::ApiError;
use crate::store;

fn me_example() -> serde_json::Value {
    let mut api_key = super::api_keys::api_key_example();
    api_key["name"] = "ticketing system".into();
    serde_json::json!({"role": "partner", "api_key": api_key, "partner": super::partners::partner_example()})
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = me_example)]
pub struct Me {
    pub role: Role,
    /// The key this request used.
    pub api_key: ApiKey,
    /// The partner a partner key acts for; `null` for admins and operators.
    pub partner: Option<Partner>,
}

/// Who am I
///
/// The role, the key used and, for partner keys, the partner.
#[utoipa::path(
    operation_id = "getMe",
    tag = "me",
    responses(
        (status = 200, description = "The caller.", body = Me),
        (status = 401, response = Unauthorized),
        (status = 503, response = ServiceUnavailable),
    ),
)]
#[get("/me")]
#[tracing::instrument(skip_all)]
pub async fn get_me(
    caller: Caller<Anyone>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let key = store::api_keys::get(&state.db, Scope::All, caller.key_id)
        .await?
        .ok_or(ApiError::Unauthorized)?;
    let partner = match caller.partner_id {
        Some(id) => store::partners::get(&state.db, id)
            .await?
            .map(Partner::try_from)
            .transpose()?,
        None => None,
    };
    Ok(HttpResponse::Ok().json(Me {
        role: caller.role,
        api_key: key.try_into()?,
        partner,
    }))
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(get_me);
}
