//! The `escalade` binary as an operator uses it: commands, first start, logs.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use escalade::config::OpenapiVersion;
use escalade::domain::sealing::SecretKey;

use crate::helpers::{Answer, TestDatabase};

/// The binary over `database`, with its deployment's secret key and JSON logs.
pub fn escalade(database: &TestDatabase) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_escalade"));
    command
        .env_remove("DATABASE_URL")
        .env("ESCALADE_DATABASE_URL", database.url())
        .env("ESCALADE_SECRET_KEY", &database.secret_key)
        .env(
            "ESCALADE_ATTACHMENT_STORE",
            format!("file://{}", database.attachments.path().display()),
        )
        .env("ESCALADE_LOG_FORMAT", "json")
        .env("ESCALADE_LOG", "info")
        .stdin(Stdio::null());
    command
}

#[test]
fn openapi_prints_the_published_spec_in_either_version() {
    for (args, version) in [
        (&["openapi"][..], OpenapiVersion::V3_1),
        (&["openapi", "--version", "3.1"][..], OpenapiVersion::V3_1),
        (&["openapi", "--version", "3.0"][..], OpenapiVersion::V3_0),
    ] {
        let output = Command::new(env!("CARGO_BIN_EXE_escalade"))
            .args(args)
            .output()
            .unwrap();

        assert!(output.status.success(), "{args:?}");
        assert_eq!(
            String::from_utf8(output.stdout).unwrap(),
            escalade::run::openapi_json(version) + "\n",
            "{args:?}"
        );
    }
    let refused = Command::new(env!("CARGO_BIN_EXE_escalade"))
        .args(["openapi", "--version", "2.0"])
        .output()
        .unwrap();
    assert!(!refused.status.success());
}

#[tokio::test]
async fn api_key_create_prints_only_a_working_secret() {
    let database = TestDatabase::migrated().await;

    let output = escalade(&database)
        .args([
            "api-key",
            "create",
            "--role",
            "operator",
            "--name",
            "night shift",
        ])
        .output()
        .unwrap();

    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "only the secret: {stdout:?}");
    assert!(lines[0].starts_with("esc_") && lines[0].len() == 47);
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(!stderr.contains(lines[0]), "the secret is never logged");
}

#[tokio::test]
async fn api_key_create_refuses_a_partner_key_without_a_partner() {
    let database = TestDatabase::migrated().await;

    let output = escalade(&database)
        .args(["api-key", "create", "--role", "partner", "--name", "orphan"])
        .output()
        .unwrap();

    assert!(!output.status.success());
    assert!(output.stdout.is_empty());
    assert!(String::from_utf8_lossy(&output.stderr).contains("partner_id"));
}

#[tokio::test]
async fn api_key_create_asks_for_migrations_on_a_fresh_database() {
    let database = TestDatabase::empty().await;

    let output = escalade(&database)
        .args(["api-key", "create", "--role", "admin", "--name", "early"])
        .output()
        .unwrap();

    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("escalade migrate"));
}

/// A running `escalade serve` and what it printed before listening.
pub struct Served {
    child: Child,
    pub port: u16,
    printed: Vec<String>,
}

fn serve(database: &TestDatabase, extra: &[&str]) -> Served {
    serve_with(escalade(database), extra)
}

/// `serve` started by `command` (with its environment).
pub fn serve_with(mut command: Command, extra: &[&str]) -> Served {
    let mut child = command
        .args(["serve", "--bind", "127.0.0.1:0"])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut printed = Vec::new();
    let port = loop {
        let mut line = String::new();
        assert!(
            stdout.read_line(&mut line).unwrap() > 0,
            "serve exited early: {printed:?}"
        );
        if let Some(address) = line.trim().strip_prefix("escalade: listening on http://") {
            let port = address
                .split(':')
                .nth(1)
                .unwrap()
                .split(' ')
                .next()
                .unwrap();
            break port.parse().unwrap();
        }
        printed.push(line.trim_end().to_owned());
    };
    let served = Served {
        child,
        port,
        printed,
    };
    served.wait_until_ready();
    served
}

impl Served {
    /// Until `/healthz` answers (the server then also handles signals); generous, for loaded
    /// machines.
    fn wait_until_ready(&self) {
        for _ in 0..600 {
            if self.healthy() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("escalade did not become ready");
    }

    fn healthy(&self) -> bool {
        use std::io::Write;
        let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", self.port)) else {
            return false;
        };
        let mut answer = String::new();
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            .is_ok()
            && stream.read_to_string(&mut answer).is_ok()
            && answer.starts_with("HTTP/1.1 200")
    }

    /// SIGTERM, then everything it logged.
    pub fn stop(mut self) -> String {
        Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        let status = self.child.wait().unwrap();
        assert!(status.success(), "a graceful stop exits 0, got {status}");
        let mut logs = String::new();
        self.child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut logs)
            .unwrap();
        logs
    }

    /// The key `serve --demo` printed for `role`.
    pub fn demo_key(&self, role: &str) -> String {
        key_in(&self.printed, role).unwrap_or_else(|| panic!("a {role} key in {:?}", self.printed))
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }
}

fn key_in(printed: &[String], role: &str) -> Option<String> {
    printed.iter().find_map(|line| {
        line.trim()
            .strip_prefix(role)?
            .trim()
            .strip_prefix("esc_")
            .map(|rest| format!("esc_{rest}"))
    })
}

#[tokio::test]
async fn the_first_start_prints_an_admin_key_once_and_logs_never_hold_it() {
    let database = TestDatabase::empty().await;
    let client = reqwest::Client::new();

    let first = serve(&database, &[]);
    let admin = key_in(&first.printed, "admin").expect("the first start prints an admin key");
    let me = Answer::read(
        client
            .get(first.url("/v1/me"))
            .bearer_auth(&admin)
            .header("X-Request-Id", "cli-trace-1")
            .send()
            .await
            .unwrap(),
    )
    .await;
    let refused = client
        .get(first.url("/v1/partners"))
        .bearer_auth(format!("{admin}x"))
        .send()
        .await
        .unwrap();
    let logs = first.stop();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let second = serve(&database, &[]);
    let second_printed = second.printed.clone();
    let second_logs = second.stop();

    assert_eq!(me.status, 200);
    assert_eq!(me.body["role"], "admin");
    assert_eq!(refused.status(), 401);
    assert!(
        key_in(&second_printed, "admin").is_none(),
        "the key is printed only once"
    );
    assert!(
        !logs.contains(&admin) && !second_logs.contains(&admin),
        "no secret in any log line"
    );
    assert!(!logs.contains(&admin[..20]), "not even most of it");
    let request_lines: Vec<serde_json::Value> = logs
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|line| line.to_string().contains("cli-trace-1"))
        .collect();
    assert!(
        !request_lines.is_empty(),
        "the request is logged with its id"
    );
    let finished = request_lines
        .iter()
        .find(|line| line["message"] == "request finished")
        .expect("an access-log line");
    assert_eq!(finished["status"], 200);
}

#[tokio::test]
async fn serve_demo_prints_working_keys_for_every_role_and_the_console() {
    let database = TestDatabase::empty().await;
    let client = reqwest::Client::new();

    let served = serve(&database, &["--demo"]);
    let console_url = served
        .printed
        .iter()
        .find_map(|line| {
            let url = line.strip_prefix("  console  ")?.split(' ').next()?;
            Some(url.to_owned())
        })
        .unwrap_or_else(|| panic!("the console's URL in {:?}", served.printed));
    let console = client.get(&console_url).send().await.unwrap();
    let console_status = console.status();
    let console_type = console.headers()["content-type"].to_owned();
    let console_page = console.text().await.unwrap();
    let expected_console_url = served.url("/console/");
    let mut roles = Vec::new();
    for role in ["admin", "operator", "partner"] {
        let key = key_in(&served.printed, role)
            .unwrap_or_else(|| panic!("a {role} key in {:?}", served.printed));
        let me = Answer::read(
            client
                .get(served.url("/v1/me"))
                .bearer_auth(&key)
                .send()
                .await
                .unwrap(),
        )
        .await;
        roles.push(me.body["role"].as_str().unwrap_or_default().to_owned());
    }
    let partner = key_in(&served.printed, "partner").unwrap();
    let customers = Answer::read(
        client
            .get(served.url("/v1/customers"))
            .query(&[("q", "上海")])
            .bearer_auth(&partner)
            .send()
            .await
            .unwrap(),
    )
    .await;
    let printed = served.printed.clone();
    served.stop();

    assert_eq!(roles, ["admin", "operator", "partner"]);
    assert_eq!(
        customers.body["items"][0]["company_name"],
        "上海云启科技有限公司"
    );
    assert_eq!(console_url, expected_console_url);
    let keys_then_console: Vec<&str> = printed
        .iter()
        .filter_map(|line| line.split_whitespace().next())
        .filter(|first| ["admin", "operator", "partner", "console"].contains(first))
        .collect();
    assert_eq!(
        keys_then_console,
        ["admin", "operator", "partner", "console"]
    );
    assert_eq!(console_status, 200);
    assert!(console_type.to_str().unwrap().starts_with("text/html"));
    assert!(console_page.contains("<html"), "{console_page}");
}

#[tokio::test]
async fn a_malformed_cors_origin_list_stops_the_start_with_the_reason() {
    let database = TestDatabase::migrated().await;

    for (flag, env) in [
        (
            Some("https://console.partner.cn,https://console.partner.cn/"),
            None,
        ),
        (None, Some("https://console.partner.cn, *")),
    ] {
        let mut command = escalade(&database);
        command.args(["serve", "--bind", "127.0.0.1:0"]);
        if let Some(origins) = flag {
            command.args(["--cors-allowed-origins", origins]);
        }
        if let Some(origins) = env {
            command.env("ESCALADE_CORS_ALLOWED_ORIGINS", origins);
        }
        let output = command.output().unwrap();

        assert!(!output.status.success());
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("--cors-allowed-origins"), "{stderr}");
        assert!(stderr.contains("is not an origin"), "{stderr}");
    }
}

#[tokio::test]
async fn cors_origins_from_the_environment_are_allowed() {
    let database = TestDatabase::migrated().await;
    let client = reqwest::Client::new();

    let served = {
        let mut command = escalade(&database);
        command.env(
            "ESCALADE_CORS_ALLOWED_ORIGINS",
            "https://console.partner.cn, http://127.0.0.1:5173",
        );
        serve_with(command, &[])
    };
    let mut allowed = Vec::new();
    for origin in ["http://127.0.0.1:5173", "https://evil.example.cn"] {
        let answer = client
            .request(reqwest::Method::OPTIONS, served.url("/v1/me"))
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "GET")
            .send()
            .await
            .unwrap();
        allowed.push(answer.headers().get("access-control-allow-origin").cloned());
    }
    served.stop();

    assert_eq!(allowed[0].as_ref().unwrap(), "http://127.0.0.1:5173");
    assert_eq!(allowed[1], None);
}

#[tokio::test]
async fn switches_take_yes_no_1_0_on_off_true_false_in_any_case() {
    for (value, on) in [
        ("1", true),
        ("YES", true),
        ("on", true),
        ("True", true),
        ("0", false),
        ("no", false),
        ("OFF", false),
        ("false", false),
    ] {
        // A fresh database: `--no-migrate` refuses to start on it; without it, it is migrated.
        let database = TestDatabase::empty().await;
        let mut command = escalade(&database);
        command.env("ESCALADE_NO_MIGRATE", value);
        if on {
            let output = command
                .args(["serve", "--bind", "127.0.0.1:0"])
                .output()
                .unwrap();
            assert!(!output.status.success(), "{value}");
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert!(stderr.contains("migration(s) behind"), "{value}: {stderr}");
        } else {
            serve_with(command, &[]).stop();
        }
    }
    let database = TestDatabase::empty().await;
    let refused = escalade(&database)
        .env("ESCALADE_NO_MIGRATE", "maybe")
        .args(["serve", "--bind", "127.0.0.1:0"])
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--no-migrate"));
}

#[tokio::test]
async fn healthcheck_exits_0_while_the_server_is_ready_and_1_when_nothing_answers() {
    let database = TestDatabase::migrated().await;
    let served = serve(&database, &[]);
    let port = served.port;
    let check = |bind: String| {
        Command::new(env!("CARGO_BIN_EXE_escalade"))
            .env("ESCALADE_BIND", bind)
            .arg("healthcheck")
            .output()
            .unwrap()
    };

    let ready = check(format!("127.0.0.1:{port}"));
    // As in the container: listening on every address, asked on loopback.
    let unspecified = check(format!("0.0.0.0:{port}"));
    served.stop();
    let stopped = check(format!("127.0.0.1:{port}"));

    assert!(
        ready.status.success(),
        "{}",
        String::from_utf8_lossy(&ready.stderr)
    );
    assert!(unspecified.status.success());
    assert_eq!(stopped.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&stopped.stderr).contains("/readyz"));
}

#[tokio::test]
async fn the_secret_key_is_made_beside_a_sqlite_file_and_kept() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("escalade.db").display());
    let start = || {
        let mut command = Command::new(env!("CARGO_BIN_EXE_escalade"));
        command
            .env_remove("DATABASE_URL")
            .env_remove("ESCALADE_SECRET_KEY")
            .env("ESCALADE_DATABASE_URL", &url)
            .env("ESCALADE_LOG_FORMAT", "json")
            .stdin(Stdio::null());
        serve_with(command, &[])
    };

    let first_logs = start().stop();
    let key_file = dir.path().join("escalade.key");
    let written = std::fs::read_to_string(&key_file).expect("a key file beside the database");
    let second_logs = start().stop();

    let key = written.lines().find(|line| !line.starts_with('#')).unwrap();
    assert!(SecretKey::parse(key).is_ok(), "{written}");
    assert_eq!(std::fs::read_to_string(&key_file).unwrap(), written, "kept");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "readable by its owner only");
    }
    assert!(first_logs.contains("created a secret key beside the database"));
    assert!(second_logs.contains("secret keys from a file"));
    assert!(!first_logs.contains(key) && !second_logs.contains(key));
}

#[test]
fn postgresql_without_a_secret_key_refuses_to_start() {
    let output = Command::new(env!("CARGO_BIN_EXE_escalade"))
        .env_remove("ESCALADE_SECRET_KEY")
        .env_remove("ESCALADE_SECRET_KEY_FILE")
        .env(
            "ESCALADE_DATABASE_URL",
            "postgres://escalade@127.0.0.1:1/escalade",
        )
        .args(["serve", "--bind", "127.0.0.1:0"])
        .output()
        .unwrap();

    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("ESCALADE_SECRET_KEY"), "{stderr}");
    assert!(stderr.contains("--secret-key-file"), "{stderr}");
}

#[test]
fn secret_key_generate_prints_a_new_key_each_time() {
    let generate = || {
        let output = Command::new(env!("CARGO_BIN_EXE_escalade"))
            .args(["secret-key", "generate"])
            .output()
            .unwrap();
        assert!(output.status.success());
        String::from_utf8(output.stdout).unwrap().trim().to_owned()
    };

    let (one, other) = (generate(), generate());

    assert_ne!(one, other);
    assert!(SecretKey::parse(&one).is_ok() && SecretKey::parse(&other).is_ok());
}

#[tokio::test]
async fn a_malformed_request_is_logged_as_the_clients_mistake() {
    use std::io::Write;
    let database = TestDatabase::migrated().await;
    let served = serve(&database, &[]);

    let mut stream = std::net::TcpStream::connect(("127.0.0.1", served.port)).unwrap();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n")
        .unwrap();
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    let logs = served.stop();

    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    let lines: Vec<serde_json::Value> = logs
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect();
    let about_it: Vec<&serde_json::Value> = lines
        .iter()
        .filter(|line| {
            line["message"]
                .as_str()
                .is_some_and(|m| m.contains("stream error"))
        })
        .collect();
    assert!(!about_it.is_empty(), "{logs}");
    for line in about_it {
        assert_eq!(line["level"], "WARN", "{line}");
    }
    assert!(!lines.iter().any(|line| line["level"] == "ERROR"), "{logs}");
}

#[tokio::test]
async fn without_an_attachment_store_sqlite_keeps_files_beside_it_and_postgresql_refuses_to_start()
{
    let database = TestDatabase::migrated().await;
    let mut command = escalade(&database);
    command.env_remove("ESCALADE_ATTACHMENT_STORE");

    match escalade::store::sqlite_file(&database.url()) {
        Some(file) => {
            serve_with(command, &[]).stop();
            assert!(file.with_extension("attachments").is_dir());
        }
        None => {
            let output = command
                .args(["serve", "--bind", "127.0.0.1:0"])
                .output()
                .unwrap();
            assert!(!output.status.success());
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert!(stderr.contains("--attachment-store"), "{stderr}");
        }
    }
}

#[test]
fn an_attachment_store_url_with_credentials_or_of_another_kind_stops_the_start() {
    for (store, reason) in [
        (
            "s3://bucket/p?secret_access_key=abc",
            "AWS_SECRET_ACCESS_KEY",
        ),
        ("s3://bucket/p?colour=blue", "`colour` is not an S3 setting"),
        (
            "ftp://files.example/attachments",
            "neither a file:/// nor an s3://bucket URL",
        ),
        ("file://relative/path", "absolute file:/// URL"),
    ] {
        let output = Command::new(env!("CARGO_BIN_EXE_escalade"))
            .env("ESCALADE_ATTACHMENT_STORE", store)
            .args(["serve", "--bind", "127.0.0.1:0"])
            .stdin(Stdio::null())
            .output()
            .unwrap();

        assert!(!output.status.success(), "{store}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(reason), "{store}: {stderr}");
        assert!(
            !stderr.contains("abc"),
            "the secret is not repeated: {stderr}"
        );
    }
}
