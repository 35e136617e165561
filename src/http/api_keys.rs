//! `/v1/api-keys`: admins manage every key; a partner manages its own partner keys. The secret
//! appears once, in the creation response.

use actix_web::http::header::LOCATION;
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;
use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, Schema, SchemaFormat, Type};
use utoipa::openapi::{Ref, RefOr};
use utoipa::{IntoParams, PartialSchema, ToSchema};
use uuid::Uuid;
use validator::Validate;

use super::AppState;
use super::auth::{AdminOrPartner, Caller};
use super::etag::{EntityTags, IfMatch, OptionalIfMatch, with_etag};
use super::extract::{ValidJson, ValidQuery};
use super::fields::{self, parsed, present};
use super::pagination::{self, Cursor, list_type};
use super::responses::*;
use crate::domain::secret::NewSecret;
use crate::domain::{DisplayName, Role, Scope};
use crate::entity::api_key::Model;
use crate::error::{ApiError, FieldError};
use crate::http::idempotency::Idempotency;
use crate::i18n::Text;
use crate::openapi::union::TaggedUnion;
use crate::store::api_keys::{self as store, ApiKeyFilter, NewApiKey};
use crate::store::partners;

const TAG: &str = "api-keys";

pub(super) fn api_key_example() -> serde_json::Value {
    serde_json::json!({
        "id": "0193a1f3-0a1b-7c2d-8e3f-4a5b6c7d8e9f", "name": "ticketing system", "role": "partner",
        "partner_id": "0193a1f0-1b2c-7d3e-8f40-5a6b7c8d9e0f", "prefix": "esc_Xk3p9QaZ",
        "last_used_at": "2026-11-24T09:30:00Z", "revoked_at": null, "version": 1,
        "created_at": "2026-11-24T08:00:00Z", "updated_at": "2026-11-24T08:00:00Z"
    })
}

/// An API key, without its secret.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = api_key_example)]
pub struct ApiKey {
    pub id: Uuid,
    pub name: String,
    pub role: Role,
    /// The partner a partner key acts for; `null` for admin and operator keys.
    pub partner_id: Option<Uuid>,
    /// The first characters of the secret, to recognise the key by.
    pub prefix: String,
    /// Last successful use, to the minute; recorded within seconds of it.
    pub last_used_at: Option<DateTime<Utc>>,
    /// When the key was revoked; a revoked key authenticates nothing.
    pub revoked_at: Option<DateTime<Utc>>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl TryFrom<Model> for ApiKey {
    type Error = ApiError;

    fn try_from(row: Model) -> Result<Self, ApiError> {
        Ok(ApiKey {
            role: row.role.parse().map_err(ApiError::internal)?,
            id: row.id,
            name: row.name,
            partner_id: row.partner_id,
            prefix: row.prefix,
            last_used_at: row.last_used_at,
            revoked_at: row.revoked_at,
            version: row.version,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

/// A new key with its secret: store the `key` now, it is never shown again.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0193a1f3-0a1b-7c2d-8e3f-4a5b6c7d8e9f", "name": "ticketing system", "role": "partner",
    "partner_id": "0193a1f0-1b2c-7d3e-8f40-5a6b7c8d9e0f", "prefix": "esc_Xk3p9QaZ",
    "key": "esc_Xk3p9QaZ7hN2vL5tR8wY1bC4dF6gJ0mP3sU9xA2eK",
    "last_used_at": null, "revoked_at": null, "version": 1,
    "created_at": "2026-11-24T08:00:00Z", "updated_at": "2026-11-24T08:00:00Z"
}))]
pub struct CreatedApiKey {
    #[serde(flatten)]
    pub api_key: ApiKey,
    /// The secret, for `Authorization: Bearer <key>`.
    pub key: String,
}

list_type!(
    /// A page of API keys.
    ApiKeyList of ApiKey,
    example = api_key_example
);

/// A new key, by role: `partner` keys name their partner; admin and operator keys have none.
/// Partners may create `partner` keys for themselves only.
#[derive(Debug, Deserialize)]
#[serde(tag = "role", rename_all = "snake_case", deny_unknown_fields)]
pub enum CreateApiKey {
    Admin { name: String },
    Operator { name: String },
    Partner { partner_id: Uuid, name: String },
}

/// Written by hand because the derive cannot close each variant to unknown properties, and
/// the published contract must refuse exactly what the server refuses.
fn create_api_key_union() -> TaggedUnion {
    let name = |object: ObjectBuilder| {
        object
            .property("name", Ref::from_schema_name(DisplayName::name()))
            .required("name")
    };
    TaggedUnion::new("role")
        .variant(
            "CreateAdminKey",
            "admin",
            "An admin key: whoever runs the deployment.",
            name,
        )
        .variant(
            "CreateOperatorKey",
            "operator",
            "An operator key: 21Vianet support staff.",
            name,
        )
        .variant(
            "CreatePartnerKey",
            "partner",
            "A partner key: one partner's systems.",
            |object| {
                name(object)
                    .property(
                        "partner_id",
                        ObjectBuilder::new()
                            .schema_type(Type::String)
                            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid))),
                    )
                    .required("partner_id")
            },
        )
}

impl utoipa::PartialSchema for CreateApiKey {
    fn schema() -> RefOr<Schema> {
        create_api_key_union()
            .one_of()
            .description(Some(
                "A new key, by role: `partner` keys name their partner; admin and operator keys have \
                 none. Partners may create `partner` keys for themselves only.",
            ))
            .examples([serde_json::json!({
                "role": "partner", "partner_id": "0193a1f0-1b2c-7d3e-8f40-5a6b7c8d9e0f", "name": "ticketing system"
            })])
            .into()
    }
}

impl ToSchema for CreateApiKey {
    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push((DisplayName::name().into_owned(), DisplayName::schema()));
        schemas.extend(create_api_key_union().components());
    }
}

impl CreateApiKey {
    fn role(&self) -> Role {
        match self {
            CreateApiKey::Admin { .. } => Role::Admin,
            CreateApiKey::Operator { .. } => Role::Operator,
            CreateApiKey::Partner { .. } => Role::Partner,
        }
    }

    fn name(&self) -> &str {
        match self {
            CreateApiKey::Admin { name }
            | CreateApiKey::Operator { name }
            | CreateApiKey::Partner { name, .. } => name,
        }
    }

    fn partner_id(&self) -> Option<Uuid> {
        match self {
            CreateApiKey::Partner { partner_id, .. } => Some(*partner_id),
            CreateApiKey::Admin { .. } | CreateApiKey::Operator { .. } => None,
        }
    }
}

impl Validate for CreateApiKey {
    fn validate(&self) -> Result<(), validator::ValidationErrors> {
        let mut errors = validator::ValidationErrors::new();
        if let Err(error) = fields::display_name(self.name()) {
            errors.add("name", error);
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "ticketing system (production)"}))]
pub struct UpdateApiKey {
    #[validate(required, custom(function = "fields::display_name"))]
    #[schema(value_type = DisplayName, required = true)]
    pub name: Option<String>,
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ApiKeyQuery {
    pub role: Option<Role>,
    /// Only this partner's keys (admins; partners only ever see their own).
    pub partner_id: Option<Uuid>,
    /// Include revoked keys (default false).
    pub include_revoked: Option<bool>,
    /// Page size, 1–100 (default 25).
    #[validate(range(min = 1, max = 100))]
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u64>,
    #[param(value_type = Option<Cursor>, inline)]
    pub cursor: Option<String>,
}

/// A key just created, with its secret.
#[derive(Debug)]
pub struct Issued {
    pub row: Model,
    pub secret: NewSecret,
}

/// Creates a key after checking that role and partner fit together ([`admit`]). Shared with
/// `escalade api-key create`.
pub async fn issue(db: &DatabaseConnection, new: NewApiKey) -> Result<Issued, ApiError> {
    admit(db, &new).await?;
    create(db, new).await
}

/// Whether role and partner fit together: partner keys need an existing partner (404
/// otherwise), admin and operator keys have none.
async fn admit(db: &DatabaseConnection, new: &NewApiKey) -> Result<(), ApiError> {
    let misfit = |code: &'static str, message: Text| {
        ApiError::invalid_fields(vec![FieldError::new("partner_id", code, message)])
    };
    match (new.role, new.partner_id) {
        (Role::Partner, None) => {
            return Err(misfit("required", Text::new("field-partner-id-required")));
        }
        (Role::Partner, Some(partner_id)) => {
            if partners::get(db, partner_id).await?.is_none() {
                return Err(ApiError::not_found("partner"));
            }
        }
        (Role::Admin | Role::Operator, Some(_)) => {
            return Err(misfit(
                "not_allowed",
                Text::new("field-partner-id-not-allowed"),
            ));
        }
        (Role::Admin | Role::Operator, None) => {}
    }
    Ok(())
}

async fn create(db: &DatabaseConnection, new: NewApiKey) -> Result<Issued, ApiError> {
    let secret = NewSecret::generate();
    let row = store::create(db, new, &secret).await?;
    tracing::info!(key_id = %row.id, role = %row.role, prefix = %row.prefix, "API key created");
    Ok(Issued { row, secret })
}

/// Create an API key
///
/// Admins create any key. Partners create `partner` keys for themselves only. The response holds
/// the secret (`key`); it is stored only as a hash and never shown again.
#[utoipa::path(
    operation_id = "createApiKey",
    tag = TAG,
    request_body = CreateApiKey,
    responses(
        (status = 201, description = "Created; `key` is the secret, shown only now.", body = CreatedApiKey,
            headers(("Location" = String, description = "URL of the new key."),
                    ("ETag" = String, description = "Version tag for `If-Match`."))),
        ReadFailures, BodyFailures,
        (status = 403, response = Forbidden),
    ),
)]
#[post("/api-keys")]
#[tracing::instrument(skip_all)]
pub async fn create_api_key(
    caller: Caller<AdminOrPartner>,
    state: web::Data<AppState>,
    idempotency: Idempotency,
    body: ValidJson<CreateApiKey>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    let role = body.role();
    if let Scope::Partner(own) = caller.scope() {
        if role != Role::Partner {
            // Only admins hand out admin and operator keys.
            return Err(ApiError::Forbidden {
                role: caller.role,
                allowed: vec![Role::Admin],
            });
        }
        if body.partner_id() != Some(own) {
            return Err(ApiError::not_found("partner"));
        }
    }
    let new = NewApiKey {
        name: parsed("name", body.name(), DisplayName::parse)?,
        role,
        partner_id: body.partner_id(),
    };
    admit(&state.db, &new).await?;
    idempotency.claim(&state.db).await?;
    let issued = create(&state.db, new).await?;
    let created = CreatedApiKey {
        api_key: issued.row.try_into()?,
        key: issued.secret.secret,
    };
    let mut response = with_etag(HttpResponse::Created(), created.api_key.version);
    response.insert_header((LOCATION, format!("/v1/api-keys/{}", created.api_key.id)));
    Ok(response.json(created))
}

/// List API keys
///
/// Admins see every key; a partner sees its own partner keys. Secrets are never shown again: each
/// key is listed with its `prefix`, role, partner and when it was last used. Revoked keys are left
/// out unless `include_revoked=true`.
#[utoipa::path(
    operation_id = "listApiKeys",
    tag = TAG,
    params(ApiKeyQuery),
    responses(
        (status = 200, description = "A page of keys.", body = ApiKeyList,
            headers(("Link" = String, description = "`<…>; rel=\"next\"` when another page follows."))),
        RequestFailures,
        (status = 403, response = Forbidden),
    ),
)]
#[get("/api-keys")]
#[tracing::instrument(skip_all)]
pub async fn list_api_keys(
    caller: Caller<AdminOrPartner>,
    state: web::Data<AppState>,
    query: ValidQuery<ApiKeyQuery>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let query = query.0;
    let page = pagination::page_request(query.limit, query.cursor.as_deref())?;
    let filter = ApiKeyFilter {
        partner_id: query.partner_id,
        role: query.role,
        include_revoked: query.include_revoked.unwrap_or(false),
    };
    let rows = store::list(&state.db, caller.scope(), filter, page).await?;
    pagination::respond::<ApiKeyList, _>(&req, rows, ApiKey::try_from)
}

async fn visible_key(state: &AppState, scope: Scope, id: Uuid) -> Result<Model, ApiError> {
    store::get(&state.db, scope, id)
        .await?
        .ok_or(ApiError::not_found("API key"))
}

/// Get an API key
///
/// One key, without its secret. A partner asking for a key that is not its own gets 404, as for one
/// that does not exist.
#[utoipa::path(
    operation_id = "getApiKey",
    tag = TAG,
    params(("id" = Uuid, Path, description = "The key's id.")),
    responses(
        (status = 200, description = "The key, without its secret.", body = ApiKey,
            headers(("ETag" = String, description = "Version tag for `If-Match`."))),
        ReadFailures,
        (status = 403, response = Forbidden),
    ),
)]
#[get("/api-keys/{id}")]
#[tracing::instrument(skip_all, fields(key_id = %id))]
pub async fn get_api_key(
    caller: Caller<AdminOrPartner>,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let key: ApiKey = visible_key(&state, caller.scope(), *id).await?.try_into()?;
    Ok(with_etag(HttpResponse::Ok(), key.version).json(key))
}

/// Rename an API key
///
/// Requires `If-Match`.
#[utoipa::path(
    operation_id = "updateApiKey",
    tag = TAG,
    params(
        ("id" = Uuid, Path, description = "The key's id."),
        ("If-Match" = inline(EntityTags), Header, description = "The `ETag` from your last read, e.g. `\"3\"`."),
    ),
    request_body = UpdateApiKey,
    responses(
        (status = 200, description = "The renamed key.", body = ApiKey,
            headers(("ETag" = String, description = "The new version tag."))),
        ReadFailures, BodyFailures, ConditionFailures,
        (status = 403, response = Forbidden),
    ),
)]
#[patch("/api-keys/{id}")]
#[tracing::instrument(skip_all, fields(key_id = %id))]
pub async fn update_api_key(
    caller: Caller<AdminOrPartner>,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    body: ValidJson<UpdateApiKey>,
) -> Result<HttpResponse, ApiError> {
    let current = visible_key(&state, caller.scope(), *id).await?;
    let expected = if_match.check(current.version)?;
    let name = present("name", body.0.name)?;
    let name = parsed("name", &name, DisplayName::parse)?;
    let key: ApiKey = store::rename(&state.db, current.id, &expected, name)
        .await?
        .ok_or(ApiError::PreconditionFailed)?
        .try_into()?;
    Ok(with_etag(HttpResponse::Ok(), key.version).json(key))
}

/// Revoke an API key
///
/// The key stops authenticating at once on the instance that revokes it, and within two seconds on
/// every other instance of the deployment. Revoking a revoked key changes nothing.
#[utoipa::path(
    operation_id = "revokeApiKey",
    tag = TAG,
    params(
        ("id" = Uuid, Path, description = "The key's id."),
        ("If-Match" = inline(Option<EntityTags>), Header, nullable = false, description = "Revoke only at this version."),
    ),
    responses(
        (status = 204, description = "Revoked."),
        ReadFailures,
        (status = 403, response = Forbidden),
        (status = 412, response = PreconditionFailed),
    ),
)]
#[delete("/api-keys/{id}")]
#[tracing::instrument(skip_all, fields(key_id = %id))]
pub async fn revoke_api_key(
    caller: Caller<AdminOrPartner>,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    if_match: OptionalIfMatch,
) -> Result<HttpResponse, ApiError> {
    let key = visible_key(&state, caller.scope(), *id).await?;
    if !if_match.0.admits(key.version) {
        return Err(ApiError::PreconditionFailed);
    }
    store::revoke(&state.db, key.id).await?;
    state.verified.forget(key.id);
    tracing::info!(key_id = %key.id, "API key revoked");
    Ok(HttpResponse::NoContent().finish())
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(create_api_key)
        .service(list_api_keys)
        .service(get_api_key)
        .service(update_api_key)
        .service(revoke_api_key);
}
