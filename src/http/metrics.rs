//! `/metrics` in OpenMetrics' text format (the Prometheus project's `prometheus-client`): requests
//! by route and status, their latency, the
//! database pool, the webhook outbox and delivery outcomes, SLA breaches and escalations at risk. Routes are the templates
//! (`/v1/customers/{id}`), never raw paths, and methods a fixed few, so the number of series
//! stays bounded whatever clients send.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use actix_web::{HttpResponse, get, web};
use chrono::Utc;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::{ConstGauge, Gauge};
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use sea_orm::{DatabaseBackend, DatabaseConnection};

use super::AppState;
use crate::error::ApiError;
use crate::store::{escalations, webhooks};

/// The label for requests that matched no route.
const UNMATCHED: &str = "unmatched";

/// The methods counted by name; any other (clients may send any token) is `other`.
const METHODS: [&str; 7] = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

/// The latency histogram's buckets, in seconds.
const LATENCY_BUCKETS: [f64; 13] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The content type of the exposition, OpenMetrics' text format.
const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

fn method_label(method: &str) -> &'static str {
    METHODS
        .into_iter()
        .find(|known| *known == method)
        .unwrap_or("other")
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Request {
    method: &'static str,
    route: String,
    status: u16,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Route {
    method: &'static str,
    route: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PoolState {
    state: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Outcome {
    outcome: &'static str,
}

type FloatGauge = Gauge<f64, AtomicU64>;

/// The service's metrics, shared by every worker.
#[derive(Clone)]
pub struct Metrics {
    registry: Arc<Registry>,
    requests: Family<Request, Counter>,
    latency: Family<Route, Histogram, fn() -> Histogram>,
    pool: Family<PoolState, Gauge>,
    outbox_pending: Gauge,
    outbox_oldest: FloatGauge,
    webhook_attempts: Family<Outcome, Counter>,
    breached: Counter,
    at_risk: Gauge,
    event_streams: Gauge,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let made = Self {
            registry: Arc::default(),
            requests: Family::default(),
            latency: Family::new_with_constructor(|| Histogram::new(LATENCY_BUCKETS)),
            pool: Family::default(),
            outbox_pending: Gauge::default(),
            outbox_oldest: FloatGauge::default(),
            webhook_attempts: Family::default(),
            breached: Counter::default(),
            at_risk: Gauge::default(),
            event_streams: Gauge::default(),
        };
        let mut root = Registry::default();
        root.register_collector(Box::new(ProcessMetrics));
        let ours = root.sub_registry_with_prefix("escalade");
        ours.register(
            "http_requests",
            "HTTP requests answered, by method, route and status.",
            made.requests.clone(),
        );
        ours.register(
            "http_request_duration_seconds",
            "Time to answer HTTP requests, by method and route.",
            made.latency.clone(),
        );
        ours.register(
            "db_pool_connections",
            "Database connections held by the pool, by state.",
            made.pool.clone(),
        );
        ours.register(
            "outbox_pending_deliveries",
            "Webhook deliveries not yet acknowledged nor given up.",
            made.outbox_pending.clone(),
        );
        ours.register(
            "outbox_oldest_pending_seconds",
            "Age of the oldest pending webhook delivery, 0 when none is pending.",
            made.outbox_oldest.clone(),
        );
        ours.register(
            "webhook_attempts",
            "Webhook delivery attempts made by this instance, by outcome: delivered, failed (to be retried) or given_up.",
            made.webhook_attempts.clone(),
        );
        ours.register(
            "escalations_breached",
            "SLA breaches announced by this instance (escalation.sla_breached).",
            made.breached.clone(),
        );
        ours.register(
            "escalations_at_risk",
            "Open escalations past their SLA warning time, unanswered and not yet overdue.",
            made.at_risk.clone(),
        );
        ours.register(
            "event_streams_open",
            "Event streams (/v1/events/stream) open on this instance.",
            made.event_streams.clone(),
        );
        for outcome in ["delivered", "failed", "given_up"] {
            drop(made.webhook_attempts.get_or_create(&Outcome { outcome }));
        }
        Self {
            registry: Arc::new(root),
            ..made
        }
    }

    /// Counts one SLA breach announced.
    pub fn count_breach(&self) {
        self.breached.inc();
    }

    /// Reads the escalations at risk at scrape time; like the outbox, kept when the database is
    /// down.
    async fn sample_at_risk(&self, db: &DatabaseConnection) {
        match escalations::count_at_risk(db, Utc::now()).await {
            Ok(count) => {
                self.at_risk.set(i64::try_from(count).unwrap_or(i64::MAX));
            }
            Err(err) => tracing::warn!(error = %err, "cannot count escalations at risk"),
        }
    }

    /// Counts one answered request.
    pub fn observe(&self, method: &str, route: Option<&str>, status: u16, elapsed: Duration) {
        let route = route.unwrap_or(UNMATCHED).to_owned();
        let method = method_label(method);
        self.requests
            .get_or_create(&Request {
                method,
                route: route.clone(),
                status,
            })
            .inc();
        self.latency
            .get_or_create(&Route { method, route })
            .observe(elapsed.as_secs_f64());
    }

    /// Reads the pool at scrape time.
    fn sample_pool(&self, db: &DatabaseConnection) {
        let (size, idle) = match db.get_database_backend() {
            DatabaseBackend::Postgres => {
                let pool = db.get_postgres_connection_pool();
                (pool.size(), pool.num_idle())
            }
            _ => {
                let pool = db.get_sqlite_connection_pool();
                (pool.size(), pool.num_idle())
            }
        };
        let idle = i64::try_from(idle).unwrap_or(i64::MAX);
        self.pool
            .get_or_create(&PoolState { state: "idle" })
            .set(idle);
        self.pool
            .get_or_create(&PoolState { state: "in_use" })
            .set(i64::from(size).saturating_sub(idle));
    }

    /// Counts one webhook attempt by its outcome.
    pub fn count_webhook_attempt(&self, outcome: &'static str) {
        self.webhook_attempts
            .get_or_create(&Outcome { outcome })
            .inc();
    }

    /// Reads the outbox at scrape time. With the database down the gauges keep their last
    /// values: the scrape still answers, and the pool gauges tell what is wrong.
    async fn sample_outbox(&self, db: &DatabaseConnection) {
        match webhooks::backlog(db).await {
            Ok((pending, oldest)) => {
                self.outbox_pending
                    .set(i64::try_from(pending).unwrap_or(i64::MAX));
                let age = oldest.map_or(0.0, |at| {
                    (Utc::now() - at).num_milliseconds().max(0) as f64 / 1000.0
                });
                self.outbox_oldest.set(age);
            }
            Err(err) => tracing::warn!(error = %err, "cannot read the outbox for metrics"),
        }
    }

    fn render(&self) -> Result<String, ApiError> {
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)
            .map_err(ApiError::internal)?;
        Ok(text)
    }
}

/// The process's own figures, read from `/proc` at scrape time under the names every Prometheus
/// client uses: `process_cpu_seconds_total`, `process_resident_memory_bytes`,
/// `process_virtual_memory_bytes`, `process_open_fds`, `process_max_fds`, `process_threads` and
/// `process_start_time_seconds`. Where `/proc` cannot be read, they are left out.
#[derive(Debug)]
struct ProcessMetrics;

impl ProcessMetrics {
    fn gauge(
        encoder: &mut DescriptorEncoder,
        name: &str,
        help: &str,
        value: impl Into<f64>,
    ) -> Result<(), std::fmt::Error> {
        let gauge = ConstGauge::new(value.into());
        gauge.encode(encoder.encode_descriptor(name, help, None, gauge.metric_type())?)
    }
}

impl Collector for ProcessMetrics {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let Ok(process) = procfs::process::Process::myself() else {
            return Ok(());
        };
        let Ok(stat) = process.stat() else {
            return Ok(());
        };
        let ticks = procfs::ticks_per_second() as f64;
        let cpu = ConstCounter::new((stat.utime + stat.stime) as f64 / ticks);
        cpu.encode(encoder.encode_descriptor(
            "process_cpu_seconds",
            "Total user and system CPU time spent in seconds.",
            None,
            cpu.metric_type(),
        )?)?;
        let page = procfs::page_size() as f64;
        Self::gauge(
            &mut encoder,
            "process_resident_memory_bytes",
            "Resident memory size in bytes.",
            stat.rss as f64 * page,
        )?;
        Self::gauge(
            &mut encoder,
            "process_virtual_memory_bytes",
            "Virtual memory size in bytes.",
            stat.vsize as f64,
        )?;
        Self::gauge(
            &mut encoder,
            "process_threads",
            "Number of OS threads in the process.",
            stat.num_threads as f64,
        )?;
        if let Ok(boot) = procfs::boot_time_secs() {
            let started = boot as f64 + stat.starttime as f64 / ticks;
            Self::gauge(
                &mut encoder,
                "process_start_time_seconds",
                "Start time of the process since the Unix epoch in seconds.",
                started,
            )?;
        }
        if let Ok(open) = process.fd_count() {
            Self::gauge(
                &mut encoder,
                "process_open_fds",
                "Number of open file descriptors.",
                open as f64,
            )?;
        }
        if let Ok(limits) = process.limits()
            && let procfs::process::LimitValue::Value(max) = limits.max_open_files.soft_limit
        {
            Self::gauge(
                &mut encoder,
                "process_max_fds",
                "Maximum number of open file descriptors.",
                max as f64,
            )?;
        }
        Ok(())
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

/// Metrics
///
/// OpenMetrics text: `escalade_http_requests_total`,
/// `escalade_http_request_duration_seconds`, `escalade_db_pool_connections`,
/// `escalade_outbox_pending_deliveries`, `escalade_outbox_oldest_pending_seconds`,
/// `escalade_webhook_attempts_total`, `escalade_escalations_breached_total` and
/// `escalade_escalations_at_risk`, `escalade_event_streams_open`, and the process's own `process_*` figures (CPU, memory, file
/// descriptors, threads, start time). No key needed; expose it to your monitoring network only.
#[utoipa::path(
    operation_id = "metrics",
    tag = "operations",
    security(),
    responses((status = 200, description = "The metrics, in OpenMetrics' text format (which Prometheus reads).",
        body = String, content_type = "application/openmetrics-text; version=1.0.0; charset=utf-8",
        example = json!("# HELP escalade_http_requests HTTP requests answered, by method, route and status.\n# TYPE escalade_http_requests counter\nescalade_http_requests_total{method=\"GET\",route=\"/v1/customers\",status=\"200\"} 42\n# EOF\n"))),
)]
#[get("/metrics")]
pub async fn metrics(
    state: web::Data<AppState>,
    metrics: web::Data<Metrics>,
) -> Result<HttpResponse, ApiError> {
    metrics.sample_pool(&state.db);
    metrics.sample_outbox(&state.db).await;
    metrics.sample_at_risk(&state.db).await;
    let streams = state.streaming.slots.open();
    metrics
        .event_streams
        .set(i64::try_from(streams).unwrap_or(i64::MAX));
    Ok(HttpResponse::Ok()
        .content_type(CONTENT_TYPE)
        .body(metrics.render()?))
}
