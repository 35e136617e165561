//! Rate limits per API key: every authenticated `/v1` answer tells where the key stands
//! (`RateLimit-Policy`, `RateLimit`); a key past its quota gets 429 with `Retry-After`. The count
//! is shared by every instance when the deployment has a shared store (see `limits`).

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage, web};
use uuid::Uuid;

use crate::domain::Principal;
use crate::error::ApiError;
use crate::limits::{Limiter, SharedStore};

/// The requests of every key.
pub type RateLimiter = Limiter<Uuid>;

/// The limiter for `per_minute` requests per key; `None` (no limit) for 0.
pub fn per_key(per_minute: u32, store: Option<std::sync::Arc<SharedStore>>) -> Option<RateLimiter> {
    Limiter::new("per-key", per_minute, store)
}

/// Counts the request against its key; 429 when the key has nothing left. Runs after
/// authentication, so unauthenticated requests never use up a key's quota.
pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    // No limiter is registered when limits are off.
    let limiter = req.app_data::<web::Data<RateLimiter>>().cloned();
    let key = req.extensions().get::<Principal>().map(|p| p.actor.id);
    let (Some(limiter), Some(key)) = (limiter, key) else {
        return Ok(next.call(req).await?.map_into_left_body());
    };
    match limiter.take(&key).await {
        Ok(state) => {
            let mut res = next.call(req).await?;
            for (name, value) in state.headers() {
                res.headers_mut().insert(
                    HeaderName::from_static(name),
                    HeaderValue::from_str(&value).expect("an ASCII header value"),
                );
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
