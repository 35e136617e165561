//! Rate limits: a bucket per API key on /v1, announced in `RateLimit-Policy` and `RateLimit`,
//! refusing with 429 once empty, and counted together by every instance over one PostgreSQL (or
//! one Redis); requests without a valid key and the ops endpoints never count.

use std::future::Future;
use std::time::{Duration, Instant};

use escalade::config::ServeSettings;
use escalade::domain::Role;

use crate::helpers::{Answer, TestApp, issue_key, send_concurrently, spawn_app_with};
use crate::sql_log::statements_of;

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

/// `Retry-After` in whole seconds.
#[track_caller]
fn retry_after(answer: &Answer) -> u64 {
    answer
        .header("retry-after")
        .and_then(|after| after.parse().ok())
        .unwrap_or_else(|| panic!("Retry-After in seconds: {:?}", answer.headers))
}

/// Asserts a 429 `rate_limited` with its headers; returns its `Retry-After`.
#[track_caller]
fn assert_limited(answer: &Answer, per_minute: u32) -> u64 {
    answer.problem(429, "rate_limited");
    assert_eq!(
        answer.header("ratelimit-policy"),
        Some(format!("\"per-key\";q={per_minute};w=60").as_str())
    );
    assert_eq!(remaining(answer), 0);
    let after = retry_after(answer);
    assert!(after >= 1, "Retry-After {after}");
    after
}

/// Spends `key`'s `per_minute` tokens (each answered 200), then asserts the next is limited.
async fn drain(app: &TestApp, key: &str, per_minute: u32) {
    for _ in 0..per_minute {
        let answer = app.get(ME, key).await;
        assert_eq!(answer.status, 200, "{}", answer.body);
    }
    assert_limited(&app.get(ME, key).await, per_minute);
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

#[tokio::test]
async fn a_key_gets_its_quota_counted_down_then_429() {
    // Arrange
    let app = app_limited_to(5).await;
    let key = fresh_key(&app).await;

    // Act
    let mut answers = Vec::new();
    for _ in 0..6 {
        answers.push(app.get(ME, &key).await);
    }

    // Assert
    let (allowed, refused) = answers.split_at(5);
    let mut left = Vec::new();
    for answer in allowed {
        assert_eq!(answer.status, 200, "{}", answer.body);
        assert_eq!(
            answer.header("ratelimit-policy"),
            Some("\"per-key\";q=5;w=60")
        );
        left.push(remaining(answer));
    }
    assert_eq!(left, [4, 3, 2, 1, 0]);
    let after = assert_limited(&refused[0], 5);
    assert!(after <= 12, "one token comes back every 12 s; got {after}");
}

#[tokio::test]
async fn another_key_of_the_same_partner_is_not_limited_with_the_first() {
    // Arrange
    let app = app_limited_to(5).await;
    let partner = app.create_partner("Two systems").await;
    let second = issue_key(&app.db, Role::Partner, Some(partner.id)).await;
    drain(&app, &partner.key, 5).await;

    // Act
    let answer = app.get(ME, &second).await;

    // Assert
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(remaining(&answer), 4);
    assert_limited(&app.get(ME, &partner.key).await, 5);
}

#[tokio::test]
async fn requests_without_a_valid_key_take_no_tokens() {
    // Arrange
    let app = app_limited_to(5).await;
    let key = fresh_key(&app).await;
    // The same prefix, another secret: refused at authentication.
    let last = key.chars().last().unwrap();
    let wrong = format!(
        "{}{}",
        &key[..key.len() - 1],
        if last == 'A' { 'B' } else { 'A' }
    );

    // Act
    for _ in 0..10 {
        let anonymous = app.send(app.client.get(app.url(ME))).await;
        assert_eq!(anonymous.status, 401, "{}", anonymous.body);
        let forged = app.get(ME, &wrong).await;
        assert_eq!(forged.status, 401, "{}", forged.body);
    }

    // Assert
    let answer = app.get(ME, &key).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(remaining(&answer), 4, "the 401s took nothing");
}

#[tokio::test]
async fn ops_endpoints_are_never_limited() {
    // Arrange
    let app = app_limited_to(5).await;

    for path in ["/healthz", "/readyz", "/metrics", "/openapi.json"] {
        let requests = (0..20).map(|_| app.client.get(app.url(path))).collect();

        // Act
        let answers = send_concurrently(requests).await;

        // Assert
        let statuses: Vec<u16> = answers.iter().map(|a| a.status).collect();
        assert!(statuses.iter().all(|s| *s == 200), "{path}: {statuses:?}");
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
    let answer = eventually("a token to come back", || async {
        let answer = app.get(ME, &key).await;
        (answer.status == 200).then_some(answer)
    })
    .await;

    // Assert
    assert!(
        since.elapsed() < Duration::from_secs(5),
        "a token came back only after {:?}",
        since.elapsed()
    );
    assert_eq!(
        answer.header("ratelimit-policy"),
        Some("\"per-key\";q=120;w=60")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn of_twenty_concurrent_requests_with_a_limit_of_ten_exactly_ten_pass() {
    // Arrange
    let app = app_limited_to(10).await;
    let key = fresh_key(&app).await;
    let requests = (0..20)
        .map(|_| app.request(reqwest::Method::GET, ME, &key))
        .collect();

    // Act
    let answers = send_concurrently(requests).await;

    // Assert
    let statuses: Vec<u16> = answers.iter().map(|a| a.status).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        10,
        "{statuses:?}"
    );
    for answer in answers.iter().filter(|a| a.status != 200) {
        assert_limited(answer, 10);
    }
}

/// The Redis the suite shares limits through: `ESCALADE_TEST_REDIS_URL`, or the one on this
/// machine's loopback. Each test names its keys under a prefix of its own.
fn test_redis() -> (String, String) {
    let url = std::env::var("ESCALADE_TEST_REDIS_URL")
        .ok()
        .filter(|url| !url.is_empty())
        .unwrap_or_else(|| "redis://127.0.0.1:6379/0".to_owned());
    (
        url,
        format!("escalade-test-{}", uuid::Uuid::new_v4().simple()),
    )
}

/// Two instances over one database, limited to `per_minute` per key, counting together: through
/// PostgreSQL when the suite runs on it, through Redis on SQLite (where the database cannot).
async fn two_instances_limited_to(per_minute: u32) -> (TestApp, TestApp) {
    let mut settings = ServeSettings {
        rate_limit_per_minute: per_minute,
        ..Default::default()
    };
    if std::env::var(crate::helpers::TEST_DATABASE_ENV).is_err() {
        let (url, prefix) = test_redis();
        settings.redis_url = Some(url);
        settings.redis_key_prefix = prefix;
    }
    let first = spawn_app_with(settings).await;
    let second = first.spawn_sibling();
    (first, second)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_admit_a_keys_quota_in_total_not_twice_it() {
    // Arrange
    let (first, second) = two_instances_limited_to(10).await;
    let key = fresh_key(&first).await;

    // Act: twenty requests, in turn to each instance, then twenty more at once.
    let mut statuses = Vec::new();
    for n in 0..20 {
        let app = if n % 2 == 0 { &first } else { &second };
        statuses.push(app.get(ME, &key).await.status);
    }
    let other = fresh_key(&first).await;
    let together = send_concurrently(
        (0..20)
            .map(|n| {
                let app = if n % 2 == 0 { &first } else { &second };
                app.request(reqwest::Method::GET, ME, &other)
            })
            .collect(),
    )
    .await;

    // Assert
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        10,
        "{statuses:?}"
    );
    assert!(statuses[..10].iter().all(|s| *s == 200), "{statuses:?}");
    let admitted = together.iter().filter(|a| a.status == 200).count();
    assert_eq!(admitted, 10, "concurrently, across both instances");
    for answer in together.iter().filter(|a| a.status != 200) {
        assert_limited(answer, 10);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_authentications_are_counted_across_instances() {
    // Arrange: 30 failures a minute per address, counted together.
    let (first, second) = two_instances_limited_to(600).await;
    let guess = "esc_guessed0000000000000000000000000000000000000";

    // Act: fifteen guesses to each instance, then one more to each.
    for n in 0..30 {
        let app = if n % 2 == 0 { &first } else { &second };
        app.get(ME, guess).await.problem(401, "unauthorized");
    }
    let blocked = [first.get(ME, guess).await, second.get(ME, guess).await];
    let valid = second.get(ME, &second.admin_key).await;

    // Assert
    for answer in &blocked {
        answer.problem(429, "too_many_failed_authentications");
    }
    assert_eq!(valid.status, 200, "{}", valid.body);
}

#[tokio::test]
async fn readyz_says_where_limits_are_counted() {
    let (first, _) = two_instances_limited_to(10).await;
    let ready = Answer::read(first.client.get(first.url("/readyz")).send().await.unwrap()).await;
    let expected = match std::env::var(crate::helpers::TEST_DATABASE_ENV) {
        Ok(_) => "postgresql",
        Err(_) => "redis",
    };
    // The store is asked only once a key has been counted.
    let key = fresh_key(&first).await;
    assert_eq!(first.get(ME, &key).await.status, 200);
    let counted = Answer::read(first.client.get(first.url("/readyz")).send().await.unwrap()).await;
    assert_eq!(ready.status, 200, "{}", ready.body);
    assert_eq!(
        counted.body["details"]["rate_limits"], expected,
        "{}",
        counted.body
    );
    let warnings = counted.body["details"]["warnings"].to_string();
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
    let ready = Answer::read(app.client.get(app.url("/readyz")).send().await.unwrap()).await;

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
        let answer = app
            .send(
                app.request(reqwest::Method::GET, ME, &key)
                    .header("X-Request-Id", &request_id),
            )
            .await;
        assert_eq!(answer.status, 200, "{}", answer.body);
        statements += statements_of(&request_id)
            .iter()
            .filter(|sql| sql.contains("rate_limits"))
            .count();
    }

    // Assert: on PostgreSQL leases of 1, 2, 4, 8, 16, then 30 at a time; on SQLite, none.
    let expected = match std::env::var(crate::helpers::TEST_DATABASE_ENV) {
        Ok(_) => 7..=8,
        Err(_) => 0..=0,
    };
    assert!(
        expected.contains(&statements),
        "{statements} statements for 100 requests"
    );
}
