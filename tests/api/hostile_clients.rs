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

/// One HTTP/1.1 exchange on `stream`: the request, then the answer's head and body.
fn exchange(stream: &mut TcpStream, request: &[u8]) -> Option<String> {
    stream.write_all(request).ok()?;
    let mut answer = Vec::new();
    let mut buffer = [0u8; 8192];
    loop {
        let read = stream.read(&mut buffer).ok()?;
        if read == 0 {
            return (!answer.is_empty()).then(|| String::from_utf8_lossy(&answer).into_owned());
        }
        answer.extend_from_slice(&buffer[..read]);
        let text = String::from_utf8_lossy(&answer).into_owned();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length = head
                .lines()
                .find_map(|line| {
                    line.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse::<usize>().unwrap())
                })
                .unwrap_or(0);
            if body.len() >= length {
                return Some(text);
            }
        }
    }
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
    let address = app.address.clone();

    // Act: 100 bytes announced, one sent every 300 ms.
    let (answer, elapsed, closed) = tokio::task::spawn_blocking(move || {
        let mut stream = TcpStream::connect(address.trim_start_matches("http://")).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_millis(300)))
            .unwrap();
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
        (
            String::from_utf8_lossy(&answer).into_owned(),
            elapsed,
            closed,
        )
    })
    .await
    .unwrap();

    // Assert
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("body_timeout"), "{answer}");
    assert!(
        answer.to_ascii_lowercase().contains("connection: close"),
        "{answer}"
    );
    assert!(
        elapsed < Duration::from_secs(5),
        "answered at the deadline: {elapsed:?}"
    );
    assert!(closed, "the connection is closed");
    assert_eq!(
        app.get("/v1/customers", &partner.key).await.items().len(),
        0
    );
}

/// Sends a request's head alone and reads the whole answer: how long its first bytes took, and
/// whether the server then closed the connection (rather than wait for the body).
fn head_alone(address: &str, head: &str) -> (String, Duration, bool) {
    let mut stream = TcpStream::connect(address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
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
async fn a_request_refused_before_its_body_is_answered_at_once_and_its_connection_closed() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("Early").await;
    let key = partner.key.clone();
    let address = app.address.trim_start_matches("http://").to_owned();
    let json = "Content-Type: application/json";
    // Each declares a body it never sends: a terabyte, or a hundred bytes.
    let requests = [
        (
            "401",
            format!(
                "POST /v1/customers HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer esc_nope\r\n{json}\r\nContent-Length: 1000000000000\r\n\r\n"
            ),
        ),
        (
            "413",
            format!(
                "POST /v1/customers HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\n{json}\r\nContent-Length: 1000000000000\r\n\r\n"
            ),
        ),
        (
            "403",
            format!(
                "POST /v1/partners HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\n{json}\r\nContent-Length: 100\r\n\r\n"
            ),
        ),
        (
            "415",
            format!(
                "POST /v1/customers HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n\r\n"
            ),
        ),
        (
            "404",
            format!(
                "POST /v1/nowhere HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\n{json}\r\nContent-Length: 100\r\n\r\n"
            ),
        ),
    ];

    // Act
    let answers = tokio::task::spawn_blocking(move || {
        requests.map(|(status, head)| (status, head_alone(&address, &head)))
    })
    .await
    .unwrap();

    // Assert
    for (status, (answer, took, closed)) in answers {
        assert!(
            answer.starts_with(&format!("HTTP/1.1 {status}")),
            "{answer}"
        );
        assert!(took < Duration::from_secs(1), "{status} took {took:?}");
        assert!(
            closed,
            "{status}: the connection is closed, not left waiting for the body"
        );
    }
    assert_eq!(
        app.get("/v1/customers", &partner.key).await.items().len(),
        0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_expects_100_continue_is_refused_before_it_sends_a_byte() {
    // Arrange
    let app = spawn_app().await;
    let fixture = app.escalation_fixture("standard").await;
    let key = fixture.partner.key.clone();
    let escalation = app.submit_escalation(&key, &fixture.body).await.id();
    let upload = format!("/v1/escalations/{escalation}/attachments?filename=trace.log");
    let address = app.address.trim_start_matches("http://").to_owned();
    let head = |key: &str, path: &str, kind: &str, length: u64| {
        format!(
            "POST {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\n\
             Content-Type: {kind}\r\nContent-Length: {length}\r\nExpect: 100-continue\r\n\r\n"
        )
    };
    let octets = "application/octet-stream";
    let refusals = [
        (
            "401",
            "unauthorized",
            head("esc_nope", &upload, octets, 30 << 20),
        ),
        (
            "413",
            "attachment_too_large",
            head(&key, &upload, octets, 30 << 20),
        ),
        (
            "413",
            "body_too_large",
            head(&key, "/v1/customers", "application/json", 1 << 20),
        ),
    ];
    let accepted = head(&key, &upload, octets, 12);

    // Act
    let (answers, continued) = tokio::task::spawn_blocking(move || {
        let answers =
            refusals.map(|(status, code, head)| (status, code, head_alone(&address, &head)));
        let mut stream = TcpStream::connect(&address).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        stream.write_all(accepted.as_bytes()).unwrap();
        let mut buffer = [0u8; 4096];
        let read = stream.read(&mut buffer).unwrap();
        let interim = String::from_utf8_lossy(&buffer[..read]).into_owned();
        let created = exchange(&mut stream, b"line one\nline").unwrap_or_default();
        (answers, (interim, created))
    })
    .await
    .unwrap();

    // Assert
    for (status, code, (answer, took, closed)) in answers {
        assert!(
            answer.starts_with(&format!("HTTP/1.1 {status}")),
            "{answer}"
        );
        assert!(!answer.contains("100 Continue"), "{answer}");
        assert!(answer.contains(code), "{answer}");
        assert!(
            answer.to_ascii_lowercase().contains("x-request-id"),
            "{answer}"
        );
        assert!(took < Duration::from_secs(1), "{status} took {took:?}");
        assert!(closed, "{status}: the connection is closed");
    }
    let (interim, created) = continued;
    assert!(interim.starts_with("HTTP/1.1 100 Continue"), "{interim}");
    assert!(created.starts_with("HTTP/1.1 201"), "{created}");
}

async fn failed_authentication_app(trusted: &str) -> TestApp {
    spawn_app_with(ServeSettings {
        auth_failures_per_minute: 60,
        trusted_proxies: TrustedProxies::parse(trusted).unwrap(),
        ..ServeSettings::default()
    })
    .await
}

async fn guess(app: &TestApp, forwarded_for: Option<&str>) -> Answer {
    let mut request = app.request(
        Method::GET,
        "/v1/me",
        "esc_guessed0000000000000000000000000000000000000",
    );
    if let Some(address) = forwarded_for {
        request = request.header("X-Forwarded-For", address);
    }
    app.send(request).await
}

#[tokio::test]
async fn keys_guessed_from_one_address_soon_meet_429_yet_a_valid_key_from_it_is_admitted() {
    // Arrange: 60 failures a minute, one back every second; a hundred bad keys.
    let app = failed_authentication_app("").await;
    for _ in 0..60 {
        guess(&app, None).await.problem(401, "unauthorized");
    }
    for _ in 60..99 {
        guess(&app, None)
            .await
            .problem(429, "too_many_failed_authentications");
    }

    // Act
    let blocked = guess(&app, None).await;
    let good_key_meanwhile = app.get("/v1/me", &app.admin_key).await;
    let new_key = app.operator_key().await;
    let new_key_meanwhile = app.get("/v1/me", &new_key).await;
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let guess_later = guess(&app, None).await;

    // Assert
    blocked.problem(429, "too_many_failed_authentications");
    assert!(blocked.header("retry-after").is_some());
    assert!(
        blocked
            .header("ratelimit-policy")
            .is_some_and(|policy| policy.contains("failed-auth-per-address"))
    );
    // A colleague behind the same address (a corporate NAT, a load balancer) is not locked out,
    // with a key this instance has seen or one it has not.
    assert_eq!(
        good_key_meanwhile.status, 200,
        "{}",
        good_key_meanwhile.body
    );
    assert_eq!(new_key_meanwhile.status, 200, "{}", new_key_meanwhile.body);
    guess_later.problem(401, "unauthorized");
}

#[tokio::test]
async fn guesses_at_one_key_meet_429_from_any_address() {
    // Arrange: the guesser spreads over addresses, behind a proxy the deployment trusts.
    let app = failed_authentication_app("127.0.0.1").await;
    let (prefix, _) = app.admin_key.split_at(12);
    let wrong = format!("{prefix}{}", "x".repeat(app.admin_key.len() - 12));
    for n in 0..60 {
        app.send(
            app.request(Method::GET, "/v1/me", &wrong)
                .header("X-Forwarded-For", format!("198.51.100.{n}")),
        )
        .await
        .problem(401, "unauthorized");
    }

    // Act
    let blocked = app
        .send(
            app.request(Method::GET, "/v1/me", &wrong)
                .header("X-Forwarded-For", "203.0.113.9"),
        )
        .await;
    let the_key_itself = app.get("/v1/me", &app.admin_key).await;

    // Assert
    blocked.problem(429, "too_many_failed_authentications");
    assert!(
        blocked
            .header("ratelimit-policy")
            .is_some_and(|policy| policy.contains("failed-auth-per-key-prefix"))
    );
    assert_eq!(the_key_itself.status, 200, "{}", the_key_itself.body);
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_client_address_is_counted_apart() {
    // Arrange: the tests' own address is the proxy.
    let app = failed_authentication_app("127.0.0.1").await;
    for _ in 0..60 {
        guess(&app, Some("203.0.113.1, 198.51.100.7")).await;
    }

    // Act
    let same_client = guess(&app, Some("198.51.100.7")).await;
    // A client's own X-Forwarded-For entries, left of the proxy's, do not move it elsewhere.
    let same_client_pretending = guess(&app, Some("192.0.2.99, 198.51.100.7")).await;
    let other_client = guess(&app, Some("198.51.100.8")).await;

    // Assert
    same_client.problem(429, "too_many_failed_authentications");
    same_client_pretending.problem(429, "too_many_failed_authentications");
    other_client.problem(401, "unauthorized");
}

#[tokio::test]
async fn without_a_trusted_proxy_x_forwarded_for_changes_nothing() {
    // Arrange
    let app = failed_authentication_app("").await;
    for n in 0..60 {
        guess(&app, Some(&format!("198.51.100.{n}"))).await;
    }

    // Act
    let answer = guess(&app, Some("198.51.100.200")).await;

    // Assert
    answer.problem(429, "too_many_failed_authentications");
}

async fn metrics(app: &TestApp) -> String {
    let response = app.client.get(app.url("/metrics")).send().await.unwrap();
    response.text().await.unwrap()
}

/// The number of request series `/metrics` exposes.
async fn series(app: &TestApp) -> usize {
    metrics(app)
        .await
        .lines()
        .filter(|line| line.starts_with("escalade_http_request"))
        .count()
}

#[tokio::test]
async fn made_up_methods_and_paths_do_not_grow_the_metrics() {
    // Arrange
    let app = spawn_app().await;
    let send = |method: String, path: String| {
        let request = app.client.request(
            Method::from_bytes(method.as_bytes()).unwrap(),
            app.url(&path),
        );
        async move {
            let _ = request.send().await;
        }
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
    assert!(
        after <= before + 20,
        "{before} series before, {after} after"
    );
    let text = metrics(&app).await;
    assert!(
        !text.contains("M042X") && !text.contains("made-up"),
        "{text}"
    );
    assert!(text.contains(r#"method="other""#));
}
