//! Servers some tests need besides the database under test: PostgreSQL (faults that only a
//! network database has), Redis (rate limits shared by instances over SQLite) and an
//! S3-compatible object store (attachments on S3).
//!
//! Where one cannot be reached, a plain `cargo test` skips the tests that need it and says so on
//! the terminal, naming the test, the server and how to provide it. CI sets
//! `ESCALADE_TEST_REQUIRE_SERVERS=1`: there a missing server fails its tests instead, so nothing
//! is skipped unseen.

use std::io::Write;
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

/// The PostgreSQL a test uses when the suite runs on SQLite.
pub const POSTGRES_DEFAULT: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// The variable CI sets so that a missing server fails rather than skips.
const REQUIRE: &str = "ESCALADE_TEST_REQUIRE_SERVERS";

/// A server a test needs.
pub struct Needed {
    /// What it is, for people: "Redis".
    what: &'static str,
    /// Its URL, from the environment or the default.
    pub url: String,
    /// How to provide it.
    how: &'static str,
}

impl Needed {
    /// The PostgreSQL server's maintenance database: `ESCALADE_TEST_DATABASE_URL` when the
    /// suite runs on PostgreSQL, the local server otherwise.
    pub fn postgres() -> Self {
        let url = std::env::var(crate::helpers::TEST_DATABASE_ENV)
            .ok()
            .filter(|url| url.starts_with("postgres"))
            .unwrap_or_else(|| POSTGRES_DEFAULT.to_owned());
        Self {
            what: "PostgreSQL",
            url,
            how: "start PostgreSQL on 127.0.0.1:5432, or set ESCALADE_TEST_DATABASE_URL",
        }
    }

    /// Redis: `ESCALADE_TEST_REDIS_URL`, or the one on loopback.
    pub fn redis() -> Self {
        let url = std::env::var("ESCALADE_TEST_REDIS_URL")
            .ok()
            .filter(|url| !url.is_empty())
            .unwrap_or_else(|| "redis://127.0.0.1:6379/0".to_owned());
        Self {
            what: "Redis",
            url,
            how: "start redis-server on 127.0.0.1:6379, or set ESCALADE_TEST_REDIS_URL",
        }
    }

    /// An S3-compatible store: `ESCALADE_TEST_S3_ENDPOINT` (bucket `ESCALADE_TEST_S3_BUCKET`,
    /// credentials in the usual `AWS_*` variables), which has no default.
    pub fn s3() -> Self {
        Self {
            what: "an S3-compatible store",
            url: std::env::var("ESCALADE_TEST_S3_ENDPOINT").unwrap_or_default(),
            how: "run moto_server -p 5000, create the bucket (curl -X PUT \
                  http://127.0.0.1:5000/escalade-test) and set ESCALADE_TEST_S3_ENDPOINT=\
                  http://127.0.0.1:5000 with AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and \
                  AWS_REGION",
        }
    }

    /// Whether the server accepts a connection within a second.
    fn reachable(&self) -> bool {
        let Ok(url) = url::Url::parse(&self.url) else {
            return false;
        };
        let port = url.port().or(match url.scheme() {
            "postgres" | "postgresql" => Some(5432),
            "redis" => Some(6379),
            "http" => Some(80),
            "https" => Some(443),
            _ => None,
        });
        let (Some(host), Some(port)) = (url.host_str(), port) else {
            return false;
        };
        (host, port).to_socket_addrs().is_ok_and(|mut addresses| {
            addresses
                .any(|address| TcpStream::connect_timeout(&address, Duration::from_secs(1)).is_ok())
        })
    }

    /// The server's URL when it can be reached. Otherwise, with servers required, the test
    /// fails; without, it is skipped with a line on the terminal and `None` is returned.
    #[track_caller]
    pub fn or_skip(self) -> Option<String> {
        if self.reachable() {
            return Some(self.url);
        }
        // The test harness names each test's thread after the test.
        let thread = std::thread::current();
        let test = thread.name().unwrap_or("a test");
        let why = format!(
            "needs {} ({}), which cannot be reached: {}",
            self.what,
            if self.url.is_empty() {
                "not set"
            } else {
                &self.url
            },
            self.how
        );
        assert!(
            std::env::var(REQUIRE).is_err(),
            "{test} {why} ({REQUIRE} is set, so it may not be skipped)"
        );
        // Past the test harness's capture, so that a passing run still shows it.
        let _ = writeln!(std::io::stderr().lock(), "skipped {test}: it {why}");
        None
    }
}
