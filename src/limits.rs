//! Token buckets: each key (an API key, a client address) may burst up to its quota, then goes
//! at the quota per minute. Used for the rate limit of every API key and for failed
//! authentications per client address; what a bucket says is plain data the HTTP layer turns
//! into `RateLimit` headers and 429 answers.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::Instant;

/// The window a quota is counted over, in seconds.
pub const WINDOW_SECS: u32 = 60;

/// How many buckets are kept before full ones (as good as new) are dropped, so that keys a
/// client makes up (addresses) cannot grow memory without bound.
const MAX_TRACKED: usize = 100_000;

/// Where a key stands after a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimitState {
    /// What is counted, as `RateLimit-Policy` names it: `per-key` or `failed-auth-per-address`.
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
    /// `RateLimit-Policy` and `RateLimit`, after the IETF httpapi draft.
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

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// One bucket per key, `quota` tokens each, refilled evenly over the window.
#[derive(Debug)]
pub struct TokenBuckets<K> {
    policy: &'static str,
    quota: u32,
    buckets: Mutex<HashMap<K, Bucket>>,
}

impl<K: Hash + Eq + Copy> TokenBuckets<K> {
    /// `None` when `per_minute` is 0: no limit.
    pub fn new(policy: &'static str, per_minute: u32) -> Option<Self> {
        (per_minute > 0).then(|| Self {
            policy,
            quota: per_minute,
            buckets: Mutex::new(HashMap::new()),
        })
    }

    fn per_second(&self) -> f64 {
        f64::from(self.quota) / f64::from(WINDOW_SECS)
    }

    /// Takes one token from `key`'s bucket at `now`: `Ok` with the state after it, or `Err` with
    /// the state of the empty bucket.
    pub fn take(&self, key: K, now: Instant) -> Result<RateLimitState, RateLimitState> {
        self.with_bucket(key, now, true)
    }

    /// Whether `key` has a token left at `now`, without taking it.
    pub fn check(&self, key: K, now: Instant) -> Result<RateLimitState, RateLimitState> {
        self.with_bucket(key, now, false)
    }

    fn with_bucket(
        &self,
        key: K,
        now: Instant,
        take: bool,
    ) -> Result<RateLimitState, RateLimitState> {
        let quota = f64::from(self.quota);
        let rate = self.per_second();
        let mut buckets = self
            .buckets
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if buckets.len() >= MAX_TRACKED && !buckets.contains_key(&key) {
            buckets.retain(|_, bucket| {
                bucket.tokens + now.saturating_duration_since(bucket.at).as_secs_f64() * rate
                    < quota
            });
        }
        let bucket = buckets.entry(key).or_insert(Bucket {
            tokens: quota,
            at: now,
        });
        let elapsed = now.saturating_duration_since(bucket.at).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * rate).min(quota);
        bucket.at = now;
        let admitted = bucket.tokens >= 1.0;
        if admitted && take {
            bucket.tokens -= 1.0;
        }
        let state = RateLimitState {
            policy: self.policy,
            quota: self.quota,
            remaining: bucket.tokens.floor() as u32,
            reset_secs: ((quota - bucket.tokens) / rate).ceil() as u64,
            retry_after: if bucket.tokens >= 1.0 {
                0
            } else {
                ((1.0 - bucket.tokens) / rate).ceil().max(1.0) as u64
            },
        };
        if admitted { Ok(state) } else { Err(state) }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn buckets(per_minute: u32) -> TokenBuckets<u32> {
        TokenBuckets::new("per-key", per_minute).unwrap()
    }

    #[test]
    fn a_full_bucket_admits_its_quota_at_once_then_refuses() {
        let limiter = buckets(3);
        let start = Instant::now();
        let remaining: Vec<u32> = (0..3)
            .map(|_| limiter.take(7, start).unwrap().remaining)
            .collect();
        assert_eq!(remaining, [2, 1, 0]);
        let refused = limiter.take(7, start).unwrap_err();
        assert_eq!(refused.remaining, 0);
        // 3 per minute: one token every 20 seconds, the bucket full after 60.
        assert_eq!(refused.retry_after, 20);
        assert_eq!(refused.reset_secs, 60);
    }

    #[test]
    fn tokens_come_back_evenly_and_never_beyond_the_quota() {
        let limiter = buckets(60);
        let start = Instant::now();
        for _ in 0..60 {
            limiter.take(7, start).unwrap();
        }
        assert!(limiter.take(7, start).is_err());
        assert!(
            limiter
                .take(7, start + Duration::from_millis(1_000))
                .is_ok()
        );
        let later = limiter.take(7, start + Duration::from_secs(3_600)).unwrap();
        assert_eq!(later.remaining, 59);
    }

    #[test]
    fn keys_have_their_own_buckets() {
        let limiter = buckets(1);
        let now = Instant::now();
        limiter.take(1, now).unwrap();
        assert!(limiter.take(1, now).is_err());
        assert!(limiter.take(2, now).is_ok());
    }

    #[test]
    fn checking_takes_nothing() {
        let limiter = buckets(1);
        let now = Instant::now();
        assert!(limiter.check(1, now).is_ok());
        assert!(limiter.check(1, now).is_ok());
        limiter.take(1, now).unwrap();
        assert!(limiter.check(1, now).is_err());
    }

    #[test]
    fn no_quota_means_no_limit() {
        assert!(TokenBuckets::<u32>::new("per-key", 0).is_none());
    }

    #[test]
    fn the_map_forgets_full_buckets_when_it_grows_too_big() {
        let limiter = buckets(10);
        let now = Instant::now();
        for key in 0..MAX_TRACKED as u32 {
            limiter.take(key, now).unwrap();
        }
        let later = now + Duration::from_secs(60);
        limiter.take(u32::MAX, later).unwrap();
        assert_eq!(limiter.buckets.lock().unwrap().len(), 1);
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
