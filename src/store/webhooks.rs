//! Webhook endpoints, the outbox and deliveries.
//!
//! `enqueue` runs inside the transaction of the change it announces: the event and one delivery
//! per subscribed endpoint commit or roll back with that change. Workers then `claim` due
//! deliveries under a lease (on PostgreSQL with `FOR UPDATE SKIP LOCKED`, so instances never
//! take the same row), and `record` each attempt. A worker that dies leaves leases that simply
//! run out, and the deliveries become due again.

use std::collections::HashMap;

use chrono::{DateTime, SecondsFormat, Utc};
use sea_orm::sea_query::{
    CommonTableExpression, Expr, InsertStatement, LockBehavior, LockType, Query, SimpleExpr,
    SubQueryStatement, WithClause,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DbBackend,
    DbErr, EntityTrait, ExprTrait, PaginatorTrait, QueryFilter, QueryOrder, Set,
};
use serde_json::json;
use uuid::Uuid;

use super::{
    Change, Page, PageRequest, VersionCheck, Versioned, WriteGate, fetch_page, update_versioned,
};
use crate::domain::Title;
use crate::domain::sealing::{KeyRing, Unsealable, is_sealed};
use crate::domain::webhook::{DeliveryStatus, EventType, SigningSecret, WebhookUrl};
use crate::entity::webhook_attempt as attempt;
use crate::entity::webhook_delivery as delivery;
use crate::entity::webhook_endpoint::{self as endpoint, ActiveModel, Column, Entity, Model};
use crate::entity::webhook_event as event;

pub use crate::entity::webhook_attempt::Model as AttemptRow;
pub use crate::entity::webhook_delivery::Model as DeliveryRow;
pub use crate::entity::webhook_endpoint::Model as EndpointRow;
pub use crate::entity::webhook_event::Model as EventRow;

const VERSIONED: Versioned<Column> = Versioned {
    id: Column::Id,
    version: Column::Version,
    updated_at: Column::UpdatedAt,
};

/// A validated endpoint, ready to store.
#[derive(Debug, Clone)]
pub struct NewEndpoint {
    pub partner_id: Uuid,
    pub url: WebhookUrl,
    pub description: Option<Title>,
    pub events: Vec<EventType>,
    pub enabled: bool,
}

/// Fields an update changes; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct EndpointChanges {
    pub url: Option<WebhookUrl>,
    /// `Some(None)` clears the description.
    pub description: Option<Option<Title>>,
    pub events: Option<Vec<EventType>>,
    pub enabled: Option<bool>,
}

fn events_json(events: &[EventType]) -> serde_json::Value {
    json!(events.iter().map(|e| e.as_str()).collect::<Vec<_>>())
}

/// The event types an endpoint subscribes to, as stored.
pub fn subscribed(row: &Model) -> Vec<EventType> {
    row.events
        .as_array()
        .map(|events| {
            events
                .iter()
                .filter_map(|e| e.as_str().and_then(EventType::parse))
                .collect()
        })
        .unwrap_or_default()
}

/// What a signing secret is sealed for; each is bound to its endpoint's id as well.
const SECRET_PURPOSE: &str = "webhook-signing-secret";

fn seal_secret(keys: &KeyRing, endpoint_id: Uuid, secret: &str) -> String {
    keys.seal(SECRET_PURPOSE, endpoint_id.as_bytes(), secret.as_bytes())
}

/// A stored secret in clear: sealed ones are opened; one stored before secrets were sealed is
/// taken as it is (until `reseal` seals it).
fn open_secret(keys: &KeyRing, endpoint_id: Uuid, stored: &str) -> Result<String, Unsealable> {
    if !is_sealed(stored) {
        return Ok(stored.to_owned());
    }
    let secret = keys.open(SECRET_PURPOSE, endpoint_id.as_bytes(), stored)?;
    String::from_utf8(secret).map_err(|_| Unsealable::Forged)
}

#[tracing::instrument(skip_all, fields(partner_id = %new.partner_id))]
pub async fn create(
    db: &DatabaseConnection,
    keys: &KeyRing,
    new: NewEndpoint,
    secret: &SigningSecret,
) -> Result<Model, DbErr> {
    let now = Utc::now();
    let id = Uuid::now_v7();
    ActiveModel {
        id: Set(id),
        partner_id: Set(new.partner_id),
        url: Set(new.url.into_inner()),
        description: Set(new.description.map(Title::into_inner)),
        events: Set(events_json(&new.events)),
        enabled: Set(new.enabled),
        secret: Set(seal_secret(keys, id, secret.as_str())),
        previous_secret: Set(None),
        previous_secret_expires_at: Set(None),
        secret_rotated_at: Set(None),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await
}

/// The endpoint if it belongs to this partner.
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

#[tracing::instrument(skip_all, fields(id = %id))]
pub async fn update(
    db: &DatabaseConnection,
    id: Uuid,
    expected: &VersionCheck,
    changes: EndpointChanges,
) -> Result<Option<Model>, DbErr> {
    let mut assignments = Vec::new();
    if let Some(url) = changes.url {
        assignments.push((Column::Url, Expr::value(url.into_inner())));
    }
    if let Some(description) = changes.description {
        let description = description.map(Title::into_inner);
        assignments.push((Column::Description, Expr::value(description)));
    }
    if let Some(events) = changes.events {
        assignments.push((Column::Events, Expr::value(events_json(&events))));
    }
    if let Some(enabled) = changes.enabled {
        assignments.push((Column::Enabled, Expr::value(enabled)));
    }
    update_versioned::<Entity>(db, VERSIONED, id, expected, assignments).await
}

/// Makes `secret` the signing secret; the current one keeps signing until `grace_until`.
#[tracing::instrument(skip_all, fields(id = %id))]
pub async fn rotate_secret(
    db: &DatabaseConnection,
    keys: &KeyRing,
    id: Uuid,
    expected: &VersionCheck,
    secret: &SigningSecret,
    grace_until: DateTime<Utc>,
) -> Result<Option<Model>, DbErr> {
    let assignments: Vec<(Column, SimpleExpr)> = vec![
        (Column::PreviousSecret, Expr::col(Column::Secret)),
        (
            Column::Secret,
            Expr::value(seal_secret(keys, id, secret.as_str())),
        ),
        (Column::PreviousSecretExpiresAt, Expr::value(grace_until)),
        (Column::SecretRotatedAt, Expr::value(Utc::now())),
    ];
    update_versioned::<Entity>(db, VERSIONED, id, expected, assignments).await
}

/// Deletes the endpoint and its deliveries if it is at an admitted version; whether it went.
#[tracing::instrument(skip_all, fields(id = %id))]
pub async fn delete(
    db: &DatabaseConnection,
    id: Uuid,
    expected: &VersionCheck,
) -> Result<bool, DbErr> {
    let delete = Entity::delete_many().filter(Column::Id.eq(id));
    let delete = expected.filter::<Entity, _>(delete, Column::Version);
    Ok(delete.exec(db).await?.rows_affected > 0)
}

/// An event to announce, written in the transaction of the change.
#[derive(Debug, Clone)]
pub struct Notice {
    pub event_type: EventType,
    /// The partner whose endpoints hear of it; `None` for every partner's (service health).
    pub partner_id: Option<Uuid>,
    pub data: serde_json::Value,
    /// Whether an endpoint may listen; `false` when the caller has just counted none enabled,
    /// which spares reading the endpoints again.
    pub may_be_heard: bool,
}

/// The feed position of an event written now: the writing transaction's id on PostgreSQL (the
/// feed serves a position only once every transaction below it has ended); on SQLite, whose
/// writers take turns, one more than the highest.
fn next_position(backend: DbBackend) -> SimpleExpr {
    match backend {
        DbBackend::Postgres => Expr::cust("pg_current_xact_id()::text::bigint"),
        _ => Expr::cust("(SELECT COALESCE(MAX(position), 0) + 1 FROM webhook_events)"),
    }
}

/// The insert of `notice` into the outbox, as an event written now, and the event's id. `body`
/// makes what is written of the event's JSON text: the text itself, or an expression that
/// completes it as the statement runs.
pub fn outbox_insert(
    notice: &Notice,
    backend: DbBackend,
    body: impl FnOnce(String) -> Expr,
) -> (Uuid, InsertStatement) {
    let now = Utc::now();
    let event_id = Uuid::now_v7();
    let text = json!({
        "type": notice.event_type,
        "timestamp": now.to_rfc3339_opts(SecondsFormat::Micros, true),
        "data": notice.data,
    })
    .to_string();
    let insert = Query::insert()
        .into_table(event::Entity)
        .columns([
            event::Column::Id,
            event::Column::EventType,
            event::Column::PartnerId,
            event::Column::Body,
            event::Column::CreatedAt,
            event::Column::Position,
        ])
        .values_panic([
            event_id.into(),
            notice.event_type.as_str().into(),
            notice.partner_id.into(),
            body(text),
            now.into(),
            next_position(backend),
        ])
        .take();
    (event_id, insert)
}

/// Writes `changes` and `notice`, the event announcing them, to the outbox at once. On
/// PostgreSQL they are one statement, each change a data-modifying CTE of it, which is its own
/// transaction: one round trip. Where an endpoint may hear of it, that statement and the
/// deliveries are one transaction. On SQLite the changes, the event and the deliveries are
/// written in turn, in one transaction.
pub async fn write_announced(
    db: &DatabaseConnection,
    gate: &WriteGate,
    changes: Vec<Change>,
    notice: Notice,
) -> Result<(), DbErr> {
    let backend = db.get_database_backend();
    let (event_id, outbox) = outbox_insert(&notice, backend, Expr::val);
    let changes = changes.into_iter().chain([Change::Insert(outbox)]);
    if backend == DbBackend::Postgres {
        let mut statement = WithClause::new();
        for (n, change) in changes.enumerate() {
            let change = match change {
                Change::Insert(insert) => SubQueryStatement::from(insert),
                Change::Update(update) => SubQueryStatement::from(update),
            };
            let name = format!("change_{n}");
            statement.cte(
                CommonTableExpression::new()
                    .query(change)
                    .table_name(name)
                    .to_owned(),
            );
        }
        let statement = statement.query(Query::select().expr(Expr::val(1)).take());
        if !notice.may_be_heard {
            return db.execute(&statement).await.map(drop);
        }
        let txn = gate.begin(db).await?;
        txn.execute(&statement).await?;
        deliver(&*txn, &notice, event_id).await?;
        return txn.commit().await;
    }
    let txn = gate.begin(db).await?;
    for change in changes {
        match change {
            Change::Insert(insert) => txn.execute(&insert).await?,
            Change::Update(update) => txn.execute(&update).await?,
        };
    }
    deliver(&*txn, &notice, event_id).await?;
    txn.commit().await
}

/// Writes `notice` to the outbox, where the event feed serves it, with a pending delivery for
/// each enabled endpoint subscribed to it. Call it with the transaction that makes the change.
#[tracing::instrument(skip_all, fields(event_type = %notice.event_type))]
pub async fn enqueue(txn: &impl ConnectionTrait, notice: Notice) -> Result<(), DbErr> {
    let (event_id, insert) = outbox_insert(&notice, txn.get_database_backend(), Expr::val);
    txn.execute(&insert).await?;
    deliver(txn, &notice, event_id).await
}

/// Writes a pending delivery of the outbox's event `event_id`, which announces `notice`, for
/// each enabled endpoint subscribed to it. Call it with the transaction that wrote the event.
pub async fn deliver(
    txn: &impl ConnectionTrait,
    notice: &Notice,
    event_id: Uuid,
) -> Result<(), DbErr> {
    let now = Utc::now();
    if !notice.may_be_heard {
        return Ok(());
    }
    let mut endpoints = Entity::find().filter(Column::Enabled.eq(true));
    if let Some(partner_id) = notice.partner_id {
        endpoints = endpoints.filter(Column::PartnerId.eq(partner_id));
    }
    let subscribers: Vec<Model> = endpoints
        .all(txn)
        .await?
        .into_iter()
        .filter(|endpoint| subscribed(endpoint).contains(&notice.event_type))
        .collect();
    if subscribers.is_empty() {
        return Ok(());
    }
    let deliveries = subscribers.iter().map(|endpoint| delivery::ActiveModel {
        id: Set(Uuid::now_v7()),
        event_id: Set(event_id),
        endpoint_id: Set(endpoint.id),
        partner_id: Set(endpoint.partner_id),
        event_type: Set(notice.event_type.as_str().to_owned()),
        status: Set(DeliveryStatus::Pending.as_str().to_owned()),
        attempt_count: Set(0),
        next_attempt_at: Set(now),
        leased_by: Set(None),
        lease_expires_at: Set(None),
        delivered_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    });
    delivery::Entity::insert_many(deliveries).exec(txn).await?;
    Ok(())
}

/// Deletes the events written before `before`, with their deliveries; how many went.
pub async fn purge_events(db: &DatabaseConnection, before: DateTime<Utc>) -> Result<u64, DbErr> {
    let deleted = event::Entity::delete_many()
        .filter(event::Column::CreatedAt.lt(before))
        .exec(db)
        .await?;
    Ok(deleted.rows_affected)
}

/// A delivery with its event and the attempts made so far, oldest first.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub row: DeliveryRow,
    pub body: String,
    pub attempts: Vec<AttemptRow>,
}

/// Fills in events and attempts for `rows`.
async fn with_details(
    db: &DatabaseConnection,
    rows: Vec<DeliveryRow>,
) -> Result<Vec<Delivery>, DbErr> {
    let ids: Vec<Uuid> = rows.iter().map(|row| row.id).collect();
    let event_ids: Vec<Uuid> = rows.iter().map(|row| row.event_id).collect();
    let bodies: HashMap<Uuid, String> = event::Entity::find()
        .filter(event::Column::Id.is_in(event_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|event| (event.id, event.body))
        .collect();
    let mut attempts: HashMap<Uuid, Vec<AttemptRow>> = HashMap::new();
    for row in attempt::Entity::find()
        .filter(attempt::Column::DeliveryId.is_in(ids))
        .order_by_asc(attempt::Column::Number)
        .all(db)
        .await?
    {
        attempts.entry(row.delivery_id).or_default().push(row);
    }
    Ok(rows
        .into_iter()
        .map(|row| Delivery {
            body: bodies.get(&row.event_id).cloned().unwrap_or_default(),
            attempts: attempts.remove(&row.id).unwrap_or_default(),
            row,
        })
        .collect())
}

/// An endpoint's deliveries, oldest first.
pub async fn deliveries(
    db: &DatabaseConnection,
    endpoint_id: Uuid,
    status: Option<DeliveryStatus>,
    page: PageRequest,
) -> Result<Page<Delivery>, DbErr> {
    let mut select = delivery::Entity::find().filter(delivery::Column::EndpointId.eq(endpoint_id));
    if let Some(status) = status {
        select = select.filter(delivery::Column::Status.eq(status.as_str()));
    }
    let page = fetch_page(db, select, delivery::Column::Id, |row| row.id, page).await?;
    Ok(Page {
        items: with_details(db, page.items).await?,
        next_after: page.next_after,
    })
}

/// One delivery of this endpoint.
pub async fn delivery(
    db: &DatabaseConnection,
    endpoint_id: Uuid,
    id: Uuid,
) -> Result<Option<Delivery>, DbErr> {
    let row = delivery::Entity::find_by_id(id)
        .one(db)
        .await?
        .filter(|row| row.endpoint_id == endpoint_id);
    Ok(with_details(db, row.into_iter().collect()).await?.pop())
}

/// A claimed delivery and what is needed to make the attempt.
#[derive(Debug, Clone)]
pub struct Due {
    pub delivery: DeliveryRow,
    pub event: EventRow,
    pub endpoint: Model,
}

fn claimable(now: DateTime<Utc>) -> Condition {
    Condition::all()
        .add(delivery::Column::Status.eq(DeliveryStatus::Pending.as_str()))
        .add(delivery::Column::NextAttemptAt.lte(now))
        .add(
            Condition::any()
                .add(delivery::Column::LeaseExpiresAt.is_null())
                .add(delivery::Column::LeaseExpiresAt.lt(now)),
        )
}

/// Leases up to `limit` due deliveries to `worker` until `lease_until`. Each row goes to one
/// worker only: PostgreSQL skips rows another claim has locked and re-checks the lease on the
/// rows it waited for; SQLite runs one writer at a time.
#[tracing::instrument(skip_all)]
pub async fn claim(
    db: &DatabaseConnection,
    worker: Uuid,
    limit: u64,
    lease_until: DateTime<Utc>,
) -> Result<Vec<Due>, DbErr> {
    let now = Utc::now();
    let enabled_endpoints = Query::select()
        .column(Column::Id)
        .from(Entity)
        .and_where(Column::Enabled.eq(true))
        .to_owned();
    let mut due = Query::select()
        .column(delivery::Column::Id)
        .from(delivery::Entity)
        .cond_where(claimable(now))
        .and_where(delivery::Column::EndpointId.in_subquery(enabled_endpoints))
        .order_by(delivery::Column::NextAttemptAt, sea_orm::Order::Asc)
        .limit(limit)
        .to_owned();
    // PostgreSQL skips rows another claim holds; SQLite has no row locks and the clause is
    // left out of its SQL (its single writer serialises claims anyway).
    due.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
    let claimed = delivery::Entity::update_many()
        .col_expr(delivery::Column::LeasedBy, Expr::value(worker))
        .col_expr(delivery::Column::LeaseExpiresAt, Expr::value(lease_until))
        .filter(delivery::Column::Id.in_subquery(due))
        .filter(claimable(now))
        .exec_with_returning(db)
        .await?;
    if claimed.is_empty() {
        return Ok(Vec::new());
    }
    let event_ids: Vec<Uuid> = claimed.iter().map(|row| row.event_id).collect();
    let endpoint_ids: Vec<Uuid> = claimed.iter().map(|row| row.endpoint_id).collect();
    let events: HashMap<Uuid, EventRow> = event::Entity::find()
        .filter(event::Column::Id.is_in(event_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|row| (row.id, row))
        .collect();
    let endpoints: HashMap<Uuid, Model> = Entity::find()
        .filter(Column::Id.is_in(endpoint_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|row| (row.id, row))
        .collect();
    Ok(claimed
        .into_iter()
        .filter_map(|delivery| {
            let event = events.get(&delivery.event_id).cloned();
            let endpoint = endpoints.get(&delivery.endpoint_id).cloned();
            Some(Due {
                event: event?,
                endpoint: endpoint?,
                delivery,
            })
        })
        .collect())
}

/// What one attempt came to.
#[derive(Debug, Clone)]
pub struct AttemptOutcome {
    pub started_at: DateTime<Utc>,
    pub duration_ms: i32,
    pub response_status: Option<u16>,
    pub error: Option<String>,
    /// What the delivery becomes: delivered, failed for good, or pending again at this time.
    pub next: Next,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    Delivered,
    RetryAt(DateTime<Utc>),
    GiveUp,
}

/// Records an attempt and moves the delivery on, in one transaction, if `worker` still holds
/// the lease; `false` when it had lost it (the attempt is recorded all the same).
#[tracing::instrument(skip_all, fields(delivery_id = %due.id))]
pub async fn record(
    db: &DatabaseConnection,
    gate: &WriteGate,
    worker: Uuid,
    due: &DeliveryRow,
    outcome: &AttemptOutcome,
) -> Result<bool, DbErr> {
    let now = Utc::now();
    // Write first: on SQLite a transaction that reads before it writes cannot take the write
    // lock once another connection has written meanwhile.
    let txn = gate.begin(db).await?;
    let (status, next_attempt_at, delivered_at) = match outcome.next {
        Next::Delivered => (DeliveryStatus::Delivered, now, Some(now)),
        Next::RetryAt(at) => (DeliveryStatus::Pending, at, None),
        Next::GiveUp => (DeliveryStatus::Failed, now, None),
    };
    let moved = delivery::Entity::update_many()
        .col_expr(
            delivery::Column::AttemptCount,
            Expr::col(delivery::Column::AttemptCount).add(1),
        )
        .col_expr(delivery::Column::Status, Expr::value(status.as_str()))
        .col_expr(
            delivery::Column::NextAttemptAt,
            Expr::value(next_attempt_at),
        )
        .col_expr(delivery::Column::DeliveredAt, Expr::value(delivered_at))
        .col_expr(
            delivery::Column::LeasedBy,
            Expr::value(Option::<Uuid>::None),
        )
        .col_expr(
            delivery::Column::LeaseExpiresAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(delivery::Column::UpdatedAt, Expr::value(now))
        .filter(delivery::Column::Id.eq(due.id))
        .filter(delivery::Column::LeasedBy.eq(worker))
        .filter(delivery::Column::Status.eq(DeliveryStatus::Pending.as_str()))
        .exec_with_returning(&*txn)
        .await?;
    let held = moved.len() == 1;
    let number = moved
        .first()
        .map_or(due.attempt_count + 1, |row| row.attempt_count);
    let error = outcome
        .error
        .as_ref()
        .map(|error| error.chars().take(500).collect::<String>());
    attempt::ActiveModel {
        id: Set(Uuid::now_v7()),
        delivery_id: Set(due.id),
        number: Set(number),
        started_at: Set(outcome.started_at),
        duration_ms: Set(outcome.duration_ms),
        response_status: Set(outcome.response_status.map(i32::from)),
        error: Set(error),
    }
    .insert(&*txn)
    .await?;
    txn.commit().await?;
    Ok(held)
}

/// Pending deliveries and the age of the oldest, for `/metrics`.
pub async fn backlog(db: &DatabaseConnection) -> Result<(u64, Option<DateTime<Utc>>), DbErr> {
    let pending = delivery::Entity::find()
        .filter(delivery::Column::Status.eq(DeliveryStatus::Pending.as_str()));
    let count = pending.clone().count(db).await?;
    let oldest = pending
        .order_by_asc(delivery::Column::CreatedAt)
        .one(db)
        .await?
        .map(|row| row.created_at);
    Ok((count, oldest))
}

/// The signing secrets in force for `endpoint` at `now`: the current one, then the previous one
/// during its grace period. Refused when a secret does not open with the deployment's keys.
pub fn secrets_in_force(
    keys: &KeyRing,
    endpoint: &endpoint::Model,
    now: DateTime<Utc>,
) -> Result<Vec<SigningSecret>, Unsealable> {
    let previous = endpoint.previous_secret.as_deref().filter(|_| {
        endpoint
            .previous_secret_expires_at
            .is_some_and(|until| until > now)
    });
    [Some(endpoint.secret.as_str()), previous]
        .into_iter()
        .flatten()
        .map(|stored| {
            let secret = open_secret(keys, endpoint.id, stored)?;
            SigningSecret::from_stored(&secret).ok_or(Unsealable::Malformed)
        })
        .collect()
}

/// Which stored secrets `reseal` seals (again) under the current key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reseal {
    /// Those stored in clear before secrets were sealed (done at every start).
    Plaintext,
    /// Those too that an earlier key sealed (`escalade secret-key rewrap`, after a rotation).
    AllButCurrent,
}

/// Seals stored signing secrets under the current key; returns how many endpoints changed. The
/// endpoint's version stays: what it represents has not changed.
pub async fn reseal(db: &DatabaseConnection, keys: &KeyRing, which: Reseal) -> Result<u64, DbErr> {
    let wants = |stored: &str| match which {
        Reseal::Plaintext => !is_sealed(stored),
        Reseal::AllButCurrent => !is_sealed(stored) || keys.sealed_by_earlier_key(stored),
    };
    let mut changed = 0;
    for row in Entity::find().all(db).await? {
        let stale = wants(&row.secret) || row.previous_secret.as_deref().is_some_and(wants);
        if !stale {
            continue;
        }
        let unsealable =
            |err: Unsealable| DbErr::Custom(format!("webhook endpoint {}'s secret: {err}", row.id));
        let secret = open_secret(keys, row.id, &row.secret).map_err(unsealable)?;
        let previous = row
            .previous_secret
            .as_deref()
            .map(|stored| open_secret(keys, row.id, stored))
            .transpose()
            .map_err(unsealable)?;
        Entity::update_many()
            .col_expr(
                Column::Secret,
                Expr::value(seal_secret(keys, row.id, &secret)),
            )
            .col_expr(
                Column::PreviousSecret,
                Expr::value(previous.map(|previous| seal_secret(keys, row.id, &previous))),
            )
            .filter(Column::Id.eq(row.id))
            .filter(Column::Secret.eq(row.secret.clone()))
            .exec(db)
            .await?;
        changed += 1;
    }
    Ok(changed)
}
