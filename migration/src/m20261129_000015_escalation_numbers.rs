//! Escalation numbers without a counter row: every create used to update the same row, so
//! creates waited on each other. Each escalation now keeps its number as an integer too
//! (`seq`, unique), drawn in the insert itself: from a sequence on PostgreSQL, and on SQLite,
//! whose writers take turns anyway, as one more than the highest.

use sea_orm_migration::sea_orm::DbBackend;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

const INDEX: &str = "ux_escalations_seq";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let postgres = manager.get_database_backend() == DbBackend::Postgres;
        manager
            .alter_table(
                Table::alter()
                    .table("escalations")
                    .add_column(big_integer_null("seq"))
                    .to_owned(),
            )
            .await?;
        db.execute_unprepared("UPDATE escalations SET seq = CAST(substr(number, 5) AS BIGINT)")
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(INDEX)
                    .table("escalations")
                    .col("seq")
                    .unique()
                    .to_owned(),
            )
            .await?;
        if postgres {
            db.execute_unprepared("ALTER TABLE escalations ALTER COLUMN seq SET NOT NULL")
                .await?;
            db.execute_unprepared("CREATE SEQUENCE escalation_numbers AS BIGINT")
                .await?;
            // The next number follows both the counter and every number given so far.
            db.execute_unprepared(
                "SELECT setval('escalation_numbers', GREATEST( \
                   (SELECT value FROM counters WHERE name = 'escalation'), \
                   (SELECT MAX(seq) FROM escalations), 0) + 1, false)",
            )
            .await?;
        }
        manager
            .drop_table(Table::drop().table("counters").to_owned())
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        manager
            .create_table(
                Table::create()
                    .table("counters")
                    .col(string_len("name", 32).primary_key())
                    .col(big_integer("value"))
                    .to_owned(),
            )
            .await?;
        db.execute_unprepared(
            "INSERT INTO counters (name, value) \
             SELECT 'escalation', COALESCE(MAX(seq), 0) FROM escalations",
        )
        .await?;
        if manager.get_database_backend() == DbBackend::Postgres {
            db.execute_unprepared("DROP SEQUENCE escalation_numbers")
                .await?;
        }
        manager
            .drop_index(Index::drop().name(INDEX).table("escalations").to_owned())
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("escalations")
                    .drop_column("seq")
                    .to_owned(),
            )
            .await
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}
