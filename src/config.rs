//! Command line and settings: every flag can also come from an `ESCALADE_*` environment variable.
//! A switch's variable takes `1`/`0`, `true`/`false`, `yes`/`no` or `on`/`off`, in any case.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::builder::BoolishValueParser;
use clap::{Args, Parser, Subcommand, ValueEnum};
use uuid::Uuid;

use crate::domain::Role;
use crate::domain::remediation::RemediationPolicy;
use crate::domain::webhook::Backoff;
use crate::http::client_address::TrustedProxies;
use crate::i18n::Language;
use crate::storage::StoreLocation;
use crate::store::attachments::Quota;

/// Where the embedded default keeps its data: a SQLite file in the working directory.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://escalade.db";

#[derive(Debug, Parser)]
#[command(
    name = "escalade",
    version,
    about = "Support escalations from CSP partners to 21Vianet"
)]
pub struct Cli {
    #[command(flatten)]
    pub database: DatabaseSettings,

    #[command(flatten)]
    pub log: LogSettings,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP service (the default when no command is given).
    Serve(Box<ServeSettings>),
    /// Apply pending database migrations and exit.
    Migrate,
    /// Print the OpenAPI document as JSON on standard output.
    Openapi(OpenapiArgs),
    /// Manage API keys from the command line.
    #[command(subcommand, name = "api-key")]
    ApiKey(ApiKeyCommand),
    /// Exit 0 when the local server's `/readyz` answers 200 (for container health checks).
    Healthcheck(HealthcheckArgs),
    /// Manage the deployment's secret keys, which seal secrets kept in the database.
    #[command(subcommand, name = "secret-key")]
    SecretKey(SecretKeyCommand),
}

#[derive(Debug, Subcommand)]
pub enum SecretKeyCommand {
    /// Print a new random secret key, for a key file or `ESCALADE_SECRET_KEY`.
    Generate,
    /// Seal every stored secret again under the current (first) key, after a rotation; the
    /// earlier keys can then be removed once a day has passed (idempotent answers sealed under
    /// them expire by then).
    Rewrap(SecretKeySettings),
}

/// Where the secret keys are, besides `ESCALADE_SECRET_KEY` (which takes precedence and holds
/// the keys themselves, comma-separated, the current one first).
#[derive(Debug, Clone, Default, Args)]
pub struct SecretKeySettings {
    /// A file of secret keys, one per line (base64 of 32 bytes), the current one first. Default:
    /// beside a SQLite database (`escalade.key` for `escalade.db`), created on first start;
    /// PostgreSQL deployments must give one (or `ESCALADE_SECRET_KEY`).
    #[arg(long, env = "ESCALADE_SECRET_KEY_FILE")]
    pub secret_key_file: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct HealthcheckArgs {
    /// The address `serve` listens on; an unspecified one (0.0.0.0, [::]) is asked on loopback.
    #[arg(long, env = "ESCALADE_BIND", default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,

    /// Seconds to wait for the answer.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..))]
    pub timeout_secs: u64,
}

#[derive(Debug, Args)]
pub struct OpenapiArgs {
    /// Which OpenAPI version to write: the document as published (3.1), or its rendition for
    /// tools that read only 3.0.
    #[arg(long, value_enum, default_value_t = OpenapiVersion::V3_1)]
    pub version: OpenapiVersion,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OpenapiVersion {
    #[value(name = "3.1")]
    V3_1,
    #[value(name = "3.0")]
    V3_0,
}

#[derive(Debug, Subcommand)]
pub enum ApiKeyCommand {
    /// Create a key and print only its secret on standard output.
    Create(CreateApiKey),
}

#[derive(Debug, Args)]
pub struct CreateApiKey {
    /// admin, operator or partner.
    #[arg(long, value_parser = parse_role)]
    pub role: Role,
    /// The partner a partner key acts for (required with `--role partner`).
    #[arg(long)]
    pub partner_id: Option<Uuid>,
    /// A name to recognise the key by, such as the system that uses it.
    #[arg(long)]
    pub name: String,
}

fn parse_role(value: &str) -> Result<Role, String> {
    value.parse()
}

#[derive(Debug, Clone, Args)]
pub struct DatabaseSettings {
    /// Database URL: `sqlite://PATH` (created on first start) or `postgres://...`.
    /// `DATABASE_URL` is read too; default `sqlite://escalade.db`.
    #[arg(
        long,
        env = "ESCALADE_DATABASE_URL",
        global = true,
        hide_env_values = true
    )]
    pub database_url: Option<String>,

    /// Most connections held open to the database.
    #[arg(
        long,
        env = "ESCALADE_DB_MAX_CONNECTIONS",
        default_value_t = 10,
        global = true
    )]
    pub db_max_connections: u32,

    /// Seconds to wait for a database connection before answering 503.
    #[arg(
        long,
        env = "ESCALADE_DB_TIMEOUT_SECS",
        default_value_t = 5,
        global = true
    )]
    pub db_timeout_secs: u64,

    /// Statements slower than this many milliseconds are logged as warnings (lock waits
    /// included).
    #[arg(
        long,
        env = "ESCALADE_SLOW_STATEMENT_MS",
        default_value_t = 1000,
        global = true
    )]
    pub slow_statement_ms: u64,

    /// On PostgreSQL, the longest any statement of a request may run, lock waits included, in
    /// milliseconds; one cut off is answered 503 `database_busy`. 0 for no limit. Migrations
    /// run without it.
    #[arg(
        long,
        env = "ESCALADE_STATEMENT_TIMEOUT_MS",
        default_value_t = 5000,
        global = true
    )]
    pub statement_timeout_ms: u64,
}

impl Default for DatabaseSettings {
    /// The command line's defaults.
    fn default() -> Self {
        Self {
            database_url: None,
            db_max_connections: 10,
            db_timeout_secs: 5,
            slow_statement_ms: 1000,
            statement_timeout_ms: 5000,
        }
    }
}

impl DatabaseSettings {
    /// The URL in force: the flag or `ESCALADE_DATABASE_URL`, then `DATABASE_URL`, then the
    /// embedded default.
    pub fn url(&self) -> String {
        self.database_url
            .clone()
            .or_else(|| {
                std::env::var("DATABASE_URL")
                    .ok()
                    .filter(|url| !url.is_empty())
            })
            .unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned())
    }

    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.db_timeout_secs)
    }

    pub fn slow_statement(&self) -> Duration {
        Duration::from_millis(self.slow_statement_ms)
    }

    /// The same database for work whose statements may take long, such as migrations: no
    /// statement timeout, one connection.
    pub fn for_maintenance(&self) -> Self {
        Self {
            statement_timeout_ms: 0,
            db_max_connections: 1,
            ..self.clone()
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Pretty when standard error is a terminal, JSON otherwise.
    Auto,
    /// One JSON object per line, for log collectors.
    Json,
    /// Coloured, multi-line, for people at a terminal.
    Pretty,
}

#[derive(Debug, Clone, Args)]
pub struct LogSettings {
    /// Log format.
    #[arg(long, env = "ESCALADE_LOG_FORMAT", value_enum, default_value_t = LogFormat::Auto, global = true)]
    pub log_format: LogFormat,

    /// Log filter in `tracing` syntax, such as `info` or `escalade=debug,sqlx=warn`.
    #[arg(long, env = "ESCALADE_LOG", default_value = "info", global = true)]
    pub log: String,
}

#[derive(Debug, Clone, Args)]
pub struct ServeSettings {
    /// Address and port to listen on; port 0 picks a free one.
    #[arg(long, env = "ESCALADE_BIND", default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,

    /// Seed a demo partner with customers and print working admin, operator and partner keys.
    #[arg(long, env = "ESCALADE_DEMO", value_parser = BoolishValueParser::new())]
    pub demo: bool,

    /// Do not apply pending migrations at start-up (run `escalade migrate` instead).
    #[arg(long, env = "ESCALADE_NO_MIGRATE", value_parser = BoolishValueParser::new())]
    pub no_migrate: bool,

    /// Largest request body accepted, in bytes; larger ones get 413.
    #[arg(long, env = "ESCALADE_BODY_LIMIT", default_value_t = 64 * 1024)]
    pub body_limit: usize,

    /// Seconds a request's body may take to arrive, plus one for every 64 KiB received; a slower
    /// one gets 408 and its connection is closed.
    #[arg(long, env = "ESCALADE_BODY_TIMEOUT_SECS", default_value_t = 15, value_parser = clap::value_parser!(u64).range(1..))]
    pub body_timeout_secs: u64,

    /// HTTP worker threads (default: one per core).
    #[arg(long, env = "ESCALADE_WORKERS")]
    pub workers: Option<usize>,

    /// Share of escalations rejected as misescalations (0 to 1) at which a partner's escalation
    /// quality calls for remediation.
    #[arg(long, env = "ESCALADE_MISESCALATION_THRESHOLD", default_value_t = 0.25, value_parser = parse_share)]
    pub misescalation_threshold: f64,

    /// Fewest escalations in the 90-day window for the misescalation rate to be judged.
    #[arg(
        long,
        env = "ESCALADE_MISESCALATION_MIN_ESCALATIONS",
        default_value_t = 8
    )]
    pub misescalation_min_escalations: u64,

    /// Requests per minute each API key may make (a bucket of this size, refilled evenly over
    /// the minute); 0 turns rate limiting off. Every instance over one PostgreSQL (or one
    /// `--redis-url`) counts together; on SQLite, the instance counts alone.
    #[arg(long, env = "ESCALADE_RATE_LIMIT_PER_MINUTE", default_value_t = 600)]
    pub rate_limit_per_minute: u32,

    /// Requests without a valid API key allowed per minute from one client address, and with one
    /// key prefix (a bucket of this size each, refilled over the minute); beyond them such
    /// requests get 429 instead of 401. A valid key is always admitted. 0 turns the limit off.
    /// Counted together like `--rate-limit-per-minute`.
    #[arg(long, env = "ESCALADE_AUTH_FAILURES_PER_MINUTE", default_value_t = 30)]
    pub auth_failures_per_minute: u32,

    /// A Redis server to share rate limits through (`redis://redis.internal:6379/0`) rather than
    /// the PostgreSQL database. None by default.
    #[arg(long, env = "ESCALADE_REDIS_URL", hide_env_values = true)]
    pub redis_url: Option<String>,

    /// What escalade's keys in that Redis start with, should several deployments share it.
    #[arg(long, env = "ESCALADE_REDIS_KEY_PREFIX", default_value = "escalade")]
    pub redis_key_prefix: String,

    /// Proxies (addresses or networks, comma-separated) whose `X-Forwarded-For` tells the
    /// client's address; from any other peer the header is ignored. None by default.
    #[arg(long, env = "ESCALADE_TRUSTED_PROXIES", default_value = "", value_parser = TrustedProxies::parse)]
    pub trusted_proxies: TrustedProxies,

    /// Seconds in-flight requests get to finish after SIGTERM or SIGINT.
    #[arg(long, env = "ESCALADE_SHUTDOWN_TIMEOUT_SECS", default_value_t = 30)]
    pub shutdown_timeout_secs: u64,

    /// Seconds an event stream may stay silent before it sends a comment line, so that proxies
    /// and clients see the connection is alive.
    #[arg(long, env = "ESCALADE_STREAM_KEEPALIVE_SECS", default_value_t = 15, value_parser = clap::value_parser!(u64).range(1..))]
    pub stream_keepalive_secs: u64,

    /// Seconds between sweeps of expired idempotency records.
    #[arg(long, env = "ESCALADE_HOUSEKEEPING_INTERVAL_SECS", default_value_t = 600, value_parser = clap::value_parser!(u64).range(1..))]
    pub housekeeping_interval_secs: u64,

    /// The language of answers to callers whose `Accept-Language` names neither English nor
    /// Simplified Chinese (or who send none): `en` or `zh-Hans`.
    #[arg(long, env = "ESCALADE_DEFAULT_LANGUAGE", default_value = "en", value_parser = parse_language)]
    pub default_language: Language,

    /// Origins whose browser pages may call the API (CORS), comma-separated, each exactly as
    /// browsers send it: `https://console.partner.cn`. None by default: no cross-origin access.
    #[arg(long, env = "ESCALADE_CORS_ALLOWED_ORIGINS", default_value = "", value_parser = CorsOrigins::parse)]
    pub cors_allowed_origins: CorsOrigins,

    #[command(flatten)]
    pub secret_keys: SecretKeySettings,

    #[command(flatten)]
    pub identity: IdentitySettings,

    #[command(flatten)]
    pub webhooks: WebhookSettings,

    #[command(flatten)]
    pub sla: SlaSettings,

    #[command(flatten)]
    pub attachments: AttachmentSettings,
}

/// Signing people in with their organisation's identity (Microsoft Entra ID operated by 21Vianet,
/// or any OpenID Provider). None of it set: API keys only.
#[derive(Debug, Clone, Default, Args)]
pub struct IdentitySettings {
    /// The identity provider's OpenID configuration document, such as
    /// https://login.partner.microsoftonline.cn/organizations/v2.0/.well-known/openid-configuration
    /// (https; http only for a provider on this machine).
    #[arg(long, env = "ESCALADE_OIDC_METADATA_URL")]
    pub oidc_metadata_url: Option<String>,

    /// The API's application id, which people's tokens must be issued for (`aud`).
    #[arg(long, env = "ESCALADE_OIDC_AUDIENCE")]
    pub oidc_audience: Option<String>,

    /// 21Vianet's own directory tenant: its people are operators and admins.
    #[arg(long, env = "ESCALADE_OPERATOR_TENANT_ID")]
    pub operator_tenant_id: Option<Uuid>,

    /// The console's public client id, with which people sign in from the browser.
    #[arg(long, env = "ESCALADE_OIDC_CONSOLE_CLIENT_ID")]
    pub oidc_console_client_id: Option<String>,
}

impl IdentitySettings {
    /// The provider, when one is configured; a partial or malformed configuration is refused.
    pub fn provider(&self) -> Result<Option<crate::identity::ProviderSettings>, String> {
        crate::identity::ProviderSettings::from_flags(
            self.oidc_metadata_url.as_deref(),
            self.oidc_audience.as_deref(),
            self.operator_tenant_id,
            self.oidc_console_client_id.as_deref(),
        )
    }
}

const MIB: u64 = 1024 * 1024;

#[derive(Debug, Clone, Args)]
pub struct AttachmentSettings {
    /// Where attachments' bytes are kept: `file:///var/lib/escalade/attachments`, or
    /// `s3://bucket/prefix` (credentials, region and endpoint from the usual `AWS_*` variables;
    /// object_store's S3 settings as query parameters, such as `?endpoint=…&allow_http=true`).
    /// Default: beside a SQLite database (`escalade.attachments` for `escalade.db`); PostgreSQL
    /// deployments must give one, and one that every instance shares.
    #[arg(long, env = "ESCALADE_ATTACHMENT_STORE", hide_env_values = true, value_parser = StoreLocationParser)]
    pub attachment_store: Option<StoreLocation>,

    /// The largest file accepted, in bytes.
    #[arg(long, env = "ESCALADE_ATTACHMENT_MAX_BYTES", default_value_t = 25 * MIB, value_parser = clap::value_parser!(u64).range(1..))]
    pub attachment_max_bytes: u64,

    /// How many files one escalation may hold.
    #[arg(long, env = "ESCALADE_ATTACHMENT_MAX_FILES", default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..))]
    pub attachment_max_files: u32,

    /// How many bytes one escalation's files may add up to.
    #[arg(long, env = "ESCALADE_ATTACHMENT_MAX_TOTAL_BYTES", default_value_t = 200 * MIB, value_parser = clap::value_parser!(u64).range(1..))]
    pub attachment_max_total_bytes: u64,

    /// How old a stored object without a row must be before housekeeping deletes it: longer
    /// than any upload takes.
    #[arg(
        long,
        env = "ESCALADE_ATTACHMENT_ORPHAN_GRACE_SECS",
        default_value_t = 3_600
    )]
    pub attachment_orphan_grace_secs: u64,
}

/// Parses `--attachment-store` without echoing the value in its error, as clap's own report
/// would: a store URL may carry an account's settings.
#[derive(Debug, Clone, Copy)]
struct StoreLocationParser;

impl clap::builder::TypedValueParser for StoreLocationParser {
    type Value = StoreLocation;

    fn parse_ref(
        &self,
        _: &clap::Command,
        _: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<StoreLocation, clap::Error> {
        let refuse = |reason: String| {
            clap::Error::raw(
                clap::error::ErrorKind::ValueValidation,
                format!("--attachment-store: {reason}\n"),
            )
        };
        let value = value
            .to_str()
            .ok_or_else(|| refuse("not UTF-8".to_owned()))?;
        StoreLocation::parse(value).map_err(refuse)
    }
}

impl AttachmentSettings {
    pub fn quota(&self) -> Quota {
        Quota {
            max_files: self.attachment_max_files,
            max_total_bytes: self.attachment_max_total_bytes,
        }
    }

    pub fn orphan_grace(&self) -> chrono::Duration {
        i64::try_from(self.attachment_orphan_grace_secs)
            .ok()
            .and_then(chrono::Duration::try_seconds)
            .unwrap_or(chrono::Duration::MAX)
    }

    /// The store given, or the one beside a SQLite database.
    pub fn store_for(&self, database_url: &str) -> Result<StoreLocation, String> {
        self.attachment_store
            .clone()
            .or_else(|| StoreLocation::beside_sqlite(database_url))
            .ok_or_else(|| {
                "give --attachment-store (ESCALADE_ATTACHMENT_STORE): without a SQLite file \
                 there is no default place for attachments"
                    .to_owned()
            })
    }
}

impl Default for AttachmentSettings {
    fn default() -> Self {
        Self {
            attachment_store: None,
            attachment_max_bytes: 25 * MIB,
            attachment_max_files: 20,
            attachment_max_total_bytes: 200 * MIB,
            attachment_orphan_grace_secs: 3_600,
        }
    }
}

/// The SLA clock, its alerts, and the event feed.
#[derive(Debug, Clone, Args)]
pub struct SlaSettings {
    /// A directory of business calendar files (`<year>.json`, the State Council's notice of that
    /// year's holidays and make-up working days) that add years to the shipped ones or replace
    /// them.
    #[arg(long, env = "ESCALADE_CALENDAR_DIR")]
    pub calendar_dir: Option<PathBuf>,

    /// A file that replaces the shipped SLA policy (`sla/policy.json`): for each severity, the
    /// response time and the support window of each kind of problem.
    #[arg(long, env = "ESCALADE_SLA_POLICY_FILE")]
    pub sla_policy_file: Option<PathBuf>,

    /// Share of the response time that, once elapsed without a first response, puts an
    /// escalation at risk and announces `escalation.sla_warning` (strictly between 0 and 1).
    #[arg(long, env = "ESCALADE_SLA_WARNING_SHARE", default_value_t = 0.8, value_parser = parse_open_share)]
    pub sla_warning_share: f64,

    /// Seconds between two looks for SLA warnings and breaches to announce.
    #[arg(long, env = "ESCALADE_SLA_CHECK_INTERVAL_SECS", default_value_t = 15, value_parser = clap::value_parser!(u64).range(1..))]
    pub sla_check_interval_secs: u64,

    /// Days the event feed (`/v1/events`) keeps events; older ones are deleted by housekeeping,
    /// and a cursor older than this gets 410.
    #[arg(long, env = "ESCALADE_EVENT_RETENTION_DAYS", default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..))]
    pub event_retention_days: u32,
}

impl SlaSettings {
    pub fn event_retention(&self) -> chrono::Duration {
        chrono::Duration::days(i64::from(self.event_retention_days))
    }
}

impl Default for SlaSettings {
    fn default() -> Self {
        Self {
            calendar_dir: None,
            sla_policy_file: None,
            sla_warning_share: 0.8,
            sla_check_interval_secs: 15,
            event_retention_days: 30,
        }
    }
}

/// The origins allowed to call the API from a browser.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CorsOrigins(pub Vec<String>);

impl CorsOrigins {
    /// A comma-separated list of origins; empty (as an unset variable often is) means none.
    fn parse(value: &str) -> Result<Self, String> {
        value
            .split(',')
            .map(str::trim)
            .filter(|origin| !origin.is_empty())
            .map(crate::http::cors::parse_origin)
            .collect::<Result<_, _>>()
            .map(Self)
    }
}

/// How webhooks are delivered.
#[derive(Debug, Clone, Args)]
pub struct WebhookSettings {
    /// Serve the API only and leave webhook delivery to other instances.
    #[arg(long, env = "ESCALADE_NO_WEBHOOK_DELIVERY", value_parser = BoolishValueParser::new())]
    pub no_webhook_delivery: bool,

    /// Let endpoint URLs reach loopback, private and link-local addresses (refused by default,
    /// so that webhooks cannot probe the network escalade runs in).
    #[arg(
        long = "webhook-allow-private-networks",
        env = "ESCALADE_WEBHOOK_ALLOW_PRIVATE_NETWORKS",
        value_parser = BoolishValueParser::new()
    )]
    pub allow_private_networks: bool,

    /// Send deliveries through this HTTP proxy (`http://proxy.internal:3128`). Without it the
    /// client uses no proxy at all, whatever `HTTP_PROXY` and the like say: the connect-time
    /// address check must see the endpoint, not a proxy. A proxy configured here must itself
    /// keep deliveries off private networks.
    #[arg(long = "webhook-proxy", env = "ESCALADE_WEBHOOK_PROXY", value_parser = parse_proxy)]
    pub proxy: Option<String>,

    /// Milliseconds between looks for due deliveries.
    #[arg(long = "webhook-poll-interval-ms", env = "ESCALADE_WEBHOOK_POLL_INTERVAL_MS", default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..))]
    pub poll_interval_ms: u64,

    /// Milliseconds an endpoint has to answer one attempt.
    #[arg(long = "webhook-timeout-ms", env = "ESCALADE_WEBHOOK_TIMEOUT_MS", default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub timeout_ms: u64,

    /// Milliseconds before the first retry; each further retry waits twice as long.
    #[arg(long = "webhook-backoff-base-ms", env = "ESCALADE_WEBHOOK_BACKOFF_BASE_MS", default_value_t = 5_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub backoff_base_ms: u64,

    /// Longest wait between two attempts, in seconds.
    #[arg(long = "webhook-backoff-max-secs", env = "ESCALADE_WEBHOOK_BACKOFF_MAX_SECS", default_value_t = 3_600, value_parser = clap::value_parser!(u64).range(1..))]
    pub backoff_max_secs: u64,

    /// Seconds after an event during which delivery is retried; then it is marked failed.
    #[arg(long = "webhook-horizon-secs", env = "ESCALADE_WEBHOOK_HORIZON_SECS", default_value_t = 72 * 3_600)]
    pub horizon_secs: u64,

    /// Seconds the previous secret keeps signing after a rotation.
    #[arg(long = "webhook-secret-grace-secs", env = "ESCALADE_WEBHOOK_SECRET_GRACE_SECS", default_value_t = 24 * 3_600)]
    pub secret_grace_secs: u64,
}

impl WebhookSettings {
    pub fn poll_interval(&self) -> Duration {
        Duration::from_millis(self.poll_interval_ms)
    }

    pub fn timeout(&self) -> Duration {
        Duration::from_millis(self.timeout_ms)
    }

    /// How long a claimed delivery stays with the instance that claimed it: one attempt and a
    /// margin to record it. An instance that dies loses its claims when this runs out.
    pub fn lease(&self) -> Duration {
        self.timeout() + Duration::from_secs(5)
    }

    pub fn backoff(&self) -> Backoff {
        Backoff {
            base: Duration::from_millis(self.backoff_base_ms),
            max: Duration::from_secs(self.backoff_max_secs),
        }
    }

    pub fn horizon(&self) -> Duration {
        Duration::from_secs(self.horizon_secs)
    }

    pub fn secret_grace(&self) -> Duration {
        Duration::from_secs(self.secret_grace_secs)
    }
}

impl Default for WebhookSettings {
    fn default() -> Self {
        Self {
            no_webhook_delivery: false,
            allow_private_networks: false,
            proxy: None,
            poll_interval_ms: 1000,
            timeout_ms: 10_000,
            backoff_base_ms: 5_000,
            backoff_max_secs: 3_600,
            horizon_secs: 72 * 3_600,
            secret_grace_secs: 24 * 3_600,
        }
    }
}

fn parse_language(value: &str) -> Result<Language, String> {
    Language::parse(value)
        .ok_or_else(|| format!("`{value}` is not a language escalade speaks: en or zh-Hans"))
}

fn parse_proxy(value: &str) -> Result<String, String> {
    match url::Url::parse(value) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => {
            Ok(value.to_owned())
        }
        _ => Err(format!(
            "`{value}` is not a proxy URL such as http://proxy.internal:3128"
        )),
    }
}

fn parse_open_share(value: &str) -> Result<f64, String> {
    match value.parse::<f64>() {
        Ok(share) if share > 0.0 && share < 1.0 => Ok(share),
        _ => Err(format!("`{value}` is not a share strictly between 0 and 1")),
    }
}

fn parse_share(value: &str) -> Result<f64, String> {
    match value.parse::<f64>() {
        Ok(share) if (0.0..=1.0).contains(&share) => Ok(share),
        _ => Err(format!("`{value}` is not a share between 0 and 1")),
    }
}

impl ServeSettings {
    pub fn remediation_policy(&self) -> RemediationPolicy {
        RemediationPolicy {
            threshold: self.misescalation_threshold,
            min_escalations: self.misescalation_min_escalations,
        }
    }
}

impl Default for ServeSettings {
    fn default() -> Self {
        Self {
            bind: "127.0.0.1:8080".parse().expect("a valid socket address"),
            demo: false,
            no_migrate: false,
            body_limit: 64 * 1024,
            body_timeout_secs: 15,
            workers: None,
            misescalation_threshold: RemediationPolicy::default().threshold,
            misescalation_min_escalations: RemediationPolicy::default().min_escalations,
            rate_limit_per_minute: 600,
            auth_failures_per_minute: 30,
            redis_url: None,
            redis_key_prefix: "escalade".to_owned(),
            trusted_proxies: TrustedProxies::default(),
            shutdown_timeout_secs: 30,
            stream_keepalive_secs: 15,
            housekeeping_interval_secs: 600,
            default_language: Language::English,
            cors_allowed_origins: CorsOrigins::default(),
            secret_keys: SecretKeySettings::default(),
            identity: IdentitySettings::default(),
            webhooks: WebhookSettings::default(),
            sla: SlaSettings::default(),
            attachments: AttachmentSettings::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cli_is_well_formed() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }

    #[test]
    fn serve_is_the_default_command() {
        let cli = Cli::try_parse_from(["escalade"]).unwrap();
        assert!(cli.command.is_none());
    }

    #[test]
    fn api_key_create_takes_role_partner_and_name() {
        let partner = Uuid::now_v7();
        let cli = Cli::try_parse_from([
            "escalade",
            "api-key",
            "create",
            "--role",
            "partner",
            "--partner-id",
            &partner.to_string(),
            "--name",
            "ticketing",
        ])
        .unwrap();
        let Some(Command::ApiKey(ApiKeyCommand::Create(create))) = cli.command else {
            panic!("expected api-key create");
        };
        assert_eq!(create.role, Role::Partner);
        assert_eq!(create.partner_id, Some(partner));
        assert!(
            Cli::try_parse_from([
                "escalade", "api-key", "create", "--role", "root", "--name", "x"
            ])
            .is_err()
        );
    }

    #[test]
    fn cors_origins_are_a_comma_separated_list_and_empty_means_none() {
        assert_eq!(CorsOrigins::parse(""), Ok(CorsOrigins::default()));
        assert_eq!(CorsOrigins::parse(" , "), Ok(CorsOrigins::default()));
        assert_eq!(
            CorsOrigins::parse("https://console.partner.cn, http://127.0.0.1:5173"),
            Ok(CorsOrigins(vec![
                "https://console.partner.cn".to_owned(),
                "http://127.0.0.1:5173".to_owned()
            ]))
        );
        assert!(CorsOrigins::parse("https://console.partner.cn,*").is_err());
    }
}
