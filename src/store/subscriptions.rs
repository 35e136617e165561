//! Subscriptions: which services each customer has, and in what state.

use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, ExprTrait, QueryFilter,
    Set,
};
use uuid::Uuid;

use super::{Page, PageRequest, VersionCheck, Versioned, fetch_page, literal, update_versioned};
use crate::domain::{ServiceKey, SubscriptionStatus, Title};
use crate::entity::subscription::{ActiveModel, Column, Entity, Model};
use crate::error::UniqueKey;
use crate::i18n::Text;

/// One live (not deleted) subscription per customer and service.
pub const UNIQUE_KEYS: &[UniqueKey] = &[UniqueKey {
    index: "ux_subscriptions_live",
    column: "subscriptions.customer_id",
    field: "service_key",
    message: || Text::new("conflict-subscription-service"),
}];

#[derive(Debug, Clone)]
pub struct NewSubscription {
    pub service_key: ServiceKey,
    pub offer_name: Title,
    pub quantity: i32,
    pub status: SubscriptionStatus,
}

#[derive(Debug, Clone, Default)]
pub struct SubscriptionChanges {
    pub offer_name: Option<Title>,
    pub quantity: Option<i32>,
    pub status: Option<SubscriptionStatus>,
}

#[derive(Debug, Clone, Default)]
pub struct SubscriptionFilter {
    pub status: Option<SubscriptionStatus>,
    pub service_key: Option<String>,
}

/// The customer's partner is stored with each subscription, so tenant data can be distributed
/// by partner.
#[tracing::instrument(skip_all, fields(customer_id = %customer_id))]
pub async fn create(
    db: &DatabaseConnection,
    partner_id: Uuid,
    customer_id: Uuid,
    new: NewSubscription,
) -> Result<Model, DbErr> {
    let now = Utc::now();
    ActiveModel {
        id: Set(Uuid::now_v7()),
        partner_id: Set(partner_id),
        customer_id: Set(customer_id),
        service_key: Set(new.service_key.into_inner()),
        offer_name: Set(new.offer_name.into_inner()),
        quantity: Set(new.quantity),
        status: Set(new.status.as_str().to_owned()),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await
}

/// The subscription if it belongs to this customer.
#[tracing::instrument(skip_all, fields(id = %id))]
pub async fn get(
    db: &DatabaseConnection,
    customer_id: Uuid,
    id: Uuid,
) -> Result<Option<Model>, DbErr> {
    let row = Entity::find_by_id(id).one(db).await?;
    Ok(row.filter(|row| row.customer_id == customer_id))
}

#[tracing::instrument(skip_all, fields(customer_id = %customer_id))]
pub async fn list(
    db: &DatabaseConnection,
    customer_id: Uuid,
    filter: SubscriptionFilter,
    page: PageRequest,
) -> Result<Page<Model>, DbErr> {
    let mut select = Entity::find().filter(Column::CustomerId.eq(customer_id));
    if let Some(status) = filter.status {
        select = select.filter(Column::Status.eq(status.as_str()));
    }
    if let Some(service_key) = filter.service_key {
        select = select.filter(Column::ServiceKey.eq(service_key));
    }
    fetch_page(db, select, Column::Id, |row| row.id, page).await
}

/// The customer's live subscription to the service, if any.
pub async fn live(
    db: &DatabaseConnection,
    customer_id: Uuid,
    service_key: &str,
) -> Result<Option<Model>, DbErr> {
    Entity::find()
        .filter(Column::CustomerId.eq(customer_id))
        .filter(Column::ServiceKey.eq(service_key))
        .filter(Expr::col(Column::Status).ne(literal(SubscriptionStatus::Deleted.as_str())))
        .one(db)
        .await
}

#[tracing::instrument(skip_all, fields(id = %id))]
pub async fn update(
    db: &DatabaseConnection,
    id: Uuid,
    expected: &VersionCheck,
    changes: SubscriptionChanges,
) -> Result<Option<Model>, DbErr> {
    let mut assignments = Vec::new();
    if let Some(offer_name) = changes.offer_name {
        assignments.push((Column::OfferName, Expr::value(offer_name.into_inner())));
    }
    if let Some(quantity) = changes.quantity {
        assignments.push((Column::Quantity, Expr::value(quantity)));
    }
    if let Some(status) = changes.status {
        assignments.push((Column::Status, Expr::value(status.as_str())));
    }
    let versioned = Versioned {
        id: Column::Id,
        version: Column::Version,
        updated_at: Column::UpdatedAt,
    };
    update_versioned::<Entity>(db, versioned, id, expected, assignments).await
}
