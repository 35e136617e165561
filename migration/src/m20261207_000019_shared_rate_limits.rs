//! Rate limits every instance shares on PostgreSQL: a row per bucket, the time its next slot
//! frees up. Unlogged: a limit is worth nothing after a crash, and skipping the write-ahead log
//! keeps the row written on every lease cheap. SQLite deployments count in memory and never use
//! the table; it exists there too so that both engines have one schema.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let unlogged = match manager.get_database_backend() {
            DbBackend::Postgres => "UNLOGGED ",
            _ => "",
        };
        // `at` and `tat` in milliseconds since the epoch, on the database's clock.
        manager
            .get_connection()
            .execute_unprepared(&format!(
                "CREATE {unlogged}TABLE rate_limits (
                    key TEXT NOT NULL PRIMARY KEY,
                    at DOUBLE PRECISION NOT NULL,
                    tat DOUBLE PRECISION NOT NULL,
                    granted INTEGER NOT NULL
                )"
            ))
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("rate_limits").to_owned())
            .await
    }
}
