//! Bearer credentials: API keys for systems, and people's tokens from their organisation's
//! identity provider (see `identity`). A middleware on `/v1` authenticates every request before
//! anything else is read (any failure is the same 401, so callers learn nothing about which keys
//! or people exist; a valid token whose tenant or role escalade does not admit is 403); handlers
//! then name the roles they admit with `Caller<...>`, which answers 403 for the others.

use std::future::{Ready, ready};
use std::marker::PhantomData;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header::{AUTHORIZATION, HeaderMap};
use actix_web::middleware::Next;
use actix_web::{Error, FromRequest, HttpMessage, HttpRequest, web};
use chrono::Utc;
use tracing::Span;

use crate::domain::person::{Refused, Tenant, role_of};
use crate::domain::secret::{self, prefix_of};
use crate::domain::{Actor, ActorKind, Principal, Role};
use crate::error::ApiError;
use crate::http::AppState;
use crate::http::client_address::{TrustedProxies, counted_as};
use crate::i18n::Text;
use crate::limits::{Limiter, SharedStore};
use crate::store;
use crate::store::people::SeenPerson;

/// Requests without a valid key. Each is counted against the client's address and against the
/// key prefix it presented; past either quota a failure is answered 429 instead of 401, telling
/// a guesser to slow down. A valid key is always admitted, whatever others sent from its address
/// (a corporate NAT, a load balancer) or with its prefix.
#[derive(Debug)]
pub struct FailedAuthentications {
    by_address: Limiter<IpAddr>,
    by_prefix: Limiter<String>,
    proxies: TrustedProxies,
}

impl FailedAuthentications {
    /// `None` when `per_minute` is 0: failures are not limited. With a `store`, every instance
    /// counts together.
    pub fn new(
        per_minute: u32,
        proxies: TrustedProxies,
        store: Option<Arc<SharedStore>>,
    ) -> Option<Self> {
        Some(Self {
            by_address: Limiter::new("failed-auth-per-address", per_minute, store.clone())?,
            by_prefix: Limiter::new("failed-auth-per-key-prefix", per_minute, store)?,
            proxies,
        })
    }

    /// The answer to a failed authentication from `client` presenting `presented`: 401, or 429
    /// once its address or its key prefix has failed too often.
    async fn refusal(&self, client: Option<IpAddr>, presented: Option<&str>) -> ApiError {
        let mut refused = None;
        if let Some(address) = client {
            refused = self.by_address.take(&counted_as(address)).await.err();
        }
        if let Some(prefix) = presented.and_then(prefix_of) {
            refused = refused.or(self.by_prefix.take(&prefix.to_owned()).await.err());
        }
        match refused {
            Some(limit) => {
                tracing::warn!(client = ?client, policy = limit.policy, "too many requests without a valid key");
                ApiError::TooManyFailedAuthentications { limit }
            }
            None => ApiError::Unauthorized,
        }
    }

    /// Forgets addresses and prefixes whose failures have all been forgiven.
    pub fn forget_idle(&self) {
        self.by_address.forget_idle();
        self.by_prefix.forget_idle();
    }
}

/// The caller a request's head names (from `peer`, with `headers`), or the refusal to answer it
/// with: 401, or 429 past the failed-authentication limits.
pub async fn admit(
    state: &AppState,
    failures: Option<&FailedAuthentications>,
    peer: Option<SocketAddr>,
    headers: &HeaderMap,
) -> Result<Principal, ApiError> {
    let presented = bearer_token(headers);
    match authenticate(state, presented).await {
        Err(ApiError::Unauthorized) => match failures {
            Some(failures) => {
                let client = failures.proxies.client_of(peer, headers);
                Err(failures.refusal(client, presented).await)
            }
            None => Err(ApiError::Unauthorized),
        },
        admitted => admitted,
    }
}

/// Resolves the bearer key into a `Principal` stored in the request, or answers 401 (as a
/// response carrying the error, so the problem renderer outside sees it like any other), or 429
/// past the failed-authentication limits.
pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        let missing = ApiError::internal("application state is missing");
        return Ok(req.error_response(missing).map_into_right_body());
    };
    let failures = req.app_data::<web::Data<FailedAuthentications>>().cloned();
    let admitted = admit(
        &state,
        failures.as_ref().map(|failures| failures.get_ref()),
        req.peer_addr(),
        req.headers(),
    )
    .await;
    match admitted {
        Ok(principal) => {
            Span::current().record("principal", tracing::field::display(principal.actor.id));
            req.extensions_mut().insert(principal);
            Ok(next.call(req).await?.map_into_left_body())
        }
        Err(err) => Ok(req.error_response(err).map_into_right_body()),
    }
}

/// The caller a presented key or token stands for: from the callers this instance has verified,
/// or else from the database (and, for a token, the identity provider's keys), then remembered.
async fn authenticate(state: &AppState, presented: Option<&str>) -> Result<Principal, ApiError> {
    let presented = presented.ok_or(ApiError::Unauthorized)?;
    let digest = secret::digest(presented);
    let now = Utc::now();
    if let Some(principal) = state.verified.get(&digest, now) {
        return Ok(principal);
    }
    match prefix_of(presented) {
        Some(prefix) => authenticate_key(state, presented, prefix, digest).await,
        None => authenticate_person(state, presented, digest).await,
    }
}

async fn authenticate_key(
    state: &AppState,
    presented: &str,
    prefix: &str,
    digest: String,
) -> Result<Principal, ApiError> {
    let key = store::api_keys::active_by_prefix(&state.db, prefix)
        .await?
        .into_iter()
        .find(|key| secret::matches(presented, &key.secret_hash))
        .ok_or(ApiError::Unauthorized)?;
    let principal = Principal {
        actor: Actor {
            kind: ActorKind::ApiKey,
            id: key.id,
            name: key.name,
        },
        role: key.role.parse::<Role>().map_err(ApiError::internal)?,
        partner_id: key.partner_id,
    };
    state.verified.insert(
        digest,
        principal.clone(),
        None,
        key.last_used_at,
        Utc::now(),
    );
    Ok(principal)
}

/// A person's token: valid with the identity provider's keys, from 21Vianet's tenant or a
/// registered partner's, with a role that tenant may hold, for a person not disabled. The person
/// is recorded (or brought up to date) only once all of that holds.
async fn authenticate_person(
    state: &AppState,
    token: &str,
    digest: String,
) -> Result<Principal, ApiError> {
    let provider = state.identity.as_ref().ok_or(ApiError::Unauthorized)?;
    let person = provider.validate(token).await.map_err(|invalid| {
        tracing::info!(reason = %invalid, "a bearer token was refused");
        ApiError::Unauthorized
    })?;
    let tenant = if person.tenant_id == provider.settings().operator_tenant_id {
        Tenant::Operator
    } else {
        match store::partners::by_tenant(&state.db, person.tenant_id).await? {
            Some(partner) => Tenant::Partner(partner.id),
            None => Tenant::Unregistered,
        }
    };
    let (role, partner_id) = role_of(tenant, &person.app_roles).map_err(|refused| {
        tracing::info!(tenant = %person.tenant_id, ?refused, "a person's token was refused");
        match refused {
            Refused::TenantNotRegistered => ApiError::Denied {
                code: "tenant_not_registered",
                detail: Text::new("problem-tenant-not-registered"),
            },
            Refused::RoleNotAllowed => ApiError::Denied {
                code: "role_not_allowed",
                detail: Text::new("problem-role-not-allowed"),
            },
        }
    })?;
    let now = Utc::now();
    let seen = SeenPerson {
        tenant_id: person.tenant_id,
        object_id: person.object_id,
        name: person.name,
        email: person.email,
        role,
        partner_id,
    };
    let row = store::people::seen(&state.db, seen, now).await?;
    if row.disabled_at.is_some() {
        return Err(ApiError::Denied {
            code: "person_disabled",
            detail: Text::new("problem-person-disabled"),
        });
    }
    let principal = Principal {
        actor: Actor {
            kind: ActorKind::Person,
            id: row.id,
            name: row.name,
        },
        role,
        partner_id,
    };
    let expires_at = Some(person.expires_at);
    state
        .verified
        .insert(digest, principal.clone(), expires_at, Some(now), now);
    Ok(principal)
}

/// The token of `Authorization: Bearer <token>` (scheme case-insensitive).
fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
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
