//! Remediation plans: what 21Vianet asks of a partner that escalates incorrectly.

use chrono::{NaiveDate, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, Set,
};
use uuid::Uuid;

use super::webhooks::{self, Notice};
use super::{Page, PageRequest, VersionCheck, Versioned, WriteGate, fetch_page, update_versioned};
use crate::domain::Paragraph;
use crate::domain::remediation::PlanStatus;
use crate::entity::remediation_plan::{ActiveModel, Column, Entity, Model};

#[tracing::instrument(skip_all, fields(partner_id = %partner_id))]
pub async fn create(
    db: &DatabaseConnection,
    gate: &WriteGate,
    partner_id: Uuid,
    reason: Paragraph,
    respond_by: NaiveDate,
    announce: impl FnOnce(&Model) -> Result<Notice, DbErr>,
) -> Result<Model, DbErr> {
    let now = Utc::now();
    let txn = gate.begin(db).await?;
    let plan = ActiveModel {
        id: Set(Uuid::now_v7()),
        partner_id: Set(partner_id),
        reason: Set(reason.into_inner()),
        respond_by: Set(respond_by),
        status: Set(PlanStatus::Requested.as_str().to_owned()),
        acknowledged_at: Set(None),
        completed_at: Set(None),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&*txn)
    .await?;
    webhooks::enqueue(&*txn, announce(&plan)?).await?;
    txn.commit().await?;
    Ok(plan)
}

/// The plan if it belongs to this partner.
pub async fn get(
    db: &DatabaseConnection,
    partner_id: Uuid,
    id: Uuid,
) -> Result<Option<Model>, DbErr> {
    let row = Entity::find_by_id(id).one(db).await?;
    Ok(row.filter(|row| row.partner_id == partner_id))
}

pub async fn list(
    db: &DatabaseConnection,
    partner_id: Uuid,
    page: PageRequest,
) -> Result<Page<Model>, DbErr> {
    let select = Entity::find().filter(Column::PartnerId.eq(partner_id));
    fetch_page(db, select, Column::Id, |row| row.id, page).await
}

/// Moves the plan to `to`, stamping when, if it is at an admitted version.
#[tracing::instrument(skip_all, fields(id = %id))]
pub async fn advance(
    db: &DatabaseConnection,
    id: Uuid,
    expected: &VersionCheck,
    to: PlanStatus,
) -> Result<Option<Model>, DbErr> {
    let mut assignments = vec![(Column::Status, Expr::value(to.as_str()))];
    let stamp = match to {
        PlanStatus::Acknowledged => Some(Column::AcknowledgedAt),
        PlanStatus::Completed => Some(Column::CompletedAt),
        PlanStatus::Requested => None,
    };
    if let Some(column) = stamp {
        assignments.push((column, Expr::value(Utc::now())));
    }
    let versioned = Versioned {
        id: Column::Id,
        version: Column::Version,
        updated_at: Column::UpdatedAt,
    };
    update_versioned::<Entity>(db, versioned, id, expected, assignments).await
}

/// Plans still `requested` after their deadline, as of `today`.
pub async fn overdue_count(
    db: &DatabaseConnection,
    partner_id: Uuid,
    today: NaiveDate,
) -> Result<u64, DbErr> {
    Entity::find()
        .filter(Column::PartnerId.eq(partner_id))
        .filter(Column::Status.eq(PlanStatus::Requested.as_str()))
        .filter(Column::RespondBy.lt(today))
        .count(db)
        .await
}
