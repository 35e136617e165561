//! Clients that are slow, wrong or strange on purpose: a body trickled a byte at a time, keys
//! guessed from one address, made-up methods and paths. Each costs the service little and
//! changes nothing, and well-behaved clients keep their connections and their access.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use escalade::config::ServeSettings;
use escalade::http::client_address::TrustedProxies;
use reqwest::Method;

use crate::helpers::{Answer, TestApp, spawn_app, spawn_app_with};
use crate::world::World;

/// A well-formed key no one was issued.
pub(crate) const GUESSED: &str = "esc_guessed0000000000000000000000000000000000000";

/// A connection to `address` whose reads wait at most `read_timeout`.
fn connect(address: &str, read_timeout: Duration) -> TcpStream {
    let stream = TcpStream::connect(address).unwrap();
    stream.set_read_timeout(Some(read_timeout)).unwrap();
    stream
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_trickled_past_the_deadline_gets_408_and_the_connection_closes() {
    // Arrange
    let app = spawn_app_with(ServeSettings {
        body_timeout_secs: 1,
        ..ServeSettings::default()
    })
    .await;
    let partner = app.create_partner("Patient").await;
    let key = partner.key.clone();
    let address = app.address.trim_start_matches("http://").to_owned();

    // Act: 100 bytes announced, one sent every 300 ms.
    let (answer, elapsed, closed) = tokio::task::spawn_blocking(move || {
        let mut stream = connect(&address, Duration::from_millis(300));
        let started = Instant::now();
        let head = format!(
            "POST /v1/customers HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\n\
             Content-Type: application/json\r\nContent-Length: 100\r\n\r\n"
        );
        stream.write_all(head.as_bytes()).unwrap();
        let mut answer = Vec::new();
        let mut buffer = [0u8; 4096];
        while started.elapsed() < Duration::from_secs(8) {
            let _ = stream.write_all(b" ");
            match stream.read(&mut buffer) {
                Ok(0) => break,
                Ok(read) => answer.extend_from_slice(&buffer[..read]),
                Err(_) => {}
            }
        }
        let elapsed = started.elapsed();
        stream
            .set_read_timeout(Some(Duration::from_secs(2)))
            .unwrap();
        let closed = matches!(stream.read(&mut buffer), Ok(0) | Err(_));
        let answer = String::from_utf8_lossy(&answer).into_owned();
        (answer, elapsed, closed)
    })
    .await
    .unwrap();

    // Assert
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("body_timeout"), "{answer}");
    let lower = answer.to_ascii_lowercase();
    assert!(lower.contains("connection: close"), "{answer}");
    let at_the_deadline = elapsed < Duration::from_secs(5);
    assert!(at_the_deadline, "answered after {elapsed:?}");
    assert!(closed, "the connection is closed");
    let customers = app.get("/v1/customers", &partner.key).await;
    assert!(customers.items().is_empty(), "{}", customers.body);
}

/// Sends a request's head alone and reads the whole answer: how long its first bytes took, and
/// whether the server then closed the connection (rather than wait for the body).
fn head_alone(address: &str, head: &str) -> (String, Duration, bool) {
    let mut stream = connect(address, Duration::from_secs(5));
    let started = Instant::now();
    stream.write_all(head.as_bytes()).unwrap();
    let mut answer = Vec::new();
    let mut took = None;
    let mut buffer = [0u8; 8192];
    let closed = loop {
        match stream.read(&mut buffer) {
            Ok(0) => break true,
            Ok(read) => {
                took.get_or_insert_with(|| started.elapsed());
                answer.extend_from_slice(&buffer[..read]);
            }
            Err(_) => break false,
        }
    };
    let took = took.unwrap_or_else(|| started.elapsed());
    (String::from_utf8_lossy(&answer).into_owned(), took, closed)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_refused_before_its_body_is_answered_at_once_never_continued_and_closed() {
    // Arrange
    let world = World::new().await;
    let app = &world.app;
    let key = world.key().to_owned();
    let escalation = world.submit().await.id();
    let upload = format!("/v1/escalations/{escalation}/attachments?filename=trace.log");
    let address = app.address.trim_start_matches("http://").to_owned();
    let head = |key: &str, path: &str, kind: &str, length: u64, expect: &str| {
        format!(
            "POST {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\n\
             Content-Type: {kind}\r\nContent-Length: {length}\r\n{expect}\r\n"
        )
    };
    let (json, octets, terabyte) = ("application/json", "application/octet-stream", 1 << 40);
    let continued = "Expect: 100-continue\r\n";
    // Each declares a body it never sends.
    let refusals = [
        (
            "no key, a terabyte",
            head("esc_nope", "/v1/customers", json, terabyte, ""),
            "401 unauthorized",
        ),
        (
            "a terabyte",
            head(&key, "/v1/customers", json, terabyte, ""),
            "413 body_too_large",
        ),
        (
            "not the partner's to create",
            head(&key, "/v1/partners", json, 100, ""),
            "403 forbidden",
        ),
        (
            "not JSON",
            head(&key, "/v1/customers", "text/plain", 100, ""),
            "415 unsupported_media_type",
        ),
        (
            "nowhere",
            head(&key, "/v1/nowhere", json, 100, ""),
            "404 not_found",
        ),
        (
            "100-continue without a key",
            head("esc_nope", &upload, octets, 30 << 20, continued),
            "401 unauthorized",
        ),
        (
            "100-continue for 30 MiB",
            head(&key, &upload, octets, 30 << 20, continued),
            "413 attachment_too_large",
        ),
        (
            "100-continue for 1 MiB of JSON",
            head(&key, "/v1/customers", json, 1 << 20, continued),
            "413 body_too_large",
        ),
    ];
    let closing = format!("{continued}Connection: close\r\n");
    let accepted = head(&key, &upload, octets, 12, &closing);

    // Act
    let (answers, (interim, created)) = tokio::task::spawn_blocking(move || {
        let answers =
            refusals.map(|(label, head, expected)| (label, expected, head_alone(&address, &head)));
        let mut stream = connect(&address, Duration::from_secs(5));
        stream.write_all(accepted.as_bytes()).unwrap();
        let mut buffer = [0u8; 4096];
        let read = stream.read(&mut buffer).unwrap();
        let interim = String::from_utf8_lossy(&buffer[..read]).into_owned();
        stream.write_all(b"line one\nline").unwrap();
        let mut created = String::new();
        let _ = stream.read_to_string(&mut created);
        (answers, (interim, created))
    })
    .await
    .unwrap();

    // Assert
    for (label, expected, (answer, took, closed)) in answers {
        let (status, code) = expected.split_once(' ').unwrap();
        let status_line = format!("HTTP/1.1 {status}");
        assert!(answer.starts_with(&status_line), "{label}: {answer}");
        assert!(!answer.contains("100 Continue"), "{label}: {answer}");
        assert!(answer.contains(code), "{label}: {answer}");
        let lower = answer.to_ascii_lowercase();
        assert!(lower.contains("x-request-id"), "{label}: {answer}");
        assert!(took < Duration::from_secs(1), "{label} took {took:?}");
        assert!(closed, "{label}: closed, not left waiting for the body");
    }
    assert!(interim.starts_with("HTTP/1.1 100 Continue"), "{interim}");
    assert!(created.starts_with("HTTP/1.1 201"), "{created}");
    let customers = app.get("/v1/customers", &key).await.item_ids();
    assert_eq!(customers, [world.customer_id], "nothing was created");
}

async fn failed_authentication_app(trusted: &str) -> TestApp {
    spawn_app_with(ServeSettings {
        auth_failures_per_minute: 6,
        trusted_proxies: TrustedProxies::parse(trusted).unwrap(),
        ..ServeSettings::default()
    })
    .await
}

async fn guess(app: &TestApp, forwarded_for: Option<&str>) -> Answer {
    let mut request = app.request(Method::GET, "/v1/me", GUESSED);
    if let Some(address) = forwarded_for {
        request = request.header("X-Forwarded-For", address);
    }
    app.send(request).await
}

#[tokio::test]
async fn keys_guessed_from_one_address_meet_429_whatever_it_forwards_yet_a_valid_key_is_admitted() {
    // Arrange: 6 failures a minute, one back every ten seconds (longer than any run of guesses
    // here takes, however loaded the machine); twenty bad keys, every other one claiming to come
    // from elsewhere, which no trusted proxy vouches for.
    let app = failed_authentication_app("").await;
    let forwarded = |n: usize| (n % 2 == 1).then(|| format!("198.51.100.{n}"));
    for n in 0..6 {
        let answer = guess(&app, forwarded(n).as_deref()).await;
        answer.problem(401, "unauthorized");
    }
    for n in 6..20 {
        let answer = guess(&app, forwarded(n).as_deref()).await;
        answer.problem(429, "too_many_failed_authentications");
    }

    // Act
    let blocked = guess(&app, None).await;
    let elsewhere = guess(&app, Some("198.51.100.200")).await;
    let good_key_meanwhile = app.get("/v1/me", &app.admin_key).await;
    let new_key = app.operator_key().await;
    let new_key_meanwhile = app.get("/v1/me", &new_key).await;
    tokio::time::sleep(Duration::from_millis(10_100)).await;
    let guess_later = guess(&app, None).await;

    // Assert
    for answer in [&blocked, &elsewhere] {
        answer.problem(429, "too_many_failed_authentications");
    }
    assert!(blocked.header("retry-after").is_some());
    let policy = blocked.header("ratelimit-policy").unwrap_or_default();
    assert!(policy.contains("failed-auth-per-address"), "{policy}");
    // A colleague behind the same address (a corporate NAT, a load balancer) is not locked out,
    // with a key this instance has seen or one it has not.
    for answer in [&good_key_meanwhile, &new_key_meanwhile] {
        assert_eq!(answer.status, 200, "{}", answer.body);
    }
    guess_later.problem(401, "unauthorized");
}

#[tokio::test]
async fn behind_a_trusted_proxy_guesses_count_per_client_address_and_per_key_from_any_address() {
    // Arrange: the tests' own address is the proxy. One guesser spreads over addresses at one
    // real key; another guesses keys from one address, behind a proxy of its own.
    let app = failed_authentication_app("127.0.0.1").await;
    let (prefix, _) = app.admin_key.split_at(12);
    let wrong = format!("{prefix}{}", "x".repeat(app.admin_key.len() - 12));
    let at_the_key_from = |address: String| {
        let request = app.request(Method::GET, "/v1/me", &wrong);
        app.send(request.header("X-Forwarded-For", address))
    };
    for n in 0..6 {
        let answer = at_the_key_from(format!("198.51.100.{n}")).await;
        answer.problem(401, "unauthorized");
    }
    for _ in 0..6 {
        guess(&app, Some("203.0.113.1, 192.0.2.7")).await;
    }

    // Act
    let at_the_key = at_the_key_from("203.0.113.9".to_owned()).await;
    let the_key_itself = app.get("/v1/me", &app.admin_key).await;
    let same_client = guess(&app, Some("192.0.2.7")).await;
    // A client's own X-Forwarded-For entries, left of the proxy's, do not move it elsewhere.
    let same_client_pretending = guess(&app, Some("192.0.2.99, 192.0.2.7")).await;
    let other_client = guess(&app, Some("192.0.2.8")).await;

    // Assert
    at_the_key.problem(429, "too_many_failed_authentications");
    let policy = at_the_key.header("ratelimit-policy").unwrap_or_default();
    assert!(policy.contains("failed-auth-per-key-prefix"), "{policy}");
    assert_eq!(the_key_itself.status, 200, "{}", the_key_itself.body);
    same_client.problem(429, "too_many_failed_authentications");
    same_client_pretending.problem(429, "too_many_failed_authentications");
    other_client.problem(401, "unauthorized");
}

/// The number of request series `/metrics` exposes.
async fn series(app: &TestApp) -> usize {
    let text = app.metrics().await;
    let lines = text.lines();
    lines
        .filter(|line| line.starts_with("escalade_http_request"))
        .count()
}

#[tokio::test]
async fn made_up_methods_and_paths_do_not_grow_the_metrics() {
    // Arrange
    let app = spawn_app().await;
    let send = async |method: String, path: String| {
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        let _ = app.client.request(method, app.url(&path)).send().await;
    };
    send("BREW".to_owned(), "/v1/nothing-here".to_owned()).await;
    let before = series(&app).await;

    // Act
    for n in 0..100 {
        send(format!("M{n:03}X"), format!("/v1/made-up/{n}/path")).await;
        send(format!("Q{n:03}"), format!("/elsewhere-{n}")).await;
    }

    // Assert
    let after = series(&app).await;
    assert!(after <= before + 20, "{before} series, then {after}");
    let text = app.metrics().await;
    let named = text.contains("M042X") || text.contains("made-up");
    assert!(!named, "{text}");
    assert!(text.contains(r#"method="other""#));
}
