//! API keys this instance has verified, kept in memory so that authenticating a request costs no
//! statement. Revocation stays prompt: the instance that revokes a key forgets it at once, and
//! every instance asks the database each second which of the keys it trusts are still active,
//! forgetting the others, so a key revoked anywhere stops working everywhere within two
//! seconds. The same round records when keys were last used (at most once a minute each), so
//! requests never write for it.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::{DatabaseConnection, DbErr};
use tokio::sync::watch;
use uuid::Uuid;

use crate::domain::Principal;
use crate::store::api_keys::{self, LAST_USED_RESOLUTION};

/// How often the keys in memory are checked against the database: half the two seconds a
/// revocation may take to reach every instance.
pub const REVALIDATION_INTERVAL: Duration = Duration::from_secs(1);

/// Ids per statement when checking many keys at once.
const CHUNK: usize = 500;

#[derive(Debug)]
struct Verified {
    principal: Principal,
    /// When the key was last presented, in Unix seconds.
    used_at: AtomicI64,
    /// The `last_used_at` the database holds, in Unix seconds (0: never).
    recorded_at: AtomicI64,
}

/// The verified keys of one instance.
#[derive(Debug, Default)]
pub struct VerifiedKeys(RwLock<Keys>);

#[derive(Debug, Default)]
struct Keys {
    /// By the SHA-256 digest of the secret presented.
    by_digest: HashMap<String, Verified>,
    /// Keys this instance revoked: a request that read one just before its revocation must not
    /// put it back.
    revoked_here: HashSet<Uuid>,
}

impl VerifiedKeys {
    /// The caller a digest stands for, if this instance has verified it; notes the use.
    pub fn get(&self, digest: &str, now: DateTime<Utc>) -> Option<Principal> {
        let keys = self.read();
        let verified = keys.by_digest.get(digest)?;
        verified
            .used_at
            .fetch_max(now.timestamp(), Ordering::Relaxed);
        Some(verified.principal.clone())
    }

    /// Remembers a key just verified against the database, used now.
    pub fn insert(
        &self,
        digest: String,
        principal: Principal,
        last_used_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) {
        let mut keys = self.write();
        if keys.revoked_here.contains(&principal.key_id) {
            return;
        }
        let verified = Verified {
            principal,
            used_at: AtomicI64::new(now.timestamp()),
            recorded_at: AtomicI64::new(last_used_at.map_or(0, |at| at.timestamp())),
        };
        keys.by_digest.insert(digest, verified);
    }

    /// Forgets a key this instance has just revoked, for good.
    pub fn forget(&self, key_id: Uuid) {
        let mut keys = self.write();
        keys.revoked_here.insert(key_id);
        keys.by_digest
            .retain(|_, verified| verified.principal.key_id != key_id);
    }

    /// Checks every key in memory against the database and records recent uses. On a database
    /// error every key is forgotten: a key is trusted only while the database can be asked.
    pub async fn revalidate(&self, db: &DatabaseConnection, now: DateTime<Utc>) {
        if let Err(err) = self.try_revalidate(db, now).await {
            tracing::warn!(error = %err, "cannot check the API keys in memory; forgetting them");
            self.write().by_digest.clear();
        }
    }

    async fn try_revalidate(
        &self,
        db: &DatabaseConnection,
        now: DateTime<Utc>,
    ) -> Result<(), DbErr> {
        let checked: HashSet<Uuid> = self
            .read()
            .by_digest
            .values()
            .map(|key| key.principal.key_id)
            .collect();
        if checked.is_empty() {
            return Ok(());
        }
        let ids: Vec<Uuid> = checked.iter().copied().collect();
        let mut active = HashSet::with_capacity(ids.len());
        for chunk in ids.chunks(CHUNK) {
            active.extend(api_keys::still_active(db, chunk).await?);
        }
        let due = {
            let mut keys = self.write();
            // Keys verified while the check ran are as fresh as the check: they stay.
            keys.by_digest.retain(|_, key| {
                let id = key.principal.key_id;
                !checked.contains(&id) || active.contains(&id)
            });
            // A key has one secret, so one entry: each id comes once.
            let resolution = LAST_USED_RESOLUTION.num_seconds();
            keys.by_digest
                .values()
                .filter(|key| {
                    let used = key.used_at.load(Ordering::Relaxed);
                    used - key.recorded_at.load(Ordering::Relaxed) >= resolution
                })
                .map(|key| key.principal.key_id)
                .collect::<Vec<Uuid>>()
        };
        for chunk in due.chunks(CHUNK) {
            api_keys::mark_used(db, chunk, now).await?;
        }
        let keys = self.read();
        for key in keys
            .by_digest
            .values()
            .filter(|key| due.contains(&key.principal.key_id))
        {
            key.recorded_at.store(now.timestamp(), Ordering::Relaxed);
        }
        Ok(())
    }

    /// Revalidates every [`REVALIDATION_INTERVAL`] until `stop` turns true.
    pub async fn maintain(&self, db: DatabaseConnection, mut stop: watch::Receiver<bool>) {
        let mut interval = tokio::time::interval(REVALIDATION_INTERVAL);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = interval.tick() => self.revalidate(&db, Utc::now()).await,
                _ = stop.changed() => {}
            }
            if *stop.borrow() {
                break;
            }
        }
    }

    fn read(&self) -> RwLockReadGuard<'_, Keys> {
        self.0
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, Keys> {
        self.0
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
