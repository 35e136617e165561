//! Attachments: files on an escalation. The bytes live in the object store; the database holds
//! what is known of them, and a row exists only once its object is completely stored.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

const ESCALATION_INDEX: &str = "ix_attachments_escalation";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("attachments")
                    .col(pk_uuid("id"))
                    .col(uuid("escalation_id"))
                    .col(uuid("partner_id"))
                    .col(string_len("filename", 255))
                    .col(string_len("media_type", 100))
                    .col(big_integer("size_bytes"))
                    .col(string_len("sha256", 64))
                    .col(string_len("uploader_role", 16))
                    .col(uuid("uploader_key_id"))
                    .col(timestamp_with_time_zone("created_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_attachments_escalation")
                            .from("attachments", "escalation_id")
                            .to("escalations", "id")
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(ESCALATION_INDEX)
                    .table("attachments")
                    .col("escalation_id")
                    .col("id")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("attachments").to_owned())
            .await
    }
}
