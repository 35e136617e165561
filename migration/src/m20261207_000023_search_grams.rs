//! Search by any part: the posting tables of `search_text`'s grams, filled from the rows stored.
//!
//! Each table has its postings in two orders, both ending with the entity's id so a search reads
//! its page in list order straight from the index: by partner, for a partner's searches, and
//! across partners, for 21Vianet's. `customer_grams` marks the grams that begin a company name,
//! so the customers whose name starts with the query are read first without reading the others.
//! The prefix indexes on the company name and the domain go: nothing reads them any more. The
//! tenant id gets an index of its own, for operators looking a tenant up by the start of its id.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;
use sea_orm_migration::sea_orm::DbBackend;

use crate::search_text;

#[derive(DeriveMigrationName)]
pub struct Migration;

const OLD_INDEXES: [(&str, &str); 2] = [
    ("ix_customers_company_name_key", "company_name_key"),
    ("ix_customers_domain", "domain"),
];

/// The postings of a partner's searches, in the order they are read.
const CUSTOMER_KEY: [&str; 4] = ["gram", "partner_id", "starts_name", "customer_id"];
const ESCALATION_KEY: [&str; 3] = ["gram", "partner_id", "escalation_id"];

/// A gram column: compared byte by byte on PostgreSQL, as SQLite does.
fn gram(backend: DbBackend) -> ColumnDef {
    let mut column = ColumnDef::new("gram");
    column.not_null();
    match backend {
        DbBackend::Postgres => column.custom(Alias::new(r#"text COLLATE "C""#)),
        _ => column.text(),
    };
    column
}

fn key(columns: &[&'static str]) -> IndexCreateStatement {
    let mut key = Index::create();
    for column in columns {
        key.col(*column);
    }
    key
}

fn index(name: &str, table: &str, columns: &[&'static str]) -> IndexCreateStatement {
    let mut index = Index::create();
    index.name(name).table(Alias::new(table));
    for column in columns {
        index.col(*column);
    }
    index.to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        let sqlite = backend == DbBackend::Sqlite;
        let mut customers = Table::create();
        customers
            .table("customer_grams")
            .col(gram(backend))
            .col(uuid("partner_id"))
            .col(boolean("starts_name"))
            .col(uuid("customer_id"))
            .foreign_key(
                ForeignKey::create()
                    .name("fk_customer_grams_customer")
                    .from("customer_grams", "customer_id")
                    .to("customers", "id")
                    .on_delete(ForeignKeyAction::Cascade),
            );
        let mut escalations = Table::create();
        escalations
            .table("escalation_grams")
            .col(gram(backend))
            .col(uuid("partner_id"))
            .col(uuid("escalation_id"))
            .foreign_key(
                ForeignKey::create()
                    .name("fk_escalation_grams_escalation")
                    .from("escalation_grams", "escalation_id")
                    .to("escalations", "id")
                    .on_delete(ForeignKeyAction::Cascade),
            );
        if sqlite {
            // The primary key is the table: no rowid b-tree beside it, and so it is declared
            // with the table. PostgreSQL builds its keys after the postings are in, in one sort
            // each rather than row by row.
            customers
                .primary_key(&mut key(&CUSTOMER_KEY))
                .extra("WITHOUT ROWID");
            escalations
                .primary_key(&mut key(&ESCALATION_KEY))
                .extra("WITHOUT ROWID");
        }
        manager.create_table(customers.to_owned()).await?;
        manager.create_table(escalations.to_owned()).await?;
        search_text::reindex(manager.get_connection()).await?;
        if !sqlite {
            for (table, key) in [
                ("customer_grams", CUSTOMER_KEY.as_slice()),
                ("escalation_grams", ESCALATION_KEY.as_slice()),
            ] {
                manager
                    .get_connection()
                    .execute_unprepared(&format!(
                        "ALTER TABLE {table} ADD PRIMARY KEY ({})",
                        key.join(", ")
                    ))
                    .await?;
            }
        }
        for statement in [
            index(
                "ix_customer_grams_all_partners",
                "customer_grams",
                &["gram", "starts_name", "customer_id"],
            ),
            // A customer's postings, to replace them when its name or domain changes (and for
            // the cascade when it is deleted).
            index(
                "ix_customer_grams_customer",
                "customer_grams",
                &["customer_id"],
            ),
            index(
                "ix_escalation_grams_all_partners",
                "escalation_grams",
                &["gram", "escalation_id"],
            ),
            index("ix_customers_tenant_id", "customers", &["tenant_id"]),
        ] {
            manager.create_index(statement).await?;
        }
        for (name, _) in OLD_INDEXES {
            manager
                .drop_index(Index::drop().name(name).table("customers").to_owned())
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let collate = match manager.get_database_backend() {
            DbBackend::Postgres => r#" COLLATE "C""#,
            _ => "",
        };
        for (name, column) in OLD_INDEXES {
            manager
                .get_connection()
                .execute_unprepared(&format!(
                    "CREATE INDEX {name} ON customers (partner_id, {column}{collate}, id)"
                ))
                .await?;
        }
        manager
            .drop_index(
                Index::drop()
                    .name("ix_customers_tenant_id")
                    .table("customers")
                    .to_owned(),
            )
            .await?;
        for table in ["escalation_grams", "customer_grams"] {
            manager
                .drop_table(Table::drop().table(Alias::new(table)).to_owned())
                .await?;
        }
        Ok(())
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}
