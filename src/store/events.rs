//! The event feed: the outbox's events, in the order of their position, for a partner or for
//! everyone.
//!
//! Positions are given as events are written (see `webhooks::enqueue`). On SQLite writers take
//! turns, so positions commit in order. On PostgreSQL an event's position is its transaction's
//! id, and transactions commit in any order: the feed serves only positions below the oldest
//! transaction still running, so no event can later appear behind a position already served.

use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, DbBackend, DbErr, EntityTrait, ExprTrait,
    QueryFilter, QueryOrder, QuerySelect, Select,
};
use uuid::Uuid;

use crate::domain::Scope;
use crate::domain::webhook::EventType;
use crate::entity::webhook_event::{Column, Entity, Model};

pub use crate::entity::webhook_event::Model as FeedRow;

/// The events `scope` may see: a partner's own and those for every partner (service health).
fn visible_to(scope: Scope) -> Condition {
    match scope.partner_id() {
        None => Condition::all(),
        Some(partner_id) => Condition::any()
            .add(Column::PartnerId.eq(partner_id))
            .add(Column::PartnerId.is_null()),
    }
}

/// The events of `types` (all when empty) that `scope` may see.
fn of(scope: Scope, types: &[EventType]) -> Select<Entity> {
    let select = Entity::find().filter(visible_to(scope));
    if types.is_empty() {
        return select;
    }
    select.filter(Column::EventType.is_in(types.iter().map(|t| t.as_str())))
}

/// The event `id` if `scope` may see it.
pub async fn find(db: &DatabaseConnection, scope: Scope, id: Uuid) -> Result<Option<Model>, DbErr> {
    Entity::find_by_id(id)
        .filter(visible_to(scope))
        .one(db)
        .await
}

/// Up to `limit` events after `after` (an event from `find`), oldest first, of `types` (all
/// when empty).
pub async fn feed(
    db: &DatabaseConnection,
    scope: Scope,
    after: Option<&Model>,
    types: &[EventType],
    limit: u64,
) -> Result<Vec<Model>, DbErr> {
    let mut select = of(scope, types);
    if let Some(after) = after {
        select = select.filter(
            Expr::tuple([Expr::col(Column::Position), Expr::col(Column::Id)]).gt(Expr::tuple([
                Expr::val(after.position),
                Expr::val(after.id),
            ])),
        );
    }
    served(db, select)
        .order_by_asc(Column::Position)
        .order_by_asc(Column::Id)
        .limit(limit)
        .all(db)
        .await
}

/// The newest event the feed serves `scope` now, of `types` (all when empty): where a stream
/// that names no event to resume after starts, and how an instance tells that the feed moved.
pub async fn newest(
    db: &DatabaseConnection,
    scope: Scope,
    types: &[EventType],
) -> Result<Option<Model>, DbErr> {
    served(db, of(scope, types))
        .order_by_desc(Column::Position)
        .order_by_desc(Column::Id)
        .one(db)
        .await
}

/// `select` limited to the events the feed may serve yet: on PostgreSQL, those below the
/// oldest transaction still running.
fn served(db: &DatabaseConnection, select: Select<Entity>) -> Select<Entity> {
    if db.get_database_backend() != DbBackend::Postgres {
        return select;
    }
    select.filter(Expr::col(Column::Position).lt(Expr::cust(
        "pg_snapshot_xmin(pg_current_snapshot())::text::bigint",
    )))
}
