//! Faults: two instances sharing one outbox, an instance killed between commit and delivery or
//! in the middle of an attempt, a graceful stop under load, and PostgreSQL going away and coming
//! back. Child processes are the real `escalade` binary; the receiver and the TCP proxy are here.

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader};
use std::os::unix::process::ExitStatusExt;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::dev::ServerHandle;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use escalade::config::{AttachmentSettings, DatabaseSettings, ServeSettings, WebhookSettings};
use escalade::domain::Role;
use escalade::entity::{customer, webhook_delivery};
use escalade::startup::Application;
use escalade::storage::StoreLocation;
use reqwest::{Method, RequestBuilder};
use sea_orm::{ConnectionTrait, DatabaseConnection, EntityTrait};
use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use uuid::Uuid;

use crate::helpers::{
    Answer, ESCALATIONS, TEST_DATABASE_ENV, TestApp, TestDatabase, customer_body, escalation_body,
    escalation_path, issue_key, send_concurrently, spawn_app_with, subscription_body, test_keys,
};

const ENDPOINTS: &str = "/v1/webhook-endpoints";

const EVENT_TYPES: [&str; 6] = [
    "escalation.created",
    "escalation.status_changed",
    "escalation.note_added",
    "service_incident.created",
    "service_incident.resolved",
    "remediation_plan.requested",
];

/// Flags of a child that delivers to the test's receiver on loopback, looking every 50 ms.
const DELIVERING: [&str; 3] = [
    "--webhook-allow-private-networks",
    "--webhook-poll-interval-ms",
    "50",
];

fn notes_path(id: Uuid) -> String {
    format!("{}/notes", escalation_path(id))
}

fn deliveries_path(endpoint_id: Uuid) -> String {
    format!("{ENDPOINTS}/{endpoint_id}/deliveries")
}

/// Polls `probe` every 50 ms until it gives a value; panics after 20 s naming `what`.
async fn eventually<T>(what: &str, probe: impl AsyncFnMut() -> Option<T>) -> T {
    eventually_within(Duration::from_secs(20), what, probe).await
}

async fn eventually_within<T>(
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

// ---------------------------------------------------------------------------------------------
// A webhook receiver
// ---------------------------------------------------------------------------------------------

/// One request as the receiver got it.
#[derive(Debug, Clone)]
struct Received {
    webhook_id: String,
    body: Value,
    /// Whether it was answered (204) rather than left hanging.
    answered: bool,
}

impl Received {
    fn event_type(&self) -> &str {
        self.body["type"].as_str().unwrap_or_default()
    }
}

/// A partner's webhook receiver on a free loopback port: records every request and answers 204,
/// except the first `hang` requests, which it never answers.
struct Receiver {
    address: String,
    log: Arc<Mutex<Vec<Received>>>,
    handle: ServerHandle,
}

impl Receiver {
    fn start() -> Receiver {
        Receiver::hanging_first(0)
    }

    fn hanging_first(hang: usize) -> Receiver {
        let log: Arc<Mutex<Vec<Received>>> = Arc::default();
        let shared = Arc::clone(&log);
        let server = HttpServer::new(move || {
            let log = Arc::clone(&shared);
            App::new().default_service(web::to(move |request: HttpRequest, body: web::Bytes| {
                let log = Arc::clone(&log);
                async move {
                    let webhook_id = request
                        .headers()
                        .get("webhook-id")
                        .and_then(|value| value.to_str().ok())
                        .unwrap_or_default()
                        .to_owned();
                    let body = serde_json::from_slice(&body).unwrap_or(Value::Null);
                    let index = {
                        let mut log = log.lock().unwrap();
                        let index = log.len();
                        log.push(Received {
                            webhook_id,
                            body,
                            answered: index >= hang,
                        });
                        index
                    };
                    if index < hang {
                        tokio::time::sleep(Duration::from_secs(300)).await;
                    }
                    HttpResponse::NoContent().finish()
                }
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
            log,
            handle,
        }
    }

    fn url(&self) -> String {
        format!("{}/hooks/escalade", self.address)
    }

    fn received(&self) -> Vec<Received> {
        self.log.lock().unwrap().clone()
    }

    /// Waits until at least `count` requests have arrived; returns them all.
    async fn wait_for(&self, count: usize) -> Vec<Received> {
        eventually(&format!("{count} request(s) at the receiver"), async || {
            let received = self.received();
            (received.len() >= count).then_some(received)
        })
        .await
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        drop(self.handle.stop(false));
    }
}

/// How often each webhook-id was received.
fn id_counts(received: &[Received]) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for request in received {
        *counts.entry(request.webhook_id.clone()).or_insert(0) += 1;
    }
    counts
}

// ---------------------------------------------------------------------------------------------
// An API over HTTP, in this process or in a child
// ---------------------------------------------------------------------------------------------

/// Where an instance listens, and a client for it.
#[derive(Clone)]
struct Remote {
    base: String,
    client: reqwest::Client,
}

impl Remote {
    fn new(base: String) -> Remote {
        Remote {
            base,
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap(),
        }
    }

    fn of(app: &TestApp) -> Remote {
        Remote {
            base: app.address.clone(),
            client: app.client.clone(),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn request(&self, method: Method, path: &str, key: &str) -> RequestBuilder {
        self.client.request(method, self.url(path)).bearer_auth(key)
    }

    async fn send(&self, request: RequestBuilder) -> Answer {
        Answer::read(request.send().await.expect("the request is sent")).await
    }

    async fn get(&self, path: &str, key: &str) -> Answer {
        self.send(self.request(Method::GET, path, key)).await
    }

    async fn post(&self, path: &str, key: &str, body: &Value) -> Answer {
        self.send(self.request(Method::POST, path, key).json(body))
            .await
    }

    /// An ops endpoint (no key).
    async fn ops(&self, path: &str) -> Answer {
        self.send(self.client.get(self.url(path))).await
    }

    /// Every delivery of an endpoint, oldest first, all pages.
    async fn deliveries(&self, key: &str, endpoint_id: Uuid) -> Vec<Value> {
        let mut all = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut params = vec![("limit", "100".to_owned())];
            if let Some(cursor) = &cursor {
                params.push(("cursor", cursor.clone()));
            }
            let page = self
                .send(
                    self.request(Method::GET, &deliveries_path(endpoint_id), key)
                        .query(&params),
                )
                .await;
            all.extend(page.items().iter().cloned());
            match page.body["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => return all,
            }
        }
    }

    /// Waits until every delivery of the endpoint (at least `count`) is `delivered`; returns them.
    async fn all_delivered(&self, key: &str, endpoint_id: Uuid, count: usize) -> Vec<Value> {
        eventually(
            &format!("{count} delivered deliveries to endpoint {endpoint_id}"),
            async || {
                let all = self.deliveries(key, endpoint_id).await;
                (all.len() >= count && all.iter().all(|d| d["status"] == "delivered"))
                    .then_some(all)
            },
        )
        .await
    }
}

/// A partner with one escalatable customer and a webhook endpoint, made over HTTP.
struct Desk {
    partner_key: String,
    customer_id: Uuid,
    endpoint_id: Uuid,
}

impl Desk {
    async fn open(
        api: &Remote,
        db: &DatabaseConnection,
        admin_key: &str,
        receiver: &Receiver,
        events: &[&str],
    ) -> Desk {
        let mpn_id = format!(
            "{}",
            1_000_000 + (Uuid::new_v4().as_u128() % 8_999_999_999) as u64
        );
        let partner = api
            .post(
                "/v1/partners",
                admin_key,
                &json!({"name": "云桥科技（合作伙伴）", "mpn_id": mpn_id, "tenant_id": Uuid::new_v4(), "country": "CN"}),
            )
            .await;
        assert_eq!(partner.status, 201, "{}", partner.body);
        let partner_key = issue_key(db, Role::Partner, Some(partner.id())).await;
        let customer = api
            .post(
                "/v1/customers",
                &partner_key,
                &customer_body("上海云启科技有限公司"),
            )
            .await;
        assert_eq!(customer.status, 201, "{}", customer.body);
        let subscription = api
            .post(
                &format!("/v1/customers/{}/subscriptions", customer.id()),
                &partner_key,
                &subscription_body("microsoft-365", "active"),
            )
            .await;
        assert_eq!(subscription.status, 201, "{}", subscription.body);
        let endpoint = api
            .post(
                ENDPOINTS,
                &partner_key,
                &json!({"url": receiver.url(), "events": events}),
            )
            .await;
        assert_eq!(endpoint.status, 201, "{}", endpoint.body);
        Desk {
            partner_key,
            customer_id: customer.id(),
            endpoint_id: endpoint.id(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The real binary as a child process
// ---------------------------------------------------------------------------------------------

/// A running `escalade serve`, killed if still running when dropped. Its output is drained all
/// along, so a chatty child never blocks on a full pipe.
struct Instance {
    child: Child,
    api: Remote,
    logs: Arc<Mutex<String>>,
}

impl Instance {
    async fn start(database: &TestDatabase, flags: &[&str]) -> Instance {
        let mut child = crate::cli::escalade(database)
            .env("ESCALADE_LOG", "info,sqlx=warn")
            .args(["serve", "--bind", "127.0.0.1:0"])
            .args(flags)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("escalade starts");
        let logs: Arc<Mutex<String>> = Arc::default();
        let stderr = child.stderr.take().unwrap();
        let sink = Arc::clone(&logs);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let mut sink = sink.lock().unwrap();
                sink.push_str(&line);
                sink.push('\n');
            }
        });
        let stdout = child.stdout.take().unwrap();
        let (port_tx, port_rx) = tokio::sync::oneshot::channel::<u16>();
        std::thread::spawn(move || {
            let mut port_tx = Some(port_tx);
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(port) = listening_port(&line)
                    && let Some(tx) = port_tx.take()
                {
                    tx.send(port).ok();
                }
            }
        });
        let port = match tokio::time::timeout(Duration::from_secs(60), port_rx).await {
            Ok(Ok(port)) => port,
            _ => panic!("escalade did not start listening: {}", logs.lock().unwrap()),
        };
        let instance = Instance {
            child,
            api: Remote::new(format!("http://127.0.0.1:{port}")),
            logs,
        };
        eventually_within(Duration::from_secs(30), "escalade's /healthz", async || {
            let answer = instance.api.client.get(instance.api.url("/healthz")).send();
            matches!(answer.await, Ok(response) if response.status() == 200).then_some(())
        })
        .await;
        instance
    }

    fn logs(&self) -> String {
        self.logs.lock().unwrap().clone()
    }

    /// SIGKILL: no shutdown, no cleanup, as a crash or an OOM kill.
    fn kill(&mut self) {
        self.child.kill().expect("SIGKILL is sent");
        let status = self.child.wait().unwrap();
        assert_eq!(status.signal(), Some(9), "killed by SIGKILL: {status}");
    }

    /// SIGTERM, then its exit status once it has exited.
    async fn terminate(&mut self) -> ExitStatus {
        let sent = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
        eventually_within(Duration::from_secs(60), "escalade to exit", async || {
            self.child.try_wait().unwrap()
        })
        .await
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            self.child.kill().ok();
            self.child.wait().ok();
        }
    }
}

/// The port in `escalade: listening on http://127.0.0.1:PORT (…)`.
fn listening_port(line: &str) -> Option<u16> {
    let address = line.trim().strip_prefix("escalade: listening on http://")?;
    let address = address.split(' ').next()?;
    address.rsplit(':').next()?.parse().ok()
}

/// Every delivery row in the database, straight from the table.
async fn delivery_rows(db: &DatabaseConnection) -> Vec<webhook_delivery::Model> {
    webhook_delivery::Entity::find()
        .all(db)
        .await
        .expect("the deliveries are readable")
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
    let instances = [Remote::of(&app), Remote::of(&sibling)];
    let receiver = Receiver::start();
    let partner = app.create_partner("云桥科技（合作伙伴）").await;
    let endpoint = app
        .post(
            ENDPOINTS,
            &partner.key,
            &json!({"url": receiver.url(), "events": EVENT_TYPES}),
        )
        .await;
    assert_eq!(endpoint.status, 201, "{}", endpoint.body);
    let mut customers = Vec::new();
    for _ in 0..10 {
        customers.push(app.create_escalatable_customer(&partner, "standard").await);
    }

    // Act: ten escalations at once, alternately through each instance, then a note on each.
    let created = send_concurrently(
        customers
            .iter()
            .enumerate()
            .map(|(i, customer_id)| {
                instances[i % 2]
                    .request(Method::POST, ESCALATIONS, &partner.key)
                    .json(&escalation_body(*customer_id))
            })
            .collect(),
    )
    .await;
    for answer in &created {
        assert_eq!(answer.status, 201, "{}", answer.body);
    }
    let noted = send_concurrently(
        created
            .iter()
            .enumerate()
            .map(|(i, escalation)| {
                instances[(i + 1) % 2]
                    .request(Method::POST, &notes_path(escalation.id()), &partner.key)
                    .json(&json!({"text": "已附上退信邮件头。"}))
            })
            .collect(),
    )
    .await;
    for answer in &noted {
        assert_eq!(answer.status, 201, "{}", answer.body);
    }

    // Assert
    let deliveries = instances[0]
        .all_delivered(&partner.key, endpoint.id(), 20)
        .await;
    let received = receiver.received();
    let counts = id_counts(&received);
    assert_eq!(
        received.len(),
        20,
        "20 events, each sent once; times each webhook-id was received: {counts:?}"
    );
    assert_eq!(counts.len(), 20, "20 distinct webhook-ids: {counts:?}");
    assert_eq!(deliveries.len(), 20, "one delivery per event");
    let event_ids: HashSet<String> = deliveries
        .iter()
        .map(|d| d["event_id"].as_str().unwrap().to_owned())
        .collect();
    let received_ids: HashSet<String> = counts.keys().cloned().collect();
    assert_eq!(event_ids, received_ids);
    for delivery in &deliveries {
        assert_eq!(delivery["attempt_count"], 1, "{delivery}");
    }
    let types: Vec<&str> = received.iter().map(Received::event_type).collect();
    assert_eq!(
        types.iter().filter(|t| **t == "escalation.created").count(),
        10,
        "{types:?}"
    );
    assert_eq!(
        types
            .iter()
            .filter(|t| **t == "escalation.note_added")
            .count(),
        10,
        "{types:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// Crashes
// ---------------------------------------------------------------------------------------------

/// The outbox is written with the change: an instance that dies before delivering loses nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_committed_by_a_killed_instance_is_delivered_once_by_the_next() {
    // Arrange
    let database = TestDatabase::migrated().await;
    let admin_key = issue_key(&database.db, Role::Admin, None).await;
    let receiver = Receiver::start();
    let mut first = Instance::start(
        &database,
        &["--no-webhook-delivery", "--webhook-allow-private-networks"],
    )
    .await;
    let desk = Desk::open(
        &first.api,
        &database.db,
        &admin_key,
        &receiver,
        &["escalation.created"],
    )
    .await;
    let escalation = first
        .api
        .post(
            ESCALATIONS,
            &desk.partner_key,
            &escalation_body(desk.customer_id),
        )
        .await;
    assert_eq!(escalation.status, 201, "{}", escalation.body);

    // Act
    first.kill();
    let pending = delivery_rows(&database.db).await;
    let second = Instance::start(&database, &DELIVERING).await;

    // Assert
    assert_eq!(pending.len(), 1, "the event was committed: {pending:?}");
    assert_eq!(pending[0].status, "pending");
    let deliveries = second
        .api
        .all_delivered(&desk.partner_key, desk.endpoint_id, 1)
        .await;
    let received = receiver.received();
    assert_eq!(
        received.len(),
        1,
        "sent exactly once: {:?}",
        id_counts(&received)
    );
    assert_eq!(received[0].event_type(), "escalation.created");
    assert_eq!(
        received[0].body["data"]["escalation"]["id"],
        json!(escalation.id())
    );
    assert_eq!(deliveries.len(), 1);
    assert_eq!(received[0].webhook_id, deliveries[0]["event_id"]);
    assert_eq!(deliveries[0]["attempt_count"], 1, "{}", deliveries[0]);
}

/// A delivery claimed by an instance that dies mid-attempt is taken over once its lease (timeout
/// + 5 s) runs out, and accepted once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delivery_claimed_by_a_killed_instance_is_retried_after_its_lease() {
    // Arrange
    let database = TestDatabase::migrated().await;
    let admin_key = issue_key(&database.db, Role::Admin, None).await;
    let receiver = Receiver::hanging_first(1);
    let mut first = Instance::start(
        &database,
        &[&DELIVERING[..], &["--webhook-timeout-ms", "1000"]].concat(),
    )
    .await;
    let desk = Desk::open(
        &first.api,
        &database.db,
        &admin_key,
        &receiver,
        &["escalation.created"],
    )
    .await;
    let escalation = first
        .api
        .post(
            ESCALATIONS,
            &desk.partner_key,
            &escalation_body(desk.customer_id),
        )
        .await;
    assert_eq!(escalation.status, 201, "{}", escalation.body);
    receiver.wait_for(1).await;

    // Act: the first attempt is under way (the receiver holds it) when the instance dies.
    first.kill();
    let claimed = delivery_rows(&database.db).await;
    let second = Instance::start(&database, &DELIVERING).await;

    // Assert
    assert_eq!(claimed.len(), 1, "{claimed:?}");
    assert_eq!(claimed[0].status, "pending", "{:?}", claimed[0]);
    assert!(
        claimed[0].leased_by.is_some() && claimed[0].lease_expires_at.is_some(),
        "the killed instance held the lease: {:?}",
        claimed[0]
    );
    let deliveries = second
        .api
        .all_delivered(&desk.partner_key, desk.endpoint_id, 1)
        .await;
    let received = receiver.received();
    let answered: Vec<&Received> = received.iter().filter(|r| r.answered).collect();
    assert_eq!(
        answered.len(),
        1,
        "accepted exactly once: {received:?}\n{}",
        second.logs()
    );
    assert!(
        received
            .iter()
            .all(|r| r.webhook_id == received[0].webhook_id),
        "the same message both times: {received:?}"
    );
    assert_eq!(
        answered[0].body["data"]["escalation"]["id"],
        json!(escalation.id())
    );
    assert_eq!(deliveries.len(), 1);
    assert_eq!(deliveries[0]["event_id"], json!(received[0].webhook_id));
    assert!(
        deliveries[0]["next_attempt_at"].is_null(),
        "{}",
        deliveries[0]
    );
    let rows = delivery_rows(&database.db).await;
    assert!(
        rows.iter()
            .all(|row| row.status == "delivered" && row.leased_by.is_none()),
        "no delivery is left claimed: {rows:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// Graceful shutdown
// ---------------------------------------------------------------------------------------------

/// SIGTERM in the middle of a burst: the process exits 0, every 201 is committed, and an event
/// committed just before is delivered exactly once (by this instance or the next).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_in_flight_requests_finish_and_loses_no_event() {
    // Arrange
    let database = TestDatabase::migrated().await;
    let admin_key = issue_key(&database.db, Role::Admin, None).await;
    let receiver = Receiver::start();
    let mut first = Instance::start(&database, &DELIVERING).await;
    let desk = Desk::open(
        &first.api,
        &database.db,
        &admin_key,
        &receiver,
        &["escalation.created"],
    )
    .await;
    let escalation = first
        .api
        .post(
            ESCALATIONS,
            &desk.partner_key,
            &escalation_body(desk.customer_id),
        )
        .await;
    assert_eq!(escalation.status, 201, "{}", escalation.body);

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
    let status = first.terminate().await;
    let mut outcomes = Vec::new();
    for request in burst {
        outcomes.push(request.await.unwrap());
    }

    // Assert
    assert!(
        status.success(),
        "a graceful stop exits 0, got {status}\n{}",
        first.logs()
    );
    let created: Vec<&Answer> = outcomes.iter().filter_map(|o| o.as_ref().ok()).collect();
    assert!(!created.is_empty(), "at least the first was answered");
    for answer in &created {
        assert_eq!(
            answer.status, 201,
            "an answered request was served in full: {}",
            answer.body
        );
        let row = customer::Entity::find_by_id(answer.id())
            .one(&database.db)
            .await
            .unwrap();
        assert!(row.is_some(), "customer {} was committed", answer.id());
    }
    let second = Instance::start(&database, &DELIVERING).await;
    let deliveries = second
        .api
        .all_delivered(&desk.partner_key, desk.endpoint_id, 1)
        .await;
    let received = receiver.received();
    assert_eq!(
        received.len(),
        1,
        "the event was sent exactly once: {:?}",
        id_counts(&received)
    );
    assert_eq!(
        received[0].body["data"]["escalation"]["id"],
        json!(escalation.id())
    );
    assert_eq!(received[0].webhook_id, deliveries[0]["event_id"]);
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL unreachable, then back
// ---------------------------------------------------------------------------------------------

const POSTGRES_DEFAULT: &str = "postgres://postgres@127.0.0.1:5432/postgres";

fn database_settings(url: &str, timeout_secs: u64) -> DatabaseSettings {
    DatabaseSettings {
        database_url: Some(url.to_owned()),
        db_max_connections: 5,
        db_timeout_secs: timeout_secs,
        ..DatabaseSettings::default()
    }
}

/// A fresh, migrated PostgreSQL database (whatever the suite's engine), dropped with this value.
struct PostgresDatabase {
    admin_url: String,
    name: String,
    /// The database's URL, with the database name in place.
    url: reqwest::Url,
}

impl PostgresDatabase {
    async fn create() -> PostgresDatabase {
        let admin_url = match std::env::var(TEST_DATABASE_ENV) {
            Ok(url) if url.starts_with("postgres") => url,
            _ => POSTGRES_DEFAULT.to_owned(),
        };
        let admin = escalade::store::connect(&database_settings(&admin_url, 5))
            .await
            .unwrap_or_else(|err| {
                panic!(
                    "this test needs PostgreSQL and cannot reach {admin_url} ({err}); start \
                     PostgreSQL or set {TEST_DATABASE_ENV} to a reachable postgres:// URL"
                )
            });
        let name = format!("escalade_test_{}", Uuid::new_v4().simple());
        admin
            .execute_unprepared(&format!("CREATE DATABASE {name}"))
            .await
            .expect("can create a test database");
        admin.close().await.ok();
        let mut url = reqwest::Url::parse(&admin_url).expect("a valid PostgreSQL URL");
        url.set_path(&format!("/{name}"));
        let database = PostgresDatabase {
            admin_url,
            name,
            url,
        };
        let db = database.connect_directly().await;
        escalade::store::migrate(&db)
            .await
            .expect("migrations apply");
        db.close().await.ok();
        database
    }

    async fn connect_directly(&self) -> DatabaseConnection {
        escalade::store::connect(&database_settings(self.url.as_str(), 5))
            .await
            .expect("connects to the test database")
    }

    /// `host:port` of the server.
    fn server(&self) -> String {
        format!(
            "{}:{}",
            self.url.host_str().unwrap_or("127.0.0.1"),
            self.url.port().unwrap_or(5432)
        )
    }

    /// The database's URL through a proxy on `port` of loopback.
    fn through(&self, port: u16) -> String {
        let mut url = self.url.clone();
        url.set_host(Some("127.0.0.1")).unwrap();
        url.set_port(Some(port)).unwrap();
        url.to_string()
    }
}

impl Drop for PostgresDatabase {
    fn drop(&mut self) {
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        // Drop runs outside async code: a thread of its own gets a runtime for the cleanup.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            runtime.block_on(async {
                let admin = escalade::store::connect(&database_settings(&admin_url, 5))
                    .await
                    .ok()?;
                admin
                    .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .await
                    .ok()?;
                admin.close().await.ok()
            })
        })
        .join();
        if !matches!(dropped, Ok(Some(()))) {
            eprintln!("warning: test database {} was not dropped", self.name);
        }
    }
}

/// A TCP proxy on loopback to `upstream` that can be switched down (every connection closed,
/// new ones accepted and dropped at once) and up again.
struct Proxy {
    port: u16,
    up: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Proxy {
    async fn start(upstream: String) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("the proxy binds");
        let port = listener.local_addr().unwrap().port();
        let (up, state) = watch::channel(true);
        let task = tokio::spawn(async move {
            loop {
                let Ok((mut inbound, _)) = listener.accept().await else {
                    continue;
                };
                if !*state.borrow() {
                    drop(inbound);
                    continue;
                }
                let mut state = state.clone();
                let upstream = upstream.clone();
                tokio::spawn(async move {
                    let Ok(mut outbound) = TcpStream::connect(&upstream).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                        _ = state.wait_for(|up| !*up) => {}
                    }
                });
            }
        });
        Proxy { port, up, task }
    }

    fn down(&self) {
        self.up.send_replace(false);
    }

    fn up(&self) {
        self.up.send_replace(true);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.down();
        self.task.abort();
    }
}

/// Always on PostgreSQL (a network database is what can become unreachable): the API answers a
/// prompt 503 while it is gone, and recovers by itself when it is back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn while_postgres_is_unreachable_requests_get_503_and_recover_without_a_restart() {
    // Arrange
    let database = PostgresDatabase::create().await;
    let direct = database.connect_directly().await;
    let admin_key = issue_key(&direct, Role::Admin, None).await;
    let proxy = Proxy::start(database.server()).await;
    let attachments = tempfile::tempdir().expect("a temporary directory");
    let db = escalade::store::connect(&database_settings(&database.through(proxy.port), 1))
        .await
        .expect("connects through the proxy");
    let settings = ServeSettings {
        bind: "127.0.0.1:0".parse().unwrap(),
        workers: Some(2),
        webhooks: WebhookSettings {
            no_webhook_delivery: true,
            ..WebhookSettings::default()
        },
        attachments: AttachmentSettings {
            attachment_store: Some(StoreLocation::Directory(attachments.path().to_owned())),
            ..AttachmentSettings::default()
        },
        ..ServeSettings::default()
    };
    let app = Application::build(&settings, db, test_keys()).expect("the server binds");
    let api = Remote::new(format!("http://127.0.0.1:{}", app.port()));
    let handle = app.handle();
    tokio::spawn(app.run_until_stopped());
    let me = api.get("/v1/me", &admin_key).await;
    let ready = api.ops("/readyz").await;
    assert_eq!(me.status, 200, "{}", me.body);
    assert_eq!(ready.status, 200, "{}", ready.body);
    let partner = api
        .post(
            "/v1/partners",
            &admin_key,
            &json!({"name": "云桥科技（合作伙伴）", "mpn_id": "7654321", "tenant_id": Uuid::new_v4(), "country": "CN"}),
        )
        .await;
    assert_eq!(partner.status, 201, "{}", partner.body);
    let partner_key = issue_key(&direct, Role::Partner, Some(partner.id())).await;

    // Act: the database goes away.
    proxy.down();
    let started = Instant::now();
    let me_down = api.get("/v1/me", &partner_key).await;
    let me_took = started.elapsed();
    let started = Instant::now();
    let create_down = api
        .post(
            "/v1/customers",
            &partner_key,
            &customer_body("上海云启科技有限公司"),
        )
        .await;
    let create_took = started.elapsed();
    let ready_down = api.ops("/readyz").await;
    let health_down = api.ops("/healthz").await;
    // A key verified before is trusted only while the database can confirm it: once the check
    // fails it is forgotten, and even an answer that reads nothing else is 503.
    eventually_within(
        Duration::from_secs(10),
        "the keys in memory to be forgotten",
        async || {
            let answer = api.get("/v1/vocabulary", &admin_key).await;
            (answer.status == 503).then_some(answer)
        },
    )
    .await
    .problem(503, "database_unavailable");

    // Assert
    me_down.problem(503, "database_unavailable");
    create_down.problem(503, "database_unavailable");
    assert!(
        me_took < Duration::from_secs(5) && create_took < Duration::from_secs(5),
        "answered promptly: {me_took:?}, {create_took:?}"
    );
    assert_eq!(ready_down.status, 503, "{}", ready_down.body);
    assert_eq!(
        health_down.status, 200,
        "liveness does not depend on the database"
    );

    // Act: the database is back.
    proxy.up();
    eventually("/readyz to answer 200 again", async || {
        (api.ops("/readyz").await.status == 200).then_some(())
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
    direct.close().await.ok();
}
