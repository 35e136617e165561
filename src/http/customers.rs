//! `/v1/customers`: each partner's customers. Partners manage their own; admins and operators
//! read everyone's.

use actix_web::http::header::LOCATION;
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use super::AppState;
use super::auth::{Anyone, Caller, PartnerOnly};
use super::etag::{EntityTags, IfMatch, OptionalIfMatch, with_etag};
use super::extract::{ValidJson, ValidQuery};
use super::fields::{self, parsed, present};
use super::pagination::{self, Cursor, list_type};
use super::responses::*;
use crate::domain::{
    CompanyName, CountryCode, DisplayName, DomainName, EmailAddress, PhoneNumber, SupportPlan,
};
use crate::entity::customer::Model;
use crate::error::{ApiError, FieldError, ResultExt};
use crate::http::idempotency::Idempotency;
use crate::i18n::Text;
use crate::store::customers::{
    self as store, Contact, CustomerChanges, CustomerFilter, NewCustomer,
};
use crate::store::{VersionCheck, escalations, partners};

const TAG: &str = "customers";

/// The person at the customer the partner deals with.
#[derive(Debug, Serialize, ToSchema)]
pub struct PrimaryContact {
    #[schema(example = "王芳")]
    pub name: String,
    #[schema(example = "wang.fang@contoso.partner.onmschina.cn")]
    pub email: String,
    /// E.164.
    #[schema(example = "+861055550100")]
    pub phone: Option<String>,
}

fn customer_example() -> serde_json::Value {
    serde_json::json!({
        "id": "0193a1f2-7c4e-7d2a-9b1e-2f3c4d5e6f70",
        "partner_id": "0193a1f0-1b2c-7d3e-8f40-5a6b7c8d9e0f",
        "company_name": "上海云启科技有限公司",
        "domain": "yunqi.partner.onmschina.cn",
        "tenant_id": "5d1c2a34-8f6b-4e1d-9c2a-3b4c5d6e7f80",
        "country": "CN",
        "support_plan": "premium",
        "primary_contact": {"name": "王芳", "email": "wang.fang@yunqi.cn", "phone": "+862155550100"},
        "version": 1,
        "created_at": "2026-11-24T08:00:00Z",
        "updated_at": "2026-11-24T08:00:00Z"
    })
}

/// A partner's customer: a company with its own directory tenant in the 21Vianet cloud.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = customer_example)]
pub struct Customer {
    pub id: Uuid,
    /// The partner the customer belongs to.
    pub partner_id: Uuid,
    pub company_name: String,
    /// The customer's domain in the 21Vianet cloud, lower case.
    pub domain: String,
    /// The customer's directory tenant.
    pub tenant_id: Uuid,
    /// ISO 3166-1 alpha-2.
    pub country: String,
    pub support_plan: SupportPlan,
    pub primary_contact: PrimaryContact,
    /// Increases with every change; the `ETag` is this number in quotes.
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl TryFrom<Model> for Customer {
    type Error = ApiError;

    fn try_from(row: Model) -> Result<Self, ApiError> {
        let support_plan = SupportPlan::parse(&row.support_plan).ok_or_else(|| {
            ApiError::internal(format!(
                "stored support plan `{}` is unknown",
                row.support_plan
            ))
        })?;
        Ok(Customer {
            id: row.id,
            partner_id: row.partner_id,
            company_name: row.company_name,
            domain: row.domain,
            tenant_id: row.tenant_id,
            country: row.country,
            support_plan,
            primary_contact: PrimaryContact {
                name: row.contact_name,
                email: row.contact_email,
                phone: row.contact_phone,
            },
            version: row.version,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

list_type!(
    /// A page of customers.
    CustomerList of Customer,
    example = customer_example
);

/// The primary contact as sent: name and e-mail required, phone optional (E.164).
#[derive(Debug, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PrimaryContactInput {
    #[validate(required, custom(function = "fields::display_name"))]
    #[schema(value_type = DisplayName, required = true)]
    pub name: Option<String>,
    #[validate(required, custom(function = "fields::email"))]
    #[schema(value_type = EmailAddress, required = true)]
    pub email: Option<String>,
    /// Optional; `null` or absent means none.
    #[validate(custom(function = "fields::phone"))]
    #[schema(value_type = Option<PhoneNumber>)]
    pub phone: Option<String>,
}

impl PrimaryContactInput {
    fn into_contact(self, path: &str) -> Result<Contact, ApiError> {
        let name = present(&format!("{path}.name"), self.name)?;
        let email = present(&format!("{path}.email"), self.email)?;
        Ok(Contact {
            name: parsed(&format!("{path}.name"), &name, DisplayName::parse)?,
            email: parsed(&format!("{path}.email"), &email, EmailAddress::parse)?,
            phone: self
                .phone
                .map(|phone| parsed(&format!("{path}.phone"), &phone, PhoneNumber::parse))
                .transpose()?,
        })
    }
}

/// A new customer of the calling partner.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "company_name": "上海云启科技有限公司",
    "domain": "yunqi.partner.onmschina.cn",
    "tenant_id": "5d1c2a34-8f6b-4e1d-9c2a-3b4c5d6e7f80",
    "country": "CN",
    "support_plan": "premium",
    "primary_contact": {"name": "王芳", "email": "wang.fang@yunqi.cn", "phone": "+86 21 5555 0100"}
}))]
pub struct CreateCustomer {
    #[validate(required, custom(function = "fields::company_name"))]
    #[schema(value_type = CompanyName, required = true)]
    pub company_name: Option<String>,
    #[validate(required, custom(function = "fields::domain"))]
    #[schema(value_type = DomainName, required = true)]
    pub domain: Option<String>,
    /// The customer's directory tenant; unique, and never the partner's own tenant.
    #[validate(required)]
    #[schema(required = true, nullable = false)]
    pub tenant_id: Option<Uuid>,
    /// Default `CN` when absent or `null`.
    #[validate(custom(function = "fields::country"))]
    #[schema(value_type = Option<CountryCode>)]
    pub country: Option<String>,
    #[validate(required)]
    #[schema(required = true, nullable = false)]
    pub support_plan: Option<SupportPlan>,
    #[validate(required, nested)]
    #[schema(required = true, nullable = false)]
    pub primary_contact: Option<PrimaryContactInput>,
}

impl CreateCustomer {
    fn into_new(self) -> Result<NewCustomer, ApiError> {
        let company_name = present("company_name", self.company_name)?;
        let domain = present("domain", self.domain)?;
        Ok(NewCustomer {
            company_name: parsed("company_name", &company_name, CompanyName::parse)?,
            domain: parsed("domain", &domain, DomainName::parse)?,
            tenant_id: present("tenant_id", self.tenant_id)?,
            country: parsed(
                "country",
                self.country.as_deref().unwrap_or("CN"),
                fields::parse_country,
            )?,
            support_plan: present("support_plan", self.support_plan)?,
            primary_contact: present("primary_contact", self.primary_contact)?
                .into_contact("primary_contact")?,
        })
    }
}

/// Fields to change; those absent or `null` keep their value. `tenant_id` cannot change.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"support_plan": "premium", "primary_contact": {"name": "李雷", "email": "li.lei@yunqi.cn"}}))]
pub struct UpdateCustomer {
    #[validate(custom(function = "fields::company_name"))]
    #[schema(value_type = Option<CompanyName>)]
    pub company_name: Option<String>,
    #[validate(custom(function = "fields::domain"))]
    #[schema(value_type = Option<DomainName>)]
    pub domain: Option<String>,
    #[validate(custom(function = "fields::country"))]
    #[schema(value_type = Option<CountryCode>)]
    pub country: Option<String>,
    pub support_plan: Option<SupportPlan>,
    /// Replaces the whole contact.
    #[validate(nested)]
    pub primary_contact: Option<PrimaryContactInput>,
}

impl UpdateCustomer {
    fn into_changes(self) -> Result<CustomerChanges, ApiError> {
        Ok(CustomerChanges {
            company_name: self
                .company_name
                .map(|name| parsed("company_name", &name, CompanyName::parse))
                .transpose()?,
            domain: self
                .domain
                .map(|domain| parsed("domain", &domain, DomainName::parse))
                .transpose()?,
            country: self
                .country
                .map(|country| parsed("country", &country, fields::parse_country))
                .transpose()?,
            support_plan: self.support_plan,
            primary_contact: self
                .primary_contact
                .map(|contact| contact.into_contact("primary_contact"))
                .transpose()?,
        })
    }
}

/// Search and filters; all optional and combined with AND.
#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct CustomerQuery {
    /// Any part of at least 2 characters of the company name (星河 finds 深圳星河物流有限公司) or
    /// of the domain, or the start of the tenant id. Latin letters match in any case, and
    /// full-width letters and digits as ordinary ones; the default domain
    /// `….partner.onmschina.cn` and the last label of other domains are not searched. Customers
    /// whose name starts with `q` come first, then the others, each oldest first; without `q`,
    /// customers are listed oldest first.
    #[validate(length(max = 200))]
    #[param(min_length = 2, max_length = 200, example = "星河")]
    pub q: Option<String>,
    /// Only this partner's customers (admins and operators; partners only ever see their own).
    pub partner_id: Option<Uuid>,
    #[validate(custom(function = "fields::country"))]
    #[param(value_type = Option<CountryCode>)]
    pub country: Option<String>,
    pub support_plan: Option<SupportPlan>,
    pub tenant_id: Option<Uuid>,
    /// Page size, 1–100 (default 25).
    #[validate(range(min = 1, max = 100))]
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u64>,
    #[param(value_type = Option<Cursor>, inline)]
    pub cursor: Option<String>,
}

fn created(customer: Customer) -> HttpResponse {
    let mut response = with_etag(HttpResponse::Created(), customer.version);
    response.insert_header((LOCATION, format!("/v1/customers/{}", customer.id)));
    response.json(customer)
}

fn found(customer: Customer) -> HttpResponse {
    with_etag(HttpResponse::Ok(), customer.version).json(customer)
}

/// Create a customer
///
/// Adds a customer to the calling partner. `tenant_id` must be unique among the partner's
/// customers (another partner may have the same tenant as a customer, as in Partner Center) and
/// must not be the partner's own tenant (that is not covered by escalation support).
#[utoipa::path(
    operation_id = "createCustomer",
    tag = TAG,
    request_body = CreateCustomer,
    responses(
        (status = 201, description = "Created.", body = Customer,
            headers(("Location" = String, description = "URL of the new customer."),
                    ("ETag" = String, description = "Version tag for `If-Match`."))),
        RequestFailures, BodyFailures,
        (status = 403, response = Forbidden),
        (status = 409, response = Conflict),
    ),
)]
#[post("/customers")]
#[tracing::instrument(skip_all)]
pub async fn create_customer(
    caller: Caller<PartnerOnly>,
    state: web::Data<AppState>,
    idempotency: Idempotency,
    body: ValidJson<CreateCustomer>,
) -> Result<HttpResponse, ApiError> {
    let partner_id = caller
        .partner_id
        .ok_or_else(|| ApiError::internal("partner key without partner"))?;
    let new = body.0.into_new()?;
    let partner = partners::get(&state.db, partner_id)
        .await?
        .ok_or_else(|| ApiError::internal("partner key for a missing partner"))?;
    if new.tenant_id == partner.tenant_id {
        return Err(ApiError::Unprocessable {
            code: "partner_own_tenant",
            detail: Text::new("problem-partner-own-tenant"),
            errors: vec![FieldError::new(
                "tenant_id",
                "partner_own_tenant",
                Text::new("field-partner-own-tenant"),
            )],
        });
    }
    idempotency.claim(&state.db).await?;
    let row = store::create(&state.db, &state.writes, partner_id, new)
        .await
        .on_unique(store::UNIQUE_KEYS)?;
    Ok(created(row.try_into()?))
}

/// List and search customers
///
/// Partners see their own customers; admins and operators see every partner's. Keyset-paginated,
/// oldest first, stable while customers are added.
#[utoipa::path(
    operation_id = "listCustomers",
    tag = TAG,
    params(CustomerQuery),
    responses(
        (status = 200, description = "A page of customers.", body = CustomerList,
            headers(("Link" = String, description = "`<…>; rel=\"next\"` when another page follows."))),
        RequestFailures,
    ),
)]
#[get("/customers")]
#[tracing::instrument(skip_all)]
pub async fn list_customers(
    caller: Caller<Anyone>,
    state: web::Data<AppState>,
    query: ValidQuery<CustomerQuery>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let query = query.0;
    let page = pagination::page_request(query.limit, query.cursor.as_deref())?;
    let filter = CustomerFilter {
        q: fields::search_text("q", query.q)?,
        partner_id: query.partner_id,
        country: query
            .country
            .as_deref()
            .map(|c| parsed("country", c, fields::parse_country))
            .transpose()?,
        support_plan: query.support_plan,
        tenant_id: query.tenant_id,
    };
    let rows = store::list(&state.db, caller.scope(), filter, page).await?;
    pagination::respond::<CustomerList, _>(&req, rows, Customer::try_from)
}

/// Get a customer
///
/// One customer with its primary contact. Partners read their own customers; staff any. Another
/// partner's customer is 404, as for one that does not exist.
#[utoipa::path(
    operation_id = "getCustomer",
    tag = TAG,
    params(("id" = Uuid, Path, description = "The customer's id.")),
    responses(
        (status = 200, description = "The customer.", body = Customer,
            headers(("ETag" = String, description = "Version tag for `If-Match`."))),
        ReadFailures,
    ),
)]
#[get("/customers/{id}")]
#[tracing::instrument(skip_all, fields(customer_id = %id))]
pub async fn get_customer(
    caller: Caller<Anyone>,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let row = store::get(&state.db, caller.scope(), *id)
        .await?
        .ok_or(ApiError::not_found("customer"))?;
    Ok(found(row.try_into()?))
}

/// Update a customer
///
/// Changes the fields sent and keeps the others. Requires `If-Match` with the customer's current
/// `ETag`: 428 without it, 412 if the customer changed since it was read.
#[utoipa::path(
    operation_id = "updateCustomer",
    tag = TAG,
    params(
        ("id" = Uuid, Path, description = "The customer's id."),
        ("If-Match" = inline(EntityTags), Header, description = "The `ETag` from your last read, e.g. `\"3\"`."),
    ),
    request_body = UpdateCustomer,
    responses(
        (status = 200, description = "The updated customer.", body = Customer,
            headers(("ETag" = String, description = "The new version tag."))),
        ReadFailures, BodyFailures, ConditionFailures,
        (status = 403, response = Forbidden),
    ),
)]
#[patch("/customers/{id}")]
#[tracing::instrument(skip_all, fields(customer_id = %id))]
pub async fn update_customer(
    caller: Caller<PartnerOnly>,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    body: ValidJson<UpdateCustomer>,
) -> Result<HttpResponse, ApiError> {
    let current = store::get(&state.db, caller.scope(), *id)
        .await?
        .ok_or(ApiError::not_found("customer"))?;
    let expected = if_match.check(current.version)?;
    let changes = body.0.into_changes()?;
    let updated = store::update(&state.db, &state.writes, current.id, &expected, changes)
        .await?
        .ok_or(ApiError::PreconditionFailed)?;
    Ok(found(updated.try_into()?))
}

/// Delete a customer
///
/// Refused (409) once escalations refer to the customer. Honours `If-Match` when sent.
#[utoipa::path(
    operation_id = "deleteCustomer",
    tag = TAG,
    params(
        ("id" = Uuid, Path, description = "The customer's id."),
        ("If-Match" = inline(Option<EntityTags>), Header, nullable = false, description = "Delete only at this version."),
    ),
    responses(
        (status = 204, description = "Deleted."),
        ReadFailures,
        (status = 403, response = Forbidden),
        (status = 409, response = Conflict),
        (status = 412, response = PreconditionFailed),
    ),
)]
#[delete("/customers/{id}")]
#[tracing::instrument(skip_all, fields(customer_id = %id))]
pub async fn delete_customer(
    caller: Caller<PartnerOnly>,
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
    if_match: OptionalIfMatch,
) -> Result<HttpResponse, ApiError> {
    let current = store::get(&state.db, caller.scope(), *id)
        .await?
        .ok_or(ApiError::not_found("customer"))?;
    if !if_match.0.admits(current.version) {
        return Err(ApiError::PreconditionFailed);
    }
    let in_use = || ApiError::Conflict {
        code: "customer_in_use",
        detail: Text::new("problem-customer-in-use"),
        errors: Vec::new(),
    };
    if escalations::exist_for_customer(&state.db, current.id).await? {
        return Err(in_use());
    }
    // An escalation created since the check above is caught by the foreign key.
    let deleted = store::delete(&state.db, current.id, &if_match.0)
        .await
        .map_err(|err| match err.sql_err() {
            Some(sea_orm::SqlErr::ForeignKeyConstraintViolation(_)) => in_use(),
            _ => err.into(),
        })?;
    if !deleted {
        // Changed or deleted between the read and the delete.
        return Err(match if_match.0 {
            VersionCheck::Any => ApiError::not_found("customer"),
            VersionCheck::OneOf(_) => ApiError::PreconditionFailed,
        });
    }
    Ok(HttpResponse::NoContent().finish())
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(create_customer)
        .service(list_customers)
        .service(get_customer)
        .service(update_customer)
        .service(delete_customer);
}
