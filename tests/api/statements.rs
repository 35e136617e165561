//! Statements per request: each endpoint runs at most its budget of SQL statements (`BEGIN` and
//! `COMMIT` count), with the caller's key already verified, so a query added by accident fails
//! here without any timing.
//!
//! The budgets:
//! * reading one resource or one page: 1 statement (a service incident and its updates: 2);
//! * checking an escalation (`validate`): 1, the facts the criteria need (2 with incidents open
//!   on the service: their ids);
//! * submitting one, on PostgreSQL: 2 — the facts (the partner's webhook endpoints among them);
//!   one statement writing the escalation, numbered from its sequence, its `created` event and
//!   the event in the outbox (for the feed). When the partner has an endpoint, 6: the facts, then
//!   `BEGIN`, that statement, the partner's endpoints, the deliveries and `COMMIT`;
//! * on SQLite, 6 — the facts; `BEGIN`; the escalation, numbered in its insert; its event; the
//!   outbox event; `COMMIT` — and with an endpoint 8: its endpoints and the deliveries besides;
//! * adding a note, likewise: the escalation with whether its partner has an endpoint, in place
//!   of the facts, then the note where the escalation was;
//! * a key not yet verified by this instance: 1 more, to look it up.
//!
//! A key's rate limit, counted in PostgreSQL, costs a statement per lease of its requests, not
//! per request: those are left out here and bounded in `rate_limits` (8 for 100 requests).
//!
//! On PostgreSQL each statement is also a round trip at least, and the pool adds its own: the
//! round trips of a read, a submission and a note are held to budgets too, counted by a proxy
//! between the server and the database.

use escalade::config::{ServeSettings, WebhookSettings};
use reqwest::{Method, RequestBuilder};
use serde_json::json;
use uuid::Uuid;

use crate::helpers::{
    Answer, ESCALATIONS, TestApp, TestDatabase, escalation_path, incident_body, incident_path,
    notes_path, spawn_app, spawn_app_on,
};
use crate::pg_proxy::Proxy;
use crate::servers::Needed;
use crate::sql_log::statements_of;
use crate::webhooks::{create_endpoint, spawn_webhook_app};

/// A request adding the partner's note to escalation `id`.
fn add_note(app: &TestApp, key: &str, id: Uuid) -> RequestBuilder {
    app.request(Method::POST, &notes_path(id), key)
        .json(&json!({"text": "客户已重启传输服务，问题仍然存在。"}))
}

/// How often a request is tried when its round trips are counted.
const TRIES: usize = 5;

impl TestApp {
    /// Sends `request` under a fresh `X-Request-Id`; the answer and the statements it ran,
    /// leases of rate limits aside.
    async fn counted(&self, request: RequestBuilder) -> (Answer, Vec<String>) {
        let request_id = Uuid::new_v4().to_string();
        let answer = self.send(request.header("X-Request-Id", &request_id)).await;
        let mut statements = statements_of(&request_id);
        statements.retain(|sql| !sql.contains("rate_limits"));
        (answer, statements)
    }

    /// The fewest round trips to PostgreSQL, through `proxy`, that the request `nth(try)` made in
    /// [`TRIES`] tries: the server's own timers (keys revalidated every second, the SLA watch)
    /// may speak to the database during some of them, not during all.
    async fn fewest_round_trips(
        &self,
        proxy: &Proxy,
        nth: impl Fn(usize) -> RequestBuilder,
    ) -> usize {
        let mut fewest = usize::MAX;
        for attempt in 0..TRIES {
            let before = proxy.settled_round_trips().await;
            let answer = self.send(nth(attempt)).await;
            assert!(answer.status < 300, "{} {}", answer.status, answer.body);
            fewest = fewest.min(proxy.settled_round_trips().await - before);
        }
        fewest
    }

    /// Asserts `request` succeeds within `budget` statements.
    async fn within_budget(&self, what: &str, request: RequestBuilder, budget: usize) -> Answer {
        let (answer, statements) = self.counted(request).await;
        assert!(
            answer.status < 300,
            "{what}: {} {}",
            answer.status,
            answer.body
        );
        assert!(
            statements.len() <= budget,
            "{what} ran {} statements, over its budget of {budget}: {statements:#?}",
            statements.len()
        );
        answer
    }
}

#[actix_web::test]
async fn every_read_is_one_statement() {
    // Arrange
    let app = spawn_app().await;
    let fixture = app.escalation_fixture("standard").await;
    let key = fixture.partner.key.clone();
    let operator = app.operator_key().await;
    let escalation = app.submit_escalation(&key, &fixture.body).await;
    let mut second = fixture.body.clone();
    second["category"] = json!("product_bug");
    app.submit_escalation(&key, &second).await;
    let incident = app
        .create_incident(&operator, &incident_body("azure"))
        .await;
    let first_page = app
        .get(&format!("{ESCALATIONS}?order=due&limit=1"), &operator)
        .await;
    let cursor = first_page.body["next_cursor"].as_str().unwrap().to_owned();
    let customer = format!("/v1/customers/{}", fixture.customer_id);
    let attachment = app
        .send(
            app.request(
                Method::POST,
                &format!("{}/attachments", escalation_path(escalation.id())),
                &key,
            )
            .query(&[("filename", "queue.log")])
            .body("451 4.4.7 message expired\n"),
        )
        .await;
    let attachment_path = attachment.header("location").unwrap().to_owned();
    let content_path = format!("{attachment_path}/content");
    let get = |path: &str, key: &str| app.request(Method::GET, path, key);

    // Act and assert
    for (what, request, budget) in [
        (
            "an escalation",
            get(&escalation_path(escalation.id()), &key),
            1,
        ),
        ("a partner's escalations", get(ESCALATIONS, &key), 1),
        (
            "a later page of the triage queue",
            get(
                &format!("{ESCALATIONS}?order=due&limit=1&cursor={cursor}"),
                &operator,
            ),
            1,
        ),
        ("an attachment", get(&attachment_path, &key), 1),
        ("an attachment's bytes", get(&content_path, &key), 1),
        ("a customer", get(&customer, &key), 1),
        ("a customer search", get("/v1/customers?q=上海", &key), 1),
        ("the services", get("/v1/services", &key), 1),
        ("a service", get("/v1/services/azure", &key), 1),
        (
            "an incident with its updates",
            get(&incident_path(incident.id()), &key),
            2,
        ),
        (
            "the incidents with their updates",
            get("/v1/service-incidents", &key),
            2,
        ),
        ("the vocabulary", get("/v1/vocabulary", &key), 0),
    ] {
        app.within_budget(what, request, budget).await;
    }
}

#[actix_web::test]
async fn submitting_an_escalation_stays_within_its_budget() {
    // Arrange
    let app = spawn_webhook_app().await;
    let fixture = app.escalation_fixture("standard").await;
    let key = fixture.partner.key.clone();
    let submit = |body: &serde_json::Value| app.request(Method::POST, ESCALATIONS, &key).json(body);
    app.get("/v1/me", &key).await;

    // Act and assert
    app.within_budget(
        "checking an escalation",
        app.request(Method::POST, "/v1/escalations/validate", &key)
            .json(&fixture.body),
        1,
    )
    .await;
    let postgres = app.db.get_database_backend() == sea_orm::DatabaseBackend::Postgres;
    // Statements when no endpoint hears of it, and how many more when one does. On SQLite a
    // submission writes its search postings by a statement of their own; on PostgreSQL they are
    // one more part of its single statement.
    let (submitted, noted, heard) = if postgres { (2, 2, 4) } else { (7, 6, 2) };
    let escalation = app
        .within_budget("submitting an escalation", submit(&fixture.body), submitted)
        .await;
    let note = || add_note(&app, &key, escalation.id());
    app.within_budget("adding a note", note(), noted).await;
    create_endpoint(
        &app,
        &key,
        "http://127.0.0.1:9/escalade",
        &["escalation.created"],
    )
    .await;
    let mut heard_body = fixture.body.clone();
    heard_body["category"] = json!("product_bug");
    app.within_budget(
        "submitting one a webhook endpoint hears of",
        submit(&heard_body),
        submitted + heard,
    )
    .await;
    app.within_budget("adding a note an endpoint hears of", note(), noted + heard)
        .await;
}

#[actix_web::test]
async fn a_key_is_looked_up_once_then_known() {
    // Arrange
    let app = spawn_app().await;
    let operator = app.operator_key().await;
    let request = || app.request(Method::GET, "/v1/services/azure", &operator);

    // Act
    let (_, first) = app.counted(request()).await;
    let (_, second) = app.counted(request()).await;

    // Assert
    assert_eq!(first.len(), 2, "{first:#?}");
    assert_eq!(second.len(), 1, "{second:#?}");
}

/// Round trips to PostgreSQL, whatever the suite's engine, counted by a proxy between the server
/// and the database: a statement is one when its plan is cached on the connection, and the pool
/// checks a connection when it takes it back.
#[actix_web::test]
async fn on_postgres_each_request_stays_within_its_round_trips() {
    // Arrange
    let Some(server) = Needed::postgres().or_skip() else {
        return;
    };
    let proxy = Proxy::to(&server).await;
    // One connection, in use every few hundred milliseconds: never idle long enough to be
    // checked as it leaves the pool, as in a server under load.
    let database = TestDatabase::migrated_on_postgres(server, |settings| {
        settings.database_url = Some(proxy.url_through(&settings.url()));
        settings.db_max_connections = 1;
    })
    .await;
    let quiet = ServeSettings {
        webhooks: WebhookSettings {
            no_webhook_delivery: true,
            ..WebhookSettings::default()
        },
        ..ServeSettings::default()
    };
    let app = spawn_app_on(database, quiet).await;
    let fixture = app.escalation_fixture("standard").await;
    let key = fixture.partner.key.clone();
    let escalation = app.submit_escalation(&key, &fixture.body).await;
    let read = || app.request(Method::GET, &escalation_path(escalation.id()), &key);
    let categories: [&str; TRIES] = [
        "product_bug",
        "network_disruption",
        "undocumented_defect",
        "regional_multi_tenant_issue",
        "billing_dispute",
    ];
    let submit = |attempt: usize| {
        let mut body = fixture.body.clone();
        body["category"] = json!(categories[attempt]);
        app.request(Method::POST, ESCALATIONS, &key).json(&body)
    };
    let note = |_| add_note(&app, &key, escalation.id());
    // Every statement prepared once on the connection, as in a server that has run a while.
    for attempt in 0..TRIES {
        app.send(read()).await;
        app.send(note(attempt)).await;
    }

    // Act
    let reading = app.fewest_round_trips(&proxy, |_| read()).await;
    let submitting = app.fewest_round_trips(&proxy, submit).await;
    let noting = app.fewest_round_trips(&proxy, note).await;

    // Assert: a read is its statement and the pool's check of the connection as it goes back
    // (sqlx checks every connection it takes back, however recently used); a submission and a
    // note are two statements each, on a connection of their own.
    let measured = format!("read {reading}, submission {submitting}, note {noting}");
    assert!(reading <= 2, "{measured}");
    assert!(submitting <= 4, "{measured}");
    assert!(noting <= 4, "{measured}");
}
