//! `Idempotency-Key` on every POST under /v1: the first request with a key runs and its 2xx
//! answer is replayed to retries, across instances; a key is never spent on a refused request,
//! never reused for another request, per partner (or per staff key), and forgotten after 24 h.

use std::future::Future;
use std::time::{Duration, Instant};

use chrono::Utc;
use escalade::domain::Role;
use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::{Method, RequestBuilder};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::helpers::{
    Answer, ESCALATIONS, TestApp, TestPartner, customer_body, escalation_body, incident_body,
    issue_key, keyed, post_keyed, send_concurrently, spawn_app, spawn_app_with,
};

const CUSTOMERS: &str = "/v1/customers";
const KEY_HEADER: &str = "Idempotency-Key";
const REPLAYED: &str = "idempotency-replayed";

/// An answer with its body bytes as sent, for byte-for-byte comparisons.
struct RawAnswer {
    status: u16,
    headers: HeaderMap,
    bytes: Vec<u8>,
}

impl RawAnswer {
    async fn read(request: RequestBuilder) -> Self {
        let response = request.send().await.expect("the request is sent");
        RawAnswer {
            status: response.status().as_u16(),
            headers: response.headers().clone(),
            bytes: response.bytes().await.expect("a body").to_vec(),
        }
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.bytes).expect("a JSON body")
    }
}

/// The lowercase hex SHA-256 of `METHOD path\nbody`, as the contract defines the fingerprint.
fn fingerprint(method: &str, path_and_query: &str, body: &[u8]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(method.as_bytes());
    hasher.update(b" ");
    hasher.update(path_and_query.as_bytes());
    hasher.update(b"\n");
    hasher.update(body);
    hasher
        .finalize()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// `sql` with `$n` placeholders turned into `?` on SQLite, as `execute_sql` does.
fn statement(app: &TestApp, sql: &str, values: Vec<sea_orm::Value>) -> Statement {
    let backend = app.db.get_database_backend();
    let sql = match backend {
        sea_orm::DatabaseBackend::Postgres => sql.to_owned(),
        _ => (1..=values.len())
            .rev()
            .fold(sql.to_owned(), |sql, n| sql.replace(&format!("${n}"), "?")),
    };
    Statement::from_sql_and_values(backend, sql, values)
}

/// The `n` column of a `SELECT COUNT(*) AS n ...`.
async fn count(app: &TestApp, sql: &str, values: Vec<sea_orm::Value>) -> i64 {
    app.db
        .query_one_raw(statement(app, sql, values))
        .await
        .expect("the count runs")
        .expect("a count row")
        .try_get::<i64>("", "n")
        .expect("a count")
}

/// What a record for `owner`'s `idempotency_key` is stored under: SHA-256 of the owner's id and
/// the key, never the key itself.
pub fn key_digest(owner: Uuid, idempotency_key: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(owner.as_bytes());
    hasher.update(idempotency_key.as_bytes());
    hasher
        .finalize()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// How many idempotency records hold `owner`'s `idempotency_key`.
async fn records_for(app: &TestApp, owner: Uuid, idempotency_key: &str) -> i64 {
    count(
        app,
        "SELECT COUNT(*) AS n FROM idempotency_records WHERE key_digest = $1",
        vec![key_digest(owner, idempotency_key).into()],
    )
    .await
}

/// The state of `owner`'s record for `idempotency_key`.
async fn record_state(app: &TestApp, owner: Uuid, idempotency_key: &str) -> String {
    app.db
        .query_one_raw(statement(
            app,
            "SELECT state FROM idempotency_records WHERE key_digest = $1",
            vec![key_digest(owner, idempotency_key).into()],
        ))
        .await
        .expect("the query runs")
        .expect("a record")
        .try_get::<String>("", "state")
        .expect("a state")
}

/// Rows in `table`.
async fn rows(app: &TestApp, table: &str) -> i64 {
    count(app, &format!("SELECT COUNT(*) AS n FROM {table}"), vec![]).await
}

/// Polls `check` every 50 ms until it gives a value; panics naming `what` after 20 s.
async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after 20 s waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Asserts a 409 `idempotency_key_in_use` with a `Retry-After`.
#[track_caller]
fn assert_in_use(answer: &Answer) {
    answer.problem(409, "idempotency_key_in_use");
    assert!(
        answer
            .header("retry-after")
            .is_some_and(|after| !after.trim().is_empty()),
        "a 409 in_use carries Retry-After: {:?}",
        answer.headers
    );
}

/// Asserts `replay` is a replay of `original`: same status, body, Location and ETag, marked.
#[track_caller]
fn assert_replay_of(replay: &Answer, original: &Answer) {
    assert_eq!(replay.status, original.status, "{}", replay.body);
    assert_eq!(
        replay.header(REPLAYED),
        Some("true"),
        "{:?}",
        replay.headers
    );
    assert_eq!(replay.body, original.body);
    assert_eq!(replay.header("location"), original.header("location"));
    assert_eq!(replay.header("etag"), original.header("etag"));
}

// ---------------------------------------------------------------------------------------------
// Concurrency
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn of_fifty_concurrent_creates_with_one_key_exactly_one_runs() {
    // Arrange
    let app = spawn_app().await;
    let fixture = app.escalation_fixture("standard").await;
    let key = &fixture.partner.key;
    let requests = (0..50)
        .map(|_| keyed(&app, ESCALATIONS, key, "escalate-once", &fixture.body))
        .collect();

    // Act
    let answers = send_concurrently(requests).await;

    // Assert
    let statuses: Vec<u16> = answers.iter().map(|a| a.status).collect();
    for answer in answers.iter().filter(|a| a.status != 201) {
        assert_in_use(answer);
    }
    let originals: Vec<&Answer> = answers
        .iter()
        .filter(|a| a.status == 201 && a.header(REPLAYED).is_none())
        .collect();
    assert_eq!(originals.len(), 1, "{statuses:?}");
    let original = originals[0];
    assert!(original.header("location").is_some());
    for answer in answers
        .iter()
        .filter(|a| a.status == 201 && a.header(REPLAYED).is_some())
    {
        assert_replay_of(answer, original);
    }
    let retry = post_keyed(&app, ESCALATIONS, key, "escalate-once", &fixture.body).await;
    assert_replay_of(&retry, original);
    assert_eq!(app.get(ESCALATIONS, key).await.item_ids(), [original.id()]);
    assert_eq!(rows(&app, "escalations").await, 1);
    assert_eq!(
        records_for(&app, fixture.partner.id, "escalate-once").await,
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_racing_on_five_keys_create_one_escalation_per_key() {
    // Arrange
    let app = spawn_app().await;
    let sibling = app.spawn_sibling();
    let fixture = app.escalation_fixture("standard").await;
    let key = &fixture.partner.key;
    // One customer per idempotency key, so that the duplicate rule never decides.
    let mut bodies = vec![fixture.body.clone()];
    for _ in 1..5 {
        let customer_id = app
            .create_escalatable_customer(&fixture.partner, "standard")
            .await;
        bodies.push(escalation_body(customer_id));
    }
    let keys: Vec<String> = (0..5).map(|i| format!("race-{i}")).collect();
    let mut sent_with = Vec::new();
    let mut requests = Vec::new();
    for round in 0..10 {
        for (i, body) in bodies.iter().enumerate() {
            let instance = if (round + i) % 2 == 0 { &app } else { &sibling };
            requests.push(keyed(instance, ESCALATIONS, key, &keys[i], body));
            sent_with.push(i);
        }
    }

    // Act
    let answers = send_concurrently(requests).await;

    // Assert
    let mut ids = Vec::new();
    for (i, idempotency_key) in keys.iter().enumerate() {
        let mine: Vec<&Answer> = answers
            .iter()
            .zip(&sent_with)
            .filter(|(_, sent)| **sent == i)
            .map(|(answer, _)| answer)
            .collect();
        let statuses: Vec<u16> = mine.iter().map(|a| a.status).collect();
        for answer in mine.iter().filter(|a| a.status != 201) {
            assert_in_use(answer);
        }
        let originals: Vec<&&Answer> = mine
            .iter()
            .filter(|a| a.status == 201 && a.header(REPLAYED).is_none())
            .collect();
        assert_eq!(originals.len(), 1, "{idempotency_key}: {statuses:?}");
        let original = originals[0];
        assert_eq!(original.body["customer_id"], bodies[i]["customer_id"]);
        for replay in mine
            .iter()
            .filter(|a| a.status == 201 && a.header(REPLAYED).is_some())
        {
            assert_replay_of(replay, original);
        }
        for instance in [&app, &sibling] {
            let retry = post_keyed(instance, ESCALATIONS, key, idempotency_key, &bodies[i]).await;
            assert_replay_of(&retry, original);
        }
        ids.push(original.id());
    }
    let mut listed = app.get(ESCALATIONS, key).await.item_ids();
    listed.sort();
    ids.sort();
    assert_eq!(listed, ids, "exactly one escalation per key");
    assert_eq!(rows(&app, "escalations").await, 5);
}

// ---------------------------------------------------------------------------------------------
// Replays
// ---------------------------------------------------------------------------------------------

/// Sends the same keyed POST twice in a row; asserts the second replays the first byte for
/// byte and writes nothing, and returns the first.
async fn assert_replayed_faithfully(
    app: &TestApp,
    path: &str,
    key: &str,
    body: &Value,
    table: &str,
) -> RawAnswer {
    let first = RawAnswer::read(keyed(app, path, key, "retry-me", body)).await;
    assert_eq!(
        first.status,
        201,
        "{}",
        String::from_utf8_lossy(&first.bytes)
    );
    assert_eq!(first.header(REPLAYED), None, "the original is not marked");
    let before = rows(app, table).await;

    let replay = RawAnswer::read(keyed(app, path, key, "retry-me", body)).await;

    assert_eq!(replay.status, first.status);
    assert_eq!(replay.header(REPLAYED), Some("true"));
    assert_eq!(replay.bytes, first.bytes, "the stored body, byte for byte");
    assert_eq!(replay.json(), first.json());
    for header in ["location", "etag", "content-type"] {
        assert!(first.header(header).is_some(), "the original has {header}");
        assert_eq!(replay.header(header), first.header(header), "{header}");
    }
    assert_eq!(rows(app, table).await, before, "the replay wrote nothing");
    first
}

#[tokio::test]
async fn a_replayed_customer_create_returns_the_stored_answer_and_creates_nothing() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("Replays").await;
    let body = customer_body("上海云启科技有限公司");

    // Act
    let first = assert_replayed_faithfully(&app, CUSTOMERS, &partner.key, &body, "customers").await;

    // Assert
    assert_eq!(rows(&app, "customers").await, 1);
    assert_eq!(
        app.get(CUSTOMERS, &partner.key).await.item_ids(),
        [first.json()["id"]
            .as_str()
            .unwrap()
            .parse::<Uuid>()
            .unwrap()]
    );
}

#[tokio::test]
async fn a_replayed_escalation_create_returns_the_stored_answer_and_creates_nothing() {
    // Arrange
    let app = spawn_app().await;
    let fixture = app.escalation_fixture("standard").await;

    // Act
    let first = assert_replayed_faithfully(
        &app,
        ESCALATIONS,
        &fixture.partner.key,
        &fixture.body,
        "escalations",
    )
    .await;

    // Assert
    assert_eq!(rows(&app, "escalations").await, 1);
    assert_eq!(first.json()["number"], "ESC-000001");
}

// ---------------------------------------------------------------------------------------------
// Reuse and refusals
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn the_same_key_with_another_body_is_refused_with_422() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("Reuse").await;
    let body = customer_body("上海云启科技有限公司");
    let first = post_keyed(&app, CUSTOMERS, &partner.key, "order-1", &body).await;
    assert_eq!(first.status, 201, "{}", first.body);

    // Act
    let other = post_keyed(
        &app,
        CUSTOMERS,
        &partner.key,
        "order-1",
        &customer_body("北京云启科技有限公司"),
    )
    .await;

    // Assert
    other.problem(422, "idempotency_key_reused");
    assert_eq!(other.header(REPLAYED), None);
    assert_eq!(rows(&app, "customers").await, 1);
    let retry = post_keyed(&app, CUSTOMERS, &partner.key, "order-1", &body).await;
    assert_replay_of(&retry, &first);
}

#[tokio::test]
async fn the_same_key_on_another_path_is_refused_with_422() {
    // Arrange
    let app = spawn_app().await;
    let fixture = app.escalation_fixture("standard").await;
    let key = &fixture.partner.key;
    let customer = post_keyed(
        &app,
        CUSTOMERS,
        key,
        "shared",
        &customer_body("上海云启科技有限公司"),
    )
    .await;
    assert_eq!(customer.status, 201, "{}", customer.body);

    // Act
    let escalation = post_keyed(&app, ESCALATIONS, key, "shared", &fixture.body).await;

    // Assert
    escalation.problem(422, "idempotency_key_reused");
    assert_eq!(rows(&app, "escalations").await, 0);
}

/// A table of requests reusing a key already spent on a customer: each is refused for its role,
/// its target or its body first, as it would be without the key; only a request that would
/// otherwise run learns that the key is taken.
#[tokio::test]
async fn role_existence_and_validity_are_answered_before_a_reused_key() {
    // Arrange
    let app = spawn_app().await;
    let fixture = app.escalation_fixture("standard").await;
    let partner = &fixture.partner;
    let other = app.create_partner("Someone else").await;
    let spent_on = customer_body("北京云启科技有限公司");
    let spent = post_keyed(&app, CUSTOMERS, &partner.key, "spent", &spent_on).await;
    assert_eq!(spent.status, 201, "{}", spent.body);
    let unknown = Uuid::now_v7();
    let note = json!({"text": "客户可随时配合远程排查。"});
    let cases: Vec<(&str, String, Value, u16, &str)> = vec![
        (
            "a partner creating a partner",
            "/v1/partners".to_owned(),
            json!({"name": "x", "mpn_id": "1234567", "tenant_id": Uuid::new_v4()}),
            403,
            "forbidden",
        ),
        (
            "a note on an unknown escalation",
            format!("{ESCALATIONS}/{unknown}/notes"),
            note.clone(),
            404,
            "not_found",
        ),
        (
            "a key for another partner",
            "/v1/api-keys".to_owned(),
            json!({"role": "partner", "partner_id": other.id, "name": "x"}),
            404,
            "not_found",
        ),
        (
            "a subscription of an unknown customer",
            format!("/v1/customers/{unknown}/subscriptions"),
            json!({"service_key": "azure", "offer_name": "Azure plan", "quantity": 1}),
            404,
            "not_found",
        ),
        (
            "an update to an unknown incident",
            format!("/v1/service-incidents/{unknown}/updates"),
            json!({"text": "仍在调查。"}),
            403,
            "forbidden",
        ),
        (
            "an invalid customer",
            CUSTOMERS.to_owned(),
            json!({"company_name": ""}),
            422,
            "validation_failed",
        ),
        (
            "an escalation that meets the criteria",
            ESCALATIONS.to_owned(),
            fixture.body.clone(),
            422,
            "idempotency_key_reused",
        ),
    ];

    for (what, path, body, status, code) in cases {
        // Act
        let answer = post_keyed(&app, &path, &partner.key, "spent", &body).await;

        // Assert
        assert_eq!(
            (answer.status, answer.body["code"].as_str()),
            (status, Some(code)),
            "{what}: {}",
            answer.body
        );
    }
    assert_eq!(rows(&app, "escalations").await, 0);
    let replay = post_keyed(&app, CUSTOMERS, &partner.key, "spent", &spent_on).await;
    assert_replay_of(&replay, &spent);
}

#[tokio::test]
async fn staff_get_404_for_an_unknown_target_before_a_reused_key() {
    // Arrange
    let app = spawn_app().await;
    let operator = app.operator_key().await;
    let first = post_keyed(
        &app,
        "/v1/service-incidents",
        &operator,
        "staff-key",
        &crate::helpers::incident_body("azure"),
    )
    .await;
    assert_eq!(first.status, 201, "{}", first.body);

    // Act
    let answer = post_keyed(
        &app,
        &format!("/v1/service-incidents/{}/updates", Uuid::now_v7()),
        &operator,
        "staff-key",
        &json!({"text": "仍在调查。"}),
    )
    .await;

    // Assert
    answer.problem(404, "not_found");
}

#[tokio::test]
async fn a_refused_request_does_not_spend_its_key() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("Second chances").await;
    let mut invalid = customer_body("上海云启科技有限公司");
    invalid["country"] = json!("hk");
    let refused = post_keyed(&app, CUSTOMERS, &partner.key, "try-again", &invalid).await;
    refused.problem(422, "validation_failed");
    assert_eq!(refused.header(REPLAYED), None);

    // Act
    let valid = post_keyed(
        &app,
        CUSTOMERS,
        &partner.key,
        "try-again",
        &customer_body("上海云启科技有限公司"),
    )
    .await;

    // Assert
    assert_eq!(valid.status, 201, "{}", valid.body);
    assert_eq!(valid.header(REPLAYED), None);
    assert_eq!(rows(&app, "customers").await, 1);
}

// ---------------------------------------------------------------------------------------------
// Key spaces
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn two_partners_use_the_same_key_string_independently() {
    // Arrange
    let app = spawn_app().await;
    let a = app.create_partner("Partner A").await;
    let b = app.create_partner("Partner B").await;

    // Act
    let for_a = post_keyed(
        &app,
        CUSTOMERS,
        &a.key,
        "order-42",
        &customer_body("上海云启科技有限公司"),
    )
    .await;
    // Another body (a tenant is one partner's customer): in a shared key space this is a 422.
    let for_b = post_keyed(
        &app,
        CUSTOMERS,
        &b.key,
        "order-42",
        &customer_body("北京云启科技有限公司"),
    )
    .await;

    // Assert
    for answer in [&for_a, &for_b] {
        assert_eq!(answer.status, 201, "{}", answer.body);
        assert_eq!(answer.header(REPLAYED), None);
    }
    assert_ne!(for_a.id(), for_b.id());
    assert_eq!(app.get(CUSTOMERS, &a.key).await.item_ids(), [for_a.id()]);
    assert_eq!(app.get(CUSTOMERS, &b.key).await.item_ids(), [for_b.id()]);
}

/// A second partner key for `partner`, created over the API by the admin.
async fn second_partner_key(app: &TestApp, partner: &TestPartner) -> String {
    let created = app
        .post(
            "/v1/api-keys",
            &app.admin_key,
            &json!({"role": "partner", "partner_id": partner.id, "name": "second system"}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    created.body["key"].as_str().expect("the secret").to_owned()
}

#[tokio::test]
async fn two_keys_of_one_partner_share_its_key_space() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("Two systems").await;
    let second = second_partner_key(&app, &partner).await;
    let body = customer_body("上海云启科技有限公司");
    let first = post_keyed(&app, CUSTOMERS, &partner.key, "order-7", &body).await;
    assert_eq!(first.status, 201, "{}", first.body);

    // Act
    let replay = post_keyed(&app, CUSTOMERS, &second, "order-7", &body).await;
    let other = post_keyed(
        &app,
        CUSTOMERS,
        &second,
        "order-7",
        &customer_body("北京云启科技有限公司"),
    )
    .await;

    // Assert
    assert_replay_of(&replay, &first);
    other.problem(422, "idempotency_key_reused");
    assert_eq!(rows(&app, "customers").await, 1);
}

#[tokio::test]
async fn each_staff_key_has_its_own_key_space() {
    // Arrange
    let app = spawn_app().await;
    let first_operator = issue_key(&app.db, Role::Operator, None).await;
    let second_operator = issue_key(&app.db, Role::Operator, None).await;
    let body = incident_body("microsoft-365");

    // Act
    let first = post_keyed(
        &app,
        "/v1/service-incidents",
        &first_operator,
        "incident-1",
        &body,
    )
    .await;
    let second = post_keyed(
        &app,
        "/v1/service-incidents",
        &second_operator,
        "incident-1",
        &body,
    )
    .await;

    // Assert
    for answer in [&first, &second] {
        assert_eq!(answer.status, 201, "{}", answer.body);
        assert_eq!(answer.header(REPLAYED), None);
    }
    assert_ne!(first.id(), second.id());
}

// ---------------------------------------------------------------------------------------------
// The key itself
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn keys_that_are_too_long_or_not_visible_ascii_are_refused_with_400() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("Bad keys").await;
    let body = customer_body("上海云启科技有限公司");
    let invalid = [
        (
            "256 characters",
            HeaderValue::from_str(&"k".repeat(256)).unwrap(),
        ),
        ("a space", HeaderValue::from_static("order 42")),
        ("a tab", HeaderValue::from_static("order\t42")),
        (
            "non-ASCII",
            HeaderValue::from_bytes("clé".as_bytes()).unwrap(),
        ),
        ("empty", HeaderValue::from_static("")),
    ];

    for (what, value) in invalid {
        // Act
        let answer = app
            .send(
                app.request(Method::POST, CUSTOMERS, &partner.key)
                    .header(KEY_HEADER, value)
                    .json(&body),
            )
            .await;

        // Assert
        assert_eq!(answer.status, 400, "{what}: {}", answer.body);
        answer.problem(400, "invalid_idempotency_key");
    }
    assert_eq!(rows(&app, "customers").await, 0, "nothing was created");
    assert_eq!(rows(&app, "idempotency_records").await, 0);
}

#[tokio::test]
async fn keys_of_one_to_255_visible_ascii_characters_are_accepted() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("Good keys").await;
    let visible: String = (0x21u8..=0x7e).map(char::from).cycle().take(255).collect();

    for key in ["x".to_owned(), visible] {
        // Act
        let answer = post_keyed(
            &app,
            CUSTOMERS,
            &partner.key,
            &key,
            &customer_body("上海云启科技有限公司"),
        )
        .await;

        // Assert
        assert_eq!(answer.status, 201, "{key}: {}", answer.body);
    }
    assert_eq!(rows(&app, "customers").await, 2);
}

// ---------------------------------------------------------------------------------------------
// Records left behind: in flight, abandoned, expired
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_key_in_flight_gets_409_and_is_taken_over_once_its_lock_lapses() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("In flight").await;
    let body = customer_body("上海云启科技有限公司");
    let bytes = serde_json::to_vec(&body).unwrap();
    let now = Utc::now();
    app.execute_sql(
        r#"INSERT INTO idempotency_records
               (id, owner_id, key_digest, fingerprint, state, locked_until, created_at, expires_at)
           VALUES ($1, $2, $3, $4, 'in_flight', $5, $6, $7)"#,
        vec![
            Uuid::new_v4().into(),
            partner.id.into(),
            key_digest(partner.id, "busy").into(),
            fingerprint("POST", CUSTOMERS, &bytes).into(),
            (now + chrono::Duration::hours(1)).into(),
            now.into(),
            (now + chrono::Duration::hours(24)).into(),
        ],
    )
    .await;

    // Act
    let busy = post_keyed(&app, CUSTOMERS, &partner.key, "busy", &body).await;

    // Assert
    assert_in_use(&busy);
    assert_eq!(rows(&app, "customers").await, 0);

    // Arrange: the instance that held the key died an hour ago
    let past = Utc::now() - chrono::Duration::minutes(1);
    let updated = app
        .execute_sql(
            "UPDATE idempotency_records SET locked_until = $1 WHERE key_digest = $2",
            vec![past.into(), key_digest(partner.id, "busy").into()],
        )
        .await;
    assert_eq!(updated, 1);

    // Act
    let taken_over = post_keyed(&app, CUSTOMERS, &partner.key, "busy", &body).await;

    // Assert
    assert_eq!(taken_over.status, 201, "{}", taken_over.body);
    assert_eq!(taken_over.header(REPLAYED), None);
    assert_eq!(rows(&app, "customers").await, 1);
    assert_eq!(record_state(&app, partner.id, "busy").await, "completed");
    let replay = post_keyed(&app, CUSTOMERS, &partner.key, "busy", &body).await;
    assert_replay_of(&replay, &taken_over);
}

/// Moves `owner`'s record for `idempotency_key` 25 hours into the past.
async fn expire(app: &TestApp, owner: Uuid, idempotency_key: &str) {
    let created = Utc::now() - chrono::Duration::hours(25);
    let updated = app
        .execute_sql(
            "UPDATE idempotency_records SET created_at = $1, expires_at = $2 WHERE key_digest = $3",
            vec![
                created.into(),
                (created + chrono::Duration::hours(24)).into(),
                key_digest(owner, idempotency_key).into(),
            ],
        )
        .await;
    assert_eq!(updated, 1, "one record for {idempotency_key}");
}

#[tokio::test]
async fn an_expired_key_can_be_used_again_even_with_another_body() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("Forgetful").await;
    let first = post_keyed(
        &app,
        CUSTOMERS,
        &partner.key,
        "yesterday",
        &customer_body("上海云启科技有限公司"),
    )
    .await;
    assert_eq!(first.status, 201, "{}", first.body);
    expire(&app, partner.id, "yesterday").await;

    // Act
    let again = post_keyed(
        &app,
        CUSTOMERS,
        &partner.key,
        "yesterday",
        &customer_body("北京云启科技有限公司"),
    )
    .await;

    // Assert
    assert_eq!(again.status, 201, "{}", again.body);
    assert_eq!(again.header(REPLAYED), None);
    assert_ne!(again.id(), first.id());
    assert_eq!(rows(&app, "customers").await, 2);
}

#[tokio::test]
async fn housekeeping_deletes_expired_records_and_keeps_live_ones() {
    // Arrange
    let app = spawn_app_with(escalade::config::ServeSettings {
        housekeeping_interval_secs: 1,
        ..Default::default()
    })
    .await;
    let partner = app.create_partner("Tidy").await;
    for idempotency_key in ["old", "new"] {
        let answer = post_keyed(
            &app,
            CUSTOMERS,
            &partner.key,
            idempotency_key,
            &customer_body("上海云启科技有限公司"),
        )
        .await;
        assert_eq!(answer.status, 201, "{}", answer.body);
    }

    // Act
    expire(&app, partner.id, "old").await;

    // Assert
    eventually("housekeeping to delete the expired record", || async {
        (records_for(&app, partner.id, "old").await == 0).then_some(())
    })
    .await;
    assert_eq!(records_for(&app, partner.id, "new").await, 1);
}

// ---------------------------------------------------------------------------------------------
// The published contract
// ---------------------------------------------------------------------------------------------

/// `GET /openapi.json`, unauthenticated.
async fn served_spec(app: &TestApp) -> Value {
    let answer = app.send(app.client.get(app.url("/openapi.json"))).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    answer.body
}

/// `value`, or what its `$ref` points to in `spec`.
fn resolved<'a>(spec: &'a Value, value: &'a Value) -> &'a Value {
    match value["$ref"].as_str() {
        Some(reference) => spec
            .pointer(reference.trim_start_matches('#'))
            .unwrap_or_else(|| panic!("{reference} resolves")),
        None => value,
    }
}

/// The `(method, path, operation)` of every operation under /v1.
fn v1_operations(spec: &Value) -> Vec<(String, String, &Value)> {
    let mut found = Vec::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        if !path.starts_with("/v1/") {
            continue;
        }
        for (method, operation) in item.as_object().unwrap() {
            found.push((method.to_uppercase(), path.clone(), operation));
        }
    }
    found
}

/// The operation's `Idempotency-Key` header parameter, if it documents one.
fn idempotency_parameter<'a>(spec: &'a Value, operation: &'a Value) -> Option<&'a Value> {
    operation["parameters"]
        .as_array()?
        .iter()
        .map(|parameter| resolved(spec, parameter))
        .find(|parameter| {
            parameter["in"] == "header"
                && parameter["name"]
                    .as_str()
                    .is_some_and(|name| name.eq_ignore_ascii_case(KEY_HEADER))
        })
}

#[tokio::test]
async fn the_spec_documents_the_key_on_every_post_and_on_no_get() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let spec = served_spec(&app).await;

    // Assert
    let operations = v1_operations(&spec);
    assert!(operations.iter().any(|(method, ..)| method == "POST"));
    for (method, path, operation) in operations {
        let at = format!("{method} {path}");
        let parameter = idempotency_parameter(&spec, operation);
        match method.as_str() {
            "POST" => {
                let parameter = parameter.unwrap_or_else(|| panic!("{at}: no Idempotency-Key"));
                assert_ne!(parameter["required"], true, "{at}: the key is optional");
            }
            "GET" => assert!(parameter.is_none(), "{at}: documents Idempotency-Key"),
            _ => {}
        }
    }
}

#[tokio::test]
async fn the_spec_documents_the_replayed_header_on_every_post_success() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let spec = served_spec(&app).await;

    // Assert
    for (method, path, operation) in v1_operations(&spec) {
        if method != "POST" {
            continue;
        }
        let responses = operation["responses"].as_object().unwrap();
        let successes: Vec<_> = responses
            .iter()
            .filter(|(status, _)| status.starts_with('2'))
            .collect();
        assert!(!successes.is_empty(), "POST {path}: no success documented");
        for (status, response) in successes {
            let headers = resolved(&spec, response)["headers"]
                .as_object()
                .cloned()
                .unwrap_or_default();
            assert!(
                headers
                    .keys()
                    .any(|name| name.eq_ignore_ascii_case("Idempotency-Replayed")),
                "POST {path} {status}: Idempotency-Replayed is not documented"
            );
        }
    }
}
