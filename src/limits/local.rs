//! Limits one instance keeps in memory: governor's keyed GCRA, whose state per key is one atomic
//! in a sharded map, so concurrent requests of different keys never wait on one another.

use governor::clock::Clock;
use governor::middleware::StateInformationMiddleware;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use super::{Decision, LimitKey, Rate};

pub struct Local<K: LimitKey> {
    rate: Rate,
    limiter: DefaultKeyedRateLimiter<K, StateInformationMiddleware>,
}

impl<K: LimitKey> Local<K> {
    pub fn new(rate: Rate) -> Self {
        let limiter = RateLimiter::keyed(Quota::per_minute(rate.quota))
            .with_middleware::<StateInformationMiddleware>();
        Self { rate, limiter }
    }

    pub fn take(&self, key: &K) -> Decision {
        let interval = self.rate.interval();
        let quota = self.rate.quota.get();
        match self.limiter.check_key(key) {
            Ok(snapshot) => {
                let taken = quota - snapshot.remaining_burst_capacity();
                Ok(self.rate.state(interval * taken, true))
            }
            Err(refused) => {
                let wait = refused.wait_time_from(self.limiter.clock().now());
                Err(self.rate.state(interval * (quota - 1) + wait, false))
            }
        }
    }

    pub fn forget_idle(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
    }
}

#[cfg(test)]
mod tests {
    use std::num::NonZeroU32;

    use super::*;

    fn local(per_minute: u32) -> Local<u32> {
        Local::new(Rate {
            policy: "per-key",
            quota: NonZeroU32::new(per_minute).unwrap(),
        })
    }

    #[test]
    fn a_full_bucket_admits_its_quota_at_once_then_refuses() {
        let limiter = local(3);
        let remaining: Vec<u32> = (0..3)
            .map(|_| limiter.take(&7).unwrap().remaining)
            .collect();
        assert_eq!(remaining, [2, 1, 0]);
        let refused = limiter.take(&7).unwrap_err();
        assert_eq!(refused.remaining, 0);
        // 3 per minute: one every 20 seconds, the bucket full after 60.
        assert!((19..=20).contains(&refused.retry_after), "{refused:?}");
        assert!((59..=60).contains(&refused.reset_secs), "{refused:?}");
    }

    #[test]
    fn keys_have_their_own_buckets_and_full_ones_are_forgotten() {
        let limiter = local(1);
        limiter.take(&1).unwrap();
        assert!(limiter.take(&1).is_err());
        assert!(limiter.take(&2).is_ok());
        assert_eq!(limiter.limiter.len(), 2);
        limiter.forget_idle();
        // Both buckets are still draining: kept.
        assert_eq!(limiter.limiter.len(), 2);
    }
}
