//! Request bodies, whatever their handler does with them.
//!
//! A body must arrive within `--body-timeout-secs` of the request, plus a second for every
//! [`EARNED_PER_SECOND`] bytes received: one trickled a byte at a time would otherwise hold its
//! connection (and a worker's attention) indefinitely, while a large attachment on a slow link
//! earns the time it needs by arriving. Past the deadline the request is answered 408 and its
//! connection closed. (Slow headers are actix-http's to time out.)
//!
//! A request refused before its body was read (401, 403, 413, 415, …) is answered at once,
//! whatever its body: what has already arrived is dropped, and if more is still to come, the
//! connection is closed rather than waited on, so a client cannot hold a worker by declaring a
//! body it never sends. (Clients that ask first, with `Expect: 100-continue`, are refused before
//! they send anything: see `expect`.)

use std::cell::{Cell, RefCell};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::http::ConnectionType;
use actix_web::http::header::{CONTENT_LENGTH, TRANSFER_ENCODING};
use actix_web::middleware::Next;
use actix_web::web::Bytes;
use actix_web::{Error, HttpMessage};
use futures_util::{FutureExt, Stream, StreamExt};
use tokio::time::{Instant, Sleep};

use super::extract::BodyLimit;
use super::language;
use crate::error::ApiError;

/// How long a body may take to arrive, as app data.
#[derive(Debug, Clone, Copy)]
pub struct BodyTimeout(pub Duration);

/// The bytes that buy a body one more second: 64 KiB, a slow mobile uplink.
pub const EARNED_PER_SECOND: u64 = 64 * 1024;

/// The request's payload as its handler sees it: cut off at the deadline (`expired` says so),
/// and shared with the middleware, which reads what the handler left.
struct Deadline {
    payload: Rc<RefCell<Payload>>,
    sleep: Pin<Box<Sleep>>,
    expired: Rc<Cell<bool>>,
}

impl Stream for Deadline {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let polled = self.payload.borrow_mut().poll_next_unpin(cx);
        if let Poll::Ready(item) = polled {
            if let Some(Ok(chunk)) = &item {
                let earned = Duration::from_secs_f64(chunk.len() as f64 / EARNED_PER_SECOND as f64);
                let deadline = self.sleep.deadline() + earned;
                self.sleep.as_mut().reset(deadline);
            }
            return Poll::Ready(item);
        }
        match self.sleep.as_mut().poll(cx) {
            Poll::Ready(()) => {
                self.expired.set(true);
                Poll::Ready(Some(Err(PayloadError::Io(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    "the request body did not arrive in time",
                )))))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

fn has_body(req: &ServiceRequest) -> bool {
    let length = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    length.is_some_and(|length| length > 0) || req.headers().contains_key(TRANSFER_ENCODING)
}

pub async fn middleware(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let timeout = req.app_data::<BodyTimeout>().map(|timeout| timeout.0);
    let Some(timeout) = timeout.filter(|_| has_body(&req)) else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let limit = req
        .app_data::<BodyLimit>()
        .map_or(BodyLimit::DEFAULT, |limit| limit.0);
    let deadline = Instant::now() + timeout;
    let payload = Rc::new(RefCell::new(req.take_payload()));
    let expired = Rc::new(Cell::new(false));
    let stream: Pin<Box<dyn Stream<Item = Result<Bytes, PayloadError>>>> = Box::pin(Deadline {
        payload: Rc::clone(&payload),
        sleep: Box::pin(tokio::time::sleep_until(deadline)),
        expired: Rc::clone(&expired),
    });
    req.set_payload(Payload::from(stream));
    let mut res = next.call(req).await?.map_into_boxed_body();
    if expired.get() {
        return Ok(too_slow(res, timeout));
    }
    let unread = std::mem::replace(&mut *payload.borrow_mut(), Payload::None);
    if !arrived_whole(unread, limit) {
        res.response_mut()
            .head_mut()
            .set_connection_type(ConnectionType::Close);
    }
    Ok(res)
}

/// Reads what is left of a body without waiting: whether it had all arrived (within `limit`),
/// so that the connection can serve the client's next request.
fn arrived_whole(mut payload: Payload, limit: usize) -> bool {
    let mut read = 0;
    loop {
        match payload.next().now_or_never() {
            Some(None) => return true,
            Some(Some(Ok(chunk))) => {
                read += chunk.len();
                if read > limit {
                    return false;
                }
            }
            Some(Some(Err(_))) | None => return false,
        }
    }
}

/// 408 in place of `res`, keeping the headers middleware set, and the connection closed.
fn too_slow(res: ServiceResponse<BoxBody>, timeout: Duration) -> ServiceResponse<BoxBody> {
    tracing::warn!(
        timeout_secs = timeout.as_secs(),
        "request body too slow; closing the connection"
    );
    let (req, original) = res.into_parts();
    let mut response = ApiError::RequestTimeout {
        secs: timeout.as_secs(),
    }
    .to_response(language::of(&req), Some(req.path().to_owned()));
    // The headers middleware set (rate limits, request id) stay.
    for (name, value) in original.headers() {
        if !response.headers().contains_key(name) {
            response.headers_mut().insert(name.clone(), value.clone());
        }
    }
    response
        .head_mut()
        .set_connection_type(ConnectionType::Close);
    ServiceResponse::new(req, response)
}
