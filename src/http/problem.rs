//! The last stop of every response: errors are rendered as problem documents carrying their
//! `instance`, server-side causes are logged once with their chain, and each request ends with
//! one access-log line and its metrics.

use std::error::Error as _;
use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpRequest, HttpResponse, web};
use tracing::Span;

use crate::error::ApiError;
use crate::http::metrics::Metrics;
use crate::http::{cors, head, language};
use crate::i18n::Text;

pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let started = Instant::now();
    let res = next.call(req).await?.map_into_boxed_body();
    let res = render_problem(res);
    let status = res.status().as_u16();
    let elapsed = started.elapsed();
    if let Some(metrics) = res.request().app_data::<web::Data<Metrics>>() {
        let route = res.request().match_pattern();
        metrics.observe(
            head::method_of(res.request()).as_str(),
            route.as_deref(),
            status,
            elapsed,
        );
    }
    let elapsed_ms = (elapsed.as_secs_f64() * 1e4).round() / 10.0;
    if res.status() == StatusCode::SERVICE_UNAVAILABLE {
        // A database or store that is busy or away: the cause is logged once, in `record`.
        tracing::warn!(status, elapsed_ms, "request failed");
    } else if res.status().is_server_error() {
        tracing::error!(status, elapsed_ms, "request failed");
    } else {
        tracing::info!(status, elapsed_ms, "request finished");
    }
    Ok(res)
}

/// Replaces an error response with its problem document, `instance` filled in. Errors actix
/// raises itself (outside our extractors) become problem documents too.
fn render_problem(res: ServiceResponse<BoxBody>) -> ServiceResponse<BoxBody> {
    let Some(error) = res.response().error() else {
        return res;
    };
    let language = language::of(res.request());
    let instance = Some(res.request().path().to_owned());
    let mut response = match error.as_error::<ApiError>() {
        Some(api_error) => {
            record(api_error);
            api_error.to_response(language, instance)
        }
        None => {
            let api_error = match error.as_error::<actix_cors::CorsError>() {
                Some(refused) => cors::refusal(refused),
                None => from_status(res.status(), error.to_string()),
            };
            record(&api_error);
            api_error.to_response(language, instance)
        }
    };
    if wants_plain_json(res.request()) {
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
    }
    let (req, original) = res.into_parts();
    ServiceResponse::new(req, keep_headers(original, response))
}

/// Whether the client accepts JSON but not problem documents, by name or by a wildcard, as
/// clients generated from the spec ask (`Accept: application/json`): it gets the same document
/// as `application/json` (RFC 9457, 3). Types it gives `q=0` it refuses.
fn wants_plain_json(req: &HttpRequest) -> bool {
    let Some(accept) = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|value| value.to_str().ok())
    else {
        return false;
    };
    let accepted: Vec<String> = accept
        .split(',')
        .filter_map(|range| {
            let mut parts = range.split(';').map(str::trim);
            let media = parts.next()?.to_ascii_lowercase();
            let refused = parts.any(|param| {
                param
                    .strip_prefix("q=")
                    .and_then(|q| q.parse::<f32>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            (!refused).then_some(media)
        })
        .collect();
    accepted.iter().any(|media| media == "application/json")
        && !accepted.iter().any(|media| {
            matches!(
                media.as_str(),
                "application/problem+json" | "application/*" | "*/*"
            )
        })
}

/// Carries the headers middleware set on the error response (rate limits, request id) over to
/// the problem document that replaces it, and whether the connection closes after it.
fn keep_headers(original: HttpResponse<BoxBody>, mut response: HttpResponse) -> HttpResponse {
    for (name, value) in original.headers() {
        if !response.headers().contains_key(name) {
            response.headers_mut().insert(name.clone(), value.clone());
        }
    }
    let connection = original.head().connection_type();
    response.head_mut().set_connection_type(connection);
    response
}

/// Notes the error on the request span; causes of server-side errors are logged with their
/// chain here and nowhere else.
fn record(error: &ApiError) {
    Span::current().record("error", error.code());
    let chain = || {
        let mut chain = Vec::new();
        let mut cause = error.source();
        while let Some(err) = cause {
            chain.push(err.to_string());
            cause = err.source();
        }
        chain
    };
    match error {
        ApiError::Internal(_) | ApiError::Unavailable(_) | ApiError::StorageUnavailable(_) => {
            tracing::error!(code = error.code(), cause = ?chain(), "server-side error");
        }
        // Contention, not a fault: worth watching when it grows, not waking anyone for.
        ApiError::Busy(_) => {
            tracing::warn!(code = error.code(), cause = ?chain(), "the database was too busy");
        }
        _ => {}
    }
}

/// An error actix produced on its own, mapped to the nearest of ours.
fn from_status(status: StatusCode, message: String) -> ApiError {
    match status {
        StatusCode::NOT_FOUND => ApiError::not_found("resource"),
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge { limit: 0 },
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ApiError::UnsupportedMediaType,
        s if s.is_client_error() => {
            ApiError::bad_request("bad_request", Text::new("problem-bad-request"))
        }
        _ => ApiError::internal(message),
    }
}
