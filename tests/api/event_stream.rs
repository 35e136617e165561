//! The event stream: what the feed carries, as Server-Sent Events, to those who may see it,
//! within 2 s of being written on any instance; resumed by `Last-Event-ID` with nothing lost or
//! repeated; five streams per caller; refusals as the feed's.

use std::time::Duration;

use escalade::config::ServeSettings;
use reqwest::Response;
use serde_json::Value;
use uuid::Uuid;

use crate::event_feed::{feed_page, id_from_days_ago};
use crate::helpers::{Answer, Api, TestApp, spawn_app, spawn_app_with};

const STREAM: &str = "/v1/events/stream";

/// How long an event may take to reach a stream.
const WITHIN: Duration = Duration::from_secs(2);

/// One event as a stream sends it.
#[derive(Debug)]
pub(crate) struct Sent {
    pub id: String,
    pub event: String,
    pub data: Value,
}

/// A client of one open stream, reading it block by block.
pub(crate) struct Stream {
    response: Response,
    pending: String,
}

impl Stream {
    /// Opens the stream as `key` with `headers`; asserts 200 and `text/event-stream`.
    pub async fn open(api: &Api, key: &str, query: &str, headers: &[(&str, &str)]) -> Stream {
        let response = Self::request(api, key, query, headers).await;
        assert_eq!(response.status(), 200);
        let content_type = response.headers()["content-type"].to_str().unwrap();
        assert_eq!(content_type, "text/event-stream");
        let mut stream = Stream {
            response,
            pending: String::new(),
        };
        let first = stream.block(WITHIN).await;
        assert_eq!(
            first.as_deref(),
            Some("retry: 2000"),
            "the reconnection delay"
        );
        stream
    }

    async fn request(api: &Api, key: &str, query: &str, headers: &[(&str, &str)]) -> Response {
        let mut request = api.request(reqwest::Method::GET, &format!("{STREAM}{query}"), key);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.send().await.expect("the server answers")
    }

    /// The next block (the lines up to a blank line), if one arrives within `limit`; `None`
    /// also once the stream has ended.
    pub async fn block(&mut self, limit: Duration) -> Option<String> {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            if let Some(end) = self.pending.find("\n\n") {
                let block = self.pending[..end].to_owned();
                self.pending.drain(..end + 2);
                return Some(block);
            }
            let chunk = tokio::time::timeout_at(deadline, self.response.chunk()).await;
            match chunk {
                Ok(Ok(Some(bytes))) => self.pending.push_str(std::str::from_utf8(&bytes).unwrap()),
                Ok(Ok(None) | Err(_)) | Err(_) => return None,
            }
        }
    }

    /// The next event within `limit`, past any comment; `None` if none arrives.
    pub async fn event(&mut self, limit: Duration) -> Option<Sent> {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let block = self.block(deadline - tokio::time::Instant::now()).await?;
            if block.starts_with(':') {
                continue;
            }
            let field = |name: &str| {
                let prefix = format!("{name}: ");
                let line = block.lines().find(|line| line.starts_with(&prefix));
                line.unwrap_or_else(|| panic!("no {name} in {block:?}"))[prefix.len()..].to_owned()
            };
            let sent = Sent {
                id: field("id"),
                event: field("event"),
                data: serde_json::from_str(&field("data")).expect("data is JSON"),
            };
            assert_eq!(sent.data["id"], sent.id.as_str(), "the id is the event's");
            assert_eq!(
                sent.data["type"],
                sent.event.as_str(),
                "the event is its type"
            );
            return Some(sent);
        }
    }

    /// The next event, which must arrive within 2 s.
    pub async fn expect(&mut self, what: &str) -> Sent {
        let event = self.event(WITHIN).await;
        event.unwrap_or_else(|| panic!("{what} did not arrive within {WITHIN:?}"))
    }
}

/// The escalation an event is about.
fn escalation_of(sent: &Sent) -> Value {
    sent.data["data"]["escalation"]["id"].clone()
}

#[tokio::test]
async fn each_event_reaches_the_streams_that_may_see_it_within_two_seconds() {
    // Arrange
    let app = spawn_app_with(ServeSettings {
        stream_keepalive_secs: 1,
        ..ServeSettings::default()
    })
    .await;
    let (first, second) = (
        app.escalation_fixture("standard").await,
        app.escalation_fixture("standard").await,
    );
    let operator = app.operator_key().await;
    let mut of_first = Stream::open(&app, &first.partner.key, "", &[]).await;
    let mut of_second = Stream::open(&app, &second.partner.key, "", &[]).await;
    let mut of_operator = Stream::open(&app, &operator, "", &[]).await;

    // Act
    let escalation = app.submit_escalation(&first.partner.key, &first.body).await;
    let to_first = of_first.expect("the partner's escalation").await;
    let to_operator = of_operator.expect("the escalation, to operators").await;
    let other = app
        .submit_escalation(&second.partner.key, &second.body)
        .await;

    // Assert
    assert_eq!(to_first.event, "escalation.created");
    assert_eq!(escalation_of(&to_first), escalation.body["id"]);
    assert_eq!(to_operator.id, to_first.id);
    let to_second = of_second.expect("the other partner's own escalation").await;
    assert_eq!(
        escalation_of(&to_second),
        other.body["id"],
        "the first partner's event never reached the second"
    );
    let next = of_operator
        .expect("the second escalation, to operators")
        .await;
    assert_eq!(next.id, to_second.id);
    // Silence is broken by a comment, and nothing else is sent.
    assert_eq!(of_first.block(WITHIN).await.as_deref(), Some(":"));
    let metrics = app.metrics().await;
    assert!(
        metrics
            .lines()
            .any(|line| line == "escalade_event_streams_open 3"),
        "{metrics}"
    );
}

#[tokio::test]
async fn a_stream_resumes_on_another_instance_after_last_event_id_with_nothing_lost_or_repeated() {
    // Arrange
    let app = spawn_app().await;
    let sibling = app.spawn_sibling();
    let fixture = app.escalation_fixture("standard").await;
    let key = &fixture.partner.key;
    let mut stream = Stream::open(&app, key, "", &[]).await;
    let escalation = app.submit_escalation(key, &fixture.body).await;
    let created = stream.expect("the escalation").await;
    drop(stream);

    // Act: two events while the client is away, then one after it is back, on the sibling.
    let id = escalation.id();
    app.add_note(key, id, "客户补充了退信截图。").await;
    let operator = app.operator_key().await;
    app.start_work(&operator, id, &escalation.etag()).await;
    // `Last-Event-ID` wins over the `after` the stream was first opened with.
    let query = format!("?after={}", Uuid::nil());
    let resumed = [("Last-Event-ID", created.id.as_str())];
    let mut stream = Stream::open(&sibling, key, &query, &resumed).await;
    let mut received = Vec::new();
    for what in ["the note", "the move"] {
        received.push(stream.expect(what).await);
    }
    sibling.add_note(key, id, "日志已上传。").await;
    received.push(stream.expect("the note added after reconnecting").await);

    // Assert
    let kinds: Vec<&str> = received.iter().map(|sent| sent.event.as_str()).collect();
    let expected = [
        "escalation.note_added",
        "escalation.status_changed",
        "escalation.note_added",
    ];
    assert_eq!(kinds, expected);
    let feed = app
        .get_query("/v1/events", key, &[("after", &created.id)])
        .await;
    let ids: Vec<&str> = received.iter().map(|sent| sent.id.as_str()).collect();
    assert_eq!(
        feed.strings("id"),
        ids,
        "the feed's events, in the feed's order"
    );
    assert!(
        stream.event(Duration::from_millis(500)).await.is_none(),
        "no repeat"
    );
}

/// The status and code of a stream that was refused.
async fn refused(app: &TestApp, key: &str, query: &str, headers: &[(&str, &str)]) -> Answer {
    Answer::read(Stream::request(app, key, query, headers).await).await
}

#[tokio::test]
async fn the_sixth_stream_is_429_and_resuming_from_what_the_feed_refuses_is_refused_alike() {
    // Arrange
    let app = spawn_app().await;
    let fixture = app.escalation_fixture("standard").await;
    let key = &fixture.partner.key;
    let mut five = Vec::new();
    for _ in 0..5 {
        five.push(Stream::open(&app, key, "", &[]).await);
    }
    let other = app.escalation_fixture("standard").await;
    app.submit_escalation(&other.partner.key, &other.body).await;
    let foreign = feed_page(&app, &other.partner.key, &[], 1)
        .await
        .strings("id")[0]
        .clone();

    // Act
    let sixth = refused(&app, key, "", &[]).await;
    let operators = Stream::open(&app, &app.operator_key().await, "", &[]).await;
    five.pop();
    let reopened = async {
        for _ in 0..40 {
            let response = Stream::request(&app, key, "", &[]).await;
            if response.status() == 200 {
                return Some(response);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        None
    };

    // Assert
    sixth.problem(429, "too_many_streams");
    let reopened = reopened.await;
    assert!(reopened.is_some(), "a closed stream frees its place");
    let expired = format!("?after={}", id_from_days_ago(40));
    let foreign_after = format!("?after={foreign}");
    // (query, Last-Event-ID, status, code)
    let cases = [
        (expired.as_str(), None, 410, "events_expired"),
        (foreign_after.as_str(), None, 404, "not_found"),
        ("", Some(foreign.as_str()), 404, "not_found"),
        ("", Some("ESC-000001"), 400, "invalid_last_event_id"),
        ("?type=escalation.exploded", None, 400, "invalid_query"),
    ];
    for (query, last_event_id, status, code) in cases {
        let headers: Vec<(&str, &str)> = last_event_id
            .map(|id| ("Last-Event-ID", id))
            .into_iter()
            .collect();
        let answer = refused(&app, key, query, &headers).await;
        answer.problem(status, code);
    }
    // Judged before the places: the caller holds five streams all along.
    drop((five, reopened, operators));
}
