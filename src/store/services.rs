//! The service catalog: what partners escalate about, and where its self-help lives.

use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, Set,
};
use serde_json::json;
use uuid::Uuid;

use super::{Page, PageRequest, VersionCheck, Versioned, fetch_page, update_versioned};
use crate::domain::{Category, DisplayName, HttpsUrl, ServiceKey, SupportHours, Title};
use crate::entity::service::{ActiveModel, Column, Entity, Model};
use crate::error::UniqueKey;
use crate::i18n::Text;

pub const UNIQUE_KEYS: &[UniqueKey] = &[UniqueKey {
    index: "ux_services_key",
    column: "services.key",
    field: "key",
    message: || Text::new("conflict-service-key"),
}];

/// A self-help resource: a title and where to read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelfHelpLink {
    pub title: Title,
    pub title_zh: Option<Title>,
    pub url: HttpsUrl,
}

#[derive(Debug, Clone)]
pub struct NewService {
    pub key: ServiceKey,
    pub name: DisplayName,
    pub name_zh: Option<DisplayName>,
    pub operated_by: DisplayName,
    pub first_party: bool,
    pub admin_center_url: HttpsUrl,
    pub support_hours: SupportHours,
    pub self_help: Vec<SelfHelpLink>,
    pub categories: Vec<Category>,
}

/// Fields an update changes; `None` leaves a field as it is. The key never changes.
#[derive(Debug, Clone, Default)]
pub struct ServiceChanges {
    pub name: Option<DisplayName>,
    pub name_zh: Option<DisplayName>,
    pub operated_by: Option<DisplayName>,
    pub first_party: Option<bool>,
    pub admin_center_url: Option<HttpsUrl>,
    pub support_hours: Option<SupportHours>,
    pub self_help: Option<Vec<SelfHelpLink>>,
    pub categories: Option<Vec<Category>>,
}

#[derive(Debug, Clone, Default)]
pub struct ServiceFilter {
    pub first_party: Option<bool>,
    pub operated_by: Option<String>,
}

fn self_help_json(links: Vec<SelfHelpLink>) -> serde_json::Value {
    links
        .into_iter()
        .map(|link| {
            let mut stored =
                json!({"title": link.title.into_inner(), "url": link.url.into_inner()});
            if let Some(title_zh) = link.title_zh {
                stored["title_zh"] = title_zh.into_inner().into();
            }
            stored
        })
        .collect()
}

fn categories_json(categories: Vec<Category>) -> serde_json::Value {
    categories.into_iter().map(|c| json!(c.as_str())).collect()
}

#[tracing::instrument(skip_all)]
pub async fn create(db: &DatabaseConnection, new: NewService) -> Result<Model, DbErr> {
    let now = Utc::now();
    ActiveModel {
        id: Set(Uuid::now_v7()),
        key: Set(new.key.into_inner()),
        name: Set(new.name.into_inner()),
        name_zh: Set(new.name_zh.map(DisplayName::into_inner)),
        operated_by: Set(new.operated_by.into_inner()),
        first_party: Set(new.first_party),
        admin_center_url: Set(new.admin_center_url.into_inner()),
        support_hours: Set(new.support_hours.as_str().to_owned()),
        self_help: Set(self_help_json(new.self_help)),
        categories: Set(categories_json(new.categories)),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await
}

#[tracing::instrument(skip_all, fields(key))]
pub async fn get(db: &DatabaseConnection, key: &str) -> Result<Option<Model>, DbErr> {
    Entity::find().filter(Column::Key.eq(key)).one(db).await
}

#[tracing::instrument(skip_all)]
pub async fn list(
    db: &DatabaseConnection,
    filter: ServiceFilter,
    page: PageRequest,
) -> Result<Page<Model>, DbErr> {
    let mut select = Entity::find();
    if let Some(first_party) = filter.first_party {
        select = select.filter(Column::FirstParty.eq(first_party));
    }
    if let Some(operated_by) = filter.operated_by {
        select = select.filter(Column::OperatedBy.eq(operated_by));
    }
    fetch_page(db, select, Column::Id, |row| row.id, page).await
}

#[tracing::instrument(skip_all, fields(id = %id))]
pub async fn update(
    db: &DatabaseConnection,
    id: Uuid,
    expected: &VersionCheck,
    changes: ServiceChanges,
) -> Result<Option<Model>, DbErr> {
    let mut assignments = Vec::new();
    if let Some(name) = changes.name {
        assignments.push((Column::Name, Expr::value(name.into_inner())));
    }
    if let Some(name_zh) = changes.name_zh {
        assignments.push((Column::NameZh, Expr::value(name_zh.into_inner())));
    }
    if let Some(operated_by) = changes.operated_by {
        assignments.push((Column::OperatedBy, Expr::value(operated_by.into_inner())));
    }
    if let Some(first_party) = changes.first_party {
        assignments.push((Column::FirstParty, Expr::value(first_party)));
    }
    if let Some(url) = changes.admin_center_url {
        assignments.push((Column::AdminCenterUrl, Expr::value(url.into_inner())));
    }
    if let Some(hours) = changes.support_hours {
        assignments.push((Column::SupportHours, Expr::value(hours.as_str())));
    }
    if let Some(links) = changes.self_help {
        assignments.push((Column::SelfHelp, Expr::value(self_help_json(links))));
    }
    if let Some(categories) = changes.categories {
        assignments.push((Column::Categories, Expr::value(categories_json(categories))));
    }
    let versioned = Versioned {
        id: Column::Id,
        version: Column::Version,
        updated_at: Column::UpdatedAt,
    };
    update_versioned::<Entity>(db, versioned, id, expected, assignments).await
}
