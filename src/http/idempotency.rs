//! `Idempotency-Key` on every `POST` under `/v1`: a client that did not hear the answer sends the
//! same request again with the same key and gets the first answer back, marked
//! `Idempotency-Replayed: true`, instead of a second resource.
//!
//! The record lives in the database (per partner, 24 hours), so it holds across instances. Only
//! successful answers are kept: after an error the key is free again, and the retry runs anew.

use actix_web::body::{self, BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage, HttpResponse, web};
use sha2::{Digest, Sha256};

use crate::domain::Principal;
use crate::domain::secret::hex_lower;
use crate::error::{ApiError, FieldError};
use crate::http::AppState;
use crate::http::extract::BodyLimit;
use crate::store::idempotency::{self as store, Claim, StoredResponse};

pub const KEY_HEADER: &str = "Idempotency-Key";
pub const REPLAYED_HEADER: &str = "Idempotency-Replayed";
/// The longest key accepted.
pub const MAX_KEY_LEN: usize = 255;
/// The key's JSON Schema pattern: the rule `valid_key` applies.
pub const KEY_PATTERN: &str = "^[!-~]{1,255}$";

/// The headers a replay repeats, besides the status and body.
const KEPT_HEADERS: [&str; 3] = ["location", "etag", "content-type"];

fn valid_key(key: &[u8]) -> bool {
    (1..=MAX_KEY_LEN).contains(&key.len()) && key.iter().all(|b| (0x21..=0x7e).contains(b))
}

/// SHA-256 of the method, the path with its query and the body: what makes two requests "the
/// same" for a key.
fn fingerprint(req: &ServiceRequest, body: &[u8]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(req.method().as_str().as_bytes());
    hasher.update(b" ");
    let uri = req.uri();
    hasher.update(
        uri.path_and_query()
            .map_or(uri.path(), |pq| pq.as_str())
            .as_bytes(),
    );
    hasher.update(b"\n");
    hasher.update(body);
    hex_lower(&hasher.finalize())
}

pub async fn middleware(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let Some(key) = req.headers().get(KEY_HEADER).cloned() else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    if req.method() != Method::POST {
        return Ok(next.call(req).await?.map_into_boxed_body());
    }
    let (Some(state), Some(owner)) = (
        req.app_data::<web::Data<AppState>>().cloned(),
        req.extensions()
            .get::<Principal>()
            .map(|caller| caller.partner_id.unwrap_or(caller.key_id)),
    ) else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    if !valid_key(key.as_bytes()) {
        return Ok(refuse(req, invalid_key()));
    }
    let key = String::from_utf8_lossy(key.as_bytes()).into_owned();
    let body = match read_body(&mut req).await {
        Ok(body) => body,
        Err(err) => return Ok(refuse(req, err)),
    };
    let fingerprint = fingerprint(&req, &body);
    let claim = match store::claim(&state.db, owner, &key, &fingerprint).await {
        Ok(claim) => claim,
        Err(err) => return Ok(refuse(req, err.into())),
    };
    let record_id = match claim {
        Claim::Acquired(id) => id,
        Claim::Replay(stored) => {
            tracing::info!(status = stored.status, "idempotent replay");
            let (req, _) = req.into_parts();
            return Ok(ServiceResponse::new(req, replay(&stored)));
        }
        Claim::Mismatch => return Ok(refuse(req, key_reused())),
        Claim::InFlight => return Ok(refuse(req, ApiError::IdempotencyKeyInUse)),
    };
    req.set_payload(Payload::from(body));
    let res = next.call(req).await;
    let res = match res {
        Ok(res) if res.status().is_success() => res,
        other => {
            if let Err(err) = store::release(&state.db, record_id).await {
                tracing::warn!(error = %err, "cannot release an idempotency key; it frees itself when its claim runs out");
            }
            return Ok(other?.map_into_boxed_body());
        }
    };
    let (http_req, response) = res.into_parts();
    let (head, body) = response.into_parts();
    let bytes = body::to_bytes(body)
        .await
        .map_err(|_| ApiError::internal("the response body could not be read"))?;
    let stored = StoredResponse {
        status: head.status().as_u16(),
        headers: KEPT_HEADERS
            .iter()
            .filter_map(|name| {
                let value = head.headers().get(*name)?.to_str().ok()?;
                Some(((*name).to_owned(), value.to_owned()))
            })
            .collect(),
        body: String::from_utf8_lossy(&bytes).into_owned(),
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
            ApiError::bad_request("unreadable_body", "the request body could not be read")
        }
    })
}

fn refuse(req: ServiceRequest, err: ApiError) -> ServiceResponse<BoxBody> {
    req.error_response(err)
}

fn invalid_key() -> ApiError {
    ApiError::BadRequest {
        code: "invalid_idempotency_key",
        detail: format!("{KEY_HEADER} must be 1 to {MAX_KEY_LEN} visible ASCII characters"),
        errors: vec![FieldError::new(
            KEY_HEADER,
            "invalid_idempotency_key",
            "use 1 to 255 visible ASCII characters, such as a UUID",
        )],
    }
}

fn key_reused() -> ApiError {
    ApiError::Unprocessable {
        code: "idempotency_key_reused",
        detail: format!(
            "this {KEY_HEADER} was used for a different request (method, path or body); use a new key for a new request"
        ),
        errors: vec![FieldError::new(
            KEY_HEADER,
            "idempotency_key_reused",
            "already used for a different request",
        )],
    }
}

fn replay(stored: &StoredResponse) -> HttpResponse {
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
    response.body(stored.body.clone())
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
