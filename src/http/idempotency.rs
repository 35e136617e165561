//! `Idempotency-Key` on every `POST` under `/v1`: a client that did not hear the answer sends the
//! same request again with the same key and gets the first answer back, marked
//! `Idempotency-Replayed: true`, instead of a second resource.
//!
//! The record lives in the database (per partner, 24 hours), so it holds across instances. Only
//! successful answers are kept: after an error the key is free again, and the retry runs anew.
//! The database holds a digest of the key, never the key, and the answer's body sealed under a
//! key derived from the idempotency key and the deployment's secret key: a copy of the database
//! does not give back the API keys or signing secrets those answers show.
//!
//! The middleware replays answers. A request that is not a replay reaches its handler, which
//! claims the key with [`Idempotency::claim`] once it has checked the caller's role, the
//! resources the request names and its body: a key reused on another request (422) or still in
//! use (409) is an answer only a permitted request about existing things can get.
//!
//! Uploads are the exception: their bodies are too large to hold, so the middleware lets them
//! stream to their handler, which stores the file while hashing it and then asks
//! [`Idempotency::claim_upload`] with the body's digest, which replays or claims as the
//! middleware would have.

use std::future::{Ready, ready};

use actix_web::body::{self, BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{Error, FromRequest, HttpMessage, HttpRequest, HttpResponse, web};
use sea_orm::DatabaseConnection;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::domain::Principal;
use crate::domain::sealing::KeyRing;
use crate::error::{ApiError, FieldError};
use crate::http::AppState;
use crate::http::extract::BodyLimit;
use crate::http::language;
use crate::i18n::Text;
use crate::store::idempotency::{self as store, Claim, StoredResponse};

pub const KEY_HEADER: &str = "Idempotency-Key";
pub const REPLAYED_HEADER: &str = "Idempotency-Replayed";
/// The longest key accepted.
pub const MAX_KEY_LEN: usize = 255;
/// The key's JSON Schema pattern: the rule `valid_key` applies.
pub const KEY_PATTERN: &str = "^[!-~]{1,255}$";

/// The headers a replay repeats, besides the status and body: the body's language among them,
/// so a replay answers in the language of the first request.
const KEPT_HEADERS: [&str; 4] = ["location", "etag", "content-type", "content-language"];

/// What stored answers are sealed for.
const SEALING_PURPOSE: &str = "idempotent-answer";

fn valid_key(key: &[u8]) -> bool {
    (1..=MAX_KEY_LEN).contains(&key.len()) && key.iter().all(|b| (0x21..=0x7e).contains(b))
}

/// The route whose bodies stream past the middleware (see [`Idempotency::claim_upload`]).
pub const STREAMED_ROUTE: &str = "/v1/escalations/{id}/attachments";

/// SHA-256 of the method, the path with its query and the body (for an upload, the body's
/// SHA-256): what makes two requests "the same" for a key.
fn fingerprint(method: &Method, uri: &actix_web::http::Uri, body: &[u8]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(method.as_str().as_bytes());
    hasher.update(b" ");
    hasher.update(
        uri.path_and_query()
            .map_or(uri.path(), |pq| pq.as_str())
            .as_bytes(),
    );
    hasher.update(b"\n");
    hasher.update(body);
    hex::encode(hasher.finalize())
}

/// A key as the service knows it: the owner's, with the digest it is stored under and what its
/// answers are sealed with.
#[derive(Debug, Clone)]
struct Key {
    owner: Uuid,
    /// The owner and the key itself, the context answers are sealed for.
    sealing_context: Vec<u8>,
    digest: String,
}

impl Key {
    fn new(owner: Uuid, key: &[u8]) -> Self {
        let mut sealing_context = owner.as_bytes().to_vec();
        sealing_context.extend_from_slice(key);
        let digest = hex::encode(Sha256::digest(&sealing_context));
        Self {
            owner,
            sealing_context,
            digest,
        }
    }

    fn seal(&self, keys: &KeyRing, body: &[u8]) -> String {
        keys.seal(SEALING_PURPOSE, &self.sealing_context, body)
    }

    fn open(&self, keys: &KeyRing, sealed: &str) -> Result<Vec<u8>, ApiError> {
        keys.open(SEALING_PURPOSE, &self.sealing_context, sealed)
            .map_err(|err| ApiError::internal(format!("a stored answer does not open: {err}")))
    }
}

/// The request's key, once read by the middleware, for its handler to claim.
#[derive(Debug, Clone)]
struct Pending {
    key: Key,
    fingerprint: String,
}

/// An upload's key: its fingerprint waits for the body's digest.
#[derive(Debug, Clone)]
struct Streamed {
    key: Key,
}

/// The claim a handler took, for the middleware to complete or release.
#[derive(Debug, Clone, Copy)]
struct Claimed(Uuid);

/// A handler's view of the request's `Idempotency-Key`, if it came with one.
pub struct Idempotency {
    req: HttpRequest,
    pending: Option<Pending>,
}

impl Idempotency {
    /// Claims the key for this request; without a key, nothing to do. Call it once the request is
    /// known to be permitted and about existing resources, with a valid body, and before anything
    /// is written: 422 `idempotency_key_reused` when the key came with another request, 409
    /// `idempotency_key_in_use` while a request with it is being answered.
    pub async fn claim(&self, db: &DatabaseConnection) -> Result<(), ApiError> {
        let Some(pending) = &self.pending else {
            return Ok(());
        };
        let claim = store::claim(
            db,
            pending.key.owner,
            &pending.key.digest,
            &pending.fingerprint,
        )
        .await?;
        match claim {
            Claim::Acquired(id) => {
                self.req.extensions_mut().insert(Claimed(id));
                Ok(())
            }
            Claim::Mismatch => Err(key_reused()),
            // A twin answered since the middleware looked: its retry gets the replay.
            Claim::InFlight | Claim::Replay(_) => Err(ApiError::IdempotencyKeyInUse),
        }
    }

    /// For an upload, once its body is stored: `body_sha256` is the body's digest. The first
    /// answer when the same upload came before with this key (the caller then discards what it
    /// stored), otherwise the key is claimed as [`Self::claim`] does, with its refusals.
    pub async fn claim_upload(
        &self,
        state: &AppState,
        body_sha256: &[u8],
    ) -> Result<Option<HttpResponse>, ApiError> {
        let Some(Streamed { key }) = self.req.extensions().get::<Streamed>().cloned() else {
            return Ok(None);
        };
        let fingerprint = fingerprint(self.req.method(), self.req.uri(), body_sha256);
        match store::claim(&state.db, key.owner, &key.digest, &fingerprint).await? {
            Claim::Acquired(id) => {
                self.req.extensions_mut().insert(Claimed(id));
                Ok(None)
            }
            Claim::Replay(stored) => {
                let body = key.open(&state.keys, &stored.sealed_body)?;
                tracing::info!(status = stored.status, "idempotent replay");
                Ok(Some(replay(&stored, body)))
            }
            Claim::Mismatch => Err(key_reused()),
            Claim::InFlight => Err(ApiError::IdempotencyKeyInUse),
        }
    }
}

impl FromRequest for Idempotency {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(Self {
            req: req.clone(),
            pending: req.extensions().get::<Pending>().cloned(),
        }))
    }
}

pub async fn middleware(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let Some(raw_key) = req.headers().get(KEY_HEADER).cloned() else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    if req.method() != Method::POST {
        return Ok(next.call(req).await?.map_into_boxed_body());
    }
    let (Some(state), Some(owner)) = (
        req.app_data::<web::Data<AppState>>().cloned(),
        req.extensions()
            .get::<Principal>()
            .map(|caller| caller.partner_id.unwrap_or(caller.actor.id)),
    ) else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    if !valid_key(raw_key.as_bytes()) {
        return Ok(refuse(req, invalid_key()));
    }
    let key = Key::new(owner, raw_key.as_bytes());
    let streamed = req.match_pattern().as_deref() == Some(STREAMED_ROUTE);
    if streamed {
        req.extensions_mut().insert(Streamed { key: key.clone() });
        let res = next.call(req).await?;
        return complete(&state, &key, res).await;
    }
    let body = match read_body(&mut req).await {
        Ok(body) => body,
        Err(err) => return Ok(refuse(req, err)),
    };
    let fingerprint = fingerprint(req.method(), req.uri(), &body);
    match store::answered(&state.db, owner, &key.digest, &fingerprint).await {
        Ok(Some(stored)) => {
            let body = match key.open(&state.keys, &stored.sealed_body) {
                Ok(body) => body,
                Err(err) => return Ok(refuse(req, err)),
            };
            tracing::info!(status = stored.status, "idempotent replay");
            let (req, _) = req.into_parts();
            return Ok(ServiceResponse::new(req, replay(&stored, body)));
        }
        Ok(None) => {}
        Err(err) => return Ok(refuse(req, err.into())),
    }
    req.extensions_mut().insert(Pending {
        key: key.clone(),
        fingerprint,
    });
    req.set_payload(Payload::from(body));
    let res = next.call(req).await?;
    complete(&state, &key, res).await
}

/// Keeps a claimed request's successful answer for replays, or frees its key after a failure.
async fn complete(
    state: &AppState,
    key: &Key,
    res: ServiceResponse<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let claimed = res.request().extensions().get::<Claimed>().copied();
    let Some(Claimed(record_id)) = claimed else {
        // An upload's replay comes from its handler, which found the key answered.
        if res.status().is_success() && !res.headers().contains_key(REPLAYED_HEADER) {
            tracing::error!("a POST succeeded without claiming its Idempotency-Key");
        }
        return Ok(res.map_into_boxed_body());
    };
    if !res.status().is_success() {
        if let Err(err) = store::release(&state.db, record_id).await {
            tracing::warn!(error = %err, "cannot release an idempotency key; it frees itself when its claim runs out");
        }
        return Ok(res.map_into_boxed_body());
    }
    let (http_req, response) = res.into_parts();
    let (head, body) = response.into_parts();
    let bytes = body::to_bytes(body)
        .await
        .map_err(|_| ApiError::internal("the response body could not be read"))?;
    let mut headers: Vec<(String, String)> = KEPT_HEADERS
        .iter()
        .filter_map(|name| {
            let value = head.headers().get(*name)?.to_str().ok()?;
            Some(((*name).to_owned(), value.to_owned()))
        })
        .collect();
    // Handlers leave `Content-Language` to the language middleware, which runs outside this one.
    if !head.headers().contains_key(header::CONTENT_LANGUAGE) {
        let language = language::of(&http_req);
        headers.push((
            header::CONTENT_LANGUAGE.to_string(),
            language.tag().to_owned(),
        ));
    }
    let stored = StoredResponse {
        status: head.status().as_u16(),
        headers,
        sealed_body: key.seal(&state.keys, &bytes),
    };
    if let Err(err) = store::complete(&state.db, record_id, &stored).await {
        // The answer stands; a retry after the claim runs out would run the request again.
        tracing::error!(error = %err, "cannot keep the answer for an idempotency key");
    }
    Ok(ServiceResponse::new(
        http_req,
        head.set_body(bytes).map_into_boxed_body(),
    ))
}

/// The body, read within the configured limit, so it can be fingerprinted and handed on.
async fn read_body(req: &mut ServiceRequest) -> Result<web::Bytes, ApiError> {
    let limit = req
        .app_data::<BodyLimit>()
        .map_or(BodyLimit::DEFAULT, |limit| limit.0);
    req.extract::<web::Bytes>().await.map_err(|err| {
        if err.as_response_error().status_code() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge { limit }
        } else {
            ApiError::bad_request("unreadable_body", Text::new("problem-unreadable-body"))
        }
    })
}

fn refuse(req: ServiceRequest, err: ApiError) -> ServiceResponse<BoxBody> {
    req.error_response(err)
}

fn invalid_key() -> ApiError {
    ApiError::BadRequest {
        code: "invalid_idempotency_key",
        detail: Text::new("problem-invalid-idempotency-key").with("max", MAX_KEY_LEN),
        errors: vec![FieldError::new(
            KEY_HEADER,
            "invalid_idempotency_key",
            Text::new("field-idempotency-key").with("max", MAX_KEY_LEN),
        )],
    }
}

fn key_reused() -> ApiError {
    ApiError::Unprocessable {
        code: "idempotency_key_reused",
        detail: Text::new("problem-idempotency-key-reused"),
        errors: vec![FieldError::new(
            KEY_HEADER,
            "idempotency_key_reused",
            Text::new("field-idempotency-key-reused"),
        )],
    }
}

fn replay(stored: &StoredResponse, body: Vec<u8>) -> HttpResponse {
    let status = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK);
    let mut response = HttpResponse::build(status);
    for (name, value) in &stored.headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::try_from(name.as_str()),
            HeaderValue::from_str(value),
        ) {
            response.insert_header((name, value));
        }
    }
    response.insert_header((REPLAYED_HEADER, "true"));
    response.body(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_1_to_255_visible_ascii_characters() {
        assert!(valid_key(b"3f1c9a52-0a4e-4c56-9d6b-2f0d8e7a1b2c"));
        assert!(valid_key(&[b'!'; 255]));
        assert!(!valid_key(b""));
        assert!(!valid_key(&[b'a'; 256]));
        assert!(!valid_key(b"with space"));
        assert!(!valid_key("clé".as_bytes()));
        assert!(!valid_key(b"tab\there"));
    }
}
