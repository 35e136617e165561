//! `Idempotency-Key` on every POST under /v1: the first request with a key runs and its 2xx
//! answer is replayed to retries, across instances; a key is never spent on a refused request,
//! never reused for another request, per partner (or per staff key), and forgotten after 24 h.

use std::collections::HashSet;

use chrono::{Duration, Utc};
use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::{Method, RequestBuilder};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::helpers::{
    Answer, ESCALATIONS, TestApp, TestPartner, customer_body, escalation_body, incident_body,
    keyed, post_keyed, send_concurrently, spawn_app, spawn_app_with,
};
use crate::webhooks::eventually;
use crate::world::World;

const CUSTOMERS: &str = "/v1/customers";
const INCIDENTS: &str = "/v1/service-incidents";
const API_KEYS: &str = "/v1/api-keys";
const KEY_HEADER: &str = "Idempotency-Key";
const REPLAYED: &str = "idempotency-replayed";

/// The status and code of a refusal.
type Refusal = (u16, &'static str);
const FORBIDDEN: Refusal = (403, "forbidden");
const NOT_FOUND: Refusal = (404, "not_found");
const INVALID: Refusal = (422, "validation_failed");
const REUSED: Refusal = (422, "idempotency_key_reused");

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

/// Lowercase hex SHA-256 of `parts`, one after another.
fn sha256_hex(parts: &[&[u8]]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part);
    }
    let digest = hasher.finalize();
    digest.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// The fingerprint of a request as the contract defines it: SHA-256 of `METHOD path\nbody`.
fn fingerprint(method: &str, path: &str, body: &[u8]) -> String {
    sha256_hex(&[method.as_bytes(), b" ", path.as_bytes(), b"\n", body])
}

/// What a record for `owner`'s `idempotency_key` is stored under: SHA-256 of the owner's id and
/// the key, never the key itself.
pub fn key_digest(owner: Uuid, idempotency_key: &str) -> String {
    sha256_hex(&[owner.as_bytes(), idempotency_key.as_bytes()])
}

/// The states of the records holding `owner`'s `idempotency_key` (at most one).
async fn records(app: &TestApp, owner: Uuid, idempotency_key: &str) -> Vec<String> {
    let digest = key_digest(owner, idempotency_key);
    let sql = format!("SELECT state FROM idempotency_records WHERE key_digest = '{digest}'");
    app.texts(&sql).await
}

/// Rows in `table`.
async fn rows(app: &TestApp, table: &str) -> u64 {
    let sql = format!("SELECT CAST(COUNT(*) AS TEXT) FROM {table}");
    app.texts(&sql).await[0].parse().expect("a count")
}

/// Asserts a 409 `idempotency_key_in_use` with a `Retry-After`.
#[track_caller]
fn assert_in_use(answer: &Answer) {
    answer.problem(409, "idempotency_key_in_use");
    let retry_after = answer.header("retry-after");
    assert!(
        retry_after.is_some_and(|after| !after.trim().is_empty()),
        "a 409 in_use carries Retry-After: {:?}",
        answer.headers
    );
}

/// Asserts `replay` is a replay of `original`: same status, body, Location and ETag, marked.
#[track_caller]
fn assert_replay_of(replay: &Answer, original: &Answer) {
    assert_eq!(replay.status, original.status, "{}", replay.body);
    let marked = replay.header(REPLAYED);
    assert_eq!(marked, Some("true"), "{:?}", replay.headers);
    assert_eq!(replay.body, original.body);
    assert_eq!(replay.header("location"), original.header("location"));
    assert_eq!(replay.header("etag"), original.header("etag"));
}

/// Asserts that of `answers` to requests sharing one key exactly one ran (a 201 not marked as a
/// replay), every other 201 replays it and the rest are 409 `in_use`; returns the one.
#[track_caller]
fn the_one_that_ran<'a>(answers: &[&'a Answer], label: &str) -> &'a Answer {
    let statuses: Vec<u16> = answers.iter().map(|a| a.status).collect();
    let (ran, others): (Vec<&Answer>, Vec<&Answer>) = answers
        .iter()
        .partition(|a| a.status == 201 && a.header(REPLAYED).is_none());
    assert_eq!(ran.len(), 1, "{label}: {statuses:?}");
    for answer in others {
        match answer.status {
            201 => assert_replay_of(answer, ran[0]),
            _ => assert_in_use(answer),
        }
    }
    ran[0]
}

/// Asserts a fresh 201: the request ran, nothing was replayed.
#[track_caller]
fn assert_ran(answer: &Answer, label: &str) {
    assert_eq!(answer.status, 201, "{label}: {}", answer.body);
    assert_eq!(answer.header(REPLAYED), None, "{label}");
}

/// A second partner key for `partner`, created over the API by the admin.
async fn second_partner_key(app: &TestApp, partner: &TestPartner) -> String {
    let body = json!({"role": "partner", "partner_id": partner.id, "name": "second system"});
    let created = app.created(API_KEYS, &app.admin_key, &body).await;
    created.body["key"].as_str().expect("the secret").to_owned()
}

/// Moves `owner`'s record for `idempotency_key` 25 hours into the past.
async fn expire(app: &TestApp, owner: Uuid, idempotency_key: &str) {
    let created = Utc::now() - Duration::hours(25);
    let sql =
        "UPDATE idempotency_records SET created_at = $1, expires_at = $2 WHERE key_digest = $3";
    let expires = created + Duration::hours(24);
    let digest = key_digest(owner, idempotency_key);
    let updated = app
        .execute_sql(sql, vec![created.into(), expires.into(), digest.into()])
        .await;
    assert_eq!(updated, 1, "one record for {idempotency_key}");
}

// ---------------------------------------------------------------------------------------------
// Concurrency
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn of_fifty_concurrent_creates_with_one_key_exactly_one_runs() {
    // Arrange
    let world = World::new().await;
    let (app, key) = (&world.app, world.key());
    let requests = (0..50)
        .map(|_| keyed(app, ESCALATIONS, key, "escalate-once", &world.body))
        .collect();

    // Act
    let answers = send_concurrently(requests).await;

    // Assert
    let original = the_one_that_ran(&answers.iter().collect::<Vec<_>>(), "escalate-once");
    assert!(original.header("location").is_some());
    let retry = post_keyed(app, ESCALATIONS, key, "escalate-once", &world.body).await;
    assert_replay_of(&retry, original);
    assert_eq!(world.escalations().await.item_ids(), [original.id()]);
    assert_eq!(rows(app, "escalations").await, 1);
    let held = records(app, world.partner.id, "escalate-once").await;
    assert_eq!(held.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_racing_on_five_keys_create_one_escalation_per_key() {
    // Arrange
    let world = World::new().await;
    let (app, key) = (&world.app, world.key());
    let sibling = app.spawn_sibling();
    // One customer per idempotency key, so that the duplicate rule never decides.
    let mut bodies = vec![world.body.clone()];
    for _ in 1..5 {
        let customer_id = app
            .create_escalatable_customer(&world.partner, "standard")
            .await;
        bodies.push(escalation_body(customer_id));
    }
    let keys: Vec<String> = (0..5).map(|i| format!("race-{i}")).collect();
    // Ten rounds of one request per key, alternating instances: request n is for key n % 5.
    let mut requests = Vec::new();
    for round in 0..10 {
        for (i, body) in bodies.iter().enumerate() {
            let instance = if (round + i) % 2 == 0 { app } else { &sibling };
            requests.push(keyed(instance, ESCALATIONS, key, &keys[i], body));
        }
    }

    // Act
    let answers = send_concurrently(requests).await;

    // Assert
    let mut ids = Vec::new();
    for (i, idempotency_key) in keys.iter().enumerate() {
        let mine: Vec<&Answer> = answers.iter().skip(i).step_by(keys.len()).collect();
        let original = the_one_that_ran(&mine, idempotency_key);
        assert_eq!(original.body["customer_id"], bodies[i]["customer_id"]);
        for instance in [app, &sibling] {
            let retry = post_keyed(instance, ESCALATIONS, key, idempotency_key, &bodies[i]).await;
            assert_replay_of(&retry, original);
        }
        ids.push(original.id());
    }
    let mut listed = world.escalations().await.item_ids();
    listed.sort();
    ids.sort();
    assert_eq!(listed, ids, "exactly one escalation per key");
    assert_eq!(rows(app, "escalations").await, 5);
}

// ---------------------------------------------------------------------------------------------
// Replays
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_replay_returns_the_stored_answer_byte_for_byte_and_creates_nothing() {
    // Arrange
    let world = World::new().await;
    let (app, key) = (&world.app, world.key());
    let company = "上海云启科技有限公司";
    let customer = customer_body(company);
    let cases = [
        (
            "customer",
            CUSTOMERS,
            &customer,
            "customers",
            ("company_name", company),
        ),
        (
            "escalation",
            ESCALATIONS,
            &world.body,
            "escalations",
            ("number", "ESC-000001"),
        ),
    ];

    for (label, path, body, table, (field, value)) in cases {
        let before = rows(app, table).await;

        // Act
        let first = RawAnswer::read(keyed(app, path, key, label, body)).await;
        let written = rows(app, table).await;
        let replay = RawAnswer::read(keyed(app, path, key, label, body)).await;

        // Assert
        let (fresh, sent) = ((first.status, first.header(REPLAYED)), first.json());
        assert_eq!(fresh, (201, None), "{label}: {sent}");
        assert_eq!(
            sent[field], value,
            "{label}: the stored answer is the created resource"
        );
        assert_eq!(written, before + 1, "{label}: the first created one");
        let marked = (replay.status, replay.header(REPLAYED));
        assert_eq!(marked, (201, Some("true")), "{label}: a marked replay");
        assert_eq!(replay.bytes, first.bytes, "{label}: byte for byte");
        assert_eq!(replay.json(), sent, "{label}");
        let headers = |answer: &RawAnswer| {
            ["location", "etag", "content-type"].map(|name| answer.header(name).map(str::to_owned))
        };
        let original = headers(&first);
        assert!(original.iter().all(Option::is_some), "{original:?}");
        assert_eq!(headers(&replay), original, "{label}");
        let now = rows(app, table).await;
        assert_eq!(now, written, "{label}: the replay wrote nothing");
        let listed = app.get(path, key).await.item_ids();
        assert!(listed.iter().any(|id| sent["id"] == json!(id)), "{label}");
    }
}

// ---------------------------------------------------------------------------------------------
// Reuse and refusals
// ---------------------------------------------------------------------------------------------

/// The partner's key `spent` on a customer (and the operator's on an incident), sent again with
/// other requests: each is refused for its role, its target or its body first, as it would be
/// without the key; only a request that would otherwise run learns that the key is taken, from
/// any key of the partner. The unknown targets are an escalation, a customer and an incident.
#[tokio::test]
async fn a_spent_key_is_refused_for_another_request_once_role_target_and_body_pass() {
    // Arrange
    let world = World::new().await;
    let (app, key, staff) = (&world.app, world.key(), world.operator.as_str());
    let second = second_partner_key(app, &world.partner).await;
    let spent_on = customer_body("北京云启科技有限公司");
    let spent = post_keyed(app, CUSTOMERS, key, "spent", &spent_on).await;
    assert_ran(&spent, "the customer the key is spent on");
    let incident = incident_body("azure");
    let staff_spent = post_keyed(app, INCIDENTS, staff, "spent", &incident).await;
    assert_ran(&staff_spent, "the operator's incident");
    let customers = rows(app, "customers").await;
    let other = app.create_partner("Someone else").await;
    let unknown = Uuid::now_v7();
    let another = customer_body("上海云启科技有限公司");
    let partner = json!({"name": "x", "mpn_id": "1234567", "tenant_id": Uuid::new_v4()});
    let api_key = json!({"role": "partner", "partner_id": other.id, "name": "x"});
    let plan = json!({"service_key": "azure", "offer_name": "Azure plan", "quantity": 1});
    let note = json!({"text": "客户可随时配合远程排查。"});
    let update = json!({"text": "仍在调查。"});
    let notes = format!("{ESCALATIONS}/{unknown}/notes");
    let subscriptions = format!("{CUSTOMERS}/{unknown}/subscriptions");
    let updates = format!("{INCIDENTS}/{unknown}/updates");
    let invalid = json!({"company_name": ""});
    let cases: [(&str, &str, &str, &Value, Refusal); 10] = [
        ("another body", key, CUSTOMERS, &another, REUSED),
        ("from a second key", &second, CUSTOMERS, &another, REUSED),
        ("another path", key, ESCALATIONS, &world.body, REUSED),
        ("a new partner", key, "/v1/partners", &partner, FORBIDDEN),
        ("another partner's key", key, API_KEYS, &api_key, NOT_FOUND),
        ("an unknown escalation", key, &notes, &note, NOT_FOUND),
        ("an unknown customer", key, &subscriptions, &plan, NOT_FOUND),
        ("a partner's update", key, &updates, &update, FORBIDDEN),
        ("an operator's update", staff, &updates, &update, NOT_FOUND),
        ("an invalid customer", key, CUSTOMERS, &invalid, INVALID),
    ];

    for (label, sender, path, body, (status, code)) in cases {
        // Act
        let answer = post_keyed(app, path, sender, "spent", body).await;

        // Assert
        assert_eq!(answer.status, status, "{label}: {}", answer.body);
        answer.problem(status, code);
        assert_eq!(answer.header(REPLAYED), None, "{label}");
    }
    assert_eq!(rows(app, "customers").await, customers);
    assert_eq!(rows(app, "escalations").await, 0);
    for sender in [key, &second] {
        let replay = post_keyed(app, CUSTOMERS, sender, "spent", &spent_on).await;
        assert_replay_of(&replay, &spent);
    }
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
    let valid = customer_body("上海云启科技有限公司");
    let answer = post_keyed(&app, CUSTOMERS, &partner.key, "try-again", &valid).await;

    // Assert
    assert_ran(&answer, "the valid request");
    assert_eq!(rows(&app, "customers").await, 1);
}

// ---------------------------------------------------------------------------------------------
// Key spaces and the key itself
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn each_partner_and_each_staff_key_has_a_key_space_of_its_own() {
    // Arrange
    let app = spawn_app().await;
    let (a, b) = (app.create_partner("A").await, app.create_partner("B").await);
    let (operator, other_operator) = (app.operator_key().await, app.operator_key().await);
    // Another body (a tenant is one partner's customer): in a shared key space this is a 422.
    let for_a = customer_body("上海云启科技有限公司");
    let for_b = customer_body("北京云启科技有限公司");
    let incident = incident_body("microsoft-365");
    let cases = [
        ("partner A", &a.key, CUSTOMERS, &for_a),
        ("partner B", &b.key, CUSTOMERS, &for_b),
        ("an operator", &operator, INCIDENTS, &incident),
        ("another operator", &other_operator, INCIDENTS, &incident),
    ];

    let mut created = Vec::new();
    for (label, key, path, body) in cases {
        // Act
        let answer = post_keyed(&app, path, key, "order-42", body).await;

        // Assert
        assert_ran(&answer, label);
        created.push(answer.id());
    }
    assert_eq!(
        created.iter().collect::<HashSet<_>>().len(),
        4,
        "{created:?}"
    );
    assert_eq!(app.get(CUSTOMERS, &a.key).await.item_ids(), [created[0]]);
    assert_eq!(app.get(CUSTOMERS, &b.key).await.item_ids(), [created[1]]);
}

#[tokio::test]
async fn a_key_is_1_to_255_visible_ascii_characters_and_anything_else_is_400() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("Keys").await;
    let visible: String = (0x21u8..=0x7e).map(char::from).cycle().take(255).collect();
    let value = |text: &str| HeaderValue::from_str(text).unwrap();
    let cases = [
        ("one character", value("x"), 201),
        ("255 visible characters", value(&visible), 201),
        ("256 characters", value(&"k".repeat(256)), 400),
        ("a space", value("order 42"), 400),
        ("a tab", value("order\t42"), 400),
        (
            "non-ASCII",
            HeaderValue::from_bytes("clé".as_bytes()).unwrap(),
            400,
        ),
        ("empty", value(""), 400),
    ];

    for (label, key, status) in cases {
        // Act
        let request = app.request(Method::POST, CUSTOMERS, &partner.key);
        let body = customer_body("上海云启科技有限公司");
        let answer = app.send(request.header(KEY_HEADER, key).json(&body)).await;

        // Assert
        assert_eq!(answer.status, status, "{label}: {}", answer.body);
        if status == 400 {
            answer.problem(400, "invalid_idempotency_key");
        }
    }
    let customers = rows(&app, "customers").await;
    assert_eq!(customers, 2, "nothing for a refused key");
    assert_eq!(rows(&app, "idempotency_records").await, 2);
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
            (now + Duration::hours(1)).into(),
            now.into(),
            (now + Duration::hours(24)).into(),
        ],
    )
    .await;

    // Act
    let busy = post_keyed(&app, CUSTOMERS, &partner.key, "busy", &body).await;

    // Assert
    assert_in_use(&busy);
    assert_eq!(rows(&app, "customers").await, 0);

    // Arrange: the instance that held the key died an hour ago
    let past = Utc::now() - Duration::minutes(1);
    let digest = key_digest(partner.id, "busy");
    let sql = "UPDATE idempotency_records SET locked_until = $1 WHERE key_digest = $2";
    let updated = app.execute_sql(sql, vec![past.into(), digest.into()]).await;
    assert_eq!(updated, 1);

    // Act
    let taken_over = post_keyed(&app, CUSTOMERS, &partner.key, "busy", &body).await;

    // Assert
    assert_ran(&taken_over, "taken over");
    assert_eq!(rows(&app, "customers").await, 1);
    assert_eq!(records(&app, partner.id, "busy").await, ["completed"]);
    let replay = post_keyed(&app, CUSTOMERS, &partner.key, "busy", &body).await;
    assert_replay_of(&replay, &taken_over);
}

#[tokio::test]
async fn an_expired_key_can_be_used_again_even_with_another_body() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("Forgetful").await;
    let first = customer_body("上海云启科技有限公司");
    let first = post_keyed(&app, CUSTOMERS, &partner.key, "yesterday", &first).await;
    assert_ran(&first, "the first");
    expire(&app, partner.id, "yesterday").await;

    // Act
    let another = customer_body("北京云启科技有限公司");
    let again = post_keyed(&app, CUSTOMERS, &partner.key, "yesterday", &another).await;

    // Assert
    assert_ran(&again, "again");
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
        let body = customer_body("上海云启科技有限公司");
        let answer = post_keyed(&app, CUSTOMERS, &partner.key, idempotency_key, &body).await;
        assert_ran(&answer, idempotency_key);
    }

    // Act
    expire(&app, partner.id, "old").await;

    // Assert
    eventually("housekeeping to delete the expired record", async || {
        records(&app, partner.id, "old")
            .await
            .is_empty()
            .then_some(())
    })
    .await;
    assert_eq!(records(&app, partner.id, "new").await.len(), 1);
}
