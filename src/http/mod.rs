//! HTTP in: one module per resource (DTOs, handlers, `configure`), plus the extractors and
//! middleware every resource shares.

pub mod api_keys;
pub mod auth;
pub mod body;
pub mod business_calendar;
pub mod byte_ranges;
pub mod client_address;
pub mod conditional;
pub mod console;
pub mod cors;
pub mod customers;
pub mod escalations;
pub mod etag;
pub mod event_data;
pub mod event_stream;
pub mod events;
pub mod expect;
pub mod extract;
pub mod fields;
pub mod head;
pub mod idempotency;
pub mod incidents;
pub mod language;
pub mod me;
pub mod metrics;
pub mod ops;
pub mod pagination;
pub mod partners;
pub mod people;
pub mod problem;
pub mod rate_limit;
pub mod remediation;
pub mod request_id;
pub mod responses;
pub mod routes;
pub mod self_help;
pub mod services;
pub mod subscriptions;
pub mod verified_keys;
pub mod vocabulary;
pub mod webhooks;

use std::sync::Arc;

use sea_orm::DatabaseConnection;

use crate::domain::escalation::sla::SlaClock;
use crate::domain::remediation::RemediationPolicy;
use crate::domain::sealing::KeyRing;
use crate::limits::SharedStore;
use crate::storage::AttachmentStore;
use crate::store::WriteGate;
use crate::store::attachments::Quota;
use verified_keys::VerifiedCallers;

/// What every handler shares; cheap to clone (the pool is reference-counted).
#[derive(Debug, Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub policy: RemediationPolicy,
    /// The deployment's secret keys, which seal the secrets kept in the database.
    pub keys: KeyRing,
    /// The API keys and people's tokens this instance has verified.
    pub verified: Arc<VerifiedCallers>,
    /// The identity provider people sign in with, when one is configured.
    pub identity: Option<Arc<crate::identity::IdentityProvider>>,
    /// Write transactions in turn (on SQLite).
    pub writes: Arc<WriteGate>,
    /// The SLA clock, on the business calendar.
    pub sla: SlaClock,
    /// How long the event feed keeps events.
    pub event_retention: chrono::Duration,
    /// Where attachments' bytes are kept.
    pub attachments: AttachmentStore,
    /// The largest attachment accepted, in bytes.
    pub attachment_max_bytes: u64,
    /// How much one escalation's attachments may hold.
    pub attachment_quota: Quota,
    /// Where every instance counts rate limits together, if anywhere.
    pub rate_limit_store: Option<Arc<SharedStore>>,
    /// What event streams need: the feed's newest event, the open streams, the shutdown.
    pub streaming: event_stream::Streaming,
}

/// Every `/v1` operation.
pub fn configure_v1(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    me::configure(cfg);
    business_calendar::configure(cfg);
    events::configure(cfg);
    event_stream::configure(cfg);
    partners::configure(cfg);
    people::configure(cfg);
    api_keys::configure(cfg);
    customers::configure(cfg);
    services::configure(cfg);
    subscriptions::configure(cfg);
    incidents::configure(cfg);
    self_help::configure(cfg);
    escalations::configure(cfg);
    remediation::configure(cfg);
    webhooks::configure(cfg);
    vocabulary::configure(cfg);
}
