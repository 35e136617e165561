//! The escalation number's own unique index goes: no query looks an escalation up by its
//! number, and the number is written from `seq` in the same insert (`ESC-` and `seq` in at
//! least six digits), so `ux_escalations_seq` already keeps numbers unique. One index less to
//! write on every submission.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const INDEX: &str = "ux_escalations_number";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(Index::drop().name(INDEX).table("escalations").to_owned())
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name(INDEX)
                    .table("escalations")
                    .col("number")
                    .unique()
                    .to_owned(),
            )
            .await
    }
}
