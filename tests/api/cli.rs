//! The `escalade` binary as an operator uses it: commands, first start, logs, and the starts it
//! refuses, each saying why.

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::process::ExitStatusExt;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::thread::JoinHandle;
use std::time::Duration;

use escalade::config::OpenapiVersion;
use escalade::domain::sealing::SecretKey;
use serde_json::Value;

use crate::faults::eventually_within;
use crate::helpers::{Answer, TestDatabase};

/// The binary with nothing from this process's environment that would name a database or a key.
pub(crate) fn binary() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_escalade"));
    command
        .env_remove("DATABASE_URL")
        .env_remove("ESCALADE_SECRET_KEY")
        .env_remove("ESCALADE_SECRET_KEY_FILE")
        .stdin(Stdio::null());
    command
}

/// The binary over `database`, with its deployment's secret key and JSON logs.
pub fn escalade(database: &TestDatabase) -> Command {
    let mut command = binary();
    command
        .env("ESCALADE_DATABASE_URL", database.url())
        .env("ESCALADE_SECRET_KEY", &database.secret_key)
        .env(
            "ESCALADE_ATTACHMENT_STORE",
            format!("file://{}", database.attachments.path().display()),
        )
        .env("ESCALADE_LOG_FORMAT", "json")
        .env("ESCALADE_LOG", "info");
    command
}

/// Runs `command` with `args` (split at spaces) to its end.
fn run(mut command: Command, args: &str) -> Output {
    command
        .args(args.split_whitespace())
        .output()
        .expect("escalade runs")
}

/// `command` with the environment variable `name` set to `value`.
fn with_env(mut command: Command, name: &str, value: &str) -> Command {
    command.env(name, value);
    command
}

/// Runs `serve` with `flags` as `command` starts it, to its end: a start that is refused.
fn refused_start(command: Command, flags: &str) -> Output {
    run(command, &format!("serve --bind 127.0.0.1:0 {flags}"))
}

/// Asserts the command failed and said each of `said` on stderr; returns what it said.
#[track_caller]
fn assert_refused(label: &str, output: &Output, said: &[&str]) -> String {
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(!output.status.success(), "{label}: {stderr}");
    for words in said {
        assert!(stderr.contains(words), "{label}: no {words:?} in {stderr}");
    }
    stderr
}

/// Every JSON line of a log.
fn json_lines(logs: &str) -> Vec<Value> {
    logs.lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect()
}

/// A running `escalade serve`: its port, what it printed before listening, and everything it
/// logs, drained all along so a chatty child never blocks on a full pipe. Killed if dropped while
/// running.
pub struct Served {
    child: Child,
    pub port: u16,
    printed: Vec<String>,
    logs: Arc<Mutex<String>>,
    logging: Option<JoinHandle<()>>,
}

fn serve(database: &TestDatabase, extra: &[&str]) -> Served {
    serve_with(escalade(database), extra)
}

/// `serve` started by `command` (with its environment), once it answers `/healthz`.
pub fn serve_with(mut command: Command, extra: &[&str]) -> Served {
    let mut child = command
        .args(["serve", "--bind", "127.0.0.1:0"])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("escalade starts");
    let logs: Arc<Mutex<String>> = Arc::default();
    let (stderr, sink) = (child.stderr.take().unwrap(), Arc::clone(&logs));
    let logging = std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let mut sink = sink.lock().unwrap();
            sink.push_str(&line);
            sink.push('\n');
        }
    });
    let stdout = child.stdout.take().unwrap();
    let (listening, started) = mpsc::channel();
    std::thread::spawn(move || {
        let mut printed = Vec::new();
        let mut lines = BufReader::new(stdout).lines().map_while(Result::ok);
        for line in lines.by_ref() {
            if let Some(port) = listening_port(&line) {
                listening.send((port, printed)).ok();
                break;
            }
            printed.push(line.trim_end().to_owned());
        }
        lines.for_each(drop);
    });
    let Ok((port, printed)) = started.recv_timeout(Duration::from_secs(60)) else {
        child.kill().ok();
        child.wait().ok();
        logging.join().ok();
        panic!("serve did not start listening: {}", logs.lock().unwrap());
    };
    let served = Served {
        child,
        port,
        printed,
        logs,
        logging: Some(logging),
    };
    served.wait_until_ready();
    served
}

/// The port in `escalade: listening on http://127.0.0.1:PORT (…)`.
fn listening_port(line: &str) -> Option<u16> {
    let address = line.trim().strip_prefix("escalade: listening on http://")?;
    address.split(' ').next()?.rsplit(':').next()?.parse().ok()
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
        panic!("escalade did not become ready: {}", self.logs());
    }

    fn healthy(&self) -> bool {
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

    fn sigterm(&self) {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(sent.success(), "SIGTERM is sent");
    }

    /// SIGTERM, then everything it logged; asserts it exits 0.
    pub fn stop(mut self) -> String {
        self.sigterm();
        let status = self.child.wait().unwrap();
        assert!(status.success(), "a graceful stop exits 0, got {status}");
        self.logging.take().map(JoinHandle::join);
        self.logs()
    }

    /// SIGTERM, then its exit status once it has exited (within a minute).
    pub async fn terminate(&mut self) -> ExitStatus {
        self.sigterm();
        let child = &mut self.child;
        let exited = async || child.try_wait().unwrap();
        eventually_within(Duration::from_secs(60), "escalade to exit", exited).await
    }

    /// SIGKILL: no shutdown, no cleanup, as a crash or an OOM kill.
    pub fn kill(&mut self) {
        self.child.kill().expect("SIGKILL is sent");
        let status = self.child.wait().unwrap();
        assert_eq!(status.signal(), Some(9), "killed by SIGKILL: {status}");
    }

    /// What it has logged so far.
    pub fn logs(&self) -> String {
        self.logs.lock().unwrap().clone()
    }

    /// The key `serve --demo` printed for `role`.
    pub fn demo_key(&self, role: &str) -> String {
        key_in(&self.printed, role).unwrap_or_else(|| panic!("a {role} key in {:?}", self.printed))
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// `GET path` as `key`.
    fn request(&self, path: &str, key: &str) -> reqwest::RequestBuilder {
        reqwest::Client::new().get(self.url(path)).bearer_auth(key)
    }

    async fn get(&self, path: &str, key: &str) -> Answer {
        Answer::read(self.request(path, key).send().await.unwrap()).await
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            self.child.kill().ok();
            self.child.wait().ok();
        }
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
async fn commands_print_their_result_alone_and_never_log_a_secret() {
    // Arrange
    let database = TestDatabase::migrated().await;
    let generate = || {
        let output = run(binary(), "secret-key generate");
        assert!(output.status.success());
        String::from_utf8(output.stdout).unwrap().trim().to_owned()
    };

    // The published spec, in either version.
    for (args, version) in [
        ("openapi", OpenapiVersion::V3_1),
        ("openapi --version 3.1", OpenapiVersion::V3_1),
        ("openapi --version 3.0", OpenapiVersion::V3_0),
    ] {
        let output = run(binary(), args);

        assert!(output.status.success(), "{args}");
        let printed = String::from_utf8(output.stdout).unwrap();
        let spec = escalade::run::openapi_json(version) + "\n";
        assert_eq!(printed, spec, "{args}");
    }
    // A new API key: only its secret, which no log line holds.
    let create = "api-key create --role operator --name night-shift";
    let output = run(escalade(&database), create);
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(output.status.success(), "{stderr}");
    let stdout = String::from_utf8(output.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "only the secret: {stdout:?}");
    assert!(lines[0].starts_with("esc_") && lines[0].len() == 47);
    assert!(!stderr.contains(lines[0]), "the secret is never logged");
    // A new secret key, another each time.
    let (one, other) = (generate(), generate());
    assert_ne!(one, other);
    assert!(SecretKey::parse(&one).is_ok() && SecretKey::parse(&other).is_ok());
}

#[tokio::test]
async fn a_command_that_cannot_do_as_asked_stops_and_says_why() {
    // Arrange
    let database = TestDatabase::migrated().await;
    let fresh = TestDatabase::empty().await;
    let postgres = "postgres://escalade@127.0.0.1:1/escalade";
    let with_path = "--cors-allowed-origins https://console.partner.cn,https://console.partner.cn/";
    let not_an_origin = ["--cors-allowed-origins", "is not an origin"];
    let wildcard = "https://console.partner.cn, *";
    let origins_from_env = with_env(
        escalade(&database),
        "ESCALADE_CORS_ALLOWED_ORIGINS",
        wildcard,
    );
    let postgres_without_key = with_env(binary(), "ESCALADE_DATABASE_URL", postgres);
    let orphan = "api-key create --role partner --name orphan";
    let policies = tempfile::tempdir().unwrap();
    let policy = policies.path().join("policy.json");
    let shipped = include_str!("../../sla/policy.json");
    let mut without_minimal: serde_json::Value = serde_json::from_str(shipped).unwrap();
    without_minimal["severities"]
        .as_object_mut()
        .unwrap()
        .remove("minimal");
    std::fs::write(&policy, without_minimal.to_string()).unwrap();
    let policy_flag = format!("--sla-policy-file {}", policy.display());
    let policy_said = [policy.to_str().unwrap(), "severities.minimal is missing"];

    for (label, output, said) in [
        (
            "openapi --version 2.0",
            run(binary(), "openapi --version 2.0"),
            &["--version"][..],
        ),
        (
            "a partner key without a partner",
            run(escalade(&database), orphan),
            &["partner_id"],
        ),
        (
            "api-key create before the migrations",
            run(escalade(&fresh), "api-key create --role admin --name early"),
            &["escalade migrate"],
        ),
        (
            "an origin with a path, by flag",
            refused_start(escalade(&database), with_path),
            &not_an_origin,
        ),
        (
            "a wildcard origin, from the environment",
            refused_start(origins_from_env, ""),
            &not_an_origin,
        ),
        (
            "an SLA policy without minimal",
            refused_start(escalade(&database), &policy_flag),
            &policy_said,
        ),
        (
            "PostgreSQL without a secret key",
            refused_start(postgres_without_key, ""),
            &["ESCALADE_SECRET_KEY", "--secret-key-file"],
        ),
    ] {
        // Assert
        assert_refused(label, &output, said);
        assert!(output.stdout.is_empty(), "{label}: nothing on stdout");
    }
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
        let command = with_env(binary(), "ESCALADE_ATTACHMENT_STORE", store);

        let stderr = assert_refused(store, &refused_start(command, ""), &[reason]);

        assert!(!stderr.contains("abc"), "the secret repeated: {stderr}");
    }
}

#[tokio::test]
async fn the_first_start_prints_an_admin_key_once_and_logs_never_hold_it() {
    let database = TestDatabase::empty().await;

    let first = serve(&database, &[]);
    let admin = key_in(&first.printed, "admin").expect("the first start prints an admin key");
    let me = first
        .request("/v1/me", &admin)
        .header("X-Request-Id", "cli-trace-1");
    let me = Answer::read(me.send().await.unwrap()).await;
    let refused = first.get("/v1/partners", &format!("{admin}x")).await;
    let logs = first.stop();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let second = serve(&database, &[]);
    let second_printed = second.printed.clone();
    let second_logs = second.stop();

    assert_eq!(me.status, 200);
    assert_eq!(me.body["role"], "admin");
    assert_eq!(refused.status, 401);
    let again = key_in(&second_printed, "admin");
    assert!(again.is_none(), "the key is printed only once");
    let logged = logs.contains(&admin) || second_logs.contains(&admin);
    assert!(!logged, "no secret in any log line");
    assert!(!logs.contains(&admin[..20]), "not even most of it");
    let request_lines = json_lines(&logs).into_iter();
    let request_lines: Vec<Value> = request_lines
        .filter(|line| line.to_string().contains("cli-trace-1"))
        .collect();
    let finished = request_lines
        .iter()
        .find(|line| line["message"] == "request finished")
        .unwrap_or_else(|| panic!("the request is logged with its id: {request_lines:?}"));
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
        .find_map(|line| line.strip_prefix("  console  ")?.split(' ').next())
        .unwrap_or_else(|| panic!("the console's URL in {:?}", served.printed))
        .to_owned();
    let console = client.get(&console_url).send().await.unwrap();
    let (console_status, console_type) =
        (console.status(), console.headers()["content-type"].clone());
    let console_page = console.text().await.unwrap();
    let mut roles = Vec::new();
    for role in ["admin", "operator", "partner"] {
        let me = served.get("/v1/me", &served.demo_key(role)).await;
        roles.push(me.body["role"].clone());
    }
    let customers = served.request("/v1/customers", &served.demo_key("partner"));
    let customers = Answer::read(customers.query(&[("q", "上海")]).send().await.unwrap()).await;
    let expected_console_url = served.url("/console/");
    let printed = served.printed.clone();
    served.stop();

    assert_eq!(roles, ["admin", "operator", "partner"]);
    let company = &customers.body["items"][0]["company_name"];
    assert_eq!(company, "上海云启科技有限公司");
    assert_eq!(console_url, expected_console_url);
    let expected = ["admin", "operator", "partner", "console"];
    let firsts = printed
        .iter()
        .filter_map(|line| line.split_whitespace().next());
    let keys_then_console: Vec<&str> = firsts.filter(|first| expected.contains(first)).collect();
    assert_eq!(keys_then_console, expected);
    assert_eq!(console_status, 200);
    assert!(console_type.to_str().unwrap().starts_with("text/html"));
    assert!(console_page.contains("<html"), "{console_page}");
}

#[tokio::test]
async fn a_served_instance_allows_its_origins_answers_healthchecks_and_blames_bad_requests_on_the_client()
 {
    // Arrange
    let database = TestDatabase::migrated().await;
    let client = reqwest::Client::new();
    let origins = "https://console.partner.cn, http://127.0.0.1:5173";
    let cors = "ESCALADE_CORS_ALLOWED_ORIGINS";
    let served = serve_with(with_env(escalade(&database), cors, origins), &[]);
    let port = served.port;
    let healthcheck = |bind: String| run(with_env(binary(), "ESCALADE_BIND", &bind), "healthcheck");

    // Act
    let mut allowed = Vec::new();
    for origin in ["http://127.0.0.1:5173", "https://evil.example.cn"] {
        let preflight = client
            .request(reqwest::Method::OPTIONS, served.url("/v1/me"))
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "GET");
        let answer = preflight.send().await.unwrap();
        allowed.push(answer.headers().get("access-control-allow-origin").cloned());
    }
    let ready = healthcheck(format!("127.0.0.1:{port}"));
    // As in the container: listening on every address, asked on loopback.
    let unspecified = healthcheck(format!("0.0.0.0:{port}"));
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    let bad_header = b"GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n";
    stream.write_all(bad_header).unwrap();
    let mut malformed = String::new();
    let _ = stream.read_to_string(&mut malformed);
    let logs = served.stop();
    let stopped = healthcheck(format!("127.0.0.1:{port}"));

    // Assert
    assert_eq!(allowed[0].as_ref().unwrap(), "http://127.0.0.1:5173");
    assert_eq!(allowed[1], None);
    let stderr = String::from_utf8_lossy(&ready.stderr);
    assert!(ready.status.success(), "{stderr}");
    assert!(unspecified.status.success());
    assert_eq!(stopped.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&stopped.stderr).contains("/readyz"));
    assert!(malformed.starts_with("HTTP/1.1 400"), "{malformed}");
    let lines = json_lines(&logs);
    let about = |line: &&Value| {
        line["message"]
            .as_str()
            .is_some_and(|m| m.contains("stream error"))
    };
    let about_it: Vec<&Value> = lines.iter().filter(about).collect();
    assert!(!about_it.is_empty(), "{logs}");
    for line in about_it {
        assert_eq!(line["level"], "WARN", "{line}");
    }
    assert!(!lines.iter().any(|line| line["level"] == "ERROR"), "{logs}");
}

#[tokio::test]
async fn switches_take_yes_no_1_0_on_off_true_false_in_any_case() {
    // A fresh database: `--no-migrate` refuses to start on it (and leaves it fresh for the next
    // refusal); without it, it is migrated and served.
    let fresh = TestDatabase::empty().await;
    let (yes, no) = (["1", "YES", "on", "True"], ["0", "no", "OFF", "false"]);
    for (value, on) in yes
        .map(|v| (v, true))
        .into_iter()
        .chain(no.map(|v| (v, false)))
    {
        let database = if on {
            None
        } else {
            Some(TestDatabase::empty().await)
        };
        let database = database.as_ref().unwrap_or(&fresh);
        let command = with_env(escalade(database), "ESCALADE_NO_MIGRATE", value);
        if on {
            assert_refused(value, &refused_start(command, ""), &["migration(s) behind"]);
        } else {
            serve_with(command, &[]).stop();
        }
    }
    let command = with_env(escalade(&fresh), "ESCALADE_NO_MIGRATE", "maybe");
    assert_refused("maybe", &refused_start(command, ""), &["--no-migrate"]);
}

#[tokio::test]
async fn the_secret_key_is_made_beside_a_sqlite_file_and_kept() {
    // Arrange
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("escalade.db").display());
    let start = || {
        let command = with_env(binary(), "ESCALADE_DATABASE_URL", &url);
        serve_with(with_env(command, "ESCALADE_LOG_FORMAT", "json"), &[])
    };

    // Act
    let first_logs = start().stop();
    let key_file = dir.path().join("escalade.key");
    let written = std::fs::read_to_string(&key_file).expect("a key file beside the database");
    let second_logs = start().stop();

    // Assert
    let key = written.lines().find(|line| !line.starts_with('#')).unwrap();
    assert!(SecretKey::parse(key).is_ok(), "{written}");
    assert_eq!(std::fs::read_to_string(&key_file).unwrap(), written, "kept");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&key_file).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "readable by its owner only");
    assert!(first_logs.contains("created a secret key beside the database"));
    assert!(second_logs.contains("secret keys from a file"));
    assert!(!first_logs.contains(key) && !second_logs.contains(key));
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
            let refused = refused_start(command, "");
            assert_refused("PostgreSQL", &refused, &["--attachment-store"]);
        }
    }
}
