//! People: partner staff and 21Vianet technicians who sign in with their organisation's identity,
//! recorded at their first accepted token. Every change now names its actor, a person or an API
//! key, by id, kind and name (the name as it was then): the audit trail's `actor_key_id`, the
//! notes' `author_key_id` and the attachments' `uploader_key_id` become `*_id` beside a `*_kind`
//! and a `*_name`, and the names of the keys that acted so far are filled in. An escalation's
//! engineer may be one of the people.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

const TENANT_OBJECT_INDEX: &str = "ux_people_tenant_object";
const ENGINEER_INDEX: &str = "ix_escalations_engineer_person";

/// The tables whose rows name who made them: (table, column prefix).
const ACTED: [(&str, &str); 3] = [
    ("escalation_events", "actor"),
    ("escalation_notes", "author"),
    ("attachments", "uploader"),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("people")
                    .col(pk_uuid("id"))
                    .col(uuid("tenant_id"))
                    .col(uuid("object_id"))
                    .col(string_len("name", 200))
                    .col(string_len("email", 320))
                    .col(string_len("role", 16))
                    .col(uuid_null("partner_id"))
                    .col(timestamp_with_time_zone_null("disabled_at"))
                    .col(timestamp_with_time_zone("first_seen_at"))
                    .col(timestamp_with_time_zone("last_seen_at"))
                    .col(integer("version").default(1))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_people_partner")
                            .from("people", "partner_id")
                            .to("partners", "id")
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(TENANT_OBJECT_INDEX)
                    .table("people")
                    .col("tenant_id")
                    .col("object_id")
                    .unique()
                    .to_owned(),
            )
            .await?;
        // One alteration a statement: SQLite takes no more.
        for (table, prefix) in ACTED {
            manager
                .alter_table(
                    Table::alter()
                        .table(table)
                        .rename_column(format!("{prefix}_key_id"), format!("{prefix}_id"))
                        .to_owned(),
                )
                .await?;
            manager
                .alter_table(
                    Table::alter()
                        .table(table)
                        .add_column(string_len(format!("{prefix}_kind"), 16).default("api_key"))
                        .to_owned(),
                )
                .await?;
            manager
                .alter_table(
                    Table::alter()
                        .table(table)
                        .add_column(string_len_null(format!("{prefix}_name"), 200))
                        .to_owned(),
                )
                .await?;
            manager
                .get_connection()
                .execute_unprepared(&format!(
                    "UPDATE {table} SET {prefix}_name = \
                     (SELECT name FROM api_keys WHERE api_keys.id = {table}.{prefix}_id)"
                ))
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table("escalations")
                    .add_column(uuid_null("engineer_person_id"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(ENGINEER_INDEX)
                    .table("escalations")
                    .col("engineer_person_id")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name(ENGINEER_INDEX)
                    .table("escalations")
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("escalations")
                    .drop_column("engineer_person_id")
                    .to_owned(),
            )
            .await?;
        for (table, prefix) in ACTED {
            for column in [format!("{prefix}_name"), format!("{prefix}_kind")] {
                manager
                    .alter_table(Table::alter().table(table).drop_column(column).to_owned())
                    .await?;
            }
            manager
                .alter_table(
                    Table::alter()
                        .table(table)
                        .rename_column(format!("{prefix}_id"), format!("{prefix}_key_id"))
                        .to_owned(),
                )
                .await?;
        }
        manager
            .drop_table(Table::drop().table("people").to_owned())
            .await
    }
}
