//! Webhooks: partners' endpoints, the outbox of events (written in the transaction of the change
//! they announce), one delivery per event and endpoint, and every attempt at it.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("webhook_endpoints")
                    .col(pk_uuid("id"))
                    .col(uuid("partner_id"))
                    .col(string_len("url", 2048))
                    .col(string_len_null("description", 200))
                    .col(json_binary("events"))
                    .col(boolean("enabled"))
                    // Signing needs the secret itself, not a digest of it.
                    .col(string_len("secret", 64))
                    .col(string_len_null("previous_secret", 64))
                    .col(timestamp_with_time_zone_null("previous_secret_expires_at"))
                    .col(timestamp_with_time_zone_null("secret_rotated_at"))
                    .col(integer("version"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_webhook_endpoints_partner")
                            .from("webhook_endpoints", "partner_id")
                            .to("partners", "id")
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_webhook_endpoints_partner")
                    .table("webhook_endpoints")
                    .col("partner_id")
                    .col("id")
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("webhook_events")
                    .col(pk_uuid("id"))
                    .col(string_len("event_type", 48))
                    // Null for events every partner may subscribe to (service health).
                    .col(uuid_null("partner_id"))
                    // The exact bytes signed and sent, so every attempt sends the same body.
                    .col(text("body"))
                    .col(timestamp_with_time_zone("created_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("webhook_deliveries")
                    .col(pk_uuid("id"))
                    .col(uuid("event_id"))
                    .col(uuid("endpoint_id"))
                    .col(uuid("partner_id"))
                    .col(string_len("event_type", 48))
                    .col(string_len("status", 16))
                    .col(integer("attempt_count"))
                    .col(timestamp_with_time_zone("next_attempt_at"))
                    // A claim: the instance delivering it, until when.
                    .col(uuid_null("leased_by"))
                    .col(timestamp_with_time_zone_null("lease_expires_at"))
                    .col(timestamp_with_time_zone_null("delivered_at"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_webhook_deliveries_event")
                            .from("webhook_deliveries", "event_id")
                            .to("webhook_events", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_webhook_deliveries_endpoint")
                            .from("webhook_deliveries", "endpoint_id")
                            .to("webhook_endpoints", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_webhook_deliveries_due")
                    .table("webhook_deliveries")
                    .col("status")
                    .col("next_attempt_at")
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_webhook_deliveries_endpoint")
                    .table("webhook_deliveries")
                    .col("endpoint_id")
                    .col("id")
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("webhook_attempts")
                    .col(pk_uuid("id"))
                    .col(uuid("delivery_id"))
                    .col(integer("number"))
                    .col(timestamp_with_time_zone("started_at"))
                    .col(integer("duration_ms"))
                    .col(integer_null("response_status"))
                    .col(string_len_null("error", 500))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_webhook_attempts_delivery")
                            .from("webhook_attempts", "delivery_id")
                            .to("webhook_deliveries", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_webhook_attempts_delivery")
                    .table("webhook_attempts")
                    .col("delivery_id")
                    .col("number")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "webhook_attempts",
            "webhook_deliveries",
            "webhook_events",
            "webhook_endpoints",
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}
