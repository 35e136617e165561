//! The integration suite: the real server over HTTP, on SQLite by default and on PostgreSQL when
//! `ESCALADE_TEST_DATABASE_URL` names one.

mod api_keys;
mod auth;
mod browsers;
pub mod cli;
mod container;
mod customers;
mod database;
mod escalations;
mod escalations_concurrency;
mod escalations_criteria;
mod escalations_diligence;
mod escalations_duplicates;
mod escalations_lifecycle;
mod escalations_list;
mod escalations_notes;
mod escalations_validate;
mod faults;
mod helpers;
mod hostile_clients;
mod http_conventions;
mod idempotency;
mod incidents;
mod languages;
mod migrations;
mod openapi;
mod partners;
mod rate_limits;
mod remediation;
mod secrets;
mod self_help;
mod services;
mod sql_log;
mod statements;
mod subscriptions;
mod tenancy;
mod webhooks;
