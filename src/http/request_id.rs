//! `X-Request-Id`: accepted from the caller when it is sensible, generated otherwise, echoed on
//! the response and recorded on the request's root span so every log line of a request has it.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage};
use tracing::Span;
use tracing_actix_web::RootSpanBuilder;
use uuid::Uuid;

pub const HEADER_NAME: &str = "X-Request-Id";
pub const HEADER: HeaderName = HeaderName::from_static("x-request-id");
const MAX_LEN: usize = 128;

/// The request's id, in the request extensions for anyone who needs it.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// A caller's id is kept when it is 1–128 visible ASCII characters; otherwise (absent, too long,
/// or something that could forge log lines) a UUID v7 is generated.
pub fn accept_or_generate(headers: &HeaderMap) -> String {
    headers
        .get(&HEADER)
        .and_then(|value| value.to_str().ok())
        .filter(|id| {
            !id.is_empty() && id.len() <= MAX_LEN && id.bytes().all(|b| b.is_ascii_graphic())
        })
        .map(str::to_owned)
        .unwrap_or_else(|| Uuid::now_v7().to_string())
}

/// Outermost middleware: settles the id before the tracing span opens, and echoes it.
pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let id = accept_or_generate(req.headers());
    req.extensions_mut().insert(RequestId(id.clone()));
    let mut res = next.call(req).await?;
    if let Ok(value) = HeaderValue::from_str(&id) {
        res.headers_mut().insert(HEADER, value);
    }
    Ok(res)
}

/// Root span of every request, carrying our `request_id` rather than tracing-actix-web's own.
pub struct RequestSpan;

impl RootSpanBuilder for RequestSpan {
    fn on_request_start(request: &ServiceRequest) -> Span {
        let request_id = request
            .extensions()
            .get::<RequestId>()
            .map(|id| id.0.clone())
            .unwrap_or_default();
        let route = request.match_pattern().unwrap_or_default();
        tracing::info_span!(
            "request",
            request_id = %request_id,
            http.method = %request.method(),
            http.route = %route,
            http.target = %request.path(),
            http.status_code = tracing::field::Empty,
            principal = tracing::field::Empty,
            error = tracing::field::Empty,
        )
    }

    fn on_request_end<B: MessageBody>(span: Span, outcome: &Result<ServiceResponse<B>, Error>) {
        let (status, error) = match outcome {
            Ok(res) => (
                res.status(),
                res.response().error().map(ToString::to_string),
            ),
            Err(err) => (err.as_response_error().status_code(), Some(err.to_string())),
        };
        span.record("http.status_code", status.as_u16());
        if let Some(error) = error {
            span.record("error", error);
        }
    }
}
