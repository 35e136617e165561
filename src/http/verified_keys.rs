//! Callers this instance has verified, API keys and people's tokens alike, kept in memory so that
//! authenticating a request costs no statement and no signature check. Revocation stays prompt:
//! the instance that revokes a key or disables a person forgets it at once, and every instance
//! asks the database each second which of the keys and people it trusts are still active,
//! forgetting the others, so a key revoked or a person disabled anywhere stops working everywhere
//! within two seconds. A token is also forgotten once it expires. The same round records when
//! keys were last used and people last seen (at most once a minute each), so requests never write
//! for it.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::{DatabaseConnection, DbErr};
use tokio::sync::watch;
use uuid::Uuid;

use crate::domain::{ActorKind, Principal};
use crate::store::api_keys::{self, LAST_USED_RESOLUTION};
use crate::store::people;

/// How often the callers in memory are checked against the database: half the two seconds a
/// revocation may take to reach every instance.
pub const REVALIDATION_INTERVAL: Duration = Duration::from_secs(1);

/// Ids per statement when checking many callers at once.
const CHUNK: usize = 500;

#[derive(Debug)]
struct Verified {
    principal: Principal,
    /// When the credential stops being valid on its own (a token's `exp`), in Unix seconds.
    expires_at: Option<i64>,
    /// When it was last presented, in Unix seconds.
    used_at: AtomicI64,
    /// The last use the database holds, in Unix seconds (0: never).
    recorded_at: AtomicI64,
}

/// The verified callers of one instance.
#[derive(Debug, Default)]
pub struct VerifiedCallers(RwLock<Callers>);

#[derive(Debug, Default)]
struct Callers {
    /// By the SHA-256 digest of the secret or token presented.
    by_digest: HashMap<String, Verified>,
    /// Keys this instance revoked and people it disabled: a request that read one just before
    /// must not put it back.
    revoked_here: HashSet<Uuid>,
}

impl VerifiedCallers {
    /// The caller a digest stands for, if this instance has verified it and it has not expired;
    /// notes the use.
    pub fn get(&self, digest: &str, now: DateTime<Utc>) -> Option<Principal> {
        let callers = self.read();
        let verified = callers.by_digest.get(digest)?;
        if verified
            .expires_at
            .is_some_and(|expires_at| expires_at <= now.timestamp())
        {
            return None;
        }
        verified
            .used_at
            .fetch_max(now.timestamp(), Ordering::Relaxed);
        Some(verified.principal.clone())
    }

    /// Remembers a caller just verified against the database, used now, until `expires_at`.
    pub fn insert(
        &self,
        digest: String,
        principal: Principal,
        expires_at: Option<i64>,
        last_used_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) {
        let mut callers = self.write();
        if callers.revoked_here.contains(&principal.actor.id) {
            return;
        }
        let verified = Verified {
            principal,
            expires_at,
            used_at: AtomicI64::new(now.timestamp()),
            recorded_at: AtomicI64::new(last_used_at.map_or(0, |at| at.timestamp())),
        };
        callers.by_digest.insert(digest, verified);
    }

    /// Forgets a key this instance has just revoked, or a person it has just disabled, for good.
    pub fn forget(&self, id: Uuid) {
        let mut callers = self.write();
        callers.revoked_here.insert(id);
        callers
            .by_digest
            .retain(|_, verified| verified.principal.actor.id != id);
    }

    /// A person this instance has just enabled again may be verified anew.
    pub fn allow(&self, id: Uuid) {
        self.write().revoked_here.remove(&id);
    }

    /// Checks every caller in memory against the database and records recent uses. On a
    /// database error every caller is forgotten: one is trusted only while the database can be
    /// asked.
    pub async fn revalidate(&self, db: &DatabaseConnection, now: DateTime<Utc>) {
        if let Err(err) = self.try_revalidate(db, now).await {
            tracing::warn!(error = %err, "cannot check the callers in memory; forgetting them");
            self.write().by_digest.clear();
        }
    }

    /// The ids of the callers in memory of `kind`.
    fn ids(&self, kind: ActorKind, now: i64) -> Vec<Uuid> {
        let callers = self.read();
        let ids: HashSet<Uuid> = callers
            .by_digest
            .values()
            .filter(|verified| verified.principal.actor.kind == kind)
            .filter(|verified| verified.expires_at.is_none_or(|at| at > now))
            .map(|verified| verified.principal.actor.id)
            .collect();
        ids.into_iter().collect()
    }

    async fn try_revalidate(
        &self,
        db: &DatabaseConnection,
        now: DateTime<Utc>,
    ) -> Result<(), DbErr> {
        let keys = self.ids(ActorKind::ApiKey, now.timestamp());
        let people = self.ids(ActorKind::Person, now.timestamp());
        if keys.is_empty() && people.is_empty() {
            self.write().by_digest.clear();
            return Ok(());
        }
        let mut active = HashSet::with_capacity(keys.len() + people.len());
        for chunk in keys.chunks(CHUNK) {
            active.extend(api_keys::still_active(db, chunk).await?);
        }
        for chunk in people.chunks(CHUNK) {
            active.extend(people::still_enabled(db, chunk).await?);
        }
        let checked: HashSet<Uuid> = keys.iter().chain(&people).copied().collect();
        let due = {
            let mut callers = self.write();
            // Callers verified while the check ran are as fresh as the check: they stay.
            callers.by_digest.retain(|_, verified| {
                let id = verified.principal.actor.id;
                let expired = verified.expires_at.is_some_and(|at| at <= now.timestamp());
                !expired && (!checked.contains(&id) || active.contains(&id))
            });
            let resolution = LAST_USED_RESOLUTION.num_seconds();
            let mut due: Vec<(ActorKind, Uuid)> = callers
                .by_digest
                .values()
                .filter(|verified| {
                    let used = verified.used_at.load(Ordering::Relaxed);
                    used - verified.recorded_at.load(Ordering::Relaxed) >= resolution
                })
                .map(|verified| (verified.principal.actor.kind, verified.principal.actor.id))
                .collect();
            // A person may hold several tokens at once: each is recorded once.
            due.sort_unstable();
            due.dedup();
            due
        };
        let ids_of = |kind| -> Vec<Uuid> {
            due.iter()
                .filter(|(of, _)| *of == kind)
                .map(|(_, id)| *id)
                .collect()
        };
        for chunk in ids_of(ActorKind::ApiKey).chunks(CHUNK) {
            api_keys::mark_used(db, chunk, now).await?;
        }
        for chunk in ids_of(ActorKind::Person).chunks(CHUNK) {
            people::mark_seen(db, chunk, now).await?;
        }
        let callers = self.read();
        for verified in callers.by_digest.values().filter(|verified| {
            due.contains(&(verified.principal.actor.kind, verified.principal.actor.id))
        }) {
            verified
                .recorded_at
                .store(now.timestamp(), Ordering::Relaxed);
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

    fn read(&self) -> RwLockReadGuard<'_, Callers> {
        self.0
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, Callers> {
        self.0
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
