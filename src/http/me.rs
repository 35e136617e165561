//! `GET /v1/me`: who the caller is.

use actix_web::{HttpResponse, get, web};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::AppState;
use super::api_keys::ApiKey;
use super::auth::{Anyone, Caller};
use super::partners::Partner;
use super::responses::*;
use crate::domain::{ActorKind, Role, Scope};
use crate::error::ApiError;
use crate::store;

fn me_example() -> serde_json::Value {
    let mut api_key = super::api_keys::api_key_example();
    api_key["name"] = "ticketing system".into();
    serde_json::json!({"role": "partner", "api_key": api_key, "person": null, "partner": super::partners::partner_example()})
}

/// A person signed in with their organisation's identity, as `/v1/me` names them.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "0193a1f3-5e6f-7a8b-9c0d-1e2f3a4b5c6d", "name": "张伟", "email": "zhang.wei@cloudbridge.cn"}))]
pub struct MePerson {
    pub id: Uuid,
    pub name: String,
    pub email: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = me_example)]
pub struct Me {
    pub role: Role,
    /// The key this request used; `null` for a person.
    pub api_key: Option<ApiKey>,
    /// The person whose token this request carried; `null` for a key.
    pub person: Option<MePerson>,
    /// The partner a partner's key or person acts for; `null` for admins and operators.
    pub partner: Option<Partner>,
}

/// Who am I
///
/// The role, the key or person and, on a partner's side, the partner.
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
    let (api_key, person) = match caller.actor.kind {
        ActorKind::ApiKey => {
            let key = store::api_keys::get(&state.db, Scope::All, caller.actor.id)
                .await?
                .ok_or(ApiError::Unauthorized)?;
            (Some(key.try_into()?), None)
        }
        ActorKind::Person => {
            let person = store::people::get(&state.db, caller.scope(), caller.actor.id)
                .await?
                .ok_or(ApiError::Unauthorized)?;
            let person = MePerson {
                id: person.id,
                name: person.name,
                email: person.email,
            };
            (None, Some(person))
        }
    };
    let partner = match caller.partner_id {
        Some(id) => store::partners::get(&state.db, id)
            .await?
            .map(Partner::try_from)
            .transpose()?,
        None => None,
    };
    Ok(HttpResponse::Ok().json(Me {
        role: caller.role,
        api_key,
        person,
        partner,
    }))
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(get_me);
}
