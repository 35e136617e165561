//! escalade: the API through which CSP partners raise support escalations to 21Vianet on behalf
//! of their customers.

/// Settings from flags and `ESCALADE_*` environment variables.
pub mod config;
/// The background worker: webhook delivery and housekeeping.
pub mod delivery;
/// The demo data `serve --demo` seeds.
pub mod demo;
/// The product's rules, free of HTTP and database types.
pub mod domain;
/// sea-orm entities, one per table.
pub mod entity;
/// One error type, answered as problem+json.
pub mod error;
/// Handlers, extractors and middleware.
pub mod http;
/// Every text a person reads, in English and Simplified Chinese.
pub mod i18n;
/// People's tokens from their organisation's identity provider.
pub mod identity;
/// Token buckets for rate limits, below both the HTTP layer and the error type.
pub mod limits;
/// The OpenAPI document's metadata and shared components.
pub mod openapi;
/// The commands of the `escalade` binary.
pub mod run;
/// Where the deployment's secret keys come from.
pub mod secret_keys;
/// Announces SLA warnings and breaches.
pub mod sla_watch;
/// Builds and binds the HTTP server.
pub mod startup;
/// Where attachments' bytes are kept.
pub mod storage;
/// Persistence: every database query.
pub mod store;
/// Logging setup.
pub mod telemetry;
