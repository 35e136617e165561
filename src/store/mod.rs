//! Persistence: the only place sea-orm queries live. Functions take validated domain values and
//! return rows; constraint violations surface as `DbErr` for the HTTP layer to name.

pub mod api_keys;
pub mod customers;
pub mod escalations;
pub mod idempotency;
pub mod incidents;
pub mod partners;
pub mod remediation;
pub mod services;
pub mod subscriptions;
pub mod webhooks;

use std::str::FromStr;

use chrono::Utc;
use migration::{Migrator, MigratorTrait};
use sea_orm::sea_query::{Expr, LikeExpr, SimpleExpr};
use sea_orm::sqlx::postgres::PgPoolOptions;
use sea_orm::sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous,
};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, ExprTrait, QueryFilter,
    QueryOrder, QuerySelect, Select, SqlxPostgresConnector, SqlxSqliteConnector,
};
use uuid::Uuid;

use crate::config::DatabaseSettings;

/// Opens the pool for `settings.url()`: SQLite (file created on first use, WAL, foreign keys,
/// busy timeout) or PostgreSQL.
pub async fn connect(settings: &DatabaseSettings) -> Result<DatabaseConnection, DbErr> {
    let url = settings.url();
    let conn_err = |e: sea_orm::sqlx::Error| DbErr::Conn(sea_orm::RuntimeErr::SqlxError(e.into()));
    if url.starts_with("sqlite:") {
        let options = SqliteConnectOptions::from_str(&url)
            .map_err(conn_err)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(settings.timeout());
        let pool = SqlitePoolOptions::new()
            .max_connections(settings.db_max_connections)
            .acquire_timeout(settings.timeout())
            .connect_with(options)
            .await
            .map_err(conn_err)?;
        Ok(SqlxSqliteConnector::from_sqlx_sqlite_pool(pool))
    } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        let pool = PgPoolOptions::new()
            .max_connections(settings.db_max_connections)
            .acquire_timeout(settings.timeout())
            .connect(&url)
            .await
            .map_err(conn_err)?;
        Ok(SqlxPostgresConnector::from_sqlx_postgres_pool(pool))
    } else {
        Err(DbErr::Custom(
            "unsupported database URL: use sqlite://PATH or postgres://...".to_owned(),
        ))
    }
}

/// Applies every pending migration.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    Migrator::up(db, None).await
}

/// One page of a keyset-paginated list request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    pub limit: u64,
    /// Only rows after this id: the last id of the previous page.
    pub after: Option<Uuid>,
}

/// Rows of one page and, when more follow, the id to continue after.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_after: Option<Uuid>,
}

/// Keyset pagination on a UUID v7 primary key: ids grow with time, so rows inserted while a
/// client pages land after its position and never shift the pages it has yet to read.
pub async fn fetch_page<E: EntityTrait>(
    db: &DatabaseConnection,
    select: Select<E>,
    id_column: E::Column,
    id_of: fn(&E::Model) -> Uuid,
    page: PageRequest,
) -> Result<Page<E::Model>, DbErr> {
    let mut select = select.order_by_asc(id_column).limit(page.limit + 1);
    if let Some(after) = page.after {
        select = select.filter(id_column.gt(after));
    }
    let mut items = select.all(db).await?;
    let next_after = if items.len() as u64 > page.limit {
        items.truncate(page.limit as usize);
        items.last().map(id_of)
    } else {
        None
    };
    Ok(Page { items, next_after })
}

/// The columns every versioned table shares.
pub(crate) struct Versioned<C> {
    pub id: C,
    pub version: C,
    pub updated_at: C,
}

/// Assigns `changes` to row `id` if it is at an admitted version, bumping its version and
/// `updated_at` in the same statement; `None` when the row is gone or at another version, so a
/// concurrent writer is never overwritten. With nothing to change, the row is only read under
/// the same condition: an empty update is not a new version.
pub(crate) async fn update_versioned<E: EntityTrait>(
    db: &impl ConnectionTrait,
    columns: Versioned<E::Column>,
    id: Uuid,
    expected: &VersionCheck,
    changes: Vec<(E::Column, SimpleExpr)>,
) -> Result<Option<E::Model>, DbErr> {
    if changes.is_empty() {
        let select = E::find().filter(columns.id.eq(id));
        return expected
            .filter::<E, _>(select, columns.version)
            .one(db)
            .await;
    }
    let mut update = E::update_many()
        .col_expr(columns.version, Expr::col(columns.version).add(1))
        .col_expr(columns.updated_at, Expr::value(Utc::now()))
        .filter(columns.id.eq(id));
    for (column, value) in changes {
        update = update.col_expr(column, value);
    }
    let update = expected.filter::<E, _>(update, columns.version);
    Ok(update.exec_with_returning(db).await?.into_iter().next())
}

/// Which versions an update may apply to, from `If-Match`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VersionCheck {
    /// `If-Match: *`: whatever the current version is.
    Any,
    /// Only while the row is at one of these versions.
    OneOf(Vec<i32>),
}

impl VersionCheck {
    pub fn admits(&self, version: i32) -> bool {
        match self {
            VersionCheck::Any => true,
            VersionCheck::OneOf(versions) => versions.contains(&version),
        }
    }

    /// Narrows an update to the versions admitted: the guard against lost updates.
    fn filter<E: EntityTrait, Q: QueryFilter>(&self, query: Q, version_column: E::Column) -> Q {
        match self {
            VersionCheck::Any => query,
            VersionCheck::OneOf(versions) => query.filter(version_column.is_in(versions.clone())),
        }
    }
}

/// `LIKE 'text%'` with the user's text taken literally (`%`, `_` and `\` escaped).
fn starts_with(text: &str) -> LikeExpr {
    let mut pattern = String::with_capacity(text.len() + 1);
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    LikeExpr::new(pattern).escape('\\')
}
