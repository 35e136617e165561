//! Escalations, their events and notes. Every change and its event are written in one
//! transaction, so the audit trail never misses or invents a change.

use chrono::SubsecRound;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{
    Asterisk, CommonTableExpression, Expr, InsertStatement, IntoColumnRef, PostgresQueryBuilder,
    Query, SelectStatement, SimpleExpr, WithClause,
};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DbBackend, DbErr, EntityName,
    EntityTrait, ExprTrait, FromQueryResult, IdenStatic, IntoActiveModel, Iterable, ModelTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait, Statement,
};
use uuid::Uuid;

use super::search::{self, ESCALATIONS, escalation_postings_insert, merged};
use super::webhooks::{self, Notice};
use super::{
    Change, Page, PageRequest, VersionCheck, Versioned, WriteGate, fetch_page, literal,
    update_versioned,
};
use crate::domain::escalation::lifecycle::Side;
use crate::domain::escalation::policy::ProblemKind;
use crate::domain::escalation::sla::{SlaAlert, SlaClock};
use crate::domain::escalation::{Language, Severity, Status};
use crate::domain::search::SearchText;
use crate::domain::{Category, Scope};
use crate::entity::escalation::{Column, Entity, Model};
use crate::entity::{
    escalation_event as event, escalation_note as note, webhook_endpoint as endpoint,
};

pub use crate::entity::escalation::{Column as EscalationColumn, Model as EscalationRow};
pub use crate::entity::escalation_event::Model as EventRow;
pub use crate::entity::escalation_note::Model as NoteRow;

/// The index that keeps one open escalation per customer, service and category.
const OPEN_INDEX: (&str, &str) = ("ux_escalations_open", "escalations.customer_id");

/// Who made a change: the caller, with the role they acted in.
pub use crate::domain::Principal as Actor;

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

/// Every column of `row` but its number, as values to insert.
fn unnumbered_values(row: &Model) -> Vec<(Column, Expr)> {
    Column::iter()
        .filter(|column| !matches!(column, Column::Seq | Column::Number))
        .map(|column| (column, Expr::val(row.get(column))))
        .collect()
}

/// The insert of a new escalation, numbered in the statement itself: on PostgreSQL by the
/// sequence; on SQLite, whose writers take turns, as one more than the highest so far.
fn numbered_insert(values: Vec<(Column, Expr)>, backend: DbBackend) -> InsertStatement {
    let mut next = Query::select();
    let number = match backend {
        DbBackend::Postgres => {
            next.expr_as(Expr::cust("nextval('escalation_numbers')"), "n");
            "'ESC-' || lpad(n::text, GREATEST(length(n::text), 6), '0')"
        }
        _ => {
            next.expr_as(Expr::cust("COALESCE(MAX(seq), 0) + 1"), "n")
                .from(Entity);
            "printf('ESC-%06d', n)"
        }
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

/// The insert of `event` into `escalation`'s audit trail. `after` makes what is written of the
/// state after: the value itself, or an expression that completes it as the statement runs.
fn audit_insert(
    escalation: &Model,
    actor: &Actor,
    event: EventRecord,
    at: DateTime<Utc>,
    after: impl FnOnce(Option<serde_json::Value>) -> Expr,
) -> InsertStatement {
    Query::insert()
        .into_table(event::Entity)
        .columns([
            event::Column::Id,
            event::Column::EscalationId,
            event::Column::PartnerId,
            event::Column::Kind,
            event::Column::ActorRole,
            event::Column::ActorId,
            event::Column::ActorKind,
            event::Column::ActorName,
            event::Column::At,
            event::Column::Before,
            event::Column::After,
        ])
        .values_panic([
            Uuid::now_v7().into(),
            escalation.id.into(),
            escalation.partner_id.into(),
            event.kind.into(),
            actor.role.as_str().into(),
            Some(actor.actor.id).into(),
            actor.actor.kind.as_str().into(),
            Some(actor.actor.name.clone()).into(),
            at.into(),
            event.before.into(),
            after(event.after),
        ])
        .take()
}

pub(super) async fn record(
    txn: &impl ConnectionTrait,
    escalation: &Model,
    actor: &Actor,
    event: EventRecord,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    txn.execute(&audit_insert(escalation, actor, event, at, Expr::val))
        .await?;
    Ok(())
}

/// Numbers and stores a new escalation, its SLA times on `clock`, its `created` event and the
/// notice it makes, in the outbox. An endpoint enabled while this runs may or may not hear of it.
///
/// The number is drawn by the insert itself. On PostgreSQL the row, its event and its notice are
/// written by one statement with its search postings, which is its own transaction unless
/// deliveries follow it. On SQLite they are written in a transaction.
#[tracing::instrument(skip_all, fields(customer_id = %new.customer_id))]
pub async fn create(
    db: &DatabaseConnection,
    gate: &WriteGate,
    clock: &SlaClock,
    new: NewEscalation,
    actor: &Actor,
    snapshot: impl FnOnce(&Model) -> serde_json::Value,
    announce: impl FnOnce(&Model) -> Result<Notice, DbErr>,
) -> Result<Created, DbErr> {
    // Microseconds: what both engines keep, so the answer shows what a read will.
    let now = Utc::now().trunc_subsecs(6);
    let category = new.category;
    let row = unnumbered_row(new, clock, now);
    let (customer_id, service_key) = (row.customer_id, row.service_key.clone());
    let created = |row: &Model| EventRecord {
        kind: "created",
        before: None,
        after: Some(snapshot(row)),
    };
    let written = match db.get_database_backend() {
        DbBackend::Postgres => {
            // The event and the notice are made before the number exists: they carry a
            // stand-in, which the statement replaces with the number it draws.
            let row = Model {
                number: format!("ESC-{}", Uuid::new_v4().simple()),
                ..row
            };
            let event = created(&row);
            let notice = announce(&row)?;
            write_with_trail(db, gate, &row, actor, event, notice, now).await
        }
        _ => {
            let insert = numbered_insert(unnumbered_values(&row), DbBackend::Sqlite);
            write_in_transaction(db, gate, insert, actor, now, |row| {
                Ok((created(row), announce(row)?))
            })
            .await
        }
    };
    match written {
        Ok(row) => Ok(Created::New(row)),
        Err(err) if is_open_violation(&err) => {
            let open = open_duplicate(db, customer_id, &service_key, category).await?;
            open.map(Created::Duplicate).ok_or_else(|| {
                DbErr::RecordNotFound("the open escalation that collided".to_owned())
            })
        }
        Err(err) => Err(err),
    }
}

/// The insert of `row`'s search postings.
fn postings(row: &Model) -> InsertStatement {
    escalation_postings_insert(row.id, row.partner_id, row.customer_id, &row.title)
}

/// Writes `row` on PostgreSQL, numbered as it is inserted, with its audit `event` and its
/// `notice` in the outbox: one statement, whose data-modifying CTEs read the inserted row and
/// put its number where `row.number`, a stand-in, is written. Deliveries, when an endpoint may
/// hear of it, follow in the same transaction.
async fn write_with_trail(
    db: &DatabaseConnection,
    gate: &WriteGate,
    row: &Model,
    actor: &Actor,
    event: EventRecord,
    notice: Notice,
    now: DateTime<Utc>,
) -> Result<Model, DbErr> {
    let stand_in = row.number.as_str();
    let numbered = |text: Expr| {
        Expr::cust_with_exprs(
            "replace($1, $2, (SELECT number FROM inserted))",
            [text, Expr::val(stand_in)],
        )
    };
    let audit = audit_insert(row, actor, event, now, |after| {
        numbered(Expr::val(after).cast_as("text")).cast_as("jsonb")
    });
    let (event_id, outbox) = webhooks::outbox_insert(&notice, DbBackend::Postgres, |body| {
        numbered(Expr::val(body))
    });
    let cte = |insert: InsertStatement, name: &'static str| {
        CommonTableExpression::new()
            .query(insert)
            .table_name(name)
            .to_owned()
    };
    let statement = WithClause::new()
        .cte(cte(
            numbered_insert(unnumbered_values(row), DbBackend::Postgres),
            "inserted",
        ))
        .cte(cte(audit, "audited"))
        .cte(cte(postings(row), "indexed"))
        .cte(cte(outbox, "announced"))
        .to_owned()
        .query(Query::select().column(Asterisk).from("inserted").take());
    let (sql, values) = statement.build(PostgresQueryBuilder);
    let statement = Statement::from_sql_and_values(DbBackend::Postgres, sql, values);
    let inserted = |row: Option<Model>| row.ok_or(DbErr::RecordNotInserted);
    if !notice.may_be_heard {
        return inserted(Model::find_by_statement(statement).one(db).await?);
    }
    let txn = gate.begin(db).await?;
    let row = inserted(Model::find_by_statement(statement).one(&*txn).await?)?;
    webhooks::deliver(&*txn, &notice, event_id).await?;
    txn.commit().await?;
    Ok(row)
}

/// A new escalation's row at `now`, without its number yet.
fn unnumbered_row(new: NewEscalation, clock: &SlaClock, now: DateTime<Utc>) -> Model {
    let window = clock.window(new.severity, ProblemKind::of(new.category));
    Model {
        engineer_person_id: None,
        id: Uuid::now_v7(),
        number: String::new(),
        seq: 0,
        partner_id: new.partner_id,
        customer_id: new.customer_id,
        service_key: new.service_key,
        category: new.category.as_str().to_owned(),
        severity: new.severity.as_str().to_owned(),
        title: new.title,
        description: new.description,
        business_impact: new.business_impact,
        problem_started_at: new.problem_started_at.trunc_subsecs(6),
        reasons: new.reasons,
        justification: new.justification,
        troubleshooting: new.troubleshooting,
        unrelated_incident_ids: new.unrelated_incident_ids,
        contact: new.contact,
        contact_language: new.contact_language.tag().to_owned(),
        status: Status::Submitted.as_str().to_owned(),
        engineer: None,
        // The clock starts at the very instant stored as `created_at`.
        response_due_at: clock.response_due_in(new.severity, window, now),
        sla_window: window.to_string(),
        first_response_at: None,
        resolution: None,
        resolved_at: None,
        misescalation: false,
        rejection_reason: None,
        version: 1,
        created_at: now,
        updated_at: now,
        sla_alert_at: Some(clock.warning_in(new.severity, window, now)),
        sla_warning_announced_at: None,
        sla_breach_announced_at: None,
    }
}

/// Inserts a new escalation (`insert` returns its row), then its event and notice as `trail`
/// makes them from the row, in one transaction.
async fn write_in_transaction(
    db: &DatabaseConnection,
    gate: &WriteGate,
    insert: InsertStatement,
    actor: &Actor,
    now: DateTime<Utc>,
    trail: impl FnOnce(&Model) -> Result<(EventRecord, Notice), DbErr>,
) -> Result<Model, DbErr> {
    let txn = gate.begin(db).await?;
    let statement = txn.get_database_backend().build(&insert);
    let row = Model::find_by_statement(statement)
        .one(&*txn)
        .await?
        .ok_or(DbErr::RecordNotInserted)?;
    let (event, notice) = trail(&row)?;
    record(&*txn, &row, actor, event, now).await?;
    txn.execute(&postings(&row)).await?;
    webhooks::enqueue(&*txn, notice).await?;
    txn.commit().await?;
    Ok(row)
}

/// `status` is one of the open statuses, written as literals: the predicate of the
/// open-escalation index, which PostgreSQL then uses under any plan (see [`literal`]).
pub(crate) fn is_open(status: impl IntoColumnRef) -> Expr {
    Expr::col(status).is_in(Status::OPEN.map(|status| literal(status.as_str())))
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
        .filter(is_open(Column::Status))
        .one(db)
        .await
}

/// The escalation, if it exists and the scope may see it, and whether its partner has an
/// enabled webhook endpoint, which may hear of a change to it: one statement.
pub async fn get_with_listeners(
    db: &DatabaseConnection,
    scope: Scope,
    id: Uuid,
) -> Result<Option<(Model, bool)>, DbErr> {
    #[derive(FromQueryResult)]
    struct Listened {
        #[sea_orm(nested)]
        escalation: Model,
        listened: bool,
    }
    let listened = Expr::exists(
        Query::select()
            .expr(Expr::val(1))
            .from(endpoint::Entity)
            .and_where(
                Expr::col((endpoint::Entity, endpoint::Column::PartnerId))
                    .equals((Entity, Column::PartnerId)),
            )
            .and_where(Expr::col((endpoint::Entity, endpoint::Column::Enabled)).eq(true))
            .take(),
    );
    let row = Entity::find_by_id(id)
        .expr_as(listened, "listened")
        .into_model::<Listened>()
        .one(db)
        .await?;
    Ok(row
        .filter(|row| scope.admits(row.escalation.partner_id))
        .map(|row| (row.escalation, row.listened)))
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
    pub engineer_person_id: Option<Uuid>,
    /// The escalation's number, or any part of its title or its customer's name.
    pub q: Option<SearchText>,
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
        .add(is_open(Column::Status))
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
    let rows = match &filter.q {
        None => {
            order
                .keys()
                .iter()
                .fold(
                    filtered(scope, &filter, order, page, now),
                    |select, (column, direction)| select.order_by(*column, direction.clone()),
                )
                .limit(page.limit + 1)
                .all(db)
                .await?
        }
        Some(text) => {
            let partner_id = scope.partner_id().or(filter.partner_id);
            let lead = ESCALATIONS.lead_gram(db, text, partner_id).await?;
            let statement = search_statement(scope, &filter, order, page, now, lead.as_deref());
            search::matches(db, statement).await?
        }
    };
    Ok(Page::of(rows, page.limit, |row| row.id))
}

/// The escalations `scope` sees that pass `filter`'s exact filters, after the cursor in `order`.
fn filtered(
    scope: Scope,
    filter: &EscalationFilter,
    order: Order,
    page: PageRequest,
    now: DateTime<Utc>,
) -> sea_orm::Select<Entity> {
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
    if let Some(service_key) = &filter.service_key {
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
    if let Some(person_id) = filter.engineer_person_id {
        select = select.filter(Column::EngineerPersonId.eq(person_id));
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
        }
        Order::Newest => {
            if let Some(after) = page.after {
                select = select.filter(Column::Id.lt(after));
            }
        }
    }
    select
}

impl Order {
    /// The columns a list is ordered by, the last one the id.
    fn keys(self) -> &'static [(Column, sea_orm::Order)] {
        match self {
            Order::Due => &[
                (Column::ResponseDueAt, sea_orm::Order::Asc),
                (Column::Id, sea_orm::Order::Asc),
            ],
            Order::Newest => &[(Column::Id, sea_orm::Order::Desc)],
        }
    }
}

/// The statement that reads a page of the escalations `scope` sees that `filter` finds, in
/// `order`: with its query, by their number, or by the grams of their title or their
/// customer's name (see [`SearchText`]). `lead` is the gram whose postings are read (the rarest
/// of the query's). `None` when nothing can match.
///
/// Newest first, the matches are read straight from the lead gram's postings, in id order, one
/// page at most. Earliest due first, every match is read and then ordered.
pub fn search_statement(
    scope: Scope,
    filter: &EscalationFilter,
    order: Order,
    page: PageRequest,
    now: DateTime<Utc>,
    lead: Option<&str>,
) -> Option<SelectStatement> {
    let text = filter.q.as_ref()?;
    let select = filtered(scope, filter, order, page, now);
    let partner_id = scope.partner_id().or(filter.partner_id);
    let limit = page.limit + 1;
    let mut branches = Vec::new();
    if let Some(lead) = lead {
        let mut query = select.clone().into_query();
        ESCALATIONS.read_through(&mut query, Entity.table_name(), text, lead, partner_id);
        match order {
            // In the postings' own order, from the cursor on: the index bounds the read.
            Order::Newest => {
                let posted = ESCALATIONS.lead("escalation_id");
                if let Some(after) = page.after {
                    query.and_where(posted.clone().lt(after));
                }
                query.order_by_expr(posted, sea_orm::Order::Desc);
            }
            Order::Due => {
                for (column, direction) in order.keys() {
                    query.order_by((Entity, *column), direction.clone());
                }
            }
        }
        branches.push(query.limit(limit).take());
    }
    if let Some(number) = text.escalation_number() {
        let mut query = select.filter(Column::Seq.eq(number)).into_query();
        if lead.is_some() {
            // Unless the text found it already.
            query.cond_where(
                ESCALATIONS
                    .has_all(text, None, (Entity.table_name(), Column::Id.as_str()))
                    .not(),
            );
        }
        branches.push(query);
    }
    let keys: Vec<_> = order
        .keys()
        .iter()
        .map(|(column, direction)| (column.as_str(), direction.clone()))
        .collect();
    (!branches.is_empty()).then(|| merged(branches, &keys, limit))
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
        .filter(is_open(Column::Status))
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
    actor: &Actor,
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

/// Adds `actor`'s note to `escalation`, with its event and the notice `announce` makes of it;
/// an operator's first note is also 21Vianet's first response. All are written at once (see
/// [`webhooks::write_announced`]).
#[tracing::instrument(skip_all, fields(id = %escalation.id))]
pub async fn add_note(
    db: &DatabaseConnection,
    gate: &WriteGate,
    escalation: &Model,
    actor: &Actor,
    text: String,
    announce: impl FnOnce(&note::Model) -> Result<Notice, DbErr>,
) -> Result<note::Model, DbErr> {
    // Microseconds: what both engines keep, so the answer shows what a read will.
    let now = Utc::now().trunc_subsecs(6);
    let row = note::Model {
        id: Uuid::now_v7(),
        escalation_id: escalation.id,
        partner_id: escalation.partner_id,
        author_role: actor.role.as_str().to_owned(),
        author_id: Some(actor.actor.id),
        author_kind: actor.actor.kind.as_str().to_owned(),
        author_name: Some(actor.actor.name.clone()),
        text,
        created_at: now,
    };
    let notice = announce(&row)?;
    let event = EventRecord {
        kind: "note_added",
        before: None,
        after: Some(serde_json::json!({"note_id": row.id, "text": row.text})),
    };
    let mut changes = vec![
        Change::Insert(note::Entity::insert(row.clone().into_active_model()).into_query()),
        Change::Insert(audit_insert(escalation, actor, event, now, Expr::val)),
    ];
    if Side::of(actor.role) == Side::Operator && escalation.first_response_at.is_none() {
        changes.push(Change::Update(
            Entity::update_many()
                .col_expr(Column::FirstResponseAt, Expr::val(now))
                .col_expr(Column::SlaAlertAt, Expr::val(None::<DateTime<Utc>>))
                .col_expr(Column::Version, Expr::col(Column::Version).add(1))
                .col_expr(Column::UpdatedAt, Expr::val(now))
                .filter(Column::Id.eq(escalation.id))
                .filter(Column::FirstResponseAt.is_null())
                .into_query(),
        ));
    }
    webhooks::write_announced(db, gate, changes, notice).await?;
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
