//! `Expect: 100-continue`: a client that asks before sending its body is told no at once when the
//! request's head settles the answer (no valid key: 401, or 429 past the failed-authentication
//! limits; a declared body larger than the operation takes: 413), and `100 Continue` only once
//! those checks pass. The HTTP server sends `100 Continue` as soon as this service lets a request
//! through, so nothing of a body that would be refused is uploaded.
//!
//! A refusal here never reaches the application's middleware, so it is rendered and logged the
//! way they would: a problem document in the caller's language, with its request id.

use std::rc::Rc;

use actix_http::body::BoxBody;
use actix_http::header::{self, HeaderMap, HeaderValue};
use actix_http::{Request, Response};
use actix_web::{HttpMessage, ResponseError, web};

use super::auth::{FailedAuthentications, admit};
use super::escalations::attachment_too_large;
use super::request_id;
use super::routes::RouteTable;
use super::{AppState, language::DefaultLanguage};
use crate::error::ApiError;
use crate::i18n::negotiate;

/// What the checks need, shared by the worker's connections.
#[derive(Clone)]
pub struct EarlyChecks {
    pub state: web::Data<AppState>,
    pub failures: Option<web::Data<FailedAuthentications>>,
    pub routes: web::Data<RouteTable>,
    pub body_limit: usize,
    pub default_language: DefaultLanguage,
}

/// The declared length of a request's body.
pub fn declared_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .parse()
        .ok()
}

impl EarlyChecks {
    /// The request back, to be answered `100 Continue` and served; or the refusal to send in
    /// place of `100 Continue`.
    pub async fn check(self: Rc<Self>, req: Request) -> Result<Request, Response<BoxBody>> {
        match self.refusal(&req).await {
            None => Ok(req),
            Some(refusal) => Err(self.render(&req, &refusal)),
        }
    }

    /// Authentication first, then the size, in the order the application checks them.
    async fn refusal(&self, req: &Request) -> Option<ApiError> {
        let path = req.path();
        if (path == "/v1" || path.starts_with("/v1/")) && !path.starts_with("/v1/auth/") {
            let failures = self.failures.as_ref().map(|failures| failures.get_ref());
            if let Err(refused) = admit(&self.state, failures, req.peer_addr(), req.headers()).await
            {
                return Some(refused);
            }
        }
        let declared = declared_length(req.headers())?;
        if self.routes.takes_upload(req.method().as_str(), path) {
            let max = self.state.attachment_max_bytes;
            (declared > max).then(|| attachment_too_large(&self.state, max))
        } else {
            (declared > self.body_limit as u64).then_some(ApiError::PayloadTooLarge {
                limit: self.body_limit,
            })
        }
    }

    fn render(&self, req: &Request, refusal: &ApiError) -> Response<BoxBody> {
        let accepted = req
            .headers()
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|value| value.to_str().ok());
        let language = negotiate(accepted, self.default_language.0);
        let request_id = request_id::accept_or_generate(req.headers());
        tracing::info!(
            request_id = %request_id,
            http.method = %req.method(),
            http.target = %req.path(),
            status = refusal.status_code().as_u16(),
            error = refusal.code(),
            "refused before its body was sent"
        );
        let mut response = refusal.to_response(language, Some(req.path().to_owned()));
        if let Ok(value) = HeaderValue::from_str(&request_id) {
            response.headers_mut().insert(request_id::HEADER, value);
        }
        response.into()
    }
}
