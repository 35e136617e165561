//! Service health: incidents on services and the updates published about them.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("service_incidents")
                    .col(pk_uuid("id"))
                    .col(string_len("service_key", 50))
                    .col(string_len("title", 200))
                    .col(string_len("severity", 16))
                    .col(string_len("status", 16))
                    .col(timestamp_with_time_zone("started_at"))
                    .col(timestamp_with_time_zone_null("resolved_at"))
                    .col(integer("version"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_service_incidents_service")
                            .from("service_incidents", "service_key")
                            .to("services", "key")
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_service_incidents_service_status")
                    .table("service_incidents")
                    .col("service_key")
                    .col("status")
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("service_incident_updates")
                    .col(pk_uuid("id"))
                    .col(uuid("incident_id"))
                    .col(timestamp_with_time_zone("published_at"))
                    .col(text("text"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_service_incident_updates_incident")
                            .from("service_incident_updates", "incident_id")
                            .to("service_incidents", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_service_incident_updates_incident")
                    .table("service_incident_updates")
                    .col("incident_id")
                    .col("id")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("service_incident_updates").to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table("service_incidents").to_owned())
            .await
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}
