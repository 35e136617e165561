//! The answer's language, negotiated once per request from `Accept-Language` (see
//! `i18n::negotiate`) and kept in the request for handlers and error rendering. Every answer
//! says its language (`Content-Language`) and that it depends on the header (`Vary`); a replayed
//! answer keeps the language it was first given in.

use std::future::{Ready, ready};

use actix_web::body::MessageBody;
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, FromRequest, HttpMessage, HttpRequest};

use crate::error::ApiError;
use crate::i18n::{Language, negotiate};

/// The deployment's default language, as app data.
#[derive(Debug, Clone, Copy)]
pub struct DefaultLanguage(pub Language);

/// The language of `req`'s answer (the default where none was negotiated).
pub fn of(req: &HttpRequest) -> Language {
    req.extensions()
        .get::<Language>()
        .copied()
        .or_else(|| req.app_data::<DefaultLanguage>().map(|default| default.0))
        .unwrap_or(Language::English)
}

pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let default = req
        .app_data::<DefaultLanguage>()
        .map_or(Language::English, |default| default.0);
    let header = req
        .headers()
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|value| value.to_str().ok());
    let language = negotiate(header, default);
    req.extensions_mut().insert(language);
    let mut res = next.call(req).await?;
    let headers = res.headers_mut();
    if !headers.contains_key(header::CONTENT_LANGUAGE) {
        headers.insert(
            header::CONTENT_LANGUAGE,
            HeaderValue::from_static(language.tag()),
        );
    }
    headers.append(header::VARY, HeaderValue::from_static("Accept-Language"));
    Ok(res)
}

impl FromRequest for Language {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(of(req)))
    }
}
