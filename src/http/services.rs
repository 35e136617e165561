//! `/v1/services`: the catalog of services partners escalate about. Everyone reads; admins and
//! operators write.

use actix_web::http::header::LOCATION;
use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::openapi::Ref;
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, OneOfBuilder, Type};
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
use crate::domain::{Category, DisplayName, HttpsUrl, ServiceKey, SupportHours, Title};
use crate::entity::service::Model;
use crate::error::{ApiError, ResultExt};
use crate::http::idempotency::Idempotency;
use crate::i18n::Language;
use crate::store::services::{
    self as store, NewService, SelfHelpLink, ServiceChanges, ServiceFilter,
};

const TAG: &str = "services";

/// A self-help resource: somewhere the partner or its customer can try to solve the problem.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "title": "Azure Service Health in the Azure portal", "title_zh": "Azure 门户中的 Azure 服务运行状况",
    "url": "https://portal.azure.cn/#view/Microsoft_Azure_Health/AzureHealthBrowseBlade"
}))]
pub struct SelfHelpResource {
    /// In the answer's language (`Content-Language`) when the resource has a title in it, the
    /// base title otherwise.
    pub title: String,
    /// The title in Simplified Chinese, as written; `null` when there is none.
    pub title_zh: Option<String>,
    pub url: String,
}

/// A self-help resource as stored: `{title, title_zh?, url}`.
#[derive(Debug, Deserialize)]
struct StoredLink {
    title: String,
    title_zh: Option<String>,
    url: String,
}

impl SelfHelpResource {
    /// The stored resources, each titled in `language`.
    pub(super) fn read_all(
        stored: serde_json::Value,
        language: Language,
    ) -> Result<Vec<Self>, serde_json::Error> {
        let stored: Vec<StoredLink> = serde_json::from_value(stored)?;
        Ok(stored
            .into_iter()
            .map(|link| SelfHelpResource {
                title: language.pick(&link.title, link.title_zh.as_deref()),
                title_zh: link.title_zh,
                url: link.url,
            })
            .collect())
    }
}

/// A self-help resource as sent.
#[derive(Debug, Clone, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "title": "Azure Service Health in the Azure portal", "title_zh": "Azure 门户中的 Azure 服务运行状况",
    "url": "https://portal.azure.cn/#view/Microsoft_Azure_Health/AzureHealthBrowseBlade"
}))]
pub struct SelfHelpResourceInput {
    /// In English, or in the one language the resource is written in.
    #[validate(custom(function = "fields::title"))]
    #[schema(value_type = Title)]
    pub title: String,
    /// In Simplified Chinese, for callers who read Chinese.
    #[validate(custom(function = "fields::title"))]
    #[schema(value_type = Option<Title>)]
    pub title_zh: Option<String>,
    #[validate(custom(function = "fields::https_url"))]
    #[schema(value_type = HttpsUrl)]
    pub url: String,
}

impl SelfHelpResourceInput {
    fn into_link(self, at: &str) -> Result<SelfHelpLink, ApiError> {
        Ok(SelfHelpLink {
            title: parsed(&format!("{at}.title"), &self.title, Title::parse)?,
            title_zh: self
                .title_zh
                .map(|title| parsed(&format!("{at}.title_zh"), &title, Title::parse))
                .transpose()?,
            url: parsed(&format!("{at}.url"), &self.url, HttpsUrl::parse)?,
        })
    }
}

pub(super) fn service_example() -> serde_json::Value {
    serde_json::json!({
        "id": "019ab8a0-0000-7000-8000-000000000002",
        "key": "azure",
        "name": "Azure operated by 21Vianet",
        "name_zh": "由世纪互联运营的 Azure",
        "operated_by": "21Vianet",
        "first_party": true,
        "admin_center_url": "https://portal.azure.cn",
        "support_hours": "24x7",
        "self_help": [{"title": "Azure operated by 21Vianet documentation", "title_zh": "由世纪互联运营的 Azure 文档",
                       "url": "https://docs.azure.cn/zh-cn/"}],
        "categories": ["service_unavailable", "undocumented_defect", "product_bug", "network_disruption",
                       "regional_multi_tenant_issue", "billing_dispute"],
        "version": 1,
        "created_at": "2026-11-25T00:00:00Z",
        "updated_at": "2026-11-25T00:00:00Z"
    })
}

/// A service partners can escalate about, with where to try self-help first.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = service_example)]
pub struct Service {
    pub id: Uuid,
    /// Stable identifier used in paths and escalations.
    #[schema(value_type = ServiceKey)]
    pub key: String,
    /// In the answer's language (`Content-Language`) when the service has a name in it, the base
    /// name otherwise.
    pub name: String,
    /// The name in Simplified Chinese, as written; `null` when there is none.
    pub name_zh: Option<String>,
    /// Who runs the service: `21Vianet` for the clouds it operates, the publisher for a
    /// marketplace product.
    pub operated_by: String,
    /// `false` for marketplace (third-party) products, which go to their publisher, not to
    /// 21Vianet.
    pub first_party: bool,
    /// The admin center where the partner or customer can fix or diagnose the problem.
    pub admin_center_url: String,
    pub support_hours: SupportHours,
    pub self_help: Vec<SelfHelpResource>,
    /// The categories of problem this service accepts.
    pub categories: Vec<Category>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Service {
    /// The service as answered in `language`.
    pub fn read(row: Model, language: Language) -> Result<Self, ApiError> {
        let corrupt = |what: &str| {
            ApiError::internal(format!("stored service {} is unreadable: {what}", row.key))
        };
        let support_hours =
            SupportHours::parse(&row.support_hours).ok_or_else(|| corrupt("support_hours"))?;
        let self_help = SelfHelpResource::read_all(row.self_help.clone(), language)
            .map_err(|_| corrupt("self_help"))?;
        let categories =
            serde_json::from_value(row.categories.clone()).map_err(|_| corrupt("categories"))?;
        Ok(Service {
            id: row.id,
            key: row.key,
            name: language.pick(&row.name, row.name_zh.as_deref()),
            name_zh: row.name_zh,
            operated_by: row.operated_by,
            first_party: row.first_party,
            admin_center_url: row.admin_center_url,
            support_hours,
            self_help,
            categories,
            version: row.version,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

list_type!(
    /// A page of services.
    ServiceList of Service,
    example = service_example
);

/// A new service, such as a marketplace product (`first_party: false`).
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "key": "contoso-backup",
    "name": "Contoso Backup for Microsoft 365",
    "name_zh": "Contoso 备份（适用于 Microsoft 365）",
    "operated_by": "Contoso Software",
    "first_party": false,
    "admin_center_url": "https://backup.contoso.cn/admin",
    "support_hours": "business_hours",
    "self_help": [{"title": "Contoso Backup help center", "url": "https://help.contoso.cn/backup"}],
    "categories": ["service_unavailable", "product_bug"]
}))]
pub struct CreateService {
    #[validate(required, custom(function = "fields::service_key"))]
    #[schema(value_type = ServiceKey, required = true)]
    pub key: Option<String>,
    /// In English, or in the one language the service is named in.
    #[validate(required, custom(function = "fields::display_name"))]
    #[schema(value_type = DisplayName, required = true)]
    pub name: Option<String>,
    /// In Simplified Chinese, for callers who read Chinese.
    #[validate(custom(function = "fields::display_name"))]
    #[schema(value_type = Option<DisplayName>)]
    pub name_zh: Option<String>,
    #[validate(required, custom(function = "fields::display_name"))]
    #[schema(value_type = DisplayName, required = true)]
    pub operated_by: Option<String>,
    #[validate(required)]
    #[schema(required = true, nullable = false)]
    pub first_party: Option<bool>,
    #[validate(required, custom(function = "fields::https_url"))]
    #[schema(value_type = HttpsUrl, required = true)]
    pub admin_center_url: Option<String>,
    #[validate(required)]
    #[schema(required = true, nullable = false)]
    pub support_hours: Option<SupportHours>,
    /// At most 20; default none.
    #[validate(length(max = 20), nested)]
    #[schema(max_items = 20)]
    pub self_help: Option<Vec<SelfHelpResourceInput>>,
    #[validate(required, length(min = 1), custom(function = "fields::distinct"))]
    #[schema(schema_with = category_set, required = true)]
    pub categories: Option<Vec<Category>>,
}

/// Fields to change; those absent or `null` keep their value. The key never changes.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"support_hours": "24x7", "self_help": [{"title": "新版帮助中心", "url": "https://help.contoso.cn/"}]}))]
pub struct UpdateService {
    #[validate(custom(function = "fields::display_name"))]
    #[schema(value_type = Option<DisplayName>)]
    pub name: Option<String>,
    #[validate(custom(function = "fields::display_name"))]
    #[schema(value_type = Option<DisplayName>)]
    pub name_zh: Option<String>,
    #[validate(custom(function = "fields::display_name"))]
    #[schema(value_type = Option<DisplayName>)]
    pub operated_by: Option<String>,
    pub first_party: Option<bool>,
    #[validate(custom(function = "fields::https_url"))]
    #[schema(value_type = Option<HttpsUrl>)]
    pub admin_center_url: Option<String>,
    pub support_hours: Option<SupportHours>,
    /// Replaces the whole list; at most 20.
    #[validate(length(max = 20), nested)]
    #[schema(max_items = 20)]
    pub self_help: Option<Vec<SelfHelpResourceInput>>,
    /// Replaces the whole list.
    #[validate(length(min = 1), custom(function = "fields::distinct"))]
    #[schema(schema_with = optional_category_set)]
    pub categories: Option<Vec<Category>>,
}

/// The categories a service accepts: at least one, none twice.
fn category_set() -> ArrayBuilder {
    ArrayBuilder::new()
        .items(Ref::from_schema_name(Category::name()))
        .min_items(Some(1))
        .max_items(Some(Category::ALL.len()))
        .unique_items(true)
        .description(Some(
            "The categories of problem the service accepts: at least one, none twice.",
        ))
}

fn optional_category_set() -> OneOfBuilder {
    OneOfBuilder::new()
        .item(category_set())
        .item(ObjectBuilder::new().schema_type(Type::Null))
}

fn links(resources: Vec<SelfHelpResourceInput>) -> Result<Vec<SelfHelpLink>, ApiError> {
    resources
        .into_iter()
        .enumerate()
        .map(|(i, resource)| resource.into_link(&format!("self_help[{i}]")))
        .collect()
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ServiceQuery {
    /// Only first-party services (`true`) or only marketplace products (`false`).
    pub first_party: Option<bool>,
    /// Only services run by this operator, e.g. `21Vianet`.
    #[validate(length(max = 100))]
    #[param(max_length = 100)]
    pub operated_by: Option<String>,
    /// Page size, 1–100 (default 25).
    #[validate(range(min = 1, max = 100))]
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u64>,
    #[param(value_type = Option<Cursor>, inline)]
    pub cursor: Option<String>,
}

fn found(service: Service) -> HttpResponse {
    with_etag(HttpResponse::Ok(), service.version).json(service)
}

/// A service by key, or 404.
pub(super) async fn existing(state: &AppState, key: &str) -> Result<Model, ApiError> {
    store::get(&state.db, key)
        .await?
        .ok_or(ApiError::not_found("service"))
}

/// Create a service
///
/// Adds a service to the catalog, such as a marketplace product (`first_party: false`; problems
/// with it go to its publisher, not to 21Vianet).
#[utoipa::path(
    operation_id = "createService",
    tag = TAG,
    request_body = CreateService,
    responses(
        (status = 201, description = "Created.", body = Service,
            headers(("Location" = String, description = "URL of the new service."),
                    ("ETag" = String, description = "Version tag for `If-Match`."))),
        RequestFailures, BodyFailures,
        (status = 403, response = Forbidden),
        (status = 409, response = Conflict),
    ),
)]
#[post("/services")]
#[tracing::instrument(skip_all)]
pub async fn create_service(
    _caller: Caller<Staff>,
    state: web::Data<AppState>,
    language: Language,
    idempotency: Idempotency,
    body: ValidJson<CreateService>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    let key = present("key", body.key)?;
    let name = present("name", body.name)?;
    let operated_by = present("operated_by", body.operated_by)?;
    let admin_center_url = present("admin_center_url", body.admin_center_url)?;
    let new = NewService {
        key: parsed("key", &key, ServiceKey::parse)?,
        name: parsed("name", &name, DisplayName::parse)?,
        name_zh: optional("name_zh", body.name_zh, DisplayName::parse)?,
        operated_by: parsed("operated_by", &operated_by, DisplayName::parse)?,
        first_party: present("first_party", body.first_party)?,
        admin_center_url: parsed("admin_center_url", &admin_center_url, HttpsUrl::parse)?,
        support_hours: present("support_hours", body.support_hours)?,
        self_help: links(body.self_help.unwrap_or_default())?,
        categories: present("categories", body.categories)?,
    };
    idempotency.claim(&state.db).await?;
    let row = store::create(&state.db, new)
        .await
        .on_unique(store::UNIQUE_KEYS)?;
    let service = Service::read(row, language)?;
    let mut response = with_etag(HttpResponse::Created(), service.version);
    response.insert_header((LOCATION, format!("/v1/services/{}", service.key)));
    Ok(response.json(service))
}

/// List services
///
/// The catalog, oldest first: the six services 21Vianet operates and any marketplace products.
#[utoipa::path(
    operation_id = "listServices",
    tag = TAG,
    params(ServiceQuery),
    responses(
        (status = 200, description = "A page of services.", body = ServiceList,
            headers(("Link" = String, description = "`<…>; rel=\"next\"` when another page follows."))),
        RequestFailures,
    ),
)]
#[get("/services")]
#[tracing::instrument(skip_all)]
pub async fn list_services(
    _caller: Caller<Anyone>,
    state: web::Data<AppState>,
    language: Language,
    query: ValidQuery<ServiceQuery>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let query = query.0;
    let page = pagination::page_request(query.limit, query.cursor.as_deref())?;
    let filter = ServiceFilter {
        first_party: query.first_party,
        operated_by: query.operated_by,
    };
    let rows = store::list(&state.db, filter, page).await?;
    pagination::respond::<ServiceList, _>(&req, rows, |row| Service::read(row, language))
}

/// Get a service
///
/// One service of the catalog: who operates it, its admin center, support hours, self-help
/// resources and the problem categories it accepts.
#[utoipa::path(
    operation_id = "getService",
    tag = TAG,
    params(("key" = inline(ServiceKey), Path, description = "The service's key, e.g. `azure`.")),
    responses(
        (status = 200, description = "The service.", body = Service,
            headers(("ETag" = String, description = "Version tag for `If-Match`."))),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
        (status = 503, response = ServiceUnavailable),
    ),
)]
#[get("/services/{key}")]
#[tracing::instrument(skip_all, fields(service = %key))]
pub async fn get_service(
    _caller: Caller<Anyone>,
    state: web::Data<AppState>,
    language: Language,
    key: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(found(Service::read(
        existing(&state, &key).await?,
        language,
    )?))
}

/// Update a service
///
/// Requires `If-Match`. Lists (`self_help`, `categories`) are replaced whole.
#[utoipa::path(
    operation_id = "updateService",
    tag = TAG,
    params(
        ("key" = inline(ServiceKey), Path, description = "The service's key, e.g. `azure`."),
        ("If-Match" = inline(EntityTags), Header, description = "The `ETag` from your last read, e.g. `\"3\"`."),
    ),
    request_body = UpdateService,
    responses(
        (status = 200, description = "The updated service.", body = Service,
            headers(("ETag" = String, description = "The new version tag."))),
        ReadFailures, BodyFailures, ConditionFailures,
        (status = 403, response = Forbidden),
    ),
)]
#[patch("/services/{key}")]
#[tracing::instrument(skip_all, fields(service = %key))]
pub async fn update_service(
    _caller: Caller<Staff>,
    state: web::Data<AppState>,
    language: Language,
    key: web::Path<String>,
    if_match: IfMatch,
    body: ValidJson<UpdateService>,
) -> Result<HttpResponse, ApiError> {
    let current = existing(&state, &key).await?;
    let expected = if_match.check(current.version)?;
    let body = body.0;
    let changes = ServiceChanges {
        name: optional("name", body.name, DisplayName::parse)?,
        name_zh: optional("name_zh", body.name_zh, DisplayName::parse)?,
        operated_by: optional("operated_by", body.operated_by, DisplayName::parse)?,
        first_party: body.first_party,
        admin_center_url: optional("admin_center_url", body.admin_center_url, HttpsUrl::parse)?,
        support_hours: body.support_hours,
        self_help: body.self_help.map(links).transpose()?,
        categories: body.categories,
    };
    let updated = store::update(&state.db, current.id, &expected, changes)
        .await?
        .ok_or(ApiError::PreconditionFailed)?;
    Ok(found(Service::read(updated, language)?))
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(create_service)
        .service(list_services)
        .service(get_service)
        .service(update_service);
}
