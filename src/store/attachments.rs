//! Attachments' rows: what is known of each file kept in the attachment store. A row is written
//! only once its object is complete, with its audit event and its notice, in one transaction.

use std::collections::HashSet;

use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, FromQueryResult,
    QueryFilter, QuerySelect, Set,
};
use uuid::Uuid;

use super::escalations::{self, Actor, EventRecord};
use super::webhooks::{self, Notice};
use super::{Page, PageRequest, WriteGate, fetch_page};
use crate::domain::Scope;
use crate::domain::escalation::Status;
use crate::entity::attachment::{ActiveModel, Column, Entity, Model};
use crate::entity::escalation;

pub use crate::entity::attachment::Model as AttachmentRow;

/// What an escalation holds already.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, FromQueryResult)]
pub struct Usage {
    pub files: i64,
    pub bytes: i64,
}

/// How much one escalation may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    pub max_files: u32,
    pub max_total_bytes: u64,
}

impl Quota {
    /// The bytes a next file may have, or `None` when no more file fits.
    pub fn room(&self, usage: Usage) -> Option<u64> {
        let files = u64::try_from(usage.files).unwrap_or(u64::MAX);
        let bytes = u64::try_from(usage.bytes).unwrap_or(u64::MAX);
        (files < u64::from(self.max_files)).then(|| self.max_total_bytes.saturating_sub(bytes))
    }
}

pub async fn usage(
    db: &impl sea_orm::ConnectionTrait,
    escalation_id: Uuid,
) -> Result<Usage, DbErr> {
    let usage = Entity::find()
        .select_only()
        .column_as(Expr::cust("COUNT(*)"), "files")
        // PostgreSQL sums BIGINT as NUMERIC.
        .column_as(
            Expr::cust("CAST(COALESCE(SUM(size_bytes), 0) AS BIGINT)"),
            "bytes",
        )
        .filter(Column::EscalationId.eq(escalation_id))
        .into_model::<Usage>()
        .one(db)
        .await?;
    Ok(usage.unwrap_or_default())
}

/// A file completely stored, to record.
#[derive(Debug, Clone)]
pub struct NewAttachment {
    pub id: Uuid,
    pub filename: String,
    pub media_type: String,
    pub size_bytes: u64,
    pub sha256: String,
    pub uploader: Actor,
}

/// Why a stored file was not recorded, found under the escalation's lock.
#[derive(Debug)]
pub enum NotAdded {
    /// The escalation was closed meanwhile.
    Closed(Status),
    /// Another upload took the room meanwhile: what the escalation holds now.
    NoRoom(Usage),
    Db(DbErr),
}

impl From<DbErr> for NotAdded {
    fn from(err: DbErr) -> Self {
        Self::Db(err)
    }
}

/// Records `new` on `escalation` if it is still open and has room for it, with its
/// `attachment_added` event and notice. Concurrent uploads to one escalation take turns here
/// (the escalation's row is locked on PostgreSQL; SQLite's writers take turns anyway), so the
/// quota holds however many arrive at once.
#[tracing::instrument(skip_all, fields(escalation_id = %escalation.id))]
pub async fn add(
    db: &DatabaseConnection,
    gate: &WriteGate,
    escalation: &escalation::Model,
    new: NewAttachment,
    quota: Quota,
    announce: impl FnOnce(&Model) -> Result<Notice, DbErr>,
) -> Result<Model, NotAdded> {
    let txn = gate.begin(db).await?;
    let status = escalation::Entity::find_by_id(escalation.id)
        .select_only()
        .column(escalation::Column::Status)
        .lock_exclusive()
        .into_tuple::<String>()
        .one(&*txn)
        .await?
        .and_then(|status| Status::parse(&status))
        .ok_or_else(|| DbErr::RecordNotFound("the escalation".into()))?;
    if !status.is_open() {
        return Err(NotAdded::Closed(status));
    }
    let usage = usage(&*txn, escalation.id).await?;
    if quota.room(usage).is_none_or(|room| new.size_bytes > room) {
        return Err(NotAdded::NoRoom(usage));
    }
    let now = Utc::now();
    let row = ActiveModel {
        id: Set(new.id),
        escalation_id: Set(escalation.id),
        partner_id: Set(escalation.partner_id),
        filename: Set(new.filename),
        media_type: Set(new.media_type),
        size_bytes: Set(i64::try_from(new.size_bytes).map_err(|_| NotAdded::NoRoom(usage))?),
        sha256: Set(new.sha256),
        uploader_role: Set(new.uploader.role.as_str().to_owned()),
        uploader_id: Set(new.uploader.actor.id),
        uploader_kind: Set(new.uploader.actor.kind.as_str().to_owned()),
        uploader_name: Set(Some(new.uploader.actor.name.clone())),
        created_at: Set(now),
    }
    .insert(&*txn)
    .await?;
    let event = EventRecord {
        kind: "attachment_added",
        before: None,
        after: Some(summary(&row)),
    };
    escalations::record(&*txn, escalation, &new.uploader, event, now).await?;
    webhooks::enqueue(&*txn, announce(&row)?).await?;
    txn.commit().await?;
    Ok(row)
}

/// Deletes the attachment's row with its `attachment_removed` event and notice; `false` when
/// another request removed it first. The object is the caller's to delete once this commits.
#[tracing::instrument(skip_all, fields(id = %attachment.id))]
pub async fn remove(
    db: &DatabaseConnection,
    gate: &WriteGate,
    escalation: &escalation::Model,
    attachment: &Model,
    actor: &Actor,
    announce: impl FnOnce(&Model) -> Result<Notice, DbErr>,
) -> Result<bool, DbErr> {
    let txn = gate.begin(db).await?;
    let deleted = Entity::delete_by_id(attachment.id).exec(&*txn).await?;
    if deleted.rows_affected == 0 {
        return Ok(false);
    }
    let event = EventRecord {
        kind: "attachment_removed",
        before: Some(summary(attachment)),
        after: None,
    };
    escalations::record(&*txn, escalation, actor, event, Utc::now()).await?;
    webhooks::enqueue(&*txn, announce(attachment)?).await?;
    txn.commit().await?;
    Ok(true)
}

/// What the audit trail keeps of an attachment.
fn summary(row: &Model) -> serde_json::Value {
    serde_json::json!({
        "attachment_id": row.id,
        "filename": row.filename,
        "media_type": row.media_type,
        "size_bytes": row.size_bytes,
        "sha256": row.sha256,
    })
}

/// The attachment `id` of escalation `escalation_id`, if `scope` may see it: the row carries its
/// escalation's partner, so this one statement is the whole check.
pub async fn get(
    db: &DatabaseConnection,
    scope: Scope,
    escalation_id: Uuid,
    id: Uuid,
) -> Result<Option<Model>, DbErr> {
    let row = Entity::find_by_id(id)
        .filter(Column::EscalationId.eq(escalation_id))
        .one(db)
        .await?;
    Ok(row.filter(|row| scope.admits(row.partner_id)))
}

pub async fn list(
    db: &DatabaseConnection,
    escalation_id: Uuid,
    page: PageRequest,
) -> Result<Page<Model>, DbErr> {
    let select = Entity::find().filter(Column::EscalationId.eq(escalation_id));
    fetch_page(db, select, Column::Id, |row| row.id, page).await
}

/// Which of `ids` have a row.
pub async fn existing(db: &DatabaseConnection, ids: &[Uuid]) -> Result<HashSet<Uuid>, DbErr> {
    let mut found = HashSet::new();
    for batch in ids.chunks(500) {
        let rows: Vec<Uuid> = Entity::find()
            .select_only()
            .column(Column::Id)
            .filter(Column::Id.is_in(batch.iter().copied()))
            .into_tuple()
            .all(db)
            .await?;
        found.extend(rows);
    }
    Ok(found)
}
