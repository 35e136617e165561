//! Service health: incidents on services and the updates published about them.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    ExprTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

use super::webhooks::{self, Notice};
use super::{Page, PageRequest, VersionCheck, Versioned, WriteGate, fetch_page, update_versioned};
use crate::domain::{IncidentSeverity, IncidentStatus, Paragraph, ServiceKey, Title};
use crate::entity::service_incident::{ActiveModel, Column, Entity, Model};
use crate::entity::service_incident_update as update_entity;

/// An incident with its updates, oldest first.
#[derive(Debug, Clone)]
pub struct Incident {
    pub row: Model,
    pub updates: Vec<update_entity::Model>,
}

#[derive(Debug, Clone)]
pub struct NewIncident {
    pub service_key: ServiceKey,
    pub title: Title,
    pub title_zh: Option<Title>,
    pub severity: IncidentSeverity,
    pub status: IncidentStatus,
    pub started_at: DateTime<Utc>,
}

/// Fields an update changes; `None` leaves a field as it is. Moving to `resolved` sets
/// `resolved_at`.
#[derive(Debug, Clone, Default)]
pub struct IncidentChanges {
    pub title: Option<Title>,
    pub title_zh: Option<Title>,
    pub severity: Option<IncidentSeverity>,
    pub status: Option<IncidentStatus>,
}

/// An update's text, and its Chinese version when the operator wrote one.
#[derive(Debug, Clone)]
pub struct IncidentText {
    pub text: Paragraph,
    pub text_zh: Option<Paragraph>,
}

#[derive(Debug, Clone, Default)]
pub struct IncidentFilter {
    pub service_key: Option<String>,
    pub status: Option<IncidentStatus>,
    /// Only unresolved incidents (`true`) or only resolved ones (`false`).
    pub active: Option<bool>,
    pub started_after: Option<DateTime<Utc>>,
    pub started_before: Option<DateTime<Utc>>,
}

const VERSIONED: Versioned<Column> = Versioned {
    id: Column::Id,
    version: Column::Version,
    updated_at: Column::UpdatedAt,
};

#[tracing::instrument(skip_all)]
pub async fn create(
    db: &DatabaseConnection,
    gate: &WriteGate,
    new: NewIncident,
    announce: impl FnOnce(&Incident) -> Result<Notice, DbErr>,
) -> Result<Incident, DbErr> {
    let now = Utc::now();
    let txn = gate.begin(db).await?;
    let row = ActiveModel {
        id: Set(Uuid::now_v7()),
        service_key: Set(new.service_key.into_inner()),
        title: Set(new.title.into_inner()),
        title_zh: Set(new.title_zh.map(Title::into_inner)),
        severity: Set(new.severity.as_str().to_owned()),
        status: Set(new.status.as_str().to_owned()),
        started_at: Set(new.started_at),
        resolved_at: Set((new.status == IncidentStatus::Resolved).then_some(now)),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&*txn)
    .await?;
    let incident = Incident {
        row,
        updates: Vec::new(),
    };
    webhooks::enqueue(&*txn, announce(&incident)?).await?;
    txn.commit().await?;
    Ok(incident)
}

#[tracing::instrument(skip_all, fields(id = %id))]
pub async fn get(db: &DatabaseConnection, id: Uuid) -> Result<Option<Incident>, DbErr> {
    let Some(row) = Entity::find_by_id(id).one(db).await? else {
        return Ok(None);
    };
    let mut updates = updates_of(db, &[row.id]).await?;
    Ok(Some(Incident {
        updates: updates.remove(&row.id).unwrap_or_default(),
        row,
    }))
}

/// The updates of these incidents, oldest first, in one query.
async fn updates_of(
    db: &impl ConnectionTrait,
    ids: &[Uuid],
) -> Result<HashMap<Uuid, Vec<update_entity::Model>>, DbErr> {
    let mut by_incident: HashMap<Uuid, Vec<update_entity::Model>> = HashMap::new();
    if ids.is_empty() {
        return Ok(by_incident);
    }
    let rows = update_entity::Entity::find()
        .filter(update_entity::Column::IncidentId.is_in(ids.iter().copied()))
        .order_by_asc(update_entity::Column::Id)
        .all(db)
        .await?;
    for row in rows {
        by_incident.entry(row.incident_id).or_default().push(row);
    }
    Ok(by_incident)
}

fn with_updates(
    rows: Vec<Model>,
    mut updates: HashMap<Uuid, Vec<update_entity::Model>>,
) -> Vec<Incident> {
    rows.into_iter()
        .map(|row| Incident {
            updates: updates.remove(&row.id).unwrap_or_default(),
            row,
        })
        .collect()
}

#[tracing::instrument(skip_all)]
pub async fn list(
    db: &DatabaseConnection,
    filter: IncidentFilter,
    page: PageRequest,
) -> Result<Page<Incident>, DbErr> {
    let mut select = Entity::find();
    if let Some(service_key) = filter.service_key {
        select = select.filter(Column::ServiceKey.eq(service_key));
    }
    if let Some(status) = filter.status {
        select = select.filter(Column::Status.eq(status.as_str()));
    }
    match filter.active {
        Some(true) => select = select.filter(Column::Status.ne(IncidentStatus::Resolved.as_str())),
        Some(false) => select = select.filter(Column::Status.eq(IncidentStatus::Resolved.as_str())),
        None => {}
    }
    if let Some(after) = filter.started_after {
        select = select.filter(Column::StartedAt.gte(after));
    }
    if let Some(before) = filter.started_before {
        select = select.filter(Column::StartedAt.lt(before));
    }
    let page = fetch_page(db, select, Column::Id, |row| row.id, page).await?;
    let ids: Vec<Uuid> = page.items.iter().map(|row| row.id).collect();
    let updates = updates_of(db, &ids).await?;
    Ok(Page {
        items: with_updates(page.items, updates),
        next_after: page.next_after,
    })
}

/// Unresolved incidents on a service, oldest first: what self-help and the escalation criteria
/// look at.
pub async fn active_on(db: &DatabaseConnection, service_key: &str) -> Result<Vec<Incident>, DbErr> {
    let rows = Entity::find()
        .filter(Column::ServiceKey.eq(service_key))
        .filter(Column::Status.ne(IncidentStatus::Resolved.as_str()))
        .order_by_asc(Column::Id)
        .all(db)
        .await?;
    let ids: Vec<Uuid> = rows.iter().map(|row| row.id).collect();
    let updates = updates_of(db, &ids).await?;
    Ok(with_updates(rows, updates))
}

/// The ids of the unresolved incidents on a service: all the escalation criteria need.
pub async fn active_ids_on(db: &DatabaseConnection, service_key: &str) -> Result<Vec<Uuid>, DbErr> {
    Entity::find()
        .select_only()
        .column(Column::Id)
        .filter(Column::ServiceKey.eq(service_key))
        .filter(Column::Status.ne(IncidentStatus::Resolved.as_str()))
        .into_tuple()
        .all(db)
        .await
}

#[tracing::instrument(skip_all, fields(id = %id))]
pub async fn update(
    db: &DatabaseConnection,
    gate: &WriteGate,
    id: Uuid,
    expected: &VersionCheck,
    changes: IncidentChanges,
    announce_resolution: impl FnOnce(&Incident) -> Result<Notice, DbErr>,
) -> Result<Option<Incident>, DbErr> {
    let txn = gate.begin(db).await?;
    // Whether this update is the one that resolves the incident: the status is set first, only
    // where it is not yet `resolved`, so that of concurrent resolutions exactly one is told.
    let resolves = match changes.status {
        Some(IncidentStatus::Resolved) => {
            let resolving = Entity::update_many()
                .col_expr(
                    Column::Status,
                    Expr::value(IncidentStatus::Resolved.as_str()),
                )
                .filter(Column::Id.eq(id))
                .filter(Column::Status.ne(IncidentStatus::Resolved.as_str()));
            let resolving = expected.filter::<Entity, _>(resolving, Column::Version);
            resolving.exec(&*txn).await?.rows_affected == 1
        }
        _ => false,
    };
    let mut assignments = Vec::new();
    if let Some(title) = changes.title {
        assignments.push((Column::Title, Expr::value(title.into_inner())));
    }
    if let Some(title_zh) = changes.title_zh {
        assignments.push((Column::TitleZh, Expr::value(title_zh.into_inner())));
    }
    if let Some(severity) = changes.severity {
        assignments.push((Column::Severity, Expr::value(severity.as_str())));
    }
    if let Some(status) = changes.status {
        assignments.push((Column::Status, Expr::value(status.as_str())));
        if status == IncidentStatus::Resolved {
            // Only the first resolution sets the time: resolving again keeps it.
            let now = Expr::value(Utc::now());
            let resolved_at = Expr::col(Column::ResolvedAt).if_null(now);
            assignments.push((Column::ResolvedAt, resolved_at));
        }
    }
    let Some(row) = update_versioned::<Entity>(&*txn, VERSIONED, id, expected, assignments).await?
    else {
        return Ok(None);
    };
    let mut updates = updates_of(&*txn, &[row.id]).await?;
    let incident = Incident {
        updates: updates.remove(&row.id).unwrap_or_default(),
        row,
    };
    if resolves {
        webhooks::enqueue(&*txn, announce_resolution(&incident)?).await?;
    }
    txn.commit().await?;
    Ok(Some(incident))
}

/// Publishes an update: the text is appended and the incident's version moves, in one
/// transaction. `None` when the incident does not exist.
#[tracing::instrument(skip_all, fields(id = %id))]
pub async fn publish_update(
    db: &DatabaseConnection,
    gate: &WriteGate,
    id: Uuid,
    text: IncidentText,
) -> Result<Option<Incident>, DbErr> {
    let txn = gate.begin(db).await?;
    let now = Utc::now();
    let bumped = Entity::update_many()
        .col_expr(Column::Version, Expr::col(Column::Version).add(1))
        .col_expr(Column::UpdatedAt, Expr::value(now))
        .filter(Column::Id.eq(id))
        .exec(&*txn)
        .await?;
    if bumped.rows_affected == 0 {
        return Ok(None);
    }
    update_entity::ActiveModel {
        id: Set(Uuid::now_v7()),
        incident_id: Set(id),
        published_at: Set(now),
        text: Set(text.text.into_inner()),
        text_zh: Set(text.text_zh.map(Paragraph::into_inner)),
    }
    .insert(&*txn)
    .await?;
    txn.commit().await?;
    get(db, id).await
}
