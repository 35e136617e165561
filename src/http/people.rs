//! `/v1/people`: partner staff and 21Vianet technicians who sign in with their organisation's
//! identity, recorded at their first accepted token. 21Vianet's staff see 21Vianet's people; a
//! partner sees its own. An admin can disable a person, whose tokens are then refused on every
//! instance within two seconds, and enable them again. `/v1/auth/config` tells a front end,
//! before anyone is signed in, where people sign in.

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use super::AppState;
use super::auth::{AdminOnly, Anyone, Caller};
use super::etag::with_etag;
use super::extract::ValidQuery;
use super::pagination::{self, Cursor, list_type};
use super::responses::*;
use crate::domain::Role;
use crate::error::ApiError;
use crate::store::people::{self as store, PersonRow};

const TAG: &str = "people";

fn person_example() -> serde_json::Value {
    serde_json::json!({
        "id": "0193a1f3-5e6f-7a8b-9c0d-1e2f3a4b5c6d", "name": "李娜", "email": "li.na@oe.21vianet.com",
        "role": "operator", "partner_id": null, "tenant_id": "4f7d2a1c-8b3e-4c5d-9e6f-0a1b2c3d4e5f",
        "disabled_at": null, "first_seen_at": "2026-12-01T01:00:00Z", "last_seen_at": "2026-12-07T02:30:00Z",
        "version": 1, "created_at": "2026-12-01T01:00:00Z", "updated_at": "2026-12-07T02:30:00Z"
    })
}

/// A person who has signed in: their name and e-mail as their organisation's directory gives
/// them, and the role their token's app roles grant.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = person_example)]
pub struct Person {
    pub id: Uuid,
    pub name: String,
    pub email: String,
    pub role: Role,
    /// The partner a partner's person acts for; `null` for 21Vianet's people.
    pub partner_id: Option<Uuid>,
    /// Their organisation's directory tenant.
    pub tenant_id: Uuid,
    /// When an admin disabled them; their tokens are refused while it is set.
    pub disabled_at: Option<DateTime<Utc>>,
    pub first_seen_at: DateTime<Utc>,
    /// Last seen, to the minute; recorded within seconds of it.
    pub last_seen_at: DateTime<Utc>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl TryFrom<PersonRow> for Person {
    type Error = ApiError;

    fn try_from(row: PersonRow) -> Result<Self, ApiError> {
        Ok(Person {
            role: row.role.parse().map_err(ApiError::internal)?,
            id: row.id,
            name: row.name,
            email: row.email,
            partner_id: row.partner_id,
            tenant_id: row.tenant_id,
            disabled_at: row.disabled_at,
            first_seen_at: row.first_seen_at,
            last_seen_at: row.last_seen_at,
            version: row.version,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

list_type!(
    /// A page of people, in the order they first signed in.
    PersonList of Person,
    example = person_example
);

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PeopleQuery {
    /// Only people of this role.
    pub role: Option<Role>,
    /// Items per page, 1–100 (default 25).
    #[validate(range(min = 1, max = 100))]
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u64>,
    #[param(value_type = Option<Cursor>, inline)]
    pub cursor: Option<String>,
}

/// List people
///
/// 21Vianet's staff (operators and admins) see 21Vianet's people; a partner sees its own.
#[utoipa::path(
    operation_id = "listPeople",
    tag = TAG,
    params(PeopleQuery),
    responses(
        (status = 200, description = "A page of people.", body = PersonList,
            headers(("Link" = String, description = "`<…>; rel=\"next\"` when another page follows."))),
        RequestFailures,
    ),
)]
#[get("/people")]
#[tracing::instrument(skip_all)]
pub async fn list_people(
    caller: Caller<Anyone>,
    state: web::Data<AppState>,
    query: ValidQuery<PeopleQuery>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let query = query.0;
    let page = pagination::page_request(query.limit, query.cursor.as_deref())?;
    let rows = store::list(&state.db, caller.scope(), query.role, page).await?;
    pagination::respond::<PersonList, _>(&req, rows, Person::try_from)
}

/// Get a person
///
/// One person, as `listPeople` shows them to the caller; anyone else's is 404.
#[utoipa::path(
    operation_id = "getPerson",
    tag = TAG,
    params(("id" = Uuid, Path, description = "The person's id.")),
    responses(
        (status = 200, description = "The person.", body = Person,
            headers(("ETag" = String, description = "Version tag."))),
        ReadFailures,
    ),
)]
#[get("/people/{id}")]
#[tracing::instrument(skip_all, fields(person_id = %id))]
pub async fn get_person(
    caller: Caller<Anyone>,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let row = store::get(&state.db, caller.scope(), *id)
        .await?
        .ok_or(ApiError::not_found("person"))?;
    let person = Person::try_from(row)?;
    Ok(with_etag(HttpResponse::Ok(), person.version).json(person))
}

/// Disables or enables person `id`.
async fn set_disabled(
    state: &AppState,
    id: Uuid,
    disabled: bool,
) -> Result<HttpResponse, ApiError> {
    let at = disabled.then(Utc::now);
    if disabled {
        // Before the write: a request verifying them meanwhile cannot put them back here.
        state.verified.forget(id);
    }
    let row = store::set_disabled(&state.db, id, at)
        .await?
        .ok_or(ApiError::not_found("person"))?;
    if !disabled {
        state.verified.allow(id);
    }
    tracing::info!(person_id = %id, disabled, "person's access changed");
    let person = Person::try_from(row)?;
    Ok(with_etag(HttpResponse::Ok(), person.version).json(person))
}

/// Disable a person
///
/// Their tokens are refused from now on, on every instance within two seconds, however long they
/// have left to run; what they did stays theirs in every trail. Admins only.
#[utoipa::path(
    operation_id = "disablePerson",
    tag = TAG,
    params(("id" = Uuid, Path, description = "The person's id.")),
    responses(
        (status = 200, description = "The person, disabled.", body = Person),
        ReadFailures,
        (status = 403, response = Forbidden),
    ),
)]
#[post("/people/{id}/disable")]
#[tracing::instrument(skip_all, fields(person_id = %id))]
pub async fn disable_person(
    _caller: Caller<AdminOnly>,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    set_disabled(&state, *id, true).await
}

/// Enable a person
///
/// Their tokens are accepted again. Admins only.
#[utoipa::path(
    operation_id = "enablePerson",
    tag = TAG,
    params(("id" = Uuid, Path, description = "The person's id.")),
    responses(
        (status = 200, description = "The person, enabled.", body = Person),
        ReadFailures,
        (status = 403, response = Forbidden),
    ),
)]
#[post("/people/{id}/enable")]
#[tracing::instrument(skip_all, fields(person_id = %id))]
pub async fn enable_person(
    _caller: Caller<AdminOnly>,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    set_disabled(&state, *id, false).await
}

/// Where people sign in, for a front end that has no key yet.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"provider": {
    "metadata_url": "https://login.partner.microsoftonline.cn/organizations/v2.0/.well-known/openid-configuration",
    "issuer": "https://login.partner.microsoftonline.cn/{tenantid}/v2.0",
    "authorization_endpoint": "https://login.partner.microsoftonline.cn/organizations/oauth2/v2.0/authorize",
    "token_endpoint": "https://login.partner.microsoftonline.cn/organizations/oauth2/v2.0/token",
    "end_session_endpoint": "https://login.partner.microsoftonline.cn/organizations/oauth2/v2.0/logout",
    "client_id": "7d2e4f6a-1b3c-4d5e-8f9a-0b1c2d3e4f5a",
    "audience": "api://escalade", "scope": "api://escalade/.default"
}}))]
pub struct AuthConfig {
    /// `null` when the deployment signs no one in: API keys only.
    pub provider: Option<SignInProvider>,
}

/// The identity provider people sign in with, and how a browser asks it for a token.
#[derive(Debug, Serialize, ToSchema)]
pub struct SignInProvider {
    /// The provider's OpenID configuration document.
    pub metadata_url: String,
    /// The provider's issuer, as its configuration names it: a multi-tenant provider writes
    /// `{tenantid}` where each token names its tenant. `null` until the configuration is loaded.
    pub issuer: Option<String>,
    /// Where a browser sends people to sign in (authorization code with PKCE); `null` until the
    /// provider's configuration is loaded.
    pub authorization_endpoint: Option<String>,
    /// Where the browser redeems the code for a token.
    pub token_endpoint: Option<String>,
    /// Where signing out ends the provider's session, if it has one.
    pub end_session_endpoint: Option<String>,
    /// The console's public client id (no secret: a browser keeps none).
    pub client_id: String,
    /// What tokens must be issued for (`aud`).
    pub audience: String,
    /// The scope to ask for a token for this API with.
    pub scope: String,
}

/// Where people sign in
///
/// The identity provider and the console's client id, for a front end to sign people in with
/// (authorization code with PKCE). No key needed. `provider` is `null` where the deployment takes
/// API keys only, or the console has no client id.
#[utoipa::path(
    operation_id = "getAuthConfig",
    tag = TAG,
    security(),
    responses((status = 200, description = "How people sign in.", body = AuthConfig)),
)]
#[get("/config")]
pub async fn get_auth_config(state: web::Data<AppState>) -> HttpResponse {
    let provider = state.identity.as_ref().and_then(|identity| {
        let settings = identity.settings();
        let client_id = settings.console_client_id.clone()?;
        let endpoints = identity.endpoints();
        let endpoint = |pick: fn(crate::identity::Endpoints) -> Option<String>| {
            endpoints.clone().and_then(pick)
        };
        Some(SignInProvider {
            metadata_url: settings.metadata_url.to_string(),
            issuer: endpoint(|e| Some(e.issuer)),
            authorization_endpoint: endpoint(|e| e.authorization_endpoint),
            token_endpoint: endpoint(|e| e.token_endpoint),
            end_session_endpoint: endpoint(|e| e.end_session_endpoint),
            client_id,
            audience: settings.audience.clone(),
            scope: format!("{}/.default", settings.audience.trim_end_matches('/')),
        })
    });
    HttpResponse::Ok().json(AuthConfig { provider })
}

/// `/v1/auth`: what a front end reads before anyone has signed in, without a key.
pub fn configure_public(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(get_auth_config);
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_people)
        .service(get_person)
        .service(disable_person)
        .service(enable_person);
}
