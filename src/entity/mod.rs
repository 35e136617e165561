//! sea-orm entities: one per table, rows as the database holds them. Only `store` uses them.

pub mod api_key;
pub mod customer;
pub mod partner;
pub mod service;
pub mod service_incident;
pub mod service_incident_update;
pub mod subscription;
