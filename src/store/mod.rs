//! Persistence: the only place sea-orm queries live. Functions take validated domain values and
//! return rows; constraint violations surface as `DbErr` for the HTTP layer to name.

pub mod api_keys;
pub mod attachments;
pub mod criteria;
pub mod customers;
pub mod escalations;
pub mod events;
pub mod idempotency;
pub mod incidents;
pub mod partners;
pub mod people;
pub mod remediation;
pub(crate) mod search;
pub mod services;
pub mod subscriptions;
pub mod webhooks;

use std::ffi::c_int;
use std::str::FromStr;
use std::time::Duration;

use chrono::Utc;
use log::LevelFilter;
use migration::{Migrator, MigratorTrait};
use sea_orm::sea_query::{Expr, InsertStatement, SimpleExpr, UpdateStatement};
use sea_orm::sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sea_orm::sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous,
};
use sea_orm::sqlx::{ConnectOptions, Connection};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend,
    DbErr, EntityTrait, ExprTrait, QueryFilter, QueryOrder, QuerySelect, Select,
    SqliteTransactionMode, SqlxPostgresConnector, SqlxSqliteConnector, TransactionOptions,
    TransactionTrait,
};
use uuid::Uuid;

use crate::config::DatabaseSettings;

/// A constant written into the SQL text instead of being bound as a parameter. PostgreSQL can
/// then match it against a partial index's predicate (`WHERE status <> 'deleted'`) under a
/// generic plan too, so a prepared statement is planned once per connection rather than at
/// every execution. Only for the code's own constants, never for a caller's input.
pub(crate) fn literal(value: &'static str) -> Expr {
    Expr::Constant(value.into())
}

/// How long a PostgreSQL connection may sit in the pool before it is checked on its way out.
pub const CHECK_AFTER_IDLE: Duration = Duration::from_secs(1);

/// Opens the pool for `settings.url()`: SQLite (file created on first use, WAL, foreign keys,
/// busy timeout) or PostgreSQL.
pub async fn connect(settings: &DatabaseSettings) -> Result<DatabaseConnection, DbErr> {
    let url = settings.url();
    let conn_err = |e: sea_orm::sqlx::Error| DbErr::Conn(sea_orm::RuntimeErr::SqlxError(e.into()));
    if url.starts_with("sqlite:") {
        let timeout = settings.timeout();
        let options = SqliteConnectOptions::from_str(&url)
            .map_err(conn_err)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            // Covers the connection's own setup; `tune_sqlite` then puts a finer handler in place.
            .busy_timeout(settings.timeout())
            .log_slow_statements(LevelFilter::Warn, settings.slow_statement());
        let pool = SqlitePoolOptions::new()
            .max_connections(settings.db_max_connections)
            .acquire_timeout(settings.timeout())
            .after_connect(move |connection, _| Box::pin(tune_sqlite(connection, timeout)))
            .connect_with(options)
            .await
            .map_err(conn_err)?;
        Ok(SqlxSqliteConnector::from_sqlx_sqlite_pool(pool))
    } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        let options = PgConnectOptions::from_str(&url)
            .map_err(conn_err)?
            .options([(
                "statement_timeout",
                settings.statement_timeout_ms.to_string(),
            )])
            .log_slow_statements(LevelFilter::Warn, settings.slow_statement());
        // A connection taken from the pool is checked (one round trip) only when it has sat
        // idle for a while, as a restart or an idle timeout may have closed it meanwhile; one
        // in steady use is not, which spares a round trip before every statement. sqlx checks
        // each connection as it goes back anyway. One closed in the moments between is found
        // by the statement itself: that request is answered 503, and the connection replaced.
        let pool = PgPoolOptions::new()
            .max_connections(settings.db_max_connections)
            .acquire_timeout(settings.timeout())
            .test_before_acquire(false)
            .before_acquire(|connection, held| {
                Box::pin(async move {
                    if held.idle_for >= CHECK_AFTER_IDLE {
                        connection.ping().await?;
                    }
                    Ok(true)
                })
            })
            .connect_with(options)
            .await
            .map_err(conn_err)?;
        Ok(SqlxPostgresConnector::from_sqlx_postgres_pool(pool))
    } else {
        Err(DbErr::Custom(
            "unsupported database URL: use sqlite://PATH or postgres://...".to_owned(),
        ))
    }
}

/// Two settings of a new SQLite connection that sqlx has no option for.
///
/// * Each statement keeps its plan whatever values are bound to it (the query planner stability
///   guarantee). Otherwise SQLite plans a statement again whenever a value it looked at while
///   planning is rebound, and it looks at the value of `LIMIT ?`, which every read of one row or
///   one page has: each such read would be parsed and planned anew rather than taken from the
///   statement cache. The plans never depended on those values.
/// * A write that finds the database locked tries again soon, every millisecond at most (see
///   [`wait_for_lock`]), until `timeout`.
async fn tune_sqlite(
    connection: &mut SqliteConnection,
    timeout: Duration,
) -> Result<(), sea_orm::sqlx::Error> {
    let mut handle = connection.lock_handle().await?;
    let db = handle.as_raw_handle().as_ptr();
    let timeout_ms = usize::try_from(timeout.as_millis()).unwrap_or(usize::MAX);
    // SAFETY: `db` is the connection's open handle, locked away from its worker thread for these
    // calls. SQLITE_DBCONFIG_ENABLE_QPSG takes an int (1: on) and an int pointer that may be
    // null. The busy handler's argument is the timeout itself, never dereferenced.
    let codes = unsafe {
        [
            libsqlite3_sys::sqlite3_db_config(
                db,
                libsqlite3_sys::SQLITE_DBCONFIG_ENABLE_QPSG,
                1 as c_int,
                std::ptr::null_mut::<c_int>(),
            ),
            libsqlite3_sys::sqlite3_busy_handler(
                db,
                Some(wait_for_lock),
                timeout_ms as *mut std::ffi::c_void,
            ),
        ]
    };
    match codes
        .into_iter()
        .find(|&code| code != libsqlite3_sys::SQLITE_OK)
    {
        None => Ok(()),
        Some(code) => Err(sea_orm::sqlx::Error::Configuration(
            format!("SQLite refused a connection setting (code {code})").into(),
        )),
    }
}

/// SQLite's busy handler: whether to try again for the lock, after a pause. SQLite's own handler
/// sleeps longer and longer, up to 100 ms a time, so under load a write could go on sleeping long
/// after the lock was free. This one sleeps 0.1 ms, doubling to 1 ms, until the pauses add up to
/// the timeout its argument holds, in milliseconds.
extern "C" fn wait_for_lock(timeout_ms: *mut std::ffi::c_void, tries: c_int) -> c_int {
    const FIRST: Duration = Duration::from_micros(100);
    const LONGEST: Duration = Duration::from_millis(1);
    // ExprTrait, in scope here, has a `min` of its own.
    let pause = |attempt: u32| Ord::min(FIRST.saturating_mul(1 << Ord::min(attempt, 4)), LONGEST);
    let tries = u32::try_from(tries).unwrap_or(0);
    let waited: Duration = (0..tries).map(pause).sum();
    if waited.as_millis() >= timeout_ms as usize as u128 {
        return 0;
    }
    std::thread::sleep(pause(tries));
    1
}

/// Write transactions in turn on SQLite. SQLite lets one writer in at a time, and a writer that
/// finds the database locked sleeps and tries again, for longer and longer (up to 100 ms a
/// sleep): under load some writers wait far longer than the writes ahead of them take. The
/// write transactions of this process therefore queue here first, in order, and begin
/// `IMMEDIATE`, taking SQLite's lock at once. On PostgreSQL, which locks rows rather than the
/// database, the gate stands open.
#[derive(Debug)]
pub struct WriteGate(Option<tokio::sync::Mutex<()>>);

impl WriteGate {
    pub fn for_database(db: &DatabaseConnection) -> Self {
        match db.get_database_backend() {
            DbBackend::Sqlite => Self(Some(tokio::sync::Mutex::new(()))),
            _ => Self(None),
        }
    }

    /// Begins a write transaction, once it is this one's turn.
    pub async fn begin(&self, db: &DatabaseConnection) -> Result<Writing<'_>, DbErr> {
        let Some(gate) = &self.0 else {
            return Ok(Writing {
                txn: db.begin().await?,
                _turn: None,
            });
        };
        let turn = gate.lock().await;
        let options = TransactionOptions {
            sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
            ..TransactionOptions::default()
        };
        Ok(Writing {
            txn: db.begin_with_options(options).await?,
            _turn: Some(turn),
        })
    }
}

/// A statement that writes, one of several written at once (see [`webhooks::write_announced`]).
pub enum Change {
    Insert(InsertStatement),
    Update(UpdateStatement),
}

/// A write transaction holding its turn until it commits or is dropped.
pub struct Writing<'a> {
    txn: DatabaseTransaction,
    _turn: Option<tokio::sync::MutexGuard<'a, ()>>,
}

impl Writing<'_> {
    pub async fn commit(self) -> Result<(), DbErr> {
        self.txn.commit().await
    }
}

impl std::ops::Deref for Writing<'_> {
    type Target = DatabaseTransaction;

    fn deref(&self) -> &DatabaseTransaction {
        &self.txn
    }
}

/// The file of a SQLite database kept in one (`None` for PostgreSQL or an in-memory database).
pub fn sqlite_file(url: &str) -> Option<std::path::PathBuf> {
    let in_memory = url.contains(":memory:") || url.contains("mode=memory");
    if !url.starts_with("sqlite:") || in_memory {
        return None;
    }
    let options = SqliteConnectOptions::from_str(url).ok()?;
    Some(options.get_filename().to_path_buf())
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

impl<T> Page<T> {
    /// The page of `rows` read with a limit of `limit + 1`: the extra row, when there is one,
    /// only tells that more follow.
    pub(crate) fn of(mut rows: Vec<T>, limit: u64, id_of: fn(&T) -> Uuid) -> Self {
        let next_after = if rows.len() as u64 > limit {
            rows.truncate(limit as usize);
            rows.last().map(id_of)
        } else {
            None
        };
        Self {
            items: rows,
            next_after,
        }
    }
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
    Ok(Page::of(select.all(db).await?, page.limit, id_of))
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

/// `column` compared byte by byte (in code point order, UTF-8 being what it is): `COLLATE "C"` on
/// PostgreSQL, as the customer search indexes are; SQLite's binary collation already is.
pub(crate) fn bytewise(backend: DbBackend, column: impl ColumnTrait) -> SimpleExpr {
    match backend {
        DbBackend::Postgres => Expr::cust(format!(r#""{}" COLLATE "C""#, column.as_str())),
        _ => Expr::col(column),
    }
}

/// `value` starts with `prefix`, as a range of values: `prefix <= value < bound`, where `bound`
/// is the prefix with its last character advanced. An index in the same order bounds the range
/// under any query plan, where `LIKE $1` can use one only when the planner sees the value
/// (PostgreSQL's generic plans do not).
pub(crate) fn starts_with(value: SimpleExpr, prefix: &str) -> Condition {
    let range = Condition::all().add(value.clone().gte(prefix));
    match successor(prefix) {
        Some(bound) => range.add(value.lt(bound)),
        None => range,
    }
}

/// The first string after every string that starts with `prefix`, in code point (and so UTF-8
/// byte) order; `None` when there is none.
fn successor(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let next = match u32::from(last) + 1 {
            0xD800 => Some('\u{E000}'),
            code => char::from_u32(code),
        };
        if let Some(next) = next {
            chars.push(next);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use std::ffi::c_int;

    use super::{connect, successor, wait_for_lock};
    use crate::config::DatabaseSettings;

    #[tokio::test]
    async fn sqlite_connections_keep_their_plans() {
        let dir = tempfile::tempdir().unwrap();
        let settings = DatabaseSettings {
            database_url: Some(format!(
                "sqlite://{}",
                dir.path().join("plans.db").display()
            )),
            ..DatabaseSettings::default()
        };
        let db = connect(&settings).await.unwrap();
        let mut connection = db.get_sqlite_connection_pool().acquire().await.unwrap();
        let mut handle = connection.lock_handle().await.unwrap();
        let mut enabled: c_int = -1;
        // SAFETY: the handle is open and locked; -1 leaves the setting as it is and reports it.
        let code = unsafe {
            libsqlite3_sys::sqlite3_db_config(
                handle.as_raw_handle().as_ptr(),
                libsqlite3_sys::SQLITE_DBCONFIG_ENABLE_QPSG,
                -1 as c_int,
                &mut enabled as *mut c_int,
            )
        };
        assert_eq!(code, libsqlite3_sys::SQLITE_OK);
        assert_eq!(enabled, 1);
    }

    #[test]
    fn a_locked_write_tries_again_until_its_pauses_reach_the_timeout() {
        let timeout_ms = |ms: usize| ms as *mut std::ffi::c_void;
        // Pauses of 0.1, 0.2, 0.4, 0.8, then 1 ms: 4.5 ms after 7 tries, 5.5 ms after 8.
        assert_eq!(wait_for_lock(timeout_ms(5), 0), 1);
        assert_eq!(wait_for_lock(timeout_ms(5), 7), 1);
        assert_eq!(wait_for_lock(timeout_ms(5), 8), 0);
        assert_eq!(wait_for_lock(timeout_ms(0), 0), 0);
        assert_eq!(wait_for_lock(timeout_ms(5000), 4000), 1);
        assert_eq!(wait_for_lock(timeout_ms(5000), 5004), 0);
    }

    #[test]
    fn the_successor_follows_every_string_with_the_prefix() {
        assert_eq!(successor("abc").as_deref(), Some("abd"));
        assert_eq!(successor("上海").as_deref(), Some("上浸"));
        assert_eq!(successor("a\u{D7FF}").as_deref(), Some("a\u{E000}"));
        assert_eq!(successor("a\u{10FFFF}").as_deref(), Some("b"));
        assert_eq!(successor("\u{10FFFF}"), None);
        assert_eq!(successor(""), None);
        for text in ["abc", "abcz", "abc\u{10FFFF}", "abc上"] {
            assert!(text >= "abc" && text < successor("abc").unwrap().as_str());
        }
    }
}
