//! `HEAD` wherever `GET` works (RFC 9110, 9.3.2): the request is served as a `GET`, and the
//! HTTP layer sends the answer's status and headers without its body.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage, HttpRequest};

/// Marks a request that arrived as `HEAD`.
#[derive(Debug, Clone, Copy)]
struct Head;

/// Innermost middleware, before routing: routes match `GET`, and actix-http drops the body of
/// an answer to a `HEAD` request while keeping its `Content-Length`.
pub async fn middleware(
    mut req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    if req.method() == Method::HEAD {
        req.extensions_mut().insert(Head);
        req.head_mut().method = Method::GET;
    }
    next.call(req).await
}

/// The method the client used, for logs and metrics.
pub fn method_of(req: &HttpRequest) -> Method {
    if req.extensions().get::<Head>().is_some() {
        Method::HEAD
    } else {
        req.method().clone()
    }
}
