//! Escalations, their events and notes. Every change and its event are written in one
//! transaction, so the audit trail never misses or invents a change.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, InsertStatement, Query, SimpleExpr};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DbBackend,
    DbErr, EntityTrait, ExprTrait, FromQueryResult, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use uuid::Uuid;

use super::webhooks::{self, Notice};
use super::{Page, PageRequest, VersionCheck, Versioned, WriteGate, fetch_page, update_versioned};
use crate::domain::escalation::lifecycle::Side;
use crate::domain::escalation::sla::{SlaAlert, SlaClock};
use crate::domain::escalation::{Language, Severity, Status};
use crate::domain::{Category, Role, Scope};
use crate::entity::escalation::{Column, Entity, Model};
use crate::entity::{escalation_event as event, escalation_note as note};

pub use crate::entity::escalation::{Column as EscalationColumn, Model as EscalationRow};
pub use crate::entity::escalation_event::Model as EventRow;
pub use crate::entity::escalation_note::Model as NoteRow;

/// The index that keeps one open escalation per customer, service and category.
const OPEN_INDEX: (&str, &str) = ("ux_escalations_open", "escalations.customer_id");

/// Who made a change.
#[derive(Debug, Clone, Copy)]
pub struct Actor {
    pub role: Role,
    pub key_id: Uuid,
}

/// An entry of the audit trail, written with the change it records.
#[derive(Debug, Clone)]
pub struct EventRecord {
    pub kind: &'static str,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

/// A validated escalation, ready to store.
#[derive(Debug, Clone)]
pub struct NewEscalation {
    pub partner_id: Uuid,
    pub customer_id: Uuid,
    pub service_key: String,
    pub category: Category,
    pub severity: Severity,
    pub title: String,
    pub description: String,
    pub business_impact: String,
    pub problem_started_at: DateTime<Utc>,
    pub reasons: serde_json::Value,
    pub justification: Option<String>,
    pub troubleshooting: serde_json::Value,
    pub unrelated_incident_ids: serde_json::Value,
    pub contact: serde_json::Value,
    pub contact_language: Language,
}

/// What `create` did.
#[derive(Debug)]
pub enum Created {
    New(Model),
    /// Another open escalation for the same customer, service and category won.
    Duplicate(Model),
}

fn is_open_violation(err: &DbErr) -> bool {
    matches!(err.sql_err(), Some(sea_orm::SqlErr::UniqueConstraintViolation(detail))
        if detail.contains(OPEN_INDEX.0) || detail.contains(OPEN_INDEX.1))
}

/// The insert of a new escalation with its number drawn in the same statement: the next value
/// of a sequence on PostgreSQL; on SQLite, whose writers take turns, one more than the highest
/// so far. The number is `ESC-` and at least six digits.
fn numbered_insert(backend: DbBackend, values: Vec<(Column, Expr)>) -> InsertStatement {
    let (next, number) = match backend {
        DbBackend::Postgres => (
            Query::select()
                .expr_as(Expr::cust("nextval('escalation_numbers')"), "n")
                .take(),
            "'ESC-' || lpad(n::text, greatest(6, length(n::text)), '0')",
        ),
        _ => (
            Query::select()
                .expr_as(Expr::cust("COALESCE(MAX(seq), 0) + 1"), "n")
                .from(Entity)
                .take(),
            "printf('ESC-%06d', n)",
        ),
    };
    let mut columns = vec![Column::Seq, Column::Number];
    let mut exprs = vec![Expr::col("n"), Expr::cust(number)];
    for (column, value) in values {
        columns.push(column);
        exprs.push(value);
    }
    Query::insert()
        .into_table(Entity)
        .columns(columns)
        .select_from(
            Query::select()
                .exprs(exprs)
                .from_subquery(next, "next")
                .take(),
        )
        .expect("as many values as columns")
        .returning_all()
        .take()
}

async fn record(
    txn: &impl ConnectionTrait,
    escalation: &Model,
    actor: Actor,
    event: EventRecord,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    event::ActiveModel {
        id: Set(Uuid::now_v7()),
        escalation_id: Set(escalation.id),
        partner_id: Set(escalation.partner_id),
        kind: Set(event.kind.to_owned()),
        actor_role: Set(actor.role.as_str().to_owned()),
        actor_key_id: Set(Some(actor.key_id)),
        at: Set(at),
        before: Set(event.before),
        after: Set(event.after),
    }
    .insert(txn)
    .await?;
    Ok(())
}

/// Numbers and stores a new escalation, its SLA times on `clock`, its `created` event and the
/// notice it makes, in the outbox. An endpoint enabled while this runs may or may not hear of it.
#[tracing::instrument(skip_all, fields(customer_id = %new.customer_id))]
pub async fn create(
    db: &DatabaseConnection,
    gate: &WriteGate,
    clock: &SlaClock,
    new: NewEscalation,
    actor: Actor,
    snapshot: impl FnOnce(&Model) -> serde_json::Value,
    announce: impl FnOnce(&Model) -> Result<Notice, DbErr>,
) -> Result<Created, DbErr> {
    let now = Utc::now();
    let values = vec![
        (Column::Id, Expr::val(Uuid::now_v7())),
        (Column::PartnerId, Expr::val(new.partner_id)),
        (Column::CustomerId, Expr::val(new.customer_id)),
        (Column::ServiceKey, Expr::val(new.service_key.clone())),
        (Column::Category, Expr::val(new.category.as_str())),
        (Column::Severity, Expr::val(new.severity.as_str())),
        (Column::Title, Expr::val(new.title)),
        (Column::Description, Expr::val(new.description)),
        (Column::BusinessImpact, Expr::val(new.business_impact)),
        (Column::ProblemStartedAt, Expr::val(new.problem_started_at)),
        (Column::Reasons, Expr::val(new.reasons)),
        (Column::Justification, Expr::val(new.justification)),
        (Column::Troubleshooting, Expr::val(new.troubleshooting)),
        (
            Column::UnrelatedIncidentIds,
            Expr::val(new.unrelated_incident_ids),
        ),
        (Column::Contact, Expr::val(new.contact)),
        (
            Column::ContactLanguage,
            Expr::val(new.contact_language.tag()),
        ),
        (Column::Status, Expr::val(Status::Submitted.as_str())),
        (Column::Engineer, Expr::val(None::<serde_json::Value>)),
        // The clock starts at the very instant stored as `created_at`.
        (
            Column::ResponseDueAt,
            Expr::val(clock.response_due_at(new.severity, now)),
        ),
        (Column::FirstResponseAt, Expr::val(None::<DateTime<Utc>>)),
        (
            Column::SlaAlertAt,
            Expr::val(clock.warning_at(new.severity, now)),
        ),
        (
            Column::SlaWarningAnnouncedAt,
            Expr::val(None::<DateTime<Utc>>),
        ),
        (
            Column::SlaBreachAnnouncedAt,
            Expr::val(None::<DateTime<Utc>>),
        ),
        (Column::Resolution, Expr::val(None::<String>)),
        (Column::ResolvedAt, Expr::val(None::<DateTime<Utc>>)),
        (Column::Misescalation, Expr::val(false)),
        (Column::RejectionReason, Expr::val(None::<String>)),
        (Column::Version, Expr::val(1)),
        (Column::CreatedAt, Expr::val(now)),
        (Column::UpdatedAt, Expr::val(now)),
    ];
    let txn = gate.begin(db).await?;
    let insert = txn
        .get_database_backend()
        .build(&numbered_insert(txn.get_database_backend(), values));
    let inserted = Model::find_by_statement(insert)
        .one(&*txn)
        .await
        .and_then(|row| row.ok_or_else(|| DbErr::RecordNotInserted));
    let row = match inserted {
        Ok(row) => row,
        Err(err) if is_open_violation(&err) => {
            drop(txn);
            let open = open_duplicate(db, new.customer_id, &new.service_key, new.category).await?;
            return open.map(Created::Duplicate).ok_or_else(|| {
                DbErr::RecordNotFound("the open escalation that collided".to_owned())
            });
        }
        Err(err) => return Err(err),
    };
    let event = EventRecord {
        kind: "created",
        before: None,
        after: Some(snapshot(&row)),
    };
    record(&*txn, &row, actor, event, now).await?;
    webhooks::enqueue(&*txn, announce(&row)?).await?;
    txn.commit().await?;
    Ok(Created::New(row))
}

/// The open escalation for this customer, service and category, if any.
pub async fn open_duplicate(
    db: &DatabaseConnection,
    customer_id: Uuid,
    service_key: &str,
    category: Category,
) -> Result<Option<Model>, DbErr> {
    Entity::find()
        .filter(Column::CustomerId.eq(customer_id))
        .filter(Column::ServiceKey.eq(service_key))
        .filter(Column::Category.eq(category.as_str()))
        .filter(Column::Status.is_in(Status::OPEN.map(Status::as_str)))
        .one(db)
        .await
}

/// The escalation, if it exists and the scope may see it.
#[tracing::instrument(skip_all, fields(id = %id))]
pub async fn get(db: &DatabaseConnection, scope: Scope, id: Uuid) -> Result<Option<Model>, DbErr> {
    let row = Entity::find_by_id(id).one(db).await?;
    Ok(row.filter(|row| scope.admits(row.partner_id)))
}

/// Whether any escalation refers to the customer (which then cannot be deleted).
pub async fn exist_for_customer(db: &DatabaseConnection, customer_id: Uuid) -> Result<bool, DbErr> {
    let count = Entity::find()
        .filter(Column::CustomerId.eq(customer_id))
        .count(db)
        .await?;
    Ok(count > 0)
}

/// The order of a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// Newest first: what a partner follows.
    Newest,
    /// Earliest response due first: the triage queue.
    Due,
}

#[derive(Debug, Clone, Default)]
pub struct EscalationFilter {
    pub status: Option<Status>,
    pub severity: Option<Severity>,
    pub service_key: Option<String>,
    pub partner_id: Option<Uuid>,
    pub customer_id: Option<Uuid>,
    pub breached: Option<bool>,
    pub at_risk: Option<bool>,
    pub due_before: Option<DateTime<Utc>>,
    pub contact_language: Option<Language>,
}

/// The SLA breach as SQL: the first response came late, or has not come and is overdue.
fn breached_at(now: DateTime<Utc>) -> Condition {
    Condition::any()
        .add(
            Condition::all()
                .add(Column::FirstResponseAt.is_not_null())
                .add(Expr::col(Column::FirstResponseAt).gt(Expr::col(Column::ResponseDueAt))),
        )
        .add(
            Condition::all()
                .add(Column::FirstResponseAt.is_null())
                .add(Column::ResponseDueAt.lt(now)),
        )
}

/// At risk as SQL: open, unanswered and not yet due, with its warning time come (announced, or
/// the next alert, which is the warning until it is announced, due).
fn at_risk_at(now: DateTime<Utc>) -> Condition {
    Condition::all()
        .add(Column::Status.is_in(Status::OPEN.map(Status::as_str)))
        .add(Column::FirstResponseAt.is_null())
        .add(Column::ResponseDueAt.gte(now))
        .add(
            Condition::any()
                .add(Column::SlaWarningAnnouncedAt.is_not_null())
                .add(Column::SlaAlertAt.lte(now)),
        )
}

#[tracing::instrument(skip_all)]
pub async fn list(
    db: &DatabaseConnection,
    scope: Scope,
    filter: EscalationFilter,
    order: Order,
    page: PageRequest,
    now: DateTime<Utc>,
) -> Result<Page<Model>, DbErr> {
    let mut select = Entity::find();
    for partner_id in [scope.partner_id(), filter.partner_id]
        .into_iter()
        .flatten()
    {
        select = select.filter(Column::PartnerId.eq(partner_id));
    }
    if let Some(status) = filter.status {
        select = select.filter(Column::Status.eq(status.as_str()));
    }
    if let Some(severity) = filter.severity {
        select = select.filter(Column::Severity.eq(severity.as_str()));
    }
    if let Some(service_key) = filter.service_key {
        select = select.filter(Column::ServiceKey.eq(service_key));
    }
    if let Some(customer_id) = filter.customer_id {
        select = select.filter(Column::CustomerId.eq(customer_id));
    }
    match filter.breached {
        Some(true) => select = select.filter(breached_at(now)),
        Some(false) => select = select.filter(breached_at(now).not()),
        None => {}
    }
    match filter.at_risk {
        Some(true) => select = select.filter(at_risk_at(now)),
        Some(false) => select = select.filter(at_risk_at(now).not()),
        None => {}
    }
    if let Some(due_before) = filter.due_before {
        select = select.filter(Column::ResponseDueAt.lt(due_before));
    }
    if let Some(language) = filter.contact_language {
        select = select.filter(Column::ContactLanguage.eq(language.tag()));
    }
    match order {
        Order::Due => {
            // Keyset on (response_due_at, id), compared as one row value so the index on
            // those columns bounds the scan; the cursor's row gives the position.
            if let Some(after) = page.after {
                let of_cursor = |column: Column| {
                    Expr::from(
                        Query::select()
                            .column(column)
                            .from(Entity)
                            .and_where(Expr::col(Column::Id).eq(after))
                            .take(),
                    )
                };
                select = select.filter(
                    Expr::tuple([Expr::col(Column::ResponseDueAt), Expr::col(Column::Id)]).gt(
                        Expr::tuple([of_cursor(Column::ResponseDueAt), of_cursor(Column::Id)]),
                    ),
                );
            }
            let rows = select
                .order_by_asc(Column::ResponseDueAt)
                .order_by_asc(Column::Id)
                .limit(page.limit + 1)
                .all(db)
                .await?;
            Ok(Page::of(rows, page.limit, |row| row.id))
        }
        Order::Newest => {
            if let Some(after) = page.after {
                select = select.filter(Column::Id.lt(after));
            }
            let rows = select
                .order_by_desc(Column::Id)
                .limit(page.limit + 1)
                .all(db)
                .await?;
            Ok(Page::of(rows, page.limit, |row| row.id))
        }
    }
}

/// Escalations whose next SLA alert is due at `now`, earliest first.
pub async fn sla_alerts_due(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<Model>, DbErr> {
    Entity::find()
        .filter(Column::SlaAlertAt.lte(now))
        .order_by_asc(Column::SlaAlertAt)
        .order_by_asc(Column::Id)
        .limit(limit)
        .all(db)
        .await
}

/// Moves the escalation's next SLA alert to `next` (`None`: none remains).
pub async fn reschedule_sla_alert(
    db: &DatabaseConnection,
    id: Uuid,
    next: Option<DateTime<Utc>>,
) -> Result<(), DbErr> {
    Entity::update_many()
        .col_expr(Column::SlaAlertAt, Expr::val(next))
        .filter(Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// Announces `alert` for the escalation unless it was announced already (by this instance or
/// another) or the escalation was answered or closed since `row` was read: marks it, schedules
/// the next alert at `next`, and writes the notice, in one transaction. Whether this call
/// announced it.
#[tracing::instrument(skip_all, fields(id = %row.id, alert = ?alert))]
pub async fn announce_sla_alert(
    db: &DatabaseConnection,
    gate: &WriteGate,
    row: &Model,
    alert: SlaAlert,
    next: Option<DateTime<Utc>>,
    notice: Notice,
) -> Result<bool, DbErr> {
    let announced = match alert {
        SlaAlert::Warning => Column::SlaWarningAnnouncedAt,
        SlaAlert::Breach => Column::SlaBreachAnnouncedAt,
    };
    let txn = gate.begin(db).await?;
    let claimed = Entity::update_many()
        .col_expr(announced, Expr::val(Utc::now()))
        .col_expr(Column::SlaAlertAt, Expr::val(next))
        .filter(Column::Id.eq(row.id))
        .filter(announced.is_null())
        // Answered or closed since it was read: nothing to announce.
        .filter(Column::FirstResponseAt.is_null())
        .filter(Column::Status.is_in(Status::OPEN.map(Status::as_str)))
        .exec(&*txn)
        .await?;
    if claimed.rows_affected == 0 {
        return Ok(false);
    }
    webhooks::enqueue(&*txn, notice).await?;
    txn.commit().await?;
    Ok(true)
}

/// Open escalations at risk at `now`: unanswered, warned, not yet due.
pub async fn count_at_risk(db: &DatabaseConnection, now: DateTime<Utc>) -> Result<u64, DbErr> {
    Entity::find().filter(at_risk_at(now)).count(db).await
}

/// What a transition failed on.
#[derive(Debug)]
pub enum TransitionError {
    /// The escalation changed since it was read (or is gone).
    Stale,
    /// Reopening would make a second open escalation for the same customer, service and
    /// category.
    Duplicate(Box<Model>),
    Db(DbErr),
}

impl From<DbErr> for TransitionError {
    fn from(err: DbErr) -> Self {
        TransitionError::Db(err)
    }
}

/// A move of an escalation: its column changes, the version they apply to, and its event.
pub struct StatusChange<'a> {
    pub expected: &'a VersionCheck,
    pub changes: Vec<(Column, SimpleExpr)>,
    pub event: EventRecord,
}

/// Applies the change if the escalation is at an admitted version, with its event, in one
/// transaction.
#[tracing::instrument(skip_all, fields(id = %current.id))]
pub async fn transition(
    db: &DatabaseConnection,
    gate: &WriteGate,
    current: &Model,
    change: StatusChange<'_>,
    actor: Actor,
    announce: impl FnOnce(&Model) -> Result<Notice, DbErr>,
) -> Result<Model, TransitionError> {
    let StatusChange {
        expected,
        changes,
        event,
    } = change;
    let txn = gate.begin(db).await?;
    let versioned = Versioned {
        id: Column::Id,
        version: Column::Version,
        updated_at: Column::UpdatedAt,
    };
    let updated =
        match update_versioned::<Entity>(&*txn, versioned, current.id, expected, changes).await {
            Ok(Some(row)) => row,
            Ok(None) => return Err(TransitionError::Stale),
            Err(err) if is_open_violation(&err) => {
                drop(txn);
                let category =
                    Category::parse(&current.category).unwrap_or(Category::ServiceUnavailable);
                return match open_duplicate(db, current.customer_id, &current.service_key, category)
                    .await?
                {
                    Some(open) => Err(TransitionError::Duplicate(Box::new(open))),
                    None => Err(TransitionError::Stale),
                };
            }
            Err(err) => return Err(err.into()),
        };
    record(&*txn, &updated, actor, event, updated.updated_at).await?;
    webhooks::enqueue(&*txn, announce(&updated)?).await?;
    txn.commit().await?;
    Ok(updated)
}

/// Appends a note and its `note_added` event.
#[tracing::instrument(skip_all, fields(id = %escalation.id))]
pub async fn add_note(
    db: &DatabaseConnection,
    gate: &WriteGate,
    escalation: &Model,
    actor: Actor,
    text: String,
    announce: impl FnOnce(&note::Model) -> Result<Notice, DbErr>,
) -> Result<note::Model, DbErr> {
    let now = Utc::now();
    let txn = gate.begin(db).await?;
    let row = note::ActiveModel {
        id: Set(Uuid::now_v7()),
        escalation_id: Set(escalation.id),
        partner_id: Set(escalation.partner_id),
        author_role: Set(actor.role.as_str().to_owned()),
        author_key_id: Set(Some(actor.key_id)),
        text: Set(text),
        created_at: Set(now),
    }
    .insert(&*txn)
    .await?;
    let event = EventRecord {
        kind: "note_added",
        before: None,
        after: Some(serde_json::json!({"note_id": row.id, "text": row.text})),
    };
    record(&*txn, escalation, actor, event, now).await?;
    if Side::of(actor.role) == Side::Operator && escalation.first_response_at.is_none() {
        // An operator's first note is 21Vianet's first response.
        Entity::update_many()
            .col_expr(Column::FirstResponseAt, Expr::val(now))
            .col_expr(Column::SlaAlertAt, Expr::val(None::<DateTime<Utc>>))
            .col_expr(Column::Version, Expr::col(Column::Version).add(1))
            .col_expr(Column::UpdatedAt, Expr::val(now))
            .filter(Column::Id.eq(escalation.id))
            .filter(Column::FirstResponseAt.is_null())
            .exec(&*txn)
            .await?;
    }
    webhooks::enqueue(&*txn, announce(&row)?).await?;
    txn.commit().await?;
    Ok(row)
}

pub async fn notes(
    db: &DatabaseConnection,
    escalation_id: Uuid,
    page: PageRequest,
) -> Result<Page<note::Model>, DbErr> {
    let select = note::Entity::find().filter(note::Column::EscalationId.eq(escalation_id));
    fetch_page(db, select, note::Column::Id, |row| row.id, page).await
}

pub async fn events(
    db: &DatabaseConnection,
    escalation_id: Uuid,
    page: PageRequest,
) -> Result<Page<event::Model>, DbErr> {
    let select = event::Entity::find().filter(event::Column::EscalationId.eq(escalation_id));
    fetch_page(db, select, event::Column::Id, |row| row.id, page).await
}

/// A partner's escalations created since `since`, and how many of them 21Vianet rejected as
/// misescalations.
pub async fn quality_counts(
    db: &DatabaseConnection,
    partner_id: Uuid,
    since: DateTime<Utc>,
) -> Result<(u64, u64), DbErr> {
    let in_window = Entity::find()
        .filter(Column::PartnerId.eq(partner_id))
        .filter(Column::CreatedAt.gte(since));
    let total = in_window.clone().count(db).await?;
    let misescalations = in_window
        .filter(Column::Misescalation.eq(true))
        .count(db)
        .await?;
    Ok((total, misescalations))
}
