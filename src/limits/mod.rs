//! Rate limits: how many requests a key (an API key; a client address or a presented key's
//! prefix, for failed authentications) may make per minute. Each key may burst up to its quota
//! at once, then goes at the quota per minute (GCRA, a token bucket's exact equivalent).
//!
//! On SQLite, one instance counts in memory ([`local`]). With several instances over one
//! PostgreSQL, or a Redis that a deployment names, the count is shared ([`shared`]): every
//! instance draws from the same bucket, so two instances admit a key's quota in total, not twice
//! it. So that a busy key does not cost a round trip per request, an instance leases a few of a
//! key's requests at a time ([`lease`]); should the shared store be unreachable, each instance
//! counts on its own until it is back, and says so in its log and on `/readyz`.
//!
//! What a limiter says is plain data the HTTP layer turns into `RateLimit` headers and 429s.

mod lease;
mod local;
pub mod shared;

use std::fmt::Display;
use std::hash::Hash;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

pub use shared::SharedStore;

/// The window a quota is counted over, in seconds.
pub const WINDOW_SECS: u32 = 60;

/// Where a key stands after a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimitState {
    /// What is counted, as `RateLimit-Policy` names it: `per-key`, `failed-auth-per-address` or
    /// `failed-auth-per-key-prefix`.
    pub policy: &'static str,
    pub quota: u32,
    /// Requests the key may still make at once.
    pub remaining: u32,
    /// Seconds until the bucket is full again.
    pub reset_secs: u64,
    /// Seconds until the next request would be admitted (0 when one would be now).
    pub retry_after: u64,
}

impl RateLimitState {
    /// `RateLimit-Policy` and `RateLimit`, as the IETF httpapi draft (11) writes them.
    pub fn headers(&self) -> [(&'static str, String); 2] {
        [
            (
                "ratelimit-policy",
                format!("\"{}\";q={};w={WINDOW_SECS}", self.policy, self.quota),
            ),
            (
                "ratelimit",
                format!(
                    "\"{}\";r={};t={}",
                    self.policy, self.remaining, self.reset_secs
                ),
            ),
        ]
    }
}

/// A limiter's decision: admitted with the state after the request, or refused with the state of
/// the empty bucket.
pub type Decision = Result<RateLimitState, RateLimitState>;

/// What a limiter counts by. Its `Display` names it in a shared store, after its policy.
pub trait LimitKey: Hash + Eq + Clone + Display + Send + Sync + 'static {}

impl<K: Hash + Eq + Clone + Display + Send + Sync + 'static> LimitKey for K {}

/// The arithmetic every store shares: `quota` requests per window, one every `interval`.
#[derive(Debug, Clone, Copy)]
struct Rate {
    policy: &'static str,
    quota: NonZeroU32,
}

impl Rate {
    fn interval(self) -> Duration {
        Duration::from_secs(u64::from(WINDOW_SECS)) / self.quota.get()
    }

    /// The state of a bucket whose next free slot is `ahead` from now (zero: full), after a
    /// decision; `admitted` says whether it let the request through.
    fn state(self, ahead: Duration, admitted: bool) -> RateLimitState {
        let interval = self.interval().as_secs_f64();
        let ahead = ahead.as_secs_f64();
        let quota = f64::from(self.quota.get());
        // A hair of slack, so that 3 intervals ahead is 3 taken, not 2.999….
        let taken = (ahead / interval - 1e-9).ceil().clamp(0.0, quota);
        let wait = if admitted {
            0.0
        } else {
            (ahead - (quota - 1.0) * interval).max(0.0)
        };
        RateLimitState {
            policy: self.policy,
            quota: self.quota.get(),
            remaining: (quota - taken) as u32,
            reset_secs: ahead.ceil() as u64,
            retry_after: if admitted {
                0
            } else {
                wait.ceil().max(1.0) as u64
            },
        }
    }
}

/// The limit of one policy: in memory, or shared through a store with leases and the memory as
/// the fallback.
pub struct Limiter<K: LimitKey> {
    local: local::Local<K>,
    shared: Option<lease::Leases<K>>,
}

impl<K: LimitKey> Limiter<K> {
    /// `None` when `per_minute` is 0: no limit. With a `store`, the count is shared.
    pub fn new(
        policy: &'static str,
        per_minute: u32,
        store: Option<Arc<SharedStore>>,
    ) -> Option<Self> {
        let rate = Rate {
            policy,
            quota: NonZeroU32::new(per_minute)?,
        };
        Some(Self {
            local: local::Local::new(rate),
            shared: store.map(|store| lease::Leases::new(rate, store)),
        })
    }

    /// Counts one request of `key`.
    pub async fn take(&self, key: &K) -> Decision {
        if let Some(leases) = &self.shared
            && let Some(decision) = leases.take(key).await
        {
            return decision;
        }
        self.local.take(key)
    }

    /// Forgets keys whose buckets are full again: as good as new, so nothing is lost, and keys
    /// a client makes up (addresses, prefixes) cannot grow memory without bound.
    pub fn forget_idle(&self) {
        self.local.forget_idle();
        if let Some(leases) = &self.shared {
            leases.forget_expired();
        }
    }
}

impl<K: LimitKey> std::fmt::Debug for Limiter<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Limiter")
            .field("shared", &self.shared.is_some())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rate(per_minute: u32) -> Rate {
        Rate {
            policy: "per-key",
            quota: NonZeroU32::new(per_minute).unwrap(),
        }
    }

    #[test]
    fn a_bucket_says_what_is_left_and_when_it_is_full() {
        // 3 a minute: one every 20 s. Two taken: the next slot is 40 s ahead.
        let state = rate(3).state(Duration::from_secs(40), true);
        assert_eq!(
            (state.remaining, state.reset_secs, state.retry_after),
            (1, 40, 0)
        );
        // All three taken and refused: one comes back in 20 s, all in 60 s.
        let refused = rate(3).state(Duration::from_secs(60), false);
        assert_eq!(
            (refused.remaining, refused.reset_secs, refused.retry_after),
            (0, 60, 20)
        );
        let full = rate(600).state(Duration::ZERO, true);
        assert_eq!((full.remaining, full.reset_secs), (600, 0));
    }

    #[test]
    fn no_quota_means_no_limit() {
        assert!(Limiter::<u32>::new("per-key", 0, None).is_none());
    }

    #[test]
    fn headers_follow_the_draft_syntax() {
        let state = RateLimitState {
            policy: "per-key",
            quota: 600,
            remaining: 599,
            reset_secs: 1,
            retry_after: 0,
        };
        let [policy, limit] = state.headers();
        assert_eq!(policy.1, "\"per-key\";q=600;w=60");
        assert_eq!(limit.1, "\"per-key\";r=599;t=1");
    }
}
