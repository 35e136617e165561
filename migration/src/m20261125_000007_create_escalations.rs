//! Escalations with their immutable event trail and append-only notes, and the counter that
//! numbers them.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Human numbers (ESC-000042) come from a row updated in the creating transaction: the
        // row lock orders concurrent creators on PostgreSQL, the single writer on SQLite.
        manager
            .create_table(
                Table::create()
                    .table("counters")
                    .col(string_len("name", 32).primary_key())
                    .col(big_integer("value"))
                    .to_owned(),
            )
            .await?;
        manager
            .execute(
                Query::insert()
                    .into_table("counters")
                    .columns(["name", "value"])
                    .values_panic(["escalation".into(), 0i64.into()])
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("escalations")
                    .col(pk_uuid("id"))
                    .col(string_len("number", 16))
                    .col(uuid("partner_id"))
                    .col(uuid("customer_id"))
                    .col(string_len("service_key", 50))
                    .col(string_len("category", 48))
                    .col(string_len("severity", 16))
                    .col(string_len("title", 200))
                    .col(text("description"))
                    .col(text("business_impact"))
                    .col(timestamp_with_time_zone("problem_started_at"))
                    .col(json_binary("reasons"))
                    .col(text_null("justification"))
                    .col(json_binary("troubleshooting"))
                    .col(json_binary("unrelated_incident_ids"))
                    .col(json_binary("contact"))
                    .col(string_len("status", 24))
                    .col(json_binary_null("engineer"))
                    .col(timestamp_with_time_zone("response_due_at"))
                    .col(timestamp_with_time_zone_null("first_response_at"))
                    .col(text_null("resolution"))
                    .col(timestamp_with_time_zone_null("resolved_at"))
                    .col(boolean("misescalation"))
                    .col(text_null("rejection_reason"))
                    .col(integer("version"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_escalations_partner")
                            .from("escalations", "partner_id")
                            .to("partners", "id")
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_escalations_customer")
                            .from("escalations", "customer_id")
                            .to("customers", "id")
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_escalations_service")
                            .from("escalations", "service_key")
                            .to("services", "key")
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, columns, unique) in [
            ("ux_escalations_number", &["number"][..], true),
            ("ix_escalations_partner", &["partner_id", "id"][..], false),
            ("ix_escalations_customer", &["customer_id", "id"][..], false),
            (
                "ix_escalations_triage",
                &["status", "response_due_at", "id"][..],
                false,
            ),
            ("ix_escalations_due", &["response_due_at", "id"][..], false),
        ] {
            let mut index = Index::create();
            index.name(name).table("escalations");
            for column in columns {
                index.col(*column);
            }
            if unique {
                index.unique();
            }
            manager.create_index(index.to_owned()).await?;
        }
        // One open escalation per customer, service and category, even under concurrent creates.
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX ux_escalations_open ON escalations (customer_id, service_key, category) \
                 WHERE status IN ('submitted', 'in_progress', 'awaiting_partner')",
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("escalation_events")
                    .col(pk_uuid("id"))
                    .col(uuid("escalation_id"))
                    .col(uuid("partner_id"))
                    .col(string_len("kind", 32))
                    .col(string_len("actor_role", 16))
                    .col(uuid_null("actor_key_id"))
                    .col(timestamp_with_time_zone("at"))
                    .col(json_binary_null("before"))
                    .col(json_binary_null("after"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_escalation_events_escalation")
                            .from("escalation_events", "escalation_id")
                            .to("escalations", "id")
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_escalation_events_escalation")
                    .table("escalation_events")
                    .col("escalation_id")
                    .col("id")
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("escalation_notes")
                    .col(pk_uuid("id"))
                    .col(uuid("escalation_id"))
                    .col(uuid("partner_id"))
                    .col(string_len("author_role", 16))
                    .col(uuid_null("author_key_id"))
                    .col(text("text"))
                    .col(timestamp_with_time_zone("created_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_escalation_notes_escalation")
                            .from("escalation_notes", "escalation_id")
                            .to("escalations", "id")
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_escalation_notes_escalation")
                    .table("escalation_notes")
                    .col("escalation_id")
                    .col("id")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "escalation_notes",
            "escalation_events",
            "escalations",
            "counters",
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
