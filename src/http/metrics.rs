//! `/metrics` in Prometheus's text format: requests by route and status, their latency, the
//! database pool, the webhook outbox and delivery outcomes, SLA breaches and escalations at risk. Routes are the templates
//! (`/v1/customers/{id}`), never raw paths, and methods a fixed few, so the number of series
//! stays bounded whatever clients send.

use std::time::Duration;

use actix_web::{HttpResponse, get, web};
use chrono::Utc;
use prometheus::{
    Encoder, Gauge, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec,
    Opts, Registry, TextEncoder,
};
use sea_orm::{DatabaseBackend, DatabaseConnection};

use super::AppState;
use crate::error::ApiError;
use crate::store::{escalations, webhooks};

/// The label for requests that matched no route.
const UNMATCHED: &str = "unmatched";

/// The methods counted by name; any other (clients may send any token) is `other`.
const METHODS: [&str; 7] = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

fn method_label(method: &str) -> &str {
    METHODS
        .into_iter()
        .find(|known| *known == method)
        .unwrap_or("other")
}

/// The service's metrics, shared by every worker.
#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    pool: IntGaugeVec,
    outbox_pending: IntGauge,
    outbox_oldest: Gauge,
    webhook_attempts: IntCounterVec,
    breached: IntCounter,
    at_risk: IntGauge,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let registry =
            Registry::new_custom(Some("escalade".to_owned()), None).expect("a valid prefix");
        let requests = IntCounterVec::new(
            Opts::new(
                "http_requests_total",
                "HTTP requests answered, by method, route and status.",
            ),
            &["method", "route", "status"],
        )
        .expect("valid request counter");
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "http_request_duration_seconds",
                "Time to answer HTTP requests, by method and route.",
            )
            .buckets(vec![
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
            ]),
            &["method", "route"],
        )
        .expect("valid latency histogram");
        let pool = IntGaugeVec::new(
            Opts::new(
                "db_pool_connections",
                "Database connections held by the pool, by state.",
            ),
            &["state"],
        )
        .expect("valid pool gauge");
        let outbox_pending = IntGauge::new(
            "outbox_pending_deliveries",
            "Webhook deliveries not yet acknowledged nor given up.",
        )
        .expect("valid outbox gauge");
        let outbox_oldest = Gauge::new(
            "outbox_oldest_pending_seconds",
            "Age of the oldest pending webhook delivery, 0 when none is pending.",
        )
        .expect("valid outbox age gauge");
        let webhook_attempts = IntCounterVec::new(
            Opts::new(
                "webhook_attempts_total",
                "Webhook delivery attempts made by this instance, by outcome: delivered, failed (to be retried) or given_up.",
            ),
            &["outcome"],
        )
        .expect("valid attempt counter");
        let breached = IntCounter::new(
            "escalations_breached_total",
            "SLA breaches announced by this instance (escalation.sla_breached).",
        )
        .expect("valid breach counter");
        let at_risk = IntGauge::new(
            "escalations_at_risk",
            "Open escalations past their SLA warning time, unanswered and not yet overdue.",
        )
        .expect("valid at-risk gauge");
        for collector in [
            Box::new(requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(latency.clone()),
            Box::new(pool.clone()),
            Box::new(outbox_pending.clone()),
            Box::new(outbox_oldest.clone()),
            Box::new(webhook_attempts.clone()),
            Box::new(breached.clone()),
            Box::new(at_risk.clone()),
        ] {
            registry
                .register(collector)
                .expect("each metric is registered once");
        }
        for outcome in ["delivered", "failed", "given_up"] {
            webhook_attempts.with_label_values(&[outcome]);
        }
        Self {
            registry,
            requests,
            latency,
            pool,
            outbox_pending,
            outbox_oldest,
            webhook_attempts,
            breached,
            at_risk,
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
            Ok(count) => self.at_risk.set(i64::try_from(count).unwrap_or(i64::MAX)),
            Err(err) => tracing::warn!(error = %err, "cannot count escalations at risk"),
        }
    }

    /// Counts one answered request.
    pub fn observe(&self, method: &str, route: Option<&str>, status: u16, elapsed: Duration) {
        let route = route.unwrap_or(UNMATCHED);
        let method = method_label(method);
        self.requests
            .with_label_values(&[method, route, &status.to_string()])
            .inc();
        self.latency
            .with_label_values(&[method, route])
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
        self.pool.with_label_values(&["idle"]).set(idle as i64);
        self.pool
            .with_label_values(&["in_use"])
            .set(i64::from(size).saturating_sub(idle as i64));
    }

    /// Counts one webhook attempt by its outcome.
    pub fn count_webhook_attempt(&self, outcome: &str) {
        self.webhook_attempts.with_label_values(&[outcome]).inc();
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
        let mut text = Vec::new();
        TextEncoder::new()
            .encode(&self.registry.gather(), &mut text)
            .map_err(ApiError::internal)?;
        String::from_utf8(text).map_err(ApiError::internal)
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

/// Metrics
///
/// Prometheus text format: `escalade_http_requests_total`,
/// `escalade_http_request_duration_seconds`, `escalade_db_pool_connections`,
/// `escalade_outbox_pending_deliveries`, `escalade_outbox_oldest_pending_seconds`,
/// `escalade_webhook_attempts_total`, `escalade_escalations_breached_total` and
/// `escalade_escalations_at_risk`. No key needed; expose it to your monitoring network only.
#[utoipa::path(
    operation_id = "metrics",
    tag = "operations",
    security(),
    responses((status = 200, description = "The metrics, in Prometheus's text exposition format.",
        body = String, content_type = "text/plain; version=0.0.4",
        example = json!("# HELP escalade_http_requests_total HTTP requests answered, by method, route and status.\n# TYPE escalade_http_requests_total counter\nescalade_http_requests_total{method=\"GET\",route=\"/v1/customers\",status=\"200\"} 42\n"))),
)]
#[get("/metrics")]
pub async fn metrics(
    state: web::Data<AppState>,
    metrics: web::Data<Metrics>,
) -> Result<HttpResponse, ApiError> {
    metrics.sample_pool(&state.db);
    metrics.sample_outbox(&state.db).await;
    metrics.sample_at_risk(&state.db).await;
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(metrics.render()?))
}
