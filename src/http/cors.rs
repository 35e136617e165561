//! Cross-origin access for browser front ends served from other origins (CORS). Only the
//! origins a deployment lists may call the API from a browser; preflights are answered here,
//! before authentication, since browsers send them without credentials. An origin not on the
//! list gets no CORS headers, so its browser refuses to hand the answer to the page.

use actix_cors::{Cors, CorsError};
use actix_web::Error;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Next;

use super::event_stream::LAST_EVENT_ID;
use super::idempotency::KEY_HEADER;
use super::request_id;
use crate::error::ApiError;
use crate::i18n::Text;

/// Request headers a cross-origin page may send.
const ALLOWED_HEADERS: [&str; 8] = [
    "Authorization",
    "Content-Type",
    "If-Match",
    "If-None-Match",
    KEY_HEADER,
    request_id::HEADER_NAME,
    "Accept-Language",
    LAST_EVENT_ID,
];

/// Response headers a cross-origin page may read: everything a client of this API acts on (a
/// download's name and range, the methods a 405 allows, the scheme a 401 asks for among them).
const EXPOSED: &str = "ETag, Location, Link, Retry-After, RateLimit, RateLimit-Policy, \
                       Idempotency-Replayed, X-Request-Id, Content-Language, \
                       Content-Disposition, Content-Range, Allow, WWW-Authenticate";

/// How long a browser may reuse a preflight's answer, in seconds.
const PREFLIGHT_MAX_AGE: usize = 3600;

/// The CORS middleware for `origins` (none: no cross-origin access at all).
pub fn middleware(origins: &[String]) -> Cors {
    let cors = Cors::default()
        .allowed_methods([
            Method::GET,
            Method::HEAD,
            Method::POST,
            Method::PATCH,
            Method::DELETE,
        ])
        .allowed_headers(ALLOWED_HEADERS)
        .max_age(PREFLIGHT_MAX_AGE)
        // Requests from other origins are served without CORS headers, not refused: same-origin
        // pages send `Origin` too, and a browser enforces the policy itself.
        .block_on_origin_mismatch(false);
    origins
        .iter()
        .fold(cors, |cors, origin| cors.allowed_origin(origin))
}

/// Exposes the headers a client acts on, to allowed origins only: actix-cors would name them
/// on every answer, and an origin not on the list gets no CORS header at all.
pub async fn expose(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let mut res = next.call(req).await?;
    if res
        .headers()
        .contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN)
    {
        res.headers_mut().insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static(EXPOSED),
        );
    }
    Ok(res)
}

/// An origin as browsers send it in `Origin`: `scheme://host[:port]`, nothing more.
pub fn parse_origin(raw: &str) -> Result<String, String> {
    let refused = || format!("`{raw}` is not an origin such as https://console.partner.cn");
    let url = url::Url::parse(raw).map_err(|_| refused())?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(refused());
    }
    let origin = url.origin().ascii_serialization();
    if origin == raw {
        Ok(origin)
    } else {
        Err(format!(
            "`{raw}` is not an origin as browsers send it; write it as `{origin}`"
        ))
    }
}

/// A refused preflight as a problem document.
pub fn refusal(error: &CorsError) -> ApiError {
    let detail = match error {
        CorsError::OriginNotAllowed => Text::new("problem-cors-origin"),
        CorsError::MethodNotAllowed => Text::new("problem-cors-method"),
        CorsError::HeadersNotAllowed => Text::new("problem-cors-headers"),
        _ => Text::new("problem-cors-malformed"),
    };
    ApiError::bad_request("cors_refused", detail)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::idempotency::REPLAYED_HEADER;

    #[test]
    fn the_exposed_headers_include_the_ones_the_api_names() {
        assert!(EXPOSED.contains(REPLAYED_HEADER));
        assert!(EXPOSED.contains(request_id::HEADER_NAME));
    }

    #[test]
    fn origins_are_scheme_host_and_port_exactly() {
        for origin in [
            "https://console.partner.cn",
            "http://127.0.0.1:5173",
            "http://[::1]:8080",
        ] {
            assert_eq!(parse_origin(origin).as_deref(), Ok(origin));
        }
        for (raw, hint) in [
            ("https://console.partner.cn/", "https://console.partner.cn"),
            ("https://Console.Partner.cn", "https://console.partner.cn"),
            (
                "https://console.partner.cn:443",
                "https://console.partner.cn",
            ),
            (
                "https://console.partner.cn/app",
                "https://console.partner.cn",
            ),
        ] {
            assert!(parse_origin(raw).unwrap_err().contains(hint), "{raw}");
        }
        for raw in [
            "*",
            "",
            "console.partner.cn",
            "ftp://files.partner.cn",
            "null",
            "https://",
        ] {
            assert!(parse_origin(raw).is_err(), "{raw}");
        }
    }
}
