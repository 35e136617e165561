//! A partner's webhook receiver for the tests: a real HTTP server on a free port that records
//! every request and answers as its script says, and a Standard Webhooks signature check written
//! from the specification, independent of the service's own code.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::dev::ServerHandle;
use actix_web::http::StatusCode;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::Value;
use sha2::Sha256;

use super::eventually;

/// How a receiver answers the requests it gets, counted from its first.
#[derive(Debug, Clone)]
pub enum Script {
    /// Every request gets this status.
    Always(u16),
    /// 500 to the first `n` requests, 204 to the rest.
    FailFirst(usize),
    /// 204 to the first `n` requests, 500 to the rest.
    FailAfter(usize),
    /// Never answers in time: each request waits far longer than any webhook timeout.
    Hang,
    /// Holds the first `n` requests unanswered for five minutes, 204 to the rest.
    HangFirst(usize),
    /// `307 Temporary Redirect` to this URL.
    RedirectTo(String),
}

impl Script {
    fn status(&self, index: usize) -> u16 {
        match *self {
            Script::Always(status) => status,
            Script::FailFirst(n) => {
                if index < n {
                    500
                } else {
                    204
                }
            }
            Script::FailAfter(n) => {
                if index < n {
                    204
                } else {
                    500
                }
            }
            Script::Hang | Script::HangFirst(_) => 204,
            Script::RedirectTo(_) => 307,
        }
    }
}

/// One request as the receiver got it.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    pub path: String,
    pub webhook_id: Option<String>,
    pub webhook_timestamp: Option<String>,
    pub webhook_signature: Option<String>,
    pub content_type: Option<String>,
    /// The body bytes exactly as sent: signatures are over these.
    pub body: Vec<u8>,
}

impl Received {
    /// The body, parsed.
    #[track_caller]
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|error| {
            panic!(
                "the body is JSON ({error}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    /// The message's `type`.
    #[track_caller]
    pub fn event_type(&self) -> String {
        self.json()["type"]
            .as_str()
            .unwrap_or_else(|| panic!("a type: {}", String::from_utf8_lossy(&self.body)))
            .to_owned()
    }

    #[track_caller]
    pub fn id(&self) -> &str {
        self.webhook_id.as_deref().expect("a webhook-id header")
    }
}

type Log = Arc<Mutex<Vec<Received>>>;

/// A webhook receiver on `127.0.0.1`, stopped when dropped.
pub struct Receiver {
    address: String,
    requests: Log,
    handle: ServerHandle,
}

impl Receiver {
    /// Starts a receiver on a free port, answering as `script` says.
    pub fn start(script: Script) -> Receiver {
        let requests: Log = Arc::default();
        let log = Arc::clone(&requests);
        let server = HttpServer::new(move || {
            let (log, script) = (Arc::clone(&log), script.clone());
            App::new().default_service(web::to(move |request: HttpRequest, body: web::Bytes| {
                let (log, script) = (Arc::clone(&log), script.clone());
                async move { answer(&script, &log, &request, body).await }
            }))
        })
        .workers(1)
        .disable_signals()
        .shutdown_timeout(0)
        .bind(("127.0.0.1", 0))
        .expect("the receiver binds");
        let port = server.addrs()[0].port();
        let server = server.run();
        let handle = server.handle();
        tokio::spawn(server);
        Receiver {
            address: format!("http://127.0.0.1:{port}"),
            requests,
            handle,
        }
    }

    /// The URL to register as an endpoint.
    pub fn url(&self) -> String {
        format!("{}/hooks/escalade", self.address)
    }

    /// Every request received so far, in order.
    pub fn received(&self) -> Vec<Received> {
        self.requests.lock().unwrap().clone()
    }

    pub fn count(&self) -> usize {
        self.requests.lock().unwrap().len()
    }

    /// Waits until at least `count` requests have arrived; returns them all.
    pub async fn wait_for(&self, count: usize) -> Vec<Received> {
        eventually(
            &format!("{count} request(s) at {}", self.url()),
            async || {
                let received = self.received();
                (received.len() >= count).then_some(received)
            },
        )
        .await
    }

    /// Waits until a request of `event_type` arrives whose `data` passes `matches`; returns it.
    pub async fn wait_for_event(
        &self,
        event_type: &str,
        matches: impl Fn(&Value) -> bool,
    ) -> Received {
        eventually(
            &format!("a matching {event_type} at {}", self.url()),
            async || {
                self.received().into_iter().find(|request| {
                    let body = request.json();
                    body["type"] == event_type && matches(&body["data"])
                })
            },
        )
        .await
    }

    /// The event types received so far, in order.
    pub fn event_types(&self) -> Vec<String> {
        self.received().iter().map(Received::event_type).collect()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        // The stop command is sent at once; nothing needs to wait for the server to finish.
        drop(self.handle.stop(false));
    }
}

async fn answer(
    script: &Script,
    log: &Log,
    request: &HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    let header = |name: &str| {
        request
            .headers()
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned)
    };
    let received = Received {
        method: request.method().to_string(),
        path: request.path().to_owned(),
        webhook_id: header("webhook-id"),
        webhook_timestamp: header("webhook-timestamp"),
        webhook_signature: header("webhook-signature"),
        content_type: header("content-type"),
        body: body.to_vec(),
    };
    let index = {
        let mut log = log.lock().unwrap();
        log.push(received);
        log.len() - 1
    };
    let mut response = HttpResponse::build(StatusCode::from_u16(script.status(index)).unwrap());
    match script {
        Script::Hang => tokio::time::sleep(Duration::from_secs(60)).await,
        Script::HangFirst(n) if index < *n => tokio::time::sleep(Duration::from_secs(300)).await,
        Script::RedirectTo(target) => {
            response.insert_header(("Location", target.as_str()));
        }
        _ => {}
    }
    response.finish()
}

// ---------------------------------------------------------------------------------------------
// Standard Webhooks signatures (https://www.standardwebhooks.com), from the specification
// ---------------------------------------------------------------------------------------------

/// How far a `webhook-timestamp` may be from now.
const TOLERANCE_SECS: i64 = 5 * 60;

/// `base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}"))` where key is the base64 after `whsec_`.
pub fn sign(secret: &str, id: &str, timestamp: &str, body: &[u8]) -> String {
    let encoded = secret
        .strip_prefix("whsec_")
        .unwrap_or_else(|| panic!("a secret starts with whsec_: {secret}"));
    let key = STANDARD
        .decode(encoded)
        .unwrap_or_else(|error| panic!("the secret is base64 ({error}): {secret}"));
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).expect("HMAC takes any key length");
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body);
    STANDARD.encode(mac.finalize().into_bytes())
}

/// The base64 signatures of a `webhook-signature` header (space-separated `v1,<b64>`), in order.
#[track_caller]
pub fn signatures(header: &str) -> Vec<&str> {
    header
        .split(' ')
        .filter(|part| !part.is_empty())
        .map(|part| {
            part.strip_prefix("v1,")
                .unwrap_or_else(|| panic!("a v1 signature, got {part:?} in {header:?}"))
        })
        .collect()
}

/// Why `request` does not verify with `secret`, if it does not: the headers are missing, the
/// timestamp is more than five minutes from now, or no `v1` signature matches.
pub fn verification_error(request: &Received, secret: &str) -> Option<String> {
    let (Some(id), Some(timestamp), Some(header)) = (
        request.webhook_id.as_deref(),
        request.webhook_timestamp.as_deref(),
        request.webhook_signature.as_deref(),
    ) else {
        return Some(format!("a webhook header is missing: {request:?}"));
    };
    let Ok(seconds) = timestamp.parse::<i64>() else {
        return Some(format!(
            "webhook-timestamp {timestamp:?} is not unix seconds"
        ));
    };
    let now = chrono::Utc::now().timestamp();
    if (now - seconds).abs() > TOLERANCE_SECS {
        return Some(format!(
            "webhook-timestamp {seconds} is more than 5 minutes from now ({now})"
        ));
    }
    let expected = sign(secret, id, timestamp, &request.body);
    (!signatures(header).contains(&expected.as_str()))
        .then(|| format!("no signature in {header:?} matches {expected:?}"))
}

/// Asserts `request` verifies with `secret`.
#[track_caller]
pub fn assert_signed(request: &Received, secret: &str) {
    if let Some(error) = verification_error(request, secret) {
        panic!("the signature does not verify: {error}");
    }
}
