//! The integration suite: the real server over HTTP, on SQLite by default and on PostgreSQL when
//! `ESCALADE_TEST_DATABASE_URL` names one.

mod api_keys;
mod auth;
mod cli;
mod customers;
mod database;
mod helpers;
mod http_conventions;
mod incidents;
mod migrations;
mod openapi;
mod partners;
mod self_help;
mod services;
mod subscriptions;
