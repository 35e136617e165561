//! Request bodies, whatever their handler does with them.
//!
//! A body must arrive within `--body-timeout-secs` of the request, plus a second for every
//! [`EARNED_PER_SECOND`] bytes received: one trickled a byte at a time would otherwise hold its
//! connection (and a worker's attention) indefinitely, while a large attachment on a slow link
//! earns the time it needs by arriving. Past the deadline the request is answered 408 and its
//! connection closed. (Slow headers are actix-http's to time out.)
//!
//! A body its handler did not read, because the request was refused before (403, 415, …), is
//! read and dropped afterwards, within the body limit, so that the connection stays open for the
//! client's next request as after any other answer; a larger one closes the connection instead
//! of being read.

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
use futures_util::{Stream, StreamExt};
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
    /// The deadline as the bytes received have pushed it, for the middleware to drain by.
    deadline: Rc<Cell<Instant>>,
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
                self.deadline.set(deadline);
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
    let deadline = Rc::new(Cell::new(Instant::now() + timeout));
    let payload = Rc::new(RefCell::new(req.take_payload()));
    let expired = Rc::new(Cell::new(false));
    let stream: Pin<Box<dyn Stream<Item = Result<Bytes, PayloadError>>>> = Box::pin(Deadline {
        payload: Rc::clone(&payload),
        sleep: Box::pin(tokio::time::sleep_until(deadline.get())),
        deadline: Rc::clone(&deadline),
        expired: Rc::clone(&expired),
    });
    req.set_payload(Payload::from(stream));
    let mut res = next.call(req).await?.map_into_boxed_body();
    if expired.get() {
        return Ok(too_slow(res, timeout));
    }
    let unread = std::mem::replace(&mut *payload.borrow_mut(), Payload::None);
    match drain(unread, limit, deadline.get()).await {
        Drained::Whole => Ok(res),
        Drained::TooLate => Ok(too_slow(res, timeout)),
        Drained::TooMuch => {
            res.response_mut()
                .head_mut()
                .set_connection_type(ConnectionType::Close);
            Ok(res)
        }
    }
}

/// What became of a body's unread rest.
enum Drained {
    Whole,
    /// More than the body limit was left: not worth reading.
    TooMuch,
    /// The deadline passed while reading it.
    TooLate,
}

async fn drain(mut payload: Payload, limit: usize, deadline: Instant) -> Drained {
    let mut read = 0;
    loop {
        match tokio::time::timeout_at(deadline, payload.next()).await {
            Err(_) => return Drained::TooLate,
            Ok(None) => return Drained::Whole,
            Ok(Some(Ok(chunk))) => {
                read += chunk.len();
                if read > limit {
                    return Drained::TooMuch;
                }
            }
            Ok(Some(Err(_))) => return Drained::TooMuch,
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
