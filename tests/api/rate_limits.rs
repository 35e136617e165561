//! Rate limits: a bucket per API key on /v1, announced in `RateLimit-Policy` and `RateLimit`,
//! refusing with 429 once empty, and counted together by every instance over one PostgreSQL (or
//! one Redis); requests without a valid key and the ops endpoints never count.

use std::time::{Duration, Instant};

use escalade::config::ServeSettings;
use escalade::domain::Role;
use reqwest::Method;

use crate::auth::forged;
use crate::helpers::{
    Answer, TEST_DATABASE_ENV, TestApp, issue_key, send_concurrently, spawn_app_with,
};
use crate::hostile_clients::GUESSED;
use crate::servers::Needed;
use crate::sql_log::statements_of;
use crate::webhooks::eventually;

const ME: &str = "/v1/me";

/// A server allowing `per_minute` requests per key.
async fn app_limited_to(per_minute: u32) -> TestApp {
    spawn_app_with(ServeSettings {
        rate_limit_per_minute: per_minute,
        ..Default::default()
    })
    .await
}

/// A fresh key (issued through the store, so its bucket is full).
async fn fresh_key(app: &TestApp) -> String {
    issue_key(&app.db, Role::Operator, None).await
}

/// Whether the suite runs on PostgreSQL.
fn on_postgres() -> bool {
    std::env::var(TEST_DATABASE_ENV).is_ok()
}

/// The integer parameter `name` of a structured `RateLimit` header (`"per-key";r=4;t=12`).
fn parameter(header: &str, name: &str) -> Option<u64> {
    header.split(';').skip(1).find_map(|part| {
        let (key, value) = part.trim().split_once('=')?;
        (key == name).then(|| value.parse().ok())?
    })
}

/// The remaining tokens announced in `RateLimit`, after asserting its form.
#[track_caller]
fn remaining(answer: &Answer) -> u64 {
    let header = answer
        .header("ratelimit")
        .unwrap_or_else(|| panic!("no RateLimit header: {:?}", answer.headers));
    assert!(header.starts_with("\"per-key\";"), "{header}");
    assert!(parameter(header, "t").is_some(), "{header}: t");
    parameter(header, "r").unwrap_or_else(|| panic!("{header}: r"))
}

/// Asserts a 429 `rate_limited` with its headers; returns its `Retry-After` in seconds.
#[track_caller]
fn assert_limited(answer: &Answer, per_minute: u32) -> u64 {
    answer.problem(429, "rate_limited");
    let policy = format!("\"per-key\";q={per_minute};w=60");
    assert_eq!(answer.header("ratelimit-policy"), Some(policy.as_str()));
    assert_eq!(remaining(answer), 0);
    let after = answer
        .header("retry-after")
        .and_then(|after| after.parse().ok());
    let after = after.unwrap_or_else(|| panic!("Retry-After in seconds: {:?}", answer.headers));
    assert!(after >= 1, "Retry-After {after}");
    after
}

/// Asserts exactly `limit` of `answers` passed and the rest were limited.
#[track_caller]
fn assert_exactly_admitted(answers: &[Answer], limit: u32) {
    let statuses: Vec<u16> = answers.iter().map(|a| a.status).collect();
    let admitted = statuses.iter().filter(|s| **s == 200).count();
    assert_eq!(admitted, limit as usize, "{statuses:?}");
    for answer in answers.iter().filter(|a| a.status != 200) {
        assert_limited(answer, limit);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_key_gets_its_own_quota_counted_down_then_429_and_nothing_else_takes_tokens() {
    // Arrange
    let app = app_limited_to(5).await;
    let key = fresh_key(&app).await;
    let partner = app.create_partner("Two systems").await;
    let second = issue_key(&app.db, Role::Partner, Some(partner.id)).await;
    let untouched = fresh_key(&app).await;
    // The same prefix, another secret: refused at authentication.
    let wrong = forged(&untouched);

    // Act
    let mut answers = Vec::new();
    for _ in 0..6 {
        answers.push(app.get(ME, &key).await);
    }
    for _ in 0..5 {
        app.read_ok(ME, &partner.key).await;
    }
    assert_limited(&app.get(ME, &partner.key).await, 5);
    let second_key = app.get(ME, &second).await;
    for _ in 0..10 {
        let anonymous = app.send(app.client.get(app.url(ME))).await;
        assert_eq!(anonymous.status, 401, "{}", anonymous.body);
        let forged = app.get(ME, &wrong).await;
        assert_eq!(forged.status, 401, "{}", forged.body);
    }
    let after_refusals = app.get(ME, &untouched).await;
    let concurrent_key = fresh_key(&app).await;
    let requests = (0..20).map(|_| app.request(Method::GET, ME, &concurrent_key));
    let concurrent = send_concurrently(requests.collect()).await;

    // Assert
    let (allowed, refused) = answers.split_at(5);
    let mut left = Vec::new();
    for answer in allowed {
        assert_eq!(answer.status, 200, "{}", answer.body);
        let policy = answer.header("ratelimit-policy");
        assert_eq!(policy, Some("\"per-key\";q=5;w=60"));
        left.push(remaining(answer));
    }
    assert_eq!(left, [4, 3, 2, 1, 0]);
    let after = assert_limited(&refused[0], 5);
    assert!(after <= 12, "one token comes back every 12 s; got {after}");
    // Another key of the same partner is not limited with the first.
    assert_eq!(second_key.status, 200, "{}", second_key.body);
    assert_eq!(remaining(&second_key), 4);
    assert_limited(&app.get(ME, &partner.key).await, 5);
    assert_eq!(after_refusals.status, 200, "{}", after_refusals.body);
    assert_eq!(remaining(&after_refusals), 4, "the 401s took nothing");
    assert_exactly_admitted(&concurrent, 5);
    for path in ["/healthz", "/readyz", "/metrics", "/openapi.json"] {
        let requests = (0..20).map(|_| app.client.get(app.url(path)));
        let answers = send_concurrently(requests.collect()).await;
        let statuses: Vec<u16> = answers.iter().map(|a| a.status).collect();
        let never_limited = statuses.iter().all(|s| *s == 200);
        assert!(never_limited, "{path}: {statuses:?}");
    }
}

#[tokio::test]
async fn a_limit_of_zero_turns_rate_limiting_off() {
    // Arrange
    let app = app_limited_to(0).await;
    let key = fresh_key(&app).await;

    for _ in 0..50 {
        // Act
        let answer = app.get(ME, &key).await;

        // Assert
        assert_eq!(answer.status, 200, "{}", answer.body);
        assert_eq!(answer.header("ratelimit"), None);
        assert_eq!(answer.header("ratelimit-policy"), None);
    }
}

#[tokio::test]
async fn tokens_come_back_continuously() {
    // Arrange: 120 a minute is one token every half second
    let app = app_limited_to(120).await;
    let key = fresh_key(&app).await;
    let mut limited = None;
    for _ in 0..1_000 {
        let answer = app.get(ME, &key).await;
        if answer.status != 200 {
            limited = Some(answer);
            break;
        }
    }
    let limited = limited.expect("the bucket runs dry");
    assert_eq!(assert_limited(&limited, 120), 1);
    let since = Instant::now();

    // Act
    let answer = eventually("a token to come back", async || {
        let answer = app.get(ME, &key).await;
        (answer.status == 200).then_some(answer)
    })
    .await;

    // Assert
    let waited = since.elapsed();
    let soon = waited < Duration::from_secs(5);
    assert!(soon, "a token came back only after {waited:?}");
    let policy = answer.header("ratelimit-policy");
    assert_eq!(policy, Some("\"per-key\";q=120;w=60"));
}

/// Two instances over one database, limited to `per_minute` per key, counting together: through
/// PostgreSQL when the suite runs on it, through Redis on SQLite (where the database cannot), under
/// a prefix of the test's own; `None` when the test is skipped for want of Redis.
async fn two_instances_limited_to(per_minute: u32) -> Option<(TestApp, TestApp)> {
    let mut settings = ServeSettings {
        rate_limit_per_minute: per_minute,
        ..Default::default()
    };
    if !on_postgres() {
        settings.redis_url = Some(Needed::redis().or_skip()?);
        settings.redis_key_prefix = format!("escalade-test-{}", uuid::Uuid::new_v4().simple());
    }
    let first = spawn_app_with(settings).await;
    let second = first.spawn_sibling();
    Some((first, second))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_count_a_keys_quota_and_failed_authentications_together() {
    // Arrange
    let Some((first, second)) = two_instances_limited_to(10).await else {
        return;
    };
    let in_turn = |n: usize| [&first, &second][n % 2];
    let ready = first.get_anonymously("/readyz").await;
    let key = fresh_key(&first).await;
    let other = fresh_key(&first).await;
    let guess = GUESSED;

    // Act: twenty requests, in turn to each instance, then twenty more at once.
    let mut statuses = Vec::new();
    for n in 0..20 {
        statuses.push(in_turn(n).get(ME, &key).await.status);
    }
    let counted = first.get_anonymously("/readyz").await;
    let requests = (0..20).map(|n| in_turn(n).request(Method::GET, ME, &other));
    let together = send_concurrently(requests.collect()).await;
    // 30 failed authentications a minute per address: fifteen to each, then one more to each.
    for n in 0..30 {
        in_turn(n).get(ME, guess).await.problem(401, "unauthorized");
    }
    let blocked = [first.get(ME, guess).await, second.get(ME, guess).await];
    let valid = second.get(ME, &second.admin_key).await;

    // Assert
    let admitted = statuses.iter().filter(|s| **s == 200).count();
    assert_eq!(admitted, 10, "{statuses:?}");
    assert!(statuses[..10].iter().all(|s| *s == 200), "{statuses:?}");
    assert_exactly_admitted(&together, 10);
    for answer in &blocked {
        answer.problem(429, "too_many_failed_authentications");
    }
    assert_eq!(valid.status, 200, "{}", valid.body);
    // Readiness names the shared store once a key has been counted.
    assert_eq!(ready.status, 200, "{}", ready.body);
    let expected = if on_postgres() { "postgresql" } else { "redis" };
    let details = &counted.body["details"];
    assert_eq!(details["rate_limits"], expected, "{}", counted.body);
    let warnings = details["warnings"].to_string();
    assert!(!warnings.contains("rate limit"), "{warnings}");
}

#[tokio::test]
async fn a_shared_store_that_does_not_answer_leaves_each_instance_to_count_on_its_own() {
    // Arrange: a Redis on a port nothing listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let app = spawn_app_with(ServeSettings {
        rate_limit_per_minute: 3,
        redis_url: Some(format!("redis://127.0.0.1:{port}/0")),
        ..Default::default()
    })
    .await;
    let key = fresh_key(&app).await;

    // Act
    let started = Instant::now();
    let mut statuses = Vec::new();
    for _ in 0..4 {
        statuses.push(app.get(ME, &key).await.status);
    }
    let took = started.elapsed();
    let ready = app.get_anonymously("/readyz").await;

    // Assert
    assert_eq!(statuses, [200, 200, 200, 429], "limited all the same");
    assert!(took < Duration::from_secs(3), "promptly: {took:?}");
    assert_eq!(ready.status, 200, "{}", ready.body);
    assert_eq!(ready.body["details"]["rate_limits"], "instance");
    let warnings = ready.body["details"]["warnings"].to_string();
    assert!(warnings.contains("redis"), "{warnings}");
}

#[tokio::test]
async fn a_busy_key_costs_the_shared_store_a_statement_per_lease_not_per_request() {
    // Arrange: 600 a minute, so leases grow to 30 requests (a twentieth).
    let app = app_limited_to(600).await;
    let key = fresh_key(&app).await;

    // Act
    let mut statements = 0;
    for _ in 0..100 {
        let request_id = uuid::Uuid::new_v4().to_string();
        let request = app.request(Method::GET, ME, &key);
        let answer = app.send(request.header("X-Request-Id", &request_id)).await;
        assert_eq!(answer.status, 200, "{}", answer.body);
        let sql = statements_of(&request_id);
        statements += sql.iter().filter(|sql| sql.contains("rate_limits")).count();
    }

    // Assert: on PostgreSQL leases of 1, 2, 4, 8, 16, then 30 at a time; on SQLite, none.
    let expected = if on_postgres() { 7..=8 } else { 0..=0 };
    let counted = expected.contains(&statements);
    assert!(counted, "{statements} statements for 100 requests");
}
