//! Shares of a key's quota that one instance takes from the shared store at a time, so that a
//! busy key costs a round trip per lease rather than per request.
//!
//! A lease holds at most a twentieth of the quota (one request while the quota is under 20), and
//! lasts a second, or as long as its requests take to come back into the bucket if that is
//! longer. A key starts with leases of one request; one used up before it ran out doubles the
//! next, one that ran out unused halves it, so a key seen now and then draws no more than it
//! uses, while a busy one soon leases about a second of its requests at a time. A key's requests on one instance take turns at its lease, so that requests arriving
//! together wait for one new lease rather than each taking one. Every leased request was taken
//! from the shared bucket, so all instances together never admit more than the quota; what a
//! lease leaves unused is simply lost until the bucket refills.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use dashmap::DashMap;

use super::{Decision, LimitKey, Rate, SharedStore};

/// The largest lease, as a share of the quota: 1/20.
const LEASE_DIVISOR: u32 = 20;

/// The shortest time a lease lasts.
const LEASE_LIFETIME: Duration = Duration::from_secs(1);

#[derive(Debug, Clone, Copy)]
struct Lease {
    /// Requests still to admit from it.
    left: u32,
    until: Instant,
    /// How many it was granted.
    size: u32,
    /// How many the shared bucket had left once it was granted.
    remaining_then: u32,
    /// Seconds until the shared bucket was full again, when it was granted.
    reset_secs: u64,
}

/// A key's lease, which its requests take turns at.
type Slot = Arc<tokio::sync::Mutex<Option<Lease>>>;

pub struct Leases<K: LimitKey> {
    rate: Rate,
    store: Arc<SharedStore>,
    /// Sharded, so keys do not wait on one another to find their lease.
    slots: DashMap<K, Slot>,
    /// How many keys were held after the last sweep: the next sweeps once twice as many are.
    swept_at: AtomicUsize,
}

impl<K: LimitKey> Leases<K> {
    pub fn new(rate: Rate, store: Arc<SharedStore>) -> Self {
        Self {
            rate,
            store,
            slots: DashMap::new(),
            swept_at: AtomicUsize::new(0),
        }
    }

    fn largest(&self) -> u32 {
        (self.rate.quota.get() / LEASE_DIVISOR).max(1)
    }

    /// Counts one request of `key` against its lease, leasing more from the store when it is
    /// spent; `None` when the store cannot say.
    pub async fn take(&self, key: &K) -> Option<Decision> {
        if self.slots.len() > 2 * self.swept_at.load(Ordering::Relaxed).max(1024) {
            self.forget_expired();
        }
        let slot = match self.slots.get(key) {
            Some(slot) => Arc::clone(&slot),
            None => Arc::clone(&self.slots.entry(key.clone()).or_default()),
        };
        let mut held = slot.lock().await;
        let now = Instant::now();
        let size = match held.as_mut() {
            Some(lease) if lease.left > 0 && now < lease.until => {
                lease.left -= 1;
                let mut state = self.rate.state(Duration::ZERO, true);
                state.remaining = lease.remaining_then + lease.left;
                state.reset_secs = lease.reset_secs;
                return Some(Ok(state));
            }
            // Used up in time: the key is busy.
            Some(lease) if lease.left == 0 && now < lease.until => {
                (lease.size * 2).min(self.largest())
            }
            // Ran out with requests unused: the key is quieter than its lease.
            Some(lease) if lease.left > 0 => (lease.size / 2).max(1),
            Some(lease) => lease.size,
            None => 1,
        };
        let grant = self.store.take(&key.to_string(), size, self.rate).await?;
        if grant.granted == 0 {
            return Some(Err(self.rate.state(grant.ahead, false)));
        }
        let mut state = self.rate.state(grant.ahead, true);
        let lease = Lease {
            left: grant.granted - 1,
            until: now + (self.rate.interval() * grant.granted).max(LEASE_LIFETIME),
            size: grant.granted,
            remaining_then: state.remaining,
            reset_secs: state.reset_secs,
        };
        *held = Some(lease);
        state.remaining += lease.left;
        Some(Ok(state))
    }

    /// Drops the leases that ran out, keeping any a request is using now.
    pub fn forget_expired(&self) {
        let now = Instant::now();
        self.slots.retain(|_, slot| match slot.try_lock() {
            Ok(held) => held.is_some_and(|lease| now < lease.until),
            Err(_) => true,
        });
        self.swept_at.store(self.slots.len(), Ordering::Relaxed);
    }
}
