//! Bearer API keys. A middleware on `/v1` authenticates every request before anything else is
//! read (any failure is the same 401, so callers learn nothing about which keys exist); handlers
//! then name the roles they admit with `Caller<...>`, which answers 403 for the others.

use std::future::{Ready, ready};
use std::marker::PhantomData;
use std::net::IpAddr;
use std::time::Instant;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header::AUTHORIZATION;
use actix_web::middleware::Next;
use actix_web::{Error, FromRequest, HttpMessage, HttpRequest, web};
use chrono::Utc;
use tracing::Span;

use crate::domain::secret::{self, prefix_of};
use crate::domain::{Principal, Role};
use crate::error::ApiError;
use crate::http::AppState;
use crate::http::client_address::{TrustedProxies, counted_as};
use crate::limits::TokenBuckets;
use crate::store;

/// Requests without a valid key, counted per client address: guessing keys from one address
/// soon meets 429, for every request from it, until the bucket refills.
#[derive(Debug)]
pub struct FailedAuthentications {
    buckets: TokenBuckets<IpAddr>,
    proxies: TrustedProxies,
}

impl FailedAuthentications {
    /// `None` when `per_minute` is 0: failures are not limited.
    pub fn new(per_minute: u32, proxies: TrustedProxies) -> Option<Self> {
        TokenBuckets::new("failed-auth-per-address", per_minute)
            .map(|buckets| Self { buckets, proxies })
    }
}

/// Resolves the bearer key into a `Principal` stored in the request, or answers 401 (as a
/// response carrying the error, so the problem renderer outside sees it like any other); 429
/// while the client's address has used up its failures.
pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    let failures = req.app_data::<web::Data<FailedAuthentications>>().cloned();
    let client = failures.as_ref().and_then(|failures| {
        let address = failures.proxies.client_of(req.request())?;
        Some((failures, counted_as(address)))
    });
    if let Some((failures, address)) = &client
        && let Err(limit) = failures.buckets.check(*address, Instant::now())
    {
        tracing::warn!(client = %address, "too many requests without a valid key from this address");
        let refused = ApiError::TooManyFailedAuthentications { limit };
        return Ok(req.error_response(refused).map_into_right_body());
    }
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let principal = match state {
        Some(state) => authenticate(&state, bearer_token(req.request())).await,
        None => Err(ApiError::internal("application state is missing")),
    };
    match principal {
        Ok(principal) => {
            Span::current().record("principal", tracing::field::display(principal.key_id));
            req.extensions_mut().insert(principal);
            Ok(next.call(req).await?.map_into_left_body())
        }
        Err(err) => {
            if let (ApiError::Unauthorized, Some((failures, address))) = (&err, &client) {
                // The bucket may run dry now; the next request from the address learns so.
                let _ = failures.buckets.take(*address, Instant::now());
            }
            Ok(req.error_response(err).map_into_right_body())
        }
    }
}

/// The caller a presented key stands for: from the keys this instance has verified, or else
/// from the database (then remembered).
async fn authenticate(state: &AppState, presented: Option<&str>) -> Result<Principal, ApiError> {
    let presented = presented.ok_or(ApiError::Unauthorized)?;
    let prefix = prefix_of(presented).ok_or(ApiError::Unauthorized)?;
    let digest = secret::digest(presented);
    let now = Utc::now();
    if let Some(principal) = state.verified_keys.get(&digest, now) {
        return Ok(principal);
    }
    let key = store::api_keys::active_by_prefix(&state.db, prefix)
        .await?
        .into_iter()
        .find(|key| secret::matches(presented, &key.secret_hash))
        .ok_or(ApiError::Unauthorized)?;
    let principal = Principal {
        key_id: key.id,
        role: key.role.parse::<Role>().map_err(ApiError::internal)?,
        partner_id: key.partner_id,
    };
    state
        .verified_keys
        .insert(digest, principal.clone(), key.last_used_at, now);
    Ok(principal)
}

/// The token of `Authorization: Bearer <token>` (scheme case-insensitive).
fn bearer_token(req: &HttpRequest) -> Option<&str> {
    let value = req.headers().get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

impl FromRequest for Principal {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(
            req.extensions()
                .get::<Principal>()
                .cloned()
                .ok_or(ApiError::Unauthorized),
        )
    }
}

/// The roles an operation admits, as a type: `Caller<Staff>`.
pub trait Allowed {
    const ROLES: &'static [Role];
}

macro_rules! allowed {
    ($($(#[$doc:meta])* $name:ident => [$($role:ident),+];)+) => {$(
        $(#[$doc])*
        #[derive(Debug)]
        pub struct $name;

        impl Allowed for $name {
            const ROLES: &'static [Role] = &[$(Role::$role),+];
        }
    )+};
}

allowed! {
    /// Whoever runs the deployment.
    AdminOnly => [Admin];
    /// Admins and 21Vianet's operators.
    Staff => [Admin, Operator];
    /// A partner's own systems.
    PartnerOnly => [Partner];
    /// Admins, and partners for their own data.
    AdminOrPartner => [Admin, Partner];
    /// Every authenticated caller.
    Anyone => [Admin, Operator, Partner];
}

/// An authenticated caller whose role is among `A::ROLES`; 403 otherwise.
#[derive(Debug)]
pub struct Caller<A: Allowed>(pub Principal, PhantomData<A>);

impl<A: Allowed> std::ops::Deref for Caller<A> {
    type Target = Principal;

    fn deref(&self) -> &Principal {
        &self.0
    }
}

impl<A: Allowed> FromRequest for Caller<A> {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let principal = req.extensions().get::<Principal>().cloned();
        ready(match principal {
            None => Err(ApiError::Unauthorized),
            Some(principal) => principal
                .require(A::ROLES)
                .map(|()| Caller(principal, PhantomData))
                .map_err(ApiError::from),
        })
    }
}
