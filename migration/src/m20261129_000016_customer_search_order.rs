//! Prefix searches read customers in the order of the text searched, byte by byte, then id: the
//! two search indexes take that order (`COLLATE "C"` on PostgreSQL, SQLite's binary collation)
//! and end with the id, so a search scans only the page it answers, under any query plan.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

const INDEXES: [(&str, &str); 2] = [
    ("ix_customers_company_name_key", "company_name_key"),
    ("ix_customers_domain", "domain"),
];

/// Replaces both search indexes with ones on `(partner_id, <column><suffix>)`.
async fn index_with(manager: &SchemaManager<'_>, suffix: &str) -> Result<(), DbErr> {
    let connection = manager.get_connection();
    for (index, column) in INDEXES {
        connection
            .execute_unprepared(&format!("DROP INDEX {index}"))
            .await?;
        connection
            .execute_unprepared(&format!(
                "CREATE INDEX {index} ON customers (partner_id, {column}{suffix})"
            ))
            .await?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let suffix = match manager.get_database_backend() {
            DbBackend::Postgres => r#" COLLATE "C", id"#,
            _ => ", id",
        };
        index_with(manager, suffix).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let suffix = match manager.get_database_backend() {
            DbBackend::Postgres => " text_pattern_ops",
            _ => "",
        };
        index_with(manager, suffix).await
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}
