//! sea-orm entities: one per table, rows as the database holds them. Only `store` uses them.

pub mod api_key;
pub mod attachment;
pub mod customer;
pub mod customer_gram;
pub mod escalation;
pub mod escalation_event;
pub mod escalation_gram;
pub mod escalation_note;
pub mod idempotency_record;
pub mod partner;
pub mod person;
pub mod remediation_plan;
pub mod service;
pub mod service_incident;
pub mod service_incident_update;
pub mod subscription;
pub mod webhook_attempt;
pub mod webhook_delivery;
pub mod webhook_endpoint;
pub mod webhook_event;
