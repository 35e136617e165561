//! Customers: each partner's end customers, the ones escalations are raised for.

use chrono::Utc;
use sea_orm::sea_query::{Alias, Asterisk, Expr, Query, SimpleExpr, UnionType};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, DatabaseConnection, DbErr, EntityTrait, ExprTrait,
    FromQueryResult, IdenStatic, QueryFilter, QueryOrder, QuerySelect, QueryTrait, Select, Set,
};
use uuid::Uuid;

use super::{
    Page, PageRequest, VersionCheck, Versioned, bytewise, fetch_page, starts_with, update_versioned,
};
use crate::domain::{
    CompanyName, CountryCode, DisplayName, DomainName, EmailAddress, PhoneNumber, Scope,
    SupportPlan,
};
use crate::entity::customer::{self, ActiveModel, Column, Entity, Model};
use crate::error::UniqueKey;
use crate::i18n::Text;

/// The unique indexes a write can collide with.
pub const UNIQUE_KEYS: &[UniqueKey] = &[UniqueKey {
    index: "ux_customers_partner_tenant",
    column: "customers.tenant_id",
    field: "tenant_id",
    message: || Text::new("conflict-customer-tenant"),
}];

/// The person at the customer that the partner deals with.
#[derive(Debug, Clone)]
pub struct Contact {
    pub name: DisplayName,
    pub email: EmailAddress,
    pub phone: Option<PhoneNumber>,
}

#[derive(Debug, Clone)]
pub struct NewCustomer {
    pub company_name: CompanyName,
    pub domain: DomainName,
    pub tenant_id: Uuid,
    pub country: CountryCode,
    pub support_plan: SupportPlan,
    pub primary_contact: Contact,
}

/// Fields an update changes; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct CustomerChanges {
    pub company_name: Option<CompanyName>,
    pub domain: Option<DomainName>,
    pub country: Option<CountryCode>,
    pub support_plan: Option<SupportPlan>,
    pub primary_contact: Option<Contact>,
}

#[derive(Debug, Clone, Default)]
pub struct CustomerFilter {
    /// Case-insensitive prefix of the company name or the domain.
    pub q: Option<String>,
    pub partner_id: Option<Uuid>,
    pub country: Option<CountryCode>,
    pub support_plan: Option<SupportPlan>,
    pub tenant_id: Option<Uuid>,
}

#[tracing::instrument(skip_all)]
pub async fn create(
    db: &DatabaseConnection,
    partner_id: Uuid,
    new: NewCustomer,
) -> Result<Model, DbErr> {
    let now = Utc::now();
    let contact = new.primary_contact;
    ActiveModel {
        id: Set(Uuid::now_v7()),
        partner_id: Set(partner_id),
        company_name_key: Set(new.company_name.search_key()),
        company_name: Set(new.company_name.into_inner()),
        domain: Set(new.domain.into_inner()),
        tenant_id: Set(new.tenant_id),
        country: Set(new.country.as_str().to_owned()),
        support_plan: Set(new.support_plan.as_str().to_owned()),
        contact_name: Set(contact.name.into_inner()),
        contact_email: Set(contact.email.into_inner()),
        contact_phone: Set(contact.phone.map(PhoneNumber::into_inner)),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await
}

/// The customer, if it exists and the scope may see it.
#[tracing::instrument(skip_all, fields(id = %id))]
pub async fn get(db: &DatabaseConnection, scope: Scope, id: Uuid) -> Result<Option<Model>, DbErr> {
    let row = Entity::find_by_id(id).one(db).await?;
    Ok(row.filter(|row| scope.admits(row.partner_id)))
}

#[tracing::instrument(skip_all)]
pub async fn list(
    db: &DatabaseConnection,
    scope: Scope,
    filter: CustomerFilter,
    page: PageRequest,
) -> Result<Page<Model>, DbErr> {
    let mut select = Entity::find();
    // Both apply: a partner filtering on another partner sees nothing, as for any foreign data.
    for partner_id in [scope.partner_id(), filter.partner_id]
        .into_iter()
        .flatten()
    {
        select = select.filter(Column::PartnerId.eq(partner_id));
    }
    if let Some(country) = filter.country {
        select = select.filter(Column::Country.eq(country.as_str()));
    }
    if let Some(plan) = filter.support_plan {
        select = select.filter(Column::SupportPlan.eq(plan.as_str()));
    }
    if let Some(tenant_id) = filter.tenant_id {
        select = select.filter(Column::TenantId.eq(tenant_id));
    }
    match filter.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        Some(q) => search(db, select, &q.to_lowercase(), page).await,
        None => fetch_page(db, select, Column::Id, |row| row.id, page).await,
    }
}

/// The customers of `select` whose company name or domain starts with `prefix`, ordered by the
/// text that matched (the name when both do), byte by byte, then by id. Each of the two is read
/// from its index in that order from the cursor on, one page at most, and the two pages merged:
/// a search reads about two pages of rows however deep its page and however many customers
/// match, under any query plan.
async fn search(
    db: &DatabaseConnection,
    select: Select<Entity>,
    prefix: &str,
    page: PageRequest,
) -> Result<Page<Model>, DbErr> {
    const SORT_KEY: &str = "sort_key";
    let backend = db.get_database_backend();
    let key = |column: Column| bytewise(backend, column);
    let name_matches = starts_with(key(Column::CompanyNameKey), prefix);
    // Where the cursor's customer stands: the sort key it was listed under, and its id.
    let cursor = page.after.map(|after| {
        let sort_key = Query::select()
            .expr(
                Expr::case(name_matches.clone(), key(Column::CompanyNameKey))
                    .finally(key(Column::Domain)),
            )
            .from(Entity)
            .and_where(Expr::col(Column::Id).eq(after))
            .take();
        (SimpleExpr::from(sort_key), after)
    });
    let branch = |column: Column, exclude: Option<Condition>| {
        let mut branch = select
            .clone()
            .filter(starts_with(key(column), prefix))
            .expr_as(key(column), SORT_KEY);
        if let Some(exclude) = exclude {
            branch = branch.filter(exclude.not());
        }
        if let Some((sort_key, after)) = &cursor {
            branch = branch.filter(key(column).gte(sort_key.clone())).filter(
                Condition::any()
                    .add(key(column).gt(sort_key.clone()))
                    .add(Column::Id.gt(*after)),
            );
        }
        let branch = branch
            .order_by(key(column), sea_orm::Order::Asc)
            .order_by_asc(Column::Id)
            .limit(page.limit + 1)
            .into_query();
        Query::select()
            .column(Asterisk)
            .from_subquery(branch, Alias::new(column.as_str()))
            .take()
    };
    let mut names = branch(Column::CompanyNameKey, None);
    let domains = branch(Column::Domain, Some(name_matches));
    let merged = Query::select()
        .column(Asterisk)
        .from_subquery(
            names.union(UnionType::All, domains).take(),
            Alias::new("matches"),
        )
        .order_by(Alias::new(SORT_KEY), sea_orm::Order::Asc)
        .order_by(Column::Id, sea_orm::Order::Asc)
        .limit(page.limit + 1)
        .take();
    let rows = Model::find_by_statement(backend.build(&merged))
        .all(db)
        .await?;
    Ok(Page::of(rows, page.limit, |row| row.id))
}

/// Applies `changes` if the customer is at an admitted version; `None` when it is not.
#[tracing::instrument(skip_all, fields(id = %id))]
pub async fn update(
    db: &DatabaseConnection,
    id: Uuid,
    expected: &VersionCheck,
    changes: CustomerChanges,
) -> Result<Option<Model>, DbErr> {
    let mut assignments = Vec::new();
    if let Some(name) = changes.company_name {
        assignments.push((Column::CompanyNameKey, Expr::value(name.search_key())));
        assignments.push((Column::CompanyName, Expr::value(name.into_inner())));
    }
    if let Some(domain) = changes.domain {
        assignments.push((Column::Domain, Expr::value(domain.into_inner())));
    }
    if let Some(country) = changes.country {
        assignments.push((Column::Country, Expr::value(country.as_str())));
    }
    if let Some(plan) = changes.support_plan {
        assignments.push((Column::SupportPlan, Expr::value(plan.as_str())));
    }
    if let Some(contact) = changes.primary_contact {
        assignments.push((Column::ContactName, Expr::value(contact.name.into_inner())));
        assignments.push((
            Column::ContactEmail,
            Expr::value(contact.email.into_inner()),
        ));
        let phone = contact.phone.map(PhoneNumber::into_inner);
        assignments.push((Column::ContactPhone, Expr::value(phone)));
    }
    update_versioned::<Entity>(db, VERSIONED, id, expected, assignments).await
}

const VERSIONED: Versioned<Column> = Versioned {
    id: Column::Id,
    version: Column::Version,
    updated_at: Column::UpdatedAt,
};

/// Deletes the customer if it is at an admitted version; whether a row went.
#[tracing::instrument(skip_all, fields(id = %id))]
pub async fn delete(
    db: &DatabaseConnection,
    id: Uuid,
    expected: &VersionCheck,
) -> Result<bool, DbErr> {
    let delete = Entity::delete_many().filter(Column::Id.eq(id));
    let delete = expected.filter::<customer::Entity, _>(delete, Column::Version);
    Ok(delete.exec(db).await?.rows_affected > 0)
}
