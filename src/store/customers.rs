//! Customers: each partner's end customers, the ones escalations are raised for.

use chrono::Utc;
use migration::search_text::{
    CUSTOMER_GRAM_COLUMNS, ESCALATION_GRAM_COLUMNS, customer_postings, escalation_postings,
    insert_rows,
};
use sea_orm::sea_query::{Expr, Order, Query, SelectStatement, SimpleExpr};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DbBackend,
    DbErr, EntityName, EntityTrait, ExprTrait, IdenStatic, QueryFilter, QuerySelect, QueryTrait,
    Select, Set,
};
use uuid::Uuid;

use super::search::{self, CUSTOMERS, ESCALATIONS, merged};
use super::{
    Page, PageRequest, VersionCheck, Versioned, WriteGate, bytewise, fetch_page, starts_with,
    update_versioned,
};
use crate::domain::search::SearchText;
use crate::domain::{
    CompanyName, CountryCode, DisplayName, DomainName, EmailAddress, PhoneNumber, Scope,
    SupportPlan,
};
use crate::entity::customer::{self, ActiveModel, Column, Entity, Model};
use crate::entity::customer_gram::{Column as GramColumn, Entity as GramEntity};
use crate::entity::{escalation, escalation_gram};
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
    /// Any part of the company name or the domain, or the start of the tenant id.
    pub q: Option<SearchText>,
    pub partner_id: Option<Uuid>,
    pub country: Option<CountryCode>,
    pub support_plan: Option<SupportPlan>,
    pub tenant_id: Option<Uuid>,
}

/// Stores a new customer and its search postings.
#[tracing::instrument(skip_all)]
pub async fn create(
    db: &DatabaseConnection,
    gate: &WriteGate,
    partner_id: Uuid,
    new: NewCustomer,
) -> Result<Model, DbErr> {
    let now = Utc::now();
    let contact = new.primary_contact;
    let txn = gate.begin(db).await?;
    let row = ActiveModel {
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
    .insert(&*txn)
    .await?;
    let postings = customer_postings(row.id, partner_id, &row.company_name_key, &row.domain);
    insert_rows(&*txn, CUSTOMERS.table, &CUSTOMER_GRAM_COLUMNS, postings).await?;
    txn.commit().await?;
    Ok(row)
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
    let Some(text) = &filter.q else {
        return fetch_page(db, filtered(scope, &filter), Column::Id, |row| row.id, page).await;
    };
    let partner_id = scope.partner_id().or(filter.partner_id);
    let lead = CUSTOMERS.lead_gram(db, text, partner_id).await?;
    let backend = db.get_database_backend();
    let statement = search_statement(backend, scope, &filter, lead.as_deref(), page);
    let rows = search::matches(db, statement).await?;
    Ok(Page::of(rows, page.limit, |row| row.id))
}

/// The customers `scope` sees that pass `filter`'s exact filters.
fn filtered(scope: Scope, filter: &CustomerFilter) -> Select<Entity> {
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
    select
}

///
/// `lead` is the gram whose postings are read (the rarest of the query's); `None` when the
/// query is only the start of a tenant id. `None` when nothing can match.
pub fn search_statement(
    backend: DbBackend,
    scope: Scope,
    filter: &CustomerFilter,
    lead: Option<&str>,
    page: PageRequest,
) -> Option<SelectStatement> {
    const RANK: &str = "search_rank";
    let text = filter.q.as_ref()?;
    let select = filtered(scope, filter);
    let partner_id = scope.partner_id().or(filter.partner_id);
    let starts_name = starts_with(bytewise(backend, Column::CompanyNameKey), text.folded());
    let rank = || -> SimpleExpr {
        Expr::case(starts_name.clone(), Expr::val(0))
            .finally(Expr::val(1))
            .into()
    };
    // The group the cursor's customer was listed in: 0 when its name starts with the query.
    let cursor = page.after.map(|after| {
        let rank_of = Query::select()
            .expr(rank())
            .from(Entity)
            .and_where(Expr::col(Column::Id).eq(after))
            .take();
        (SimpleExpr::from(rank_of), after)
    });
    let limit = page.limit + 1;
    let mut branches = Vec::new();
    if let Some(lead) = lead {
        // The postings of `gram` whose flag is `starts`, listed in `group` and kept to `only`,
        // read in id order from the cursor on.
        let postings = |gram: &str, starts: bool, group: i32, only: Condition| {
            let mut query = select.clone().into_query();
            CUSTOMERS.read_through(&mut query, Entity.table_name(), text, gram, partner_id);
            query
                .and_where(CUSTOMERS.lead("starts_name").eq(starts))
                .cond_where(only)
                .expr_as(Expr::val(group), RANK);
            if let Some((cursor_rank, after)) = cursor.clone() {
                let from = match group {
                    // Names that start with the query: after the cursor, if it was one.
                    0 => {
                        query.and_where(cursor_rank.eq(0));
                        Expr::val(after)
                    }
                    // The rest: all of them when the cursor's name started with the query.
                    _ => {
                        let from: Expr = Expr::case(cursor_rank.eq(0), Expr::val(Uuid::nil()))
                            .finally(Expr::val(after))
                            .into();
                        // Typed for PostgreSQL, which reads a CASE of parameters as text when a
                        // statement is prepared without their types.
                        match backend {
                            DbBackend::Postgres => from.cast_as("uuid"),
                            _ => from,
                        }
                    }
                };
                query.and_where(CUSTOMERS.lead("customer_id").gt(from));
            }
            query
                .order_by_expr(CUSTOMERS.lead("customer_id"), Order::Asc)
                .limit(limit);
            query
        };
        let everything = Condition::all;
        if text.is_one_gram() {
            // A name starts with the query exactly when the query's posting begins it.
            branches.push(postings(lead, true, 0, everything()));
            branches.push(postings(lead, false, 1, everything()));
        } else if let Some(first) = text.first_gram() {
            // A name that starts with the query begins with its first gram; the others are
            // read through the rarest gram, both where it begins a name and where it does not.
            branches.push(postings(
                first,
                true,
                0,
                everything().add(starts_name.clone()),
            ));
            for starts in [true, false] {
                let rest = everything().add(starts_name.clone().not());
                branches.push(postings(lead, starts, 1, rest));
            }
        } else {
            // A query whose first word is one character: every match is read, then ordered.
            let mut query = select.clone().into_query();
            CUSTOMERS.read_through(&mut query, Entity.table_name(), text, lead, partner_id);
            query.expr_as(rank(), RANK);
            if let Some((cursor_rank, after)) = cursor.clone() {
                query.and_where(
                    Expr::tuple([rank(), CUSTOMERS.lead("customer_id")])
                        .gt(Expr::tuple([cursor_rank, Expr::val(after)])),
                );
            }
            query
                .order_by_expr(rank(), Order::Asc)
                .order_by_expr(CUSTOMERS.lead("customer_id"), Order::Asc)
                .limit(limit);
            branches.push(query);
        }
    }
    if let Some((first, last)) = text.tenant_range() {
        let mut query = select
            .filter(Column::TenantId.between(first, last))
            .into_query();
        if lead.is_some() {
            // Those the text found already.
            query.cond_where(
                CUSTOMERS
                    .has_all(text, None, (Entity.table_name(), Column::Id.as_str()))
                    .not(),
            );
        }
        query.expr_as(rank(), RANK);
        if let Some((cursor_rank, after)) = cursor {
            query.and_where(
                Expr::tuple([rank(), Expr::col(Column::Id)])
                    .gt(Expr::tuple([cursor_rank, Expr::val(after)])),
            );
        }
        query
            .order_by_expr(rank(), Order::Asc)
            .order_by(Column::Id, Order::Asc)
            .limit(limit);
        branches.push(query);
    }
    (!branches.is_empty())
        .then(|| merged(branches, &[(RANK, Order::Asc), ("id", Order::Asc)], limit))
}

/// Applies `changes` if the customer is at an admitted version; `None` when it is not. A new
/// name or domain replaces the customer's search postings, and its escalations', in the same
/// transaction.
#[tracing::instrument(skip_all, fields(id = %id))]
pub async fn update(
    db: &DatabaseConnection,
    gate: &WriteGate,
    id: Uuid,
    expected: &VersionCheck,
    changes: CustomerChanges,
) -> Result<Option<Model>, DbErr> {
    let searched = changes.company_name.is_some() || changes.domain.is_some();
    let assignments = assignments(changes);
    if !searched {
        return update_versioned::<Entity>(db, VERSIONED, id, expected, assignments).await;
    }
    let txn = gate.begin(db).await?;
    let updated = update_versioned::<Entity>(&*txn, VERSIONED, id, expected, assignments).await?;
    if let Some(row) = &updated {
        reindex(&*txn, row).await?;
    }
    txn.commit().await?;
    Ok(updated)
}

/// Replaces the search postings of `customer` and of its escalations with those of its name and
/// domain now.
async fn reindex(txn: &impl ConnectionTrait, customer: &Model) -> Result<(), DbErr> {
    let stale: Vec<String> = GramEntity::find()
        .select_only()
        .column(GramColumn::Gram)
        .filter(GramColumn::CustomerId.eq(customer.id))
        .into_tuple()
        .all(txn)
        .await?;
    GramEntity::delete_many()
        .filter(GramColumn::CustomerId.eq(customer.id))
        .exec(txn)
        .await?;
    let (key, domain) = (&customer.company_name_key, &customer.domain);
    let postings = customer_postings(customer.id, customer.partner_id, key, domain);
    insert_rows(txn, CUSTOMERS.table, &CUSTOMER_GRAM_COLUMNS, postings).await?;
    let escalations: Vec<(Uuid, String)> = escalation::Entity::find()
        .select_only()
        .columns([escalation::Column::Id, escalation::Column::Title])
        .filter(escalation::Column::CustomerId.eq(customer.id))
        .into_tuple()
        .all(txn)
        .await?;
    if escalations.is_empty() {
        return Ok(());
    }
    // The customer's old grams go from its escalations (their titles' come back below).
    let of_customer = Query::select()
        .column(escalation::Column::Id)
        .from(escalation::Entity)
        .and_where(Expr::col(escalation::Column::CustomerId).eq(customer.id))
        .take();
    escalation_gram::Entity::delete_many()
        .filter(escalation_gram::Column::PartnerId.eq(customer.partner_id))
        .filter(escalation_gram::Column::Gram.is_in(stale))
        .filter(escalation_gram::Column::EscalationId.in_subquery(of_customer))
        .exec(txn)
        .await?;
    let postings = escalations.into_iter().flat_map(|(id, title)| {
        escalation_postings(id, customer.partner_id, &title, key, domain).collect::<Vec<_>>()
    });
    insert_rows(txn, ESCALATIONS.table, &ESCALATION_GRAM_COLUMNS, postings).await
}

fn assignments(changes: CustomerChanges) -> Vec<(Column, SimpleExpr)> {
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
    assignments
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
