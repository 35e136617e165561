//! A customer's subscriptions to services; one live subscription per customer and service.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("subscriptions")
                    .col(pk_uuid("id"))
                    .col(uuid("partner_id"))
                    .col(uuid("customer_id"))
                    .col(string_len("service_key", 50))
                    .col(string_len("offer_name", 200))
                    .col(integer("quantity"))
                    .col(string_len("status", 16))
                    .col(integer("version"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_subscriptions_customer")
                            .from("subscriptions", "customer_id")
                            .to("customers", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_subscriptions_service")
                            .from("subscriptions", "service_key")
                            .to("services", "key")
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_subscriptions_customer")
                    .table("subscriptions")
                    .col("customer_id")
                    .col("id")
                    .to_owned(),
            )
            .await?;
        // Deleted subscriptions are history; among the others, one per customer and service.
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX ux_subscriptions_live ON subscriptions (customer_id, service_key) \
                 WHERE status <> 'deleted'",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("subscriptions").to_owned())
            .await
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}
