//! `/v1/events/stream`: the event feed as Server-Sent Events, for screens and integrations that
//! follow what happens as it happens rather than polling `/v1/events`.
//!
//! A stream serves exactly what the feed serves, in the same order and scope, and resumes the
//! same way (`Last-Event-ID`, or `after`). Each instance looks at the feed's newest event a few
//! times a second while any stream is open ([`FeedWatch`]) — one query however many streams —
//! and wakes its streams when it moves, whichever instance wrote the event.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_server::GracefulShutdownSignal;
use actix_web::http::header;
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, get, web};
use futures_util::stream;
use sea_orm::DatabaseConnection;
use serde::Deserialize;
use tokio::sync::watch;
use utoipa::IntoParams;
use uuid::Uuid;
use validator::Validate;

use crate::domain::Scope;
use crate::domain::webhook::EventType;
use crate::error::{ApiError, FieldError};
use crate::http::AppState;
use crate::http::auth::{Anyone, Caller};
use crate::http::events::{EventTypes, FeedEvent, cursor, event_types};
use crate::http::extract::ValidQuery;
use crate::http::responses::*;
use crate::i18n::Text;
use crate::store::events::{self as store, FeedRow};

const TAG: &str = "events";

/// How often an instance looks for new events while streams are open: an event reaches a
/// stream at most this long after the feed serves it, plus the time to send it.
pub const FEED_POLL: Duration = Duration::from_millis(250);

/// Open streams per API key or person, on each instance.
pub const STREAMS_PER_CALLER: usize = 5;

/// The header a reconnecting `EventSource` sends: the last event it received.
pub const LAST_EVENT_ID: &str = "Last-Event-ID";

/// Events sent in one go when a stream catches up.
const BATCH: u64 = 100;

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct StreamQuery {
    /// Start right after this event, as `/v1/events` does; `Last-Event-ID` wins over it.
    /// Without either, the stream starts with the next event.
    pub after: Option<Uuid>,
    /// Only events of these types, comma-separated: `escalation.created,escalation.sla_breached`.
    #[serde(rename = "type")]
    #[param(rename = "type", value_type = Option<EventTypes>, inline)]
    pub types: Option<String>,
}

/// What each instance knows of the feed's newest event, kept current while anyone listens.
#[derive(Debug, Clone)]
pub struct FeedWatch {
    newest: watch::Sender<Option<Uuid>>,
}

impl Default for FeedWatch {
    fn default() -> Self {
        Self {
            newest: watch::Sender::new(None),
        }
    }
}

impl FeedWatch {
    fn subscribe(&self) -> watch::Receiver<Option<Uuid>> {
        self.newest.subscribe()
    }

    /// Looks at the newest event every [`FEED_POLL`] while a stream is open, until `stopped`.
    /// A failed look is logged and tried again at the next tick; the streams wait meanwhile.
    pub async fn maintain(self, db: DatabaseConnection, mut stopped: watch::Receiver<bool>) {
        let mut ticks = tokio::time::interval(FEED_POLL);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = ticks.tick() => {}
                _ = stopped.changed() => return,
            }
            if self.newest.receiver_count() == 0 {
                continue;
            }
            match store::newest(&db, Scope::All, &[]).await {
                Ok(row) => {
                    let newest = row.map(|row| row.id);
                    self.newest.send_if_modified(|known| {
                        let moved = *known != newest;
                        *known = newest;
                        moved
                    });
                }
                Err(err) => tracing::warn!(error = %err, "could not look for new events"),
            }
        }
    }
}

/// The streams open on this instance, per API key or person.
#[derive(Debug, Default)]
pub struct StreamSlots(Mutex<HashMap<Uuid, usize>>);

/// One open stream; its slot frees when the stream ends, however it ends.
pub struct Slot {
    slots: Arc<StreamSlots>,
    holder: Uuid,
}

impl StreamSlots {
    /// How many streams are open on this instance.
    pub fn open(&self) -> usize {
        self.0.lock().expect("stream slots").values().sum()
    }

    fn take(self: &Arc<Self>, holder: Uuid) -> Option<Slot> {
        let mut open = self.0.lock().expect("stream slots");
        let count = open.entry(holder).or_default();
        if *count >= STREAMS_PER_CALLER {
            return None;
        }
        *count += 1;
        Some(Slot {
            slots: Arc::clone(self),
            holder,
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self.slots.0.lock().expect("stream slots");
        if let Some(count) = open.get_mut(&self.holder) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.holder);
            }
        }
    }
}

/// What the instance's streams share.
#[derive(Debug, Clone)]
pub struct Streaming {
    pub watch: FeedWatch,
    pub slots: Arc<StreamSlots>,
    pub keepalive: Duration,
    pub shutdown: GracefulShutdownSignal,
}

/// One stream's place in the feed and what wakes it.
struct Follower {
    db: DatabaseConnection,
    scope: Scope,
    types: Vec<EventType>,
    after: Option<FeedRow>,
    moved: watch::Receiver<Option<Uuid>>,
    keepalive: Duration,
    shutdown: GracefulShutdownSignal,
    /// When the stream last sent anything; `None` until it sends its first line.
    sent: Option<tokio::time::Instant>,
    _slot: Slot,
}

impl Follower {
    /// The next bytes to send: the events after the stream's place, or a comment after
    /// `keepalive` without any; `None` once the server shuts down, the feed cannot be read
    /// (the client resumes from its last event), or the instance stops watching.
    async fn next(&mut self) -> Option<Bytes> {
        let Some(sent) = self.sent else {
            self.sent = Some(tokio::time::Instant::now());
            // How long a client waits before it reconnects, in milliseconds.
            return Some(Bytes::from_static(b"retry: 2000\n\n"));
        };
        loop {
            let rows = match store::feed(
                &self.db,
                self.scope,
                self.after.as_ref(),
                &self.types,
                BATCH,
            )
            .await
            {
                Ok(rows) => rows,
                Err(err) => {
                    tracing::warn!(error = %err, "an event stream could not read the feed");
                    return None;
                }
            };
            if let Some(last) = rows.last() {
                self.after = Some(last.clone());
                self.sent = Some(tokio::time::Instant::now());
                return Some(encode(rows));
            }
            tokio::select! {
                changed = self.moved.changed() => changed.ok()?,
                () = tokio::time::sleep_until(sent + self.keepalive) => {
                    self.sent = Some(tokio::time::Instant::now());
                    return Some(Bytes::from_static(b":\n\n"));
                }
                () = self.shutdown.notified() => return None,
            }
        }
    }
}

/// Events as Server-Sent Events: `id` the event's id, `event` its type, `data` the event as the
/// feed lists it.
fn encode(rows: Vec<FeedRow>) -> Bytes {
    let mut out = String::new();
    for row in rows {
        match FeedEvent::try_from(row) {
            Ok(event) => {
                let data = serde_json::to_string(&event).expect("an event serialises");
                out.push_str(&format!(
                    "id: {}\nevent: {}\ndata: {data}\n\n",
                    event.id,
                    event.event_type.as_str()
                ));
            }
            Err(err) => tracing::error!(error = %err, "an event in the outbox cannot be read"),
        }
    }
    Bytes::from(out)
}

/// The event a reconnecting client names in `Last-Event-ID`, which wins over the `after` it
/// first connected with.
fn last_event_id(req: &HttpRequest) -> Result<Option<Uuid>, ApiError> {
    let Some(value) = req.headers().get(LAST_EVENT_ID) else {
        return Ok(None);
    };
    let id = value.to_str().ok().map(str::trim).unwrap_or("x");
    if id.is_empty() {
        return Ok(None);
    }
    Uuid::parse_str(id)
        .map(Some)
        .map_err(|_| ApiError::BadRequest {
            code: "invalid_last_event_id",
            detail: Text::new("problem-invalid-last-event-id"),
            errors: vec![FieldError::new(
                LAST_EVENT_ID,
                "invalid_uuid",
                Text::new("field-invalid-uuid"),
            )],
        })
}

/// Follow events as they happen
///
/// The event feed as Server-Sent Events (`text/event-stream`): every event you may see, as
/// `/v1/events` lists it, each with `id:` its id, `event:` its type and `data:` the event as JSON.
/// Without `Last-Event-ID` or `after`, the stream starts with the next event; with either, right
/// after that event, with nothing missed or repeated, as the feed pages. An `after` older than
/// the retention is 410, one you may not see 404. A comment line keeps the connection alive
/// when nothing happens (every 15 s by default). At most five streams per API key or person
/// are open on each instance; the sixth is 429. Streams end when the server shuts down: reconnect
/// with the last event's id.
#[utoipa::path(
    operation_id = "streamEvents",
    tag = TAG,
    params(StreamQuery,
        ("Last-Event-ID" = Option<Uuid>, Header, nullable = false,
            description = "The last event received, when reconnecting; wins over `after`.")),
    responses(
        (status = 200, description = "Events as they happen, as Server-Sent Events.",
            content_type = "text/event-stream", body = String,
            example = json!(concat!(
                "retry: 2000\n\n",
                "id: 019ad1c2-7e10-7b35-9d0e-3f4f1c2b8a61\n",
                "event: escalation.created\n",
                r#"data: {"id":"019ad1c2-7e10-7b35-9d0e-3f4f1c2b8a61","type":"escalation.created","#,
                r#""timestamp":"2026-11-24T05:12:00.000000Z","data":{"escalation":{"number":"ESC-000042"}}}"#,
                "\n\n:\n\n"
            ))),
        ReadFailures,
        (status = 410, response = Gone),
        (status = 429, response = TooManyRequests),
    ),
)]
#[get("/events/stream")]
pub async fn stream_events(
    caller: Caller<Anyone>,
    state: web::Data<AppState>,
    query: ValidQuery<StreamQuery>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let types = event_types(query.types.as_deref())?;
    let resume_after = last_event_id(&req)?.or(query.after);
    let scope = caller.scope();
    // What the request asks is judged before its place: a stream that could not start is
    // refused for that, whoever holds the five places.
    let after = match resume_after {
        Some(id) => Some(cursor(&state, scope, id).await?),
        None => store::newest(&state.db, scope, &types).await?,
    };
    let streaming = &state.streaming;
    let slot = streaming
        .slots
        .take(caller.actor.id)
        .ok_or(ApiError::TooManyStreams {
            limit: STREAMS_PER_CALLER,
        })?;
    let follower = Follower {
        db: state.db.clone(),
        scope,
        types,
        after,
        moved: streaming.watch.subscribe(),
        keepalive: streaming.keepalive,
        shutdown: streaming.shutdown.clone(),
        sent: None,
        _slot: slot,
    };
    let body = stream::unfold(follower, |mut follower| async move {
        let bytes = follower.next().await?;
        Some((Ok::<_, actix_web::Error>(bytes), follower))
    });
    Ok(HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        // Proxies that buffer answers (nginx) pass this one on as it comes.
        .insert_header(("x-accel-buffering", "no"))
        .streaming(body))
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(stream_events);
}
