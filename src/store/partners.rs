//! Partners: the CSP partners escalade serves.

use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, Set,
};
use uuid::Uuid;

use super::{Page, PageRequest, VersionCheck, Versioned, fetch_page, update_versioned};
use crate::domain::{CountryCode, DisplayName, MpnId, PartnerStatus};
use crate::entity::partner::{ActiveModel, Column, Entity, Model};
use crate::error::UniqueKey;
use crate::i18n::Text;

/// The unique indexes a write can collide with.
pub const UNIQUE_KEYS: &[UniqueKey] = &[
    UniqueKey {
        index: "ux_partners_mpn_id",
        column: "partners.mpn_id",
        field: "mpn_id",
        message: || Text::new("conflict-partner-mpn-id"),
    },
    UniqueKey {
        index: "ux_partners_tenant_id",
        column: "partners.tenant_id",
        field: "tenant_id",
        message: || Text::new("conflict-partner-tenant"),
    },
];

#[derive(Debug, Clone)]
pub struct NewPartner {
    pub name: DisplayName,
    pub mpn_id: MpnId,
    pub tenant_id: Uuid,
    pub country: CountryCode,
}

/// Fields an update changes; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct PartnerChanges {
    pub name: Option<DisplayName>,
    pub mpn_id: Option<MpnId>,
    pub country: Option<CountryCode>,
    pub status: Option<PartnerStatus>,
}

#[derive(Debug, Clone, Default)]
pub struct PartnerFilter {
    pub status: Option<PartnerStatus>,
    pub country: Option<CountryCode>,
}

#[tracing::instrument(skip_all)]
pub async fn create(db: &DatabaseConnection, new: NewPartner) -> Result<Model, DbErr> {
    let now = Utc::now();
    ActiveModel {
        id: Set(Uuid::now_v7()),
        name: Set(new.name.into_inner()),
        mpn_id: Set(new.mpn_id.into_inner()),
        tenant_id: Set(new.tenant_id),
        country: Set(new.country.as_str().to_owned()),
        status: Set(PartnerStatus::Active.as_str().to_owned()),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await
}

/// The partner whose own directory tenant is `tenant_id`, if one is registered.
pub async fn by_tenant(db: &DatabaseConnection, tenant_id: Uuid) -> Result<Option<Model>, DbErr> {
    Entity::find()
        .filter(Column::TenantId.eq(tenant_id))
        .one(db)
        .await
}

#[tracing::instrument(skip_all, fields(id = %id))]

pub async fn get(db: &DatabaseConnection, id: Uuid) -> Result<Option<Model>, DbErr> {
    Entity::find_by_id(id).one(db).await
}

#[tracing::instrument(skip_all)]
pub async fn list(
    db: &DatabaseConnection,
    filter: PartnerFilter,
    page: PageRequest,
) -> Result<Page<Model>, DbErr> {
    let mut select = Entity::find();
    if let Some(status) = filter.status {
        select = select.filter(Column::Status.eq(status.as_str()));
    }
    if let Some(country) = filter.country {
        select = select.filter(Column::Country.eq(country.as_str()));
    }
    fetch_page(db, select, Column::Id, |row| row.id, page).await
}

/// Applies `changes` if the partner is at an admitted version; `None` when it is not (or is
/// gone), so the caller can tell a stale `If-Match` from a missing row.
#[tracing::instrument(skip_all, fields(id = %id))]
pub async fn update(
    db: &DatabaseConnection,
    id: Uuid,
    expected: &VersionCheck,
    changes: PartnerChanges,
) -> Result<Option<Model>, DbErr> {
    let mut assignments = Vec::new();
    if let Some(name) = changes.name {
        assignments.push((Column::Name, Expr::value(name.into_inner())));
    }
    if let Some(mpn_id) = changes.mpn_id {
        assignments.push((Column::MpnId, Expr::value(mpn_id.into_inner())));
    }
    if let Some(country) = changes.country {
        assignments.push((Column::Country, Expr::value(country.as_str())));
    }
    if let Some(status) = changes.status {
        assignments.push((Column::Status, Expr::value(status.as_str())));
    }
    update_versioned::<Entity>(db, VERSIONED, id, expected, assignments).await
}

const VERSIONED: Versioned<Column> = Versioned {
    id: Column::Id,
    version: Column::Version,
    updated_at: Column::UpdatedAt,
};

#[tracing::instrument(skip_all)]
pub async fn find_by_tenant(
    db: &DatabaseConnection,
    tenant_id: Uuid,
) -> Result<Option<Model>, DbErr> {
    Entity::find()
        .filter(Column::TenantId.eq(tenant_id))
        .one(db)
        .await
}
