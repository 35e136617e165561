//! SLA alerts and the event feed.
//!
//! Escalations get `sla_alert_at`, when the next SLA alert (the warning, then the breach) is due,
//! cleared once none remains, and when each alert was announced. The outbox's events get
//! `position`, the order the feed serves them in: on PostgreSQL the id of the transaction that
//! wrote them, on SQLite, whose writers take turns, one more than the highest. Events stay for
//! the feed's retention whether or not an endpoint listens.

use sea_orm_migration::sea_orm::DbBackend;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

const ALERT_INDEX: &str = "ix_escalations_sla_alert";
const FEED_INDEX: &str = "ix_webhook_events_feed";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for column in [
            "sla_alert_at",
            "sla_warning_announced_at",
            "sla_breach_announced_at",
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table("escalations")
                        .add_column(timestamp_with_time_zone_null(column))
                        .to_owned(),
                )
                .await?;
        }
        // Escalations still waiting for their first response are watched from their due time:
        // their warning time was never computed, and the breach is what remains to announce.
        db.execute_unprepared(
            "UPDATE escalations SET sla_alert_at = response_due_at \
             WHERE first_response_at IS NULL \
               AND status IN ('submitted', 'in_progress', 'awaiting_partner')",
        )
        .await?;
        manager
            .create_index(
                Index::create()
                    .name(ALERT_INDEX)
                    .table("escalations")
                    .col("sla_alert_at")
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("webhook_events")
                    .add_column(big_integer_null("position"))
                    .to_owned(),
            )
            .await?;
        // Events kept so far come first, in the order they were written.
        let number_existing = match manager.get_database_backend() {
            DbBackend::Postgres => {
                "UPDATE webhook_events SET position = numbered.n FROM \
                   (SELECT id, row_number() OVER (ORDER BY id) AS n FROM webhook_events) numbered \
                 WHERE webhook_events.id = numbered.id"
            }
            _ => {
                "UPDATE webhook_events SET position = \
                   (SELECT COUNT(*) FROM webhook_events earlier WHERE earlier.id <= webhook_events.id)"
            }
        };
        db.execute_unprepared(number_existing).await?;
        manager
            .create_index(
                Index::create()
                    .name(FEED_INDEX)
                    .table("webhook_events")
                    .col("position")
                    .col("id")
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_webhook_events_created")
                    .table("webhook_events")
                    .col("created_at")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for index in ["ix_webhook_events_created", FEED_INDEX] {
            manager
                .drop_index(Index::drop().name(index).table("webhook_events").to_owned())
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table("webhook_events")
                    .drop_column("position")
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name(ALERT_INDEX)
                    .table("escalations")
                    .to_owned(),
            )
            .await?;
        for column in [
            "sla_breach_announced_at",
            "sla_warning_announced_at",
            "sla_alert_at",
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table("escalations")
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}
