//! Idempotency records: the first answer to each `Idempotency-Key`, kept for 24 hours, shared
//! by every instance.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("idempotency_records")
                    .col(pk_uuid("id"))
                    // The partner for partner keys; the key itself for staff keys.
                    .col(uuid("owner_id"))
                    .col(string_len("key", 255))
                    .col(string_len("fingerprint", 64))
                    .col(string_len("state", 16))
                    .col(integer_null("response_status"))
                    .col(json_binary_null("response_headers"))
                    .col(text_null("response_body"))
                    .col(timestamp_with_time_zone_null("locked_until"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("expires_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_idempotency_records_owner_key")
                    .table("idempotency_records")
                    .col("owner_id")
                    .col("key")
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_idempotency_records_expires")
                    .table("idempotency_records")
                    .col("expires_at")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("idempotency_records").to_owned())
            .await
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}
