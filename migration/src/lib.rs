//! escalade's schema as history: each migration is dated, never edited once released, and has a
//! working `down`. The same migrations build SQLite and PostgreSQL databases.

pub use sea_orm_migration::prelude::*;

mod m20261124_000001_create_partners;
mod m20261124_000002_create_api_keys;
mod m20261124_000003_create_customers;
mod m20261125_000004_create_services;
mod m20261125_000005_create_subscriptions;
mod m20261125_000006_create_service_incidents;
mod m20261125_000007_create_escalations;
mod m20261125_000008_create_remediation_plans;
mod m20261125_000009_create_idempotency_records;
mod m20261125_000010_create_webhooks;
mod m20261129_000011_customer_tenants_per_partner;
mod m20261129_000012_secrets_at_rest;
mod m20261129_000013_contact_language;
mod m20261129_000014_catalogue_in_chinese;
mod m20261129_000015_escalation_numbers;
mod m20261129_000016_customer_search_order;
mod m20261129_000017_sla_alerts_and_event_feed;
mod m20261130_000018_create_attachments;
mod m20261207_000019_shared_rate_limits;
mod m20261207_000020_people;
mod m20261207_000021_drop_escalation_number_index;
mod m20261207_000022_sla_windows;
mod m20261207_000023_search_grams;
pub mod search_text;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261124_000001_create_partners::Migration),
            Box::new(m20261124_000002_create_api_keys::Migration),
            Box::new(m20261124_000003_create_customers::Migration),
            Box::new(m20261125_000004_create_services::Migration),
            Box::new(m20261125_000005_create_subscriptions::Migration),
            Box::new(m20261125_000006_create_service_incidents::Migration),
            Box::new(m20261125_000007_create_escalations::Migration),
            Box::new(m20261125_000008_create_remediation_plans::Migration),
            Box::new(m20261125_000009_create_idempotency_records::Migration),
            Box::new(m20261125_000010_create_webhooks::Migration),
            Box::new(m20261129_000011_customer_tenants_per_partner::Migration),
            Box::new(m20261129_000012_secrets_at_rest::Migration),
            Box::new(m20261129_000013_contact_language::Migration),
            Box::new(m20261129_000014_catalogue_in_chinese::Migration),
            Box::new(m20261129_000015_escalation_numbers::Migration),
            Box::new(m20261129_000016_customer_search_order::Migration),
            Box::new(m20261129_000017_sla_alerts_and_event_feed::Migration),
            Box::new(m20261130_000018_create_attachments::Migration),
            Box::new(m20261207_000019_shared_rate_limits::Migration),
            Box::new(m20261207_000020_people::Migration),
            Box::new(m20261207_000021_drop_escalation_number_index::Migration),
            Box::new(m20261207_000022_sla_windows::Migration),
            Box::new(m20261207_000023_search_grams::Migration),
        ]
    }
}
