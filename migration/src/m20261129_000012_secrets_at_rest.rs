//! No secret readable from the database. Idempotency records keep a digest of the key instead of
//! the key, and their answers sealed under a key derived from it (and from the deployment's
//! secret key), so a stored answer that shows a new API key or signing secret cannot be read
//! back. Webhook signing secrets are stored sealed, which takes more room than `varchar(64)`.
//!
//! The records of the last 24 hours are dropped: their keys were stored in clear. A retry of a
//! request sent before the upgrade therefore runs again.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        forget_idempotency_records(manager).await?;
        manager
            .alter_table(
                Table::alter()
                    .table("idempotency_records")
                    .rename_column("key", "key_digest")
                    .to_owned(),
            )
            .await?;
        // SQLite does not enforce lengths; PostgreSQL does.
        if manager.get_database_backend() == DbBackend::Postgres {
            manager
                .get_connection()
                .execute_unprepared(
                    "ALTER TABLE webhook_endpoints \
                     ALTER COLUMN secret TYPE text, ALTER COLUMN previous_secret TYPE text",
                )
                .await?;
        }
        Ok(())
    }

    /// Back to keys in clear: the digests cannot be turned back into keys, so the records go.
    /// Refused (and nothing changed) on PostgreSQL while sealed secrets do not fit the old
    /// columns: unseal them with the release that sealed them first.
    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        forget_idempotency_records(manager).await?;
        manager
            .alter_table(
                Table::alter()
                    .table("idempotency_records")
                    .rename_column("key_digest", "key")
                    .to_owned(),
            )
            .await?;
        if manager.get_database_backend() == DbBackend::Postgres {
            manager
                .get_connection()
                .execute_unprepared(
                    "ALTER TABLE webhook_endpoints \
                     ALTER COLUMN secret TYPE varchar(64), \
                     ALTER COLUMN previous_secret TYPE varchar(64)",
                )
                .await?;
        }
        Ok(())
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}

async fn forget_idempotency_records(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    manager
        .exec_stmt(Query::delete().from_table("idempotency_records").to_owned())
        .await
}
