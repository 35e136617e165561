use sea_orm_migration::sea_orm::DbBackend;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("customers")
                    .col(pk_uuid("id"))
                    .col(uuid("partner_id"))
                    .col(string_len("company_name", 200))
                    // Lower-cased company name: `?q=` prefix search is case-insensitive on both
                    // engines without collation tricks.
                    .col(text("company_name_key"))
                    .col(string_len("domain", 253))
                    .col(uuid("tenant_id"))
                    .col(string_len("country", 2))
                    .col(string_len("support_plan", 16))
                    .col(string_len("contact_name", 100))
                    .col(string_len("contact_email", 254))
                    .col(string_len_null("contact_phone", 16))
                    .col(integer("version"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_customers_partner")
                            .from("customers", "partner_id")
                            .to("partners", "id")
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_customers_tenant_id")
                    .table("customers")
                    .col("tenant_id")
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_customers_partner_id")
                    .table("customers")
                    .col("partner_id")
                    .col("id")
                    .to_owned(),
            )
            .await?;
        // Prefix searches (`LIKE 'abc%'`) can use a b-tree only with pattern operators on
        // PostgreSQL; SQLite's default LIKE cannot use an index at all, so a plain one suffices.
        let pattern_ops = match manager.get_database_backend() {
            DbBackend::Postgres => " text_pattern_ops",
            _ => "",
        };
        let connection = manager.get_connection();
        connection
            .execute_unprepared(&format!(
                "CREATE INDEX ix_customers_company_name_key ON customers (partner_id, company_name_key{pattern_ops})"
            ))
            .await?;
        connection
            .execute_unprepared(&format!(
                "CREATE INDEX ix_customers_domain ON customers (partner_id, domain{pattern_ops})"
            ))
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("customers").to_owned())
            .await
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}
