//! The background worker: delivers webhooks from the outbox and sweeps expired idempotency
//! records and events past the feed's retention.
//!
//! Every instance may run it. Deliveries are claimed under a lease, so instances share the
//! outbox without sending a delivery twice; a crashed instance's leases run out and its claims
//! become due again, so nothing committed is lost. Each attempt is signed (Standard Webhooks),
//! bounded by a timeout, refused before connecting when the address is not public (unless the
//! deployment allows it), and recorded; failures are retried with exponential back-off and
//! jitter until the horizon.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use sea_orm::{DatabaseConnection, DbErr};
use tokio::sync::watch;
use tokio::task::JoinSet;
use uuid::Uuid;

use crate::config::WebhookSettings;
use crate::domain::sealing::KeyRing;
use crate::domain::webhook::{Host, WebhookUrl, is_public, signature_header};
use crate::http::metrics::Metrics;
use crate::limits::SharedStore;
use crate::storage::AttachmentStore;
use crate::store::webhooks::{self, AttemptOutcome, Due, Next};
use crate::store::{WriteGate, attachments, idempotency};

/// Deliveries claimed per round.
const BATCH: u64 = 32;

/// How long a host name may take to resolve when an endpoint is registered.
const RESOLVE_TIMEOUT: Duration = Duration::from_secs(3);

/// Why an endpoint URL may not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The host name does not resolve.
    Unresolvable,
    /// The host is, or resolves to, an address that is not public.
    NotPublic(IpAddr),
}

/// Checks that `url` reaches only public addresses (or anything, when `allow_private`).
pub async fn admit(url: &WebhookUrl, allow_private: bool) -> Result<(), Refusal> {
    let addresses = match url.host() {
        Host::Address(address) => vec![*address],
        Host::Name(name) => {
            let lookup = tokio::net::lookup_host((name.as_str(), url.port()));
            match tokio::time::timeout(RESOLVE_TIMEOUT, lookup).await {
                Ok(Ok(found)) => found.map(|addr| addr.ip()).collect(),
                Ok(Err(_)) | Err(_) => Vec::new(),
            }
        }
    };
    if addresses.is_empty() {
        return Err(Refusal::Unresolvable);
    }
    match addresses
        .into_iter()
        .find(|ip| !allow_private && !is_public(*ip))
    {
        Some(address) => Err(Refusal::NotPublic(address)),
        None => Ok(()),
    }
}

/// Resolves host names for the delivery client and drops addresses that are not public, so a
/// name that changes what it points to after registration still cannot reach inside.
struct PublicResolver {
    allow_private: bool,
}

impl Resolve for PublicResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let found = tokio::net::lookup_host((name.as_str(), 0)).await?;
            let allowed: Vec<SocketAddr> = found
                .filter(|addr| allow_private || is_public(addr.ip()))
                .collect();
            if allowed.is_empty() {
                return Err(format!("{} resolves to no public address", name.as_str()).into());
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

/// The delivery client: a timeout per attempt, no redirects, only admitted addresses, and a
/// proxy only when one is configured for deliveries (never one from the environment).
fn client(settings: &WebhookSettings) -> reqwest::Client {
    let builder = match &settings.proxy {
        Some(proxy) => reqwest::Client::builder()
            .proxy(reqwest::Proxy::all(proxy).expect("--webhook-proxy was checked at start")),
        None => reqwest::Client::builder().no_proxy(),
    };
    builder
        .timeout(settings.timeout())
        .connect_timeout(settings.timeout())
        .redirect(reqwest::redirect::Policy::none())
        .dns_resolver(Arc::new(PublicResolver {
            allow_private: settings.allow_private_networks,
        }))
        .user_agent(concat!("escalade-webhooks/", env!("CARGO_PKG_VERSION")))
        .build()
        .expect("the webhook client's settings are valid")
}

/// What housekeeping sweeps, and how often.
#[derive(Debug, Clone)]
pub struct Housekeeping {
    pub interval: Duration,
    /// How long events stay in the outbox for the feed.
    pub event_retention: chrono::Duration,
    /// Where attachments are kept, for objects whose row was never written.
    pub attachments: AttachmentStore,
    /// How old such an object must be: older than any upload in progress.
    pub orphan_grace: chrono::Duration,
    /// The rate limits every instance shares, whose full buckets are deleted.
    pub rate_limits: Option<Arc<SharedStore>>,
}

/// The background worker of one instance.
pub struct Worker {
    db: DatabaseConnection,
    /// Write transactions in turn (on SQLite), shared with the HTTP side.
    writes: Arc<WriteGate>,
    /// Opens the endpoints' sealed signing secrets.
    keys: KeyRing,
    settings: WebhookSettings,
    housekeeping: Housekeeping,
    metrics: Metrics,
    client: reqwest::Client,
    /// This instance, as the holder of its leases.
    id: Uuid,
}

impl Worker {
    pub fn new(
        db: DatabaseConnection,
        writes: Arc<WriteGate>,
        keys: KeyRing,
        settings: WebhookSettings,
        housekeeping: Housekeeping,
        metrics: Metrics,
    ) -> Self {
        Self {
            client: client(&settings),
            db,
            writes,
            keys,
            settings,
            housekeeping,
            metrics,
            id: Uuid::now_v7(),
        }
    }

    /// Works until `stop` turns true; a round under way (its attempts are bounded by the
    /// timeout) is finished first, so every attempt made is also recorded.
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        let worker = Arc::new(self);
        let delivering = !worker.settings.no_webhook_delivery;
        tracing::info!(worker_id = %worker.id, delivering, "background worker started");
        let mut next_sweep = Instant::now();
        loop {
            if *stop.borrow() {
                break;
            }
            if Instant::now() >= next_sweep {
                worker.sweep().await;
                next_sweep = Instant::now() + worker.housekeeping.interval;
            }
            let mut busy = false;
            if delivering {
                match Arc::clone(&worker).deliver_due().await {
                    Ok(claimed) => busy = claimed == BATCH as usize,
                    Err(err) => tracing::warn!(error = %err, "cannot read the webhook outbox"),
                }
            }
            if busy {
                continue;
            }
            tokio::select! {
                _ = tokio::time::sleep(worker.settings.poll_interval()) => {}
                _ = stop.changed() => {}
            }
        }
        tracing::info!(worker_id = %worker.id, "background worker stopped");
    }

    async fn sweep(&self) {
        match idempotency::purge_expired(&self.db, Utc::now()).await {
            Ok(0) => {}
            Ok(purged) => tracing::info!(purged, "expired idempotency records deleted"),
            Err(err) => tracing::warn!(error = %err, "cannot delete expired idempotency records"),
        }
        let before = Utc::now() - self.housekeeping.event_retention;
        match webhooks::purge_events(&self.db, before).await {
            Ok(0) => {}
            Ok(purged) => tracing::info!(purged, "events past the feed's retention deleted"),
            Err(err) => tracing::warn!(error = %err, "cannot delete events past retention"),
        }
        match self.delete_orphans().await {
            Ok(0) => {}
            Ok(deleted) => tracing::info!(deleted, "stored attachments without a row deleted"),
            Err(err) => tracing::warn!(error = %err, "cannot look for orphaned attachments"),
        }
        if let Some(store) = &self.housekeeping.rate_limits {
            match store.forget_full().await {
                Ok(0) => {}
                Ok(deleted) => tracing::debug!(deleted, "full rate limit buckets deleted"),
                Err(err) => tracing::warn!(error = %err, "cannot delete full rate limit buckets"),
            }
        }
        let cutoff = Utc::now() - self.housekeeping.orphan_grace;
        match self
            .housekeeping
            .attachments
            .delete_stale_parts(cutoff)
            .await
        {
            Ok(0) => {}
            Ok(deleted) => tracing::info!(deleted, "part files of interrupted uploads deleted"),
            Err(err) => {
                tracing::warn!(error = %err, "cannot delete part files of interrupted uploads")
            }
        }
    }

    /// Deletes objects of the attachment store that no row names: written by an upload that
    /// failed or crashed before its row was committed, or left by a delete whose object removal
    /// failed. Only objects older than the grace are looked at, so uploads in progress are safe.
    async fn delete_orphans(&self) -> Result<usize, Box<dyn std::error::Error>> {
        let store = &self.housekeeping.attachments;
        let objects = store
            .written_before(Utc::now() - self.housekeeping.orphan_grace)
            .await?;
        let ids: Vec<Uuid> = objects.iter().filter_map(|o| o.attachment_id).collect();
        let recorded = attachments::existing(&self.db, &ids).await?;
        let mut deleted = 0;
        for object in objects {
            match object.attachment_id {
                Some(id) if !recorded.contains(&id) => {
                    store.delete_object(&object).await?;
                    deleted += 1;
                }
                Some(_) => {}
                None => tracing::warn!(
                    path = object.path(),
                    "an object in the attachment store is not named by an attachment id; left alone"
                ),
            }
        }
        Ok(deleted)
    }

    /// Claims due deliveries and attempts them side by side; how many were claimed.
    async fn deliver_due(self: Arc<Self>) -> Result<usize, DbErr> {
        let lease_until = Utc::now()
            + chrono::Duration::from_std(self.settings.lease()).unwrap_or(chrono::Duration::MAX);
        let claimed = webhooks::claim(&self.db, self.id, BATCH, lease_until).await?;
        let count = claimed.len();
        let mut attempts = JoinSet::new();
        for due in claimed {
            attempts.spawn(Arc::clone(&self).attempt(due));
        }
        while attempts.join_next().await.is_some() {}
        Ok(count)
    }

    #[tracing::instrument(skip_all, fields(
        delivery_id = %due.delivery.id, endpoint_id = %due.endpoint.id,
        event_type = %due.delivery.event_type, attempt = due.delivery.attempt_count + 1,
    ))]
    async fn attempt(self: Arc<Self>, due: Due) {
        let started_at = Utc::now();
        let started = Instant::now();
        let (response_status, error) = match self.send(&due, started_at.timestamp()).await {
            Ok(status) => (Some(status), None),
            Err(error) => (None, Some(error)),
        };
        let delivered = response_status.is_some_and(|status| (200..300).contains(&status));
        let next = if delivered {
            Next::Delivered
        } else {
            let failures = u32::try_from(due.delivery.attempt_count + 1).unwrap_or(u32::MAX);
            let delay = self.settings.backoff().delay(failures, &mut rand::rng());
            let at =
                Utc::now() + chrono::Duration::from_std(delay).unwrap_or(chrono::Duration::MAX);
            let horizon = chrono::Duration::from_std(self.settings.horizon())
                .unwrap_or(chrono::Duration::MAX);
            if at > due.delivery.created_at + horizon {
                Next::GiveUp
            } else {
                Next::RetryAt(at)
            }
        };
        let outcome = AttemptOutcome {
            started_at,
            duration_ms: i32::try_from(started.elapsed().as_millis()).unwrap_or(i32::MAX),
            response_status,
            error,
            next,
        };
        let label = match next {
            Next::Delivered => "delivered",
            Next::RetryAt(_) => "failed",
            Next::GiveUp => "given_up",
        };
        self.metrics.count_webhook_attempt(label);
        match next {
            Next::Delivered => {
                tracing::info!(status = response_status, "webhook delivered");
            }
            Next::RetryAt(at) => {
                tracing::warn!(status = response_status, error = outcome.error.as_deref(), retry_at = %at, "webhook attempt failed");
            }
            Next::GiveUp => {
                tracing::warn!(
                    status = response_status,
                    error = outcome.error.as_deref(),
                    "webhook delivery given up after its horizon"
                );
            }
        }
        match webhooks::record(&self.db, &self.writes, self.id, &due.delivery, &outcome).await {
            Ok(true) => {}
            Ok(false) => {
                tracing::warn!("the delivery's lease ran out before its attempt was recorded")
            }
            Err(err) => {
                tracing::error!(error = %err, "cannot record a webhook attempt; it will be retried when its lease runs out")
            }
        }
    }

    /// One signed POST; the status answered, or why there was none.
    async fn send(&self, due: &Due, timestamp: i64) -> Result<u16, String> {
        let url = WebhookUrl::parse(&due.endpoint.url)
            .map_err(|_| "the endpoint's URL is no longer valid".to_owned())?;
        if let Host::Address(address) = url.host()
            && !self.settings.allow_private_networks
            && !is_public(*address)
        {
            return Err(format!("{address} is not a public address"));
        }
        let message_id = due.event.id.to_string();
        let secrets = webhooks::secrets_in_force(&self.keys, &due.endpoint, Utc::now())
            .map_err(|err| format!("cannot sign: {err}"))?;
        let body = due.event.body.as_bytes();
        let signature = signature_header(&secrets, &message_id, timestamp, body);
        let response = self
            .client
            .post(url.as_str())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header("webhook-id", &message_id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(due.event.body.clone())
            .send()
            .await
            .map_err(describe)?;
        Ok(response.status().as_u16())
    }
}

/// A transport failure in a few words, without the URL (it may carry credentials in its query).
fn describe(err: reqwest::Error) -> String {
    let err = err.without_url();
    if err.is_timeout() {
        "timed out waiting for the endpoint".to_owned()
    } else if err.is_connect() {
        let mut cause: Option<&dyn std::error::Error> = Some(&err);
        let mut innermost = err.to_string();
        while let Some(current) = cause {
            innermost = current.to_string();
            cause = current.source();
        }
        format!("could not connect: {innermost}")
    } else {
        err.to_string()
    }
}
