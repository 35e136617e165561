//! The buckets every instance draws from: a row per key in PostgreSQL (an unlogged table: a
//! limit is worth nothing after a crash, and skipping the write-ahead log keeps it cheap), or a
//! key per bucket in Redis. Either way one atomic step takes up to `n` requests from a bucket
//! and says how many it took, timed by the store's clock, so instances whose clocks differ still
//! agree.
//!
//! A store that fails or is slow to answer is set aside: until [`RETRY_AFTER`] has passed, each
//! instance limits on its own (see `Limiter`), and the log and `/readyz` say so.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use redis::aio::ConnectionManager;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, Statement};

use super::Rate;

/// How long a store has to answer one request's question.
const CALL_TIMEOUT: Duration = Duration::from_secs(1);

/// How long a store that failed is left alone before it is asked again.
pub const RETRY_AFTER: Duration = Duration::from_secs(5);

/// GCRA on a row: `tat` is when the bucket's next slot frees up (ms since the epoch, the
/// database's clock), `at` when the row was last written. Up to `$2` slots are taken, as many
/// as are free within the quota `$3` at one every `$4` ms.
const TAKE_POSTGRES: &str = r#"
INSERT INTO rate_limits AS r (key, at, tat, granted)
SELECT $1, c.now, c.now + least($2, $3) * $4, least($2, $3)
FROM (SELECT extract(epoch FROM clock_timestamp())::double precision * 1000 AS now) AS c
ON CONFLICT (key) DO UPDATE SET
    at = excluded.at,
    granted = least($2, greatest(0, floor(($3 * $4 - greatest(r.tat - excluded.at, 0)) / $4 + 1e-9))),
    tat = greatest(r.tat, excluded.at)
        + least($2, greatest(0, floor(($3 * $4 - greatest(r.tat - excluded.at, 0)) / $4 + 1e-9))) * $4
RETURNING granted, tat - at AS ahead"#;

/// The same on a Redis key, which expires once its bucket is full again.
const TAKE_REDIS: &str = r#"
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + tonumber(time[2]) / 1000
local wanted, quota, interval = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then tat = now end
local free = math.floor((quota * interval - (tat - now)) / interval + 1e-9)
local granted = math.max(0, math.min(wanted, free))
tat = tat + granted * interval
redis.call('SET', KEYS[1], string.format('%.3f', tat), 'PX', math.ceil(tat - now) + 1000)
return {granted, string.format('%.3f', tat - now)}"#;

/// What a store granted: how many of the requests asked for, and how far ahead of now the
/// bucket's next free slot is after them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Grant {
    pub granted: u32,
    pub ahead: Duration,
}

pub struct SharedStore {
    backend: Backend,
    /// Since when the store has been failing, if it is.
    down_since: Mutex<Option<Instant>>,
}

enum Backend {
    Postgres(DatabaseConnection),
    Redis(Box<Redis>),
}

struct Redis {
    client: redis::Client,
    connection: tokio::sync::OnceCell<ConnectionManager>,
    script: redis::Script,
    prefix: String,
}

impl SharedStore {
    /// The deployment's PostgreSQL database.
    pub fn postgres(db: DatabaseConnection) -> Self {
        Self::with(Backend::Postgres(db))
    }

    /// A Redis server (`redis://host:6379/0`), its keys named under `prefix`. Connected on first
    /// use; a malformed URL is refused here.
    pub fn redis(url: &str, prefix: &str) -> Result<Self, String> {
        let client = redis::Client::open(url)
            .map_err(|err| format!("--redis-url is not a Redis URL: {err}"))?;
        Ok(Self::with(Backend::Redis(Box::new(Redis {
            client,
            connection: tokio::sync::OnceCell::new(),
            script: redis::Script::new(TAKE_REDIS),
            prefix: prefix.to_owned(),
        }))))
    }

    fn with(backend: Backend) -> Self {
        Self {
            backend,
            down_since: Mutex::new(None),
        }
    }

    /// The store, as `/readyz` names it.
    pub fn name(&self) -> &'static str {
        match self.backend {
            Backend::Postgres(_) => "postgresql",
            Backend::Redis(_) => "redis",
        }
    }

    /// Whether the store answered its last question.
    pub fn reachable(&self) -> bool {
        self.down().is_none()
    }

    fn down(&self) -> std::sync::MutexGuard<'_, Option<Instant>> {
        self.down_since
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Takes up to `wanted` requests from `key`'s bucket; `None` when the store cannot say (it
    /// failed now, or did lately): the caller then limits on its own.
    pub(super) async fn take(&self, key: &str, wanted: u32, rate: Rate) -> Option<Grant> {
        if self
            .down()
            .is_some_and(|since| since.elapsed() < RETRY_AFTER)
        {
            return None;
        }
        let name = format!("{}:{key}", rate.policy);
        let asked = tokio::time::timeout(CALL_TIMEOUT, self.ask(&name, wanted, rate)).await;
        let mut down = self.down();
        match asked {
            Ok(Ok(grant)) => {
                if down.take().is_some() {
                    tracing::info!(
                        store = self.name(),
                        "the shared rate limit store answers again; limits are shared once more"
                    );
                }
                Some(grant)
            }
            Ok(Err(error)) => {
                if down.is_none() {
                    tracing::warn!(store = self.name(), %error, "the shared rate limit store failed; each instance limits on its own until it is back");
                }
                *down = Some(Instant::now());
                None
            }
            Err(_) => {
                if down.is_none() {
                    tracing::warn!(
                        store = self.name(),
                        timeout_ms = CALL_TIMEOUT.as_millis() as u64,
                        "the shared rate limit store did not answer in time; each instance limits on its own until it does"
                    );
                }
                *down = Some(Instant::now());
                None
            }
        }
    }

    async fn ask(&self, name: &str, wanted: u32, rate: Rate) -> Result<Grant, String> {
        let interval_ms = rate.interval().as_secs_f64() * 1000.0;
        let wanted = i32::try_from(wanted).unwrap_or(i32::MAX);
        let quota = i32::try_from(rate.quota.get()).unwrap_or(i32::MAX);
        let (granted, ahead_ms) = match &self.backend {
            Backend::Postgres(db) => {
                let statement = Statement::from_sql_and_values(
                    DbBackend::Postgres,
                    TAKE_POSTGRES,
                    [name.into(), wanted.into(), quota.into(), interval_ms.into()],
                );
                let row = db
                    .query_one_raw(statement)
                    .await
                    .and_then(|row| row.ok_or_else(|| DbErr::RecordNotFound("rate limit".into())))
                    .map_err(|err| err.to_string())?;
                let granted: i32 = row.try_get("", "granted").map_err(|err| err.to_string())?;
                let ahead: f64 = row.try_get("", "ahead").map_err(|err| err.to_string())?;
                (i64::from(granted), ahead)
            }
            Backend::Redis(redis) => {
                let Redis {
                    client,
                    connection,
                    script,
                    prefix,
                } = redis.as_ref();
                let manager = connection
                    .get_or_try_init(|| ConnectionManager::new(client.clone()))
                    .await
                    .map_err(|err| err.to_string())?;
                let mut manager = manager.clone();
                let (granted, ahead): (i64, String) = script
                    .key(format!("{prefix}:ratelimit:{name}"))
                    .arg(wanted)
                    .arg(quota)
                    .arg(interval_ms)
                    .invoke_async(&mut manager)
                    .await
                    .map_err(|err| err.to_string())?;
                let ahead = ahead.parse::<f64>().map_err(|err| err.to_string())?;
                (granted, ahead)
            }
        };
        Ok(Grant {
            granted: u32::try_from(granted).unwrap_or(0),
            ahead: Duration::from_secs_f64(ahead_ms.max(0.0) / 1000.0),
        })
    }

    /// Deletes the buckets that are full again (Redis expires its keys by itself); how many.
    pub async fn forget_full(&self) -> Result<u64, DbErr> {
        let Backend::Postgres(db) = &self.backend else {
            return Ok(0);
        };
        let deleted = db
            .execute_unprepared(
                "DELETE FROM rate_limits \
                 WHERE tat < extract(epoch FROM clock_timestamp())::double precision * 1000",
            )
            .await?;
        Ok(deleted.rows_affected())
    }
}

impl std::fmt::Debug for SharedStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedStore")
            .field("store", &self.name())
            .field("reachable", &self.reachable())
            .finish()
    }
}
