//! Rate limits per API key: a token bucket of `quota` requests refilled evenly over a minute, so
//! a client may burst up to its quota and then goes at the sustained rate. Every authenticated
//! `/v1` answer tells where the key stands (`RateLimit-Policy`, `RateLimit`, after the IETF
//! httpapi draft); an empty bucket is 429 with `Retry-After`.
//!
//! Each instance counts the requests it serves: behind a load balancer of n instances a key gets
//! up to n times its quota, which keeps the limit off the database's hot path.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage, web};
use uuid::Uuid;

use crate::domain::Principal;
use crate::error::ApiError;

/// The window the quota is counted over, in seconds.
const WINDOW_SECS: u32 = 60;

/// Where a key stands after a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimitState {
    pub quota: u32,
    /// Requests the key may still make at once.
    pub remaining: u32,
    /// Seconds until the bucket is full again.
    pub reset_secs: u64,
    /// Seconds until the next request would be admitted (0 when one would be now).
    pub retry_after: u64,
}

impl RateLimitState {
    /// `RateLimit-Policy` and `RateLimit`.
    pub fn headers(&self) -> [(HeaderName, HeaderValue); 2] {
        let value = |text: String| HeaderValue::from_str(&text).expect("ASCII header value");
        [
            (
                HeaderName::from_static("ratelimit-policy"),
                value(format!("\"per-key\";q={};w={WINDOW_SECS}", self.quota)),
            ),
            (
                HeaderName::from_static("ratelimit"),
                value(format!(
                    "\"per-key\";r={};t={}",
                    self.remaining, self.reset_secs
                )),
            ),
        ]
    }
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// The buckets of every key this instance has seen. Keys are authenticated before they get a
/// bucket, so their number is bounded by the keys that exist.
#[derive(Debug)]
pub struct RateLimiter {
    quota: u32,
    buckets: Mutex<HashMap<Uuid, Bucket>>,
}

impl RateLimiter {
    /// `None` when `per_minute` is 0: no limit.
    pub fn new(per_minute: u32) -> Option<Self> {
        (per_minute > 0).then(|| Self {
            quota: per_minute,
            buckets: Mutex::new(HashMap::new()),
        })
    }

    fn per_second(&self) -> f64 {
        f64::from(self.quota) / f64::from(WINDOW_SECS)
    }

    /// Takes one token from `key`'s bucket at `now`: `Ok` with the state after it, or `Err` with
    /// the state of the empty bucket.
    pub fn take(&self, key: Uuid, now: Instant) -> Result<RateLimitState, RateLimitState> {
        let quota = f64::from(self.quota);
        let rate = self.per_second();
        let mut buckets = self
            .buckets
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let bucket = buckets.entry(key).or_insert(Bucket {
            tokens: quota,
            at: now,
        });
        let elapsed = now.saturating_duration_since(bucket.at).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * rate).min(quota);
        bucket.at = now;
        let admitted = bucket.tokens >= 1.0;
        if admitted {
            bucket.tokens -= 1.0;
        }
        let state = RateLimitState {
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

/// Counts the request against its key; 429 when the key has nothing left. Runs after
/// authentication, so unauthenticated requests never use up a key's quota.
pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    // No limiter is registered when limits are off.
    let limiter = req.app_data::<web::Data<RateLimiter>>().cloned();
    let key = req.extensions().get::<Principal>().map(|p| p.key_id);
    let (Some(limiter), Some(key)) = (limiter, key) else {
        return Ok(next.call(req).await?.map_into_left_body());
    };
    match limiter.take(key, Instant::now()) {
        Ok(state) => {
            let mut res = next.call(req).await?;
            for (name, value) in state.headers() {
                res.headers_mut().insert(name, value);
            }
            Ok(res.map_into_left_body())
        }
        Err(state) => {
            tracing::info!(retry_after = state.retry_after, "rate limited");
            Ok(req
                .error_response(ApiError::TooManyRequests { limit: state })
                .map_into_right_body())
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn a_full_bucket_admits_its_quota_at_once_then_refuses() {
        let limiter = RateLimiter::new(3).unwrap();
        let (key, start) = (Uuid::now_v7(), Instant::now());
        let remaining: Vec<u32> = (0..3)
            .map(|_| limiter.take(key, start).unwrap().remaining)
            .collect();
        assert_eq!(remaining, [2, 1, 0]);
        let refused = limiter.take(key, start).unwrap_err();
        assert_eq!(refused.remaining, 0);
        // 3 per minute: one token every 20 seconds, the bucket full after 60.
        assert_eq!(refused.retry_after, 20);
        assert_eq!(refused.reset_secs, 60);
    }

    #[test]
    fn tokens_come_back_evenly_and_never_beyond_the_quota() {
        let limiter = RateLimiter::new(60).unwrap();
        let (key, start) = (Uuid::now_v7(), Instant::now());
        for _ in 0..60 {
            limiter.take(key, start).unwrap();
        }
        assert!(limiter.take(key, start).is_err());
        assert!(
            limiter
                .take(key, start + Duration::from_millis(1_000))
                .is_ok()
        );
        let later = limiter
            .take(key, start + Duration::from_secs(3_600))
            .unwrap();
        assert_eq!(later.remaining, 59);
    }

    #[test]
    fn keys_have_their_own_buckets() {
        let limiter = RateLimiter::new(1).unwrap();
        let now = Instant::now();
        let (one, other) = (Uuid::now_v7(), Uuid::now_v7());
        limiter.take(one, now).unwrap();
        assert!(limiter.take(one, now).is_err());
        assert!(limiter.take(other, now).is_ok());
    }

    #[test]
    fn no_quota_means_no_limit() {
        assert!(RateLimiter::new(0).is_none());
    }

    #[test]
    fn headers_follow_the_draft_syntax() {
        let state = RateLimitState {
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
