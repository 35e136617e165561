//! Each escalation keeps the support window its SLA clock runs in (`24x7`,
//! `daily 09:00-24:00`, `business_days 09:00-18:00`), as its due time was reckoned when it was
//! submitted. Escalations submitted before the SLA policy became data ran critical around the
//! clock and the other severities on business days from 09:00 to 18:00, and keep that.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("escalations")
                    .add_column(string_len("sla_window", 32).default("business_days 09:00-18:00"))
                    .to_owned(),
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared(
                "UPDATE escalations SET sla_window = '24x7' WHERE severity = 'critical'",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("escalations")
                    .drop_column("sla_window")
                    .to_owned(),
            )
            .await
    }
}
