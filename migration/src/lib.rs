//! escalade's schema as history: each migration is dated, never edited once released, and has a
//! working `down`. The same migrations build SQLite and PostgreSQL databases.

pub use sea_orm_migration::prelude::*;

mod m20261124_000001_create_partners;
mod m20261124_000002_create_api_keys;
mod m20261124_000003_create_customers;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261124_000001_create_partners::Migration),
            Box::new(m20261124_000002_create_api_keys::Migration),
            Box::new(m20261124_000003_create_customers::Migration),
        ]
    }
}
