//! Faults: two instances sharing one outbox, an instance killed between commit and delivery or
//! in the middle of an attempt, a graceful stop under load, and PostgreSQL going away and coming
//! back. Child processes are the real `escalade` binary; the receiver is here, the TCP proxy in
//! `pg_proxy`.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use escalade::config::{AttachmentSettings, DatabaseSettings, ServeSettings, WebhookSettings};
use escalade::domain::Role;
use escalade::entity::{customer, webhook_delivery};
use escalade::error::{DbTrouble, classify};
use escalade::startup::Application;
use escalade::storage::StoreLocation;
use reqwest::Method;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, Statement};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::cli::{Served, escalade, serve_with};
use crate::event_stream::Stream;
use crate::helpers::{
    Answer, Api, ESCALATIONS, TestDatabase, customer_body, escalation_body, issue_key, notes_path,
    partner_body, send_concurrently, spawn_app_on, spawn_app_with, subscription_body, test_keys,
};
use crate::pg_proxy::Proxy;
use crate::servers::Needed;
use crate::webhooks::receiver::{Received, Receiver, Script};
use crate::webhooks::{ENDPOINTS, EVENT_TYPES, deliveries_path, eventually};

/// Flags of a child that delivers to the test's receiver on loopback, looking every 50 ms.
const DELIVERING: [&str; 3] = [
    "--webhook-allow-private-networks",
    "--webhook-poll-interval-ms",
    "50",
];

/// Polls `probe` every 50 ms until it gives a value; panics after `limit` naming `what`.
pub(crate) async fn eventually_within<T>(
    limit: Duration,
    what: &str,
    mut probe: impl AsyncFnMut() -> Option<T>,
) -> T {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(value) = probe().await {
            return value;
        }
        assert!(
            Instant::now() < deadline,
            "gave up after {} s waiting for {what}",
            limit.as_secs()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// How often each webhook-id was received.
fn id_counts(received: &[Received]) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for request in received {
        *counts.entry(request.id().to_owned()).or_insert(0) += 1;
    }
    counts
}

// ---------------------------------------------------------------------------------------------
// Deliveries as an instance in this process or in a child reports them
// ---------------------------------------------------------------------------------------------

impl Api {
    /// Waits until every delivery of the endpoint (at least `count`, on one page) is
    /// `delivered`; returns them, oldest first.
    async fn all_delivered(&self, key: &str, endpoint_id: Uuid, count: usize) -> Vec<Value> {
        let what = format!("{count} delivered deliveries to endpoint {endpoint_id}");
        eventually(&what, async || {
            let page = self.request(Method::GET, &deliveries_path(endpoint_id), key);
            let page = self.send(page.query(&[("limit", "100")])).await;
            assert!(page.body["next_cursor"].is_null(), "{}", page.body);
            let all = page.items();
            (all.len() >= count && all.iter().all(|d| d["status"] == "delivered"))
                .then(|| all.clone())
        })
        .await
    }
}

/// A partner with one escalatable customer and a webhook endpoint for `escalation.created`,
/// made over HTTP.
struct Desk {
    partner_key: String,
    customer_id: Uuid,
    endpoint_id: Uuid,
}

impl Desk {
    async fn open(api: &Api, db: &DatabaseConnection, admin_key: &str, url: String) -> Desk {
        let created = async |key: &str, path: &str, body: Value| {
            let answer = api.post(path, key, &body).await;
            assert_eq!(answer.status, 201, "{path}: {}", answer.body);
            answer.id()
        };
        let partner = partner_body("云桥科技（合作伙伴）");
        let partner = created(admin_key, "/v1/partners", partner).await;
        let partner_key = issue_key(db, Role::Partner, Some(partner)).await;
        let customer = customer_body("上海云启科技有限公司");
        let customer_id = created(&partner_key, "/v1/customers", customer).await;
        let subscriptions = format!("/v1/customers/{customer_id}/subscriptions");
        let subscription = subscription_body("microsoft-365", "active");
        created(&partner_key, &subscriptions, subscription).await;
        let endpoint = json!({"url": url, "events": ["escalation.created"]});
        let endpoint_id = created(&partner_key, ENDPOINTS, endpoint).await;
        Desk {
            partner_key,
            customer_id,
            endpoint_id,
        }
    }

    /// Waits until `api` shows the desk's `count` deliveries delivered; returns them.
    async fn delivered(&self, api: &Api, count: usize) -> Vec<Value> {
        api.all_delivered(&self.partner_key, self.endpoint_id, count)
            .await
    }
}

/// A running `escalade serve` over the test's database, and a client for its API.
struct Instance {
    process: Served,
    api: Api,
}

impl Instance {
    fn start(database: &TestDatabase, flags: &[&str]) -> Instance {
        let mut command = escalade(database);
        command.env("ESCALADE_LOG", "info,sqlx=warn");
        let process = serve_with(command, flags);
        let api = Api::at(process.url(""));
        Instance { process, api }
    }
}

/// Every delivery row in the database, straight from the table.
async fn delivery_rows(db: &DatabaseConnection) -> Vec<webhook_delivery::Model> {
    webhook_delivery::Entity::find()
        .all(db)
        .await
        .expect("the deliveries are readable")
}

/// A deployment whose first instance, started with `flags`, has just committed an escalation of
/// a partner whose endpoint is `receiver`.
struct Committed {
    database: TestDatabase,
    first: Instance,
    desk: Desk,
    escalation: Answer,
}

async fn an_escalation_committed_by(flags: &[&str], receiver: &Receiver) -> Committed {
    let database = TestDatabase::migrated().await;
    let admin_key = issue_key(&database.db, Role::Admin, None).await;
    let first = Instance::start(&database, flags);
    let desk = Desk::open(&first.api, &database.db, &admin_key, receiver.url()).await;
    let body = escalation_body(desk.customer_id);
    let escalation = first.api.post(ESCALATIONS, &desk.partner_key, &body).await;
    assert_eq!(escalation.status, 201, "{}", escalation.body);
    Committed {
        database,
        first,
        desk,
        escalation,
    }
}

impl Committed {
    /// Waits until `next` shows the escalation's event delivered; asserts it is the one delivery
    /// and that every request the receiver got was its message. Returns the delivery and them.
    async fn delivered_by(&self, next: &Instance, receiver: &Receiver) -> (Value, Vec<Received>) {
        let mut deliveries = self.desk.delivered(&next.api, 1).await;
        assert_eq!(deliveries.len(), 1, "{deliveries:?}");
        let delivery = deliveries.remove(0);
        let received = receiver.received();
        for request in &received {
            let escalation_id = &request.json()["data"]["escalation"]["id"];
            assert_eq!(*escalation_id, json!(self.escalation.id()), "{received:?}");
            assert_eq!(request.id(), delivery["event_id"], "{received:?}");
        }
        (delivery, received)
    }
}

// ---------------------------------------------------------------------------------------------
// Two instances, one outbox
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_delivering_instances_send_each_event_exactly_once() {
    // Arrange
    let app = spawn_app_with(ServeSettings {
        webhooks: WebhookSettings {
            allow_private_networks: true,
            poll_interval_ms: 20,
            backoff_base_ms: 50,
            backoff_max_secs: 1,
            timeout_ms: 2000,
            ..WebhookSettings::default()
        },
        ..ServeSettings::default()
    })
    .await;
    let sibling = app.spawn_sibling();
    let instances = [app.api.clone(), sibling.api.clone()];
    let receiver = Receiver::start(Script::Always(204));
    let partner = app.create_partner("云桥科技（合作伙伴）").await;
    let endpoint = json!({"url": receiver.url(), "events": EVENT_TYPES});
    let endpoint = app.created(ENDPOINTS, &partner.key, &endpoint).await;
    let mut customers = Vec::new();
    for _ in 0..10 {
        customers.push(app.create_escalatable_customer(&partner, "standard").await);
    }

    // Act: ten escalations at once, alternately through each instance, then a note on each.
    let post = |i: usize, path: &str, body: Value| {
        instances[i % 2]
            .request(Method::POST, path, &partner.key)
            .json(&body)
    };
    let escalations = customers.iter().enumerate();
    let escalations = escalations.map(|(i, id)| post(i, ESCALATIONS, escalation_body(*id)));
    let created = send_concurrently(escalations.collect()).await;
    let note = json!({"text": "已附上退信邮件头。"});
    let notes = created.iter().enumerate().map(|(i, escalation)| {
        let path = notes_path(escalation.id());
        post(i + 1, &path, note.clone())
    });
    let noted = send_concurrently(notes.collect()).await;

    // Assert
    for answer in created.iter().chain(&noted) {
        assert_eq!(answer.status, 201, "{}", answer.body);
    }
    let deliveries = instances[0]
        .all_delivered(&partner.key, endpoint.id(), 20)
        .await;
    let received = receiver.received();
    let counts = id_counts(&received);
    // 20 events, each sent once.
    assert_eq!(received.len(), 20, "times each was received: {counts:?}");
    assert_eq!(counts.len(), 20, "20 distinct webhook-ids: {counts:?}");
    assert_eq!(deliveries.len(), 20, "one delivery per event");
    let event_ids = deliveries.iter().map(|d| d["event_id"].as_str().unwrap());
    let event_ids: HashSet<&str> = event_ids.collect();
    let received_ids: HashSet<&str> = counts.keys().map(String::as_str).collect();
    assert_eq!(event_ids, received_ids);
    for delivery in &deliveries {
        assert_eq!(delivery["attempt_count"], 1, "{delivery}");
    }
    let types: Vec<String> = received.iter().map(Received::event_type).collect();
    for kind in ["escalation.created", "escalation.note_added"] {
        let sent = types.iter().filter(|t| *t == kind).count();
        assert_eq!(sent, 10, "{kind}: {types:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// Crashes
// ---------------------------------------------------------------------------------------------

/// The outbox is written with the change: an instance that dies before delivering loses nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_committed_by_a_killed_instance_is_delivered_once_by_the_next() {
    // Arrange
    let receiver = Receiver::start(Script::Always(204));
    let not_delivering = ["--no-webhook-delivery", "--webhook-allow-private-networks"];
    let mut committed = an_escalation_committed_by(&not_delivering, &receiver).await;

    // Act
    committed.first.process.kill();
    let pending = delivery_rows(&committed.database.db).await;
    let second = Instance::start(&committed.database, &DELIVERING);

    // Assert
    assert_eq!(pending.len(), 1, "the event was committed: {pending:?}");
    assert_eq!(pending[0].status, "pending");
    let (delivery, received) = committed.delivered_by(&second, &receiver).await;
    let counts = id_counts(&received);
    assert_eq!(received.len(), 1, "sent exactly once: {counts:?}");
    assert_eq!(received[0].event_type(), "escalation.created");
    assert_eq!(delivery["attempt_count"], 1, "{delivery}");
}

/// A delivery claimed by an instance that dies mid-attempt is taken over once its lease (timeout
/// + 5 s) runs out, and accepted once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delivery_claimed_by_a_killed_instance_is_retried_after_its_lease() {
    // Arrange
    let receiver = Receiver::start(Script::HangFirst(1));
    let flags = [&DELIVERING[..], &["--webhook-timeout-ms", "1000"]].concat();
    let mut committed = an_escalation_committed_by(&flags, &receiver).await;
    receiver.wait_for(1).await;

    // Act: the first attempt is under way (the receiver holds it) when the instance dies.
    committed.first.process.kill();
    let claimed = delivery_rows(&committed.database.db).await;
    let second = Instance::start(&committed.database, &DELIVERING);

    // Assert
    assert_eq!(claimed.len(), 1, "{claimed:?}");
    assert_eq!(claimed[0].status, "pending", "{:?}", claimed[0]);
    let leased = claimed[0].leased_by.is_some() && claimed[0].lease_expires_at.is_some();
    assert!(leased, "the killed instance held the lease: {claimed:?}");
    // The same message both times, accepted once.
    let (delivery, received) = committed.delivered_by(&second, &receiver).await;
    // Every request but the first, which the receiver held unanswered.
    let answered = received.len().saturating_sub(1);
    let logs = second.process.logs();
    assert_eq!(answered, 1, "accepted once: {received:?}\n{logs}");
    assert!(delivery["next_attempt_at"].is_null(), "{delivery}");
    let rows = delivery_rows(&committed.database.db).await;
    let settled = rows
        .iter()
        .all(|r| r.status == "delivered" && r.leased_by.is_none());
    assert!(settled, "no delivery is left claimed: {rows:?}");
}

// ---------------------------------------------------------------------------------------------
// Graceful shutdown
// ---------------------------------------------------------------------------------------------

/// SIGTERM in the middle of a burst: the process exits 0, every 201 is committed, and an event
/// committed just before is delivered exactly once (by this instance or the next).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_in_flight_requests_finish_and_loses_no_event() {
    // Arrange
    let receiver = Receiver::start(Script::Always(204));
    let mut committed = an_escalation_committed_by(&DELIVERING, &receiver).await;
    let (first, desk) = (&mut committed.first, &committed.desk);

    // Act: 20 creates at once; SIGTERM as soon as the first is answered.
    let (answered_tx, mut answered_rx) = tokio::sync::mpsc::unbounded_channel::<()>();
    let burst: Vec<_> = (0..20)
        .map(|i| {
            let request = first
                .api
                .request(Method::POST, "/v1/customers", &desk.partner_key)
                .json(&customer_body(&format!("停机测试客户 {i}")));
            let answered_tx = answered_tx.clone();
            tokio::spawn(async move {
                let result = request.send().await;
                answered_tx.send(()).ok();
                match result {
                    Ok(response) => Ok(Answer::read(response).await),
                    Err(error) => Err(error.to_string()),
                }
            })
        })
        .collect();
    answered_rx.recv().await;
    let status = first.process.terminate().await;
    let mut outcomes = Vec::new();
    for request in burst {
        outcomes.push(request.await.unwrap());
    }

    // Assert
    let logs = first.process.logs();
    assert!(status.success(), "exits 0, got {status}\n{logs}");
    let created: Vec<&Answer> = outcomes.iter().filter_map(|o| o.as_ref().ok()).collect();
    assert!(!created.is_empty(), "at least the first was answered");
    for answer in &created {
        // An answered request was served in full.
        assert_eq!(answer.status, 201, "{}", answer.body);
        let row = customer::Entity::find_by_id(answer.id());
        let row = row.one(&committed.database.db).await.unwrap();
        assert!(row.is_some(), "customer {} was committed", answer.id());
    }
    let second = Instance::start(&committed.database, &DELIVERING);
    let (_, received) = committed.delivered_by(&second, &receiver).await;
    let counts = id_counts(&received);
    assert_eq!(received.len(), 1, "sent exactly once: {counts:?}");
}

/// SIGTERM with an event stream open: the stream ends at once, and the process exits 0 long
/// before the 30 s it would give a request that never finished.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_ends_open_event_streams_at_once() {
    // Arrange
    let database = TestDatabase::migrated().await;
    let operator = issue_key(&database.db, Role::Operator, None).await;
    let mut instance = Instance::start(&database, &[]);
    let mut stream = Stream::open(&instance.api, &operator, "", &[]).await;

    // Act
    let asked = Instant::now();
    let status = instance.process.terminate().await;

    // Assert
    assert!(status.success(), "exits 0, got {status}");
    assert!(
        asked.elapsed() < Duration::from_secs(5),
        "took {:?}",
        asked.elapsed()
    );
    let after = stream.block(Duration::from_secs(1)).await;
    assert_eq!(after, None, "the stream ended");
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL unreachable, then back
// ---------------------------------------------------------------------------------------------

/// Always on PostgreSQL (a network database is what can become unreachable): the API answers a
/// prompt 503 while it is gone, and recovers by itself when it is back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn while_postgres_is_unreachable_requests_get_503_and_recover_without_a_restart() {
    // Arrange
    let Some(server) = Needed::postgres().or_skip() else {
        return;
    };
    let database = TestDatabase::migrated_on_postgres(server, |_| {}).await;
    let direct = &database.db;
    let admin_key = issue_key(direct, Role::Admin, None).await;
    let proxy = Proxy::to(&database.url()).await;
    let through_proxy = DatabaseSettings {
        database_url: Some(proxy.url_through(&database.url())),
        db_timeout_secs: 1,
        ..database.settings.clone()
    };
    let db = escalade::store::connect(&through_proxy).await.unwrap();
    let settings = ServeSettings {
        bind: "127.0.0.1:0".parse().unwrap(),
        workers: Some(2),
        webhooks: WebhookSettings {
            no_webhook_delivery: true,
            ..WebhookSettings::default()
        },
        attachments: AttachmentSettings {
            attachment_store: Some(StoreLocation::Directory(
                database.attachments.path().to_owned(),
            )),
            ..AttachmentSettings::default()
        },
        ..ServeSettings::default()
    };
    let app = Application::build(&settings, db, test_keys()).expect("the server binds");
    let api = Api::at(format!("http://127.0.0.1:{}", app.port()));
    let handle = app.handle();
    tokio::spawn(app.run_until_stopped());
    let me = api.get("/v1/me", &admin_key).await;
    let ready = api.get_anonymously("/readyz").await;
    assert_eq!(me.status, 200, "{}", me.body);
    assert_eq!(ready.status, 200, "{}", ready.body);
    let partner = partner_body("云桥科技（合作伙伴）");
    let partner = api.post("/v1/partners", &admin_key, &partner).await;
    assert_eq!(partner.status, 201, "{}", partner.body);
    let partner_key = issue_key(direct, Role::Partner, Some(partner.id())).await;

    // Act: the database goes away.
    proxy.switch(false);
    let started = Instant::now();
    let me_down = api.get("/v1/me", &partner_key).await;
    let me_took = started.elapsed();
    let started = Instant::now();
    let customer = customer_body("上海云启科技有限公司");
    let create_down = api.post("/v1/customers", &partner_key, &customer).await;
    let create_took = started.elapsed();
    let ready_down = api.get_anonymously("/readyz").await;
    let health_down = api.get_anonymously("/healthz").await;
    // A key verified before is trusted only while the database can confirm it: once the check
    // fails it is forgotten, and even an answer that reads nothing else is 503.
    let what = "the keys in memory to be forgotten";
    eventually_within(Duration::from_secs(10), what, async || {
        let answer = api.get("/v1/vocabulary", &admin_key).await;
        (answer.status == 503).then_some(answer)
    })
    .await
    .problem(503, "database_unavailable");

    // Assert
    me_down.problem(503, "database_unavailable");
    create_down.problem(503, "database_unavailable");
    let promptly = me_took.max(create_took) < Duration::from_secs(5);
    assert!(promptly, "answered after {me_took:?}, {create_took:?}");
    assert_eq!(ready_down.status, 503, "{}", ready_down.body);
    assert_eq!(health_down.status, 200, "liveness needs no database");

    // Act: the database is back.
    proxy.switch(true);
    eventually("/readyz to answer 200 again", async || {
        (api.get_anonymously("/readyz").await.status == 200).then_some(())
    })
    .await;
    let body = customer_body("北京恢复科技有限公司");
    let created = api.post("/v1/customers", &partner_key, &body).await;

    // Assert
    assert_eq!(created.status, 201, "{}", created.body);
    let read = api
        .get(&format!("/v1/customers/{}", created.id()), &partner_key)
        .await;
    assert_eq!(read.status, 200, "{}", read.body);
    assert_eq!(read.body["company_name"], body["company_name"]);

    handle.stop(false).await;
}

/// Ends every backend of the PostgreSQL database `name` on the server whose maintenance
/// database is `server`, and waits until they are gone. A new session for each look: one
/// session's view of pg_stat_activity can lag behind.
async fn end_backends(server: &str, name: &str) {
    let backends = async |sql: &str| {
        let admin = escalade::store::connect(&DatabaseSettings {
            database_url: Some(server.to_owned()),
            db_max_connections: 1,
            ..DatabaseSettings::default()
        })
        .await
        .expect("connects to PostgreSQL's maintenance database");
        let statement = Statement::from_sql_and_values(DbBackend::Postgres, sql, [name.into()]);
        admin.query_all_raw(statement).await.unwrap().len()
    };
    let ended =
        backends("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1").await;
    assert!(ended > 0, "the pool holds a connection");
    eventually("the ended backends to be gone", async || {
        let left = backends("SELECT pid FROM pg_stat_activity WHERE datname = $1").await;
        (left == 0).then_some(())
    })
    .await;
}

/// A fresh database on PostgreSQL whose pool holds one connection, and its name.
async fn one_connection_on_postgres(server: &str) -> (TestDatabase, String) {
    let database = TestDatabase::migrated_on_postgres(server.to_owned(), |settings| {
        settings.db_max_connections = 1;
    })
    .await;
    let name = reqwest::Url::parse(&database.url()).unwrap().path()[1..].to_owned();
    (database, name)
}

/// Always on PostgreSQL: a pooled connection whose backend ended (a restart, an idle timeout).
/// One idle for a while is checked as it leaves the pool and replaced, so its statement runs;
/// one that ended the moment before is found by the statement, which fails as a busy database
/// (answered 503 with Retry-After), and is replaced for the next.
#[tokio::test]
async fn a_pooled_connection_whose_backend_ended_is_found_and_replaced() {
    // Arrange
    let Some(server) = Needed::postgres().or_skip() else {
        return;
    };
    let (database, name) = one_connection_on_postgres(&server).await;
    let select = async || {
        let statement = Statement::from_string(DbBackend::Postgres, "SELECT 1");
        database.db.query_one_raw(statement).await
    };
    select().await.expect("the pool connects");

    // Act
    end_backends(&server, &name).await;
    let at_once = select().await;
    let next = select().await;
    end_backends(&server, &name).await;
    tokio::time::sleep(escalade::store::CHECK_AFTER_IDLE + Duration::from_millis(200)).await;
    let after_idle = select().await;

    // Assert
    let found = at_once.expect_err("the statement finds the ended backend");
    assert_eq!(classify(&found), DbTrouble::Busy, "{found}");
    next.expect("the next statement has a new connection");
    after_idle.expect("a connection idle for a while is checked and replaced");
}

/// The same between two requests, whatever the server's own timers do with the pool meanwhile:
/// the request is served or answered 503 (never 500), and the next one is served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_after_postgres_ended_a_pooled_connection_is_503_at_worst() {
    // Arrange
    let Some(server) = Needed::postgres().or_skip() else {
        return;
    };
    let (database, name) = one_connection_on_postgres(&server).await;
    let app = spawn_app_on(database, ServeSettings::default()).await;
    let operator = app.operator_key().await;
    let read = async || app.get("/v1/services/azure", &operator).await;
    assert_eq!(read().await.status, 200);

    // Act
    end_backends(&server, &name).await;
    let at_once = read().await;
    let next = read().await;

    // Assert
    if at_once.status != 200 {
        at_once.problem(503, "database_busy");
        let retry = at_once.header("retry-after");
        assert!(retry.is_some(), "{:?}", at_once.headers);
    }
    assert_eq!(next.status, 200, "{}", next.body);
}
