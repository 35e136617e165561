//! The partner contact's language takes escalade's own language tags (`zh-Hans`, `en` rather than
//! `zh-hans`, `en-us`), and is kept in a column of its own as well, so the triage queue can be
//! filtered by it.

use sea_orm_migration::sea_orm::DbBackend;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// `contact.preferred_language` rewritten from one spelling to the other, as SQL for `backend`.
fn rewrite(backend: DbBackend, from: (&str, &str), to: (&str, &str)) -> String {
    let ((from_zh, from_en), (to_zh, to_en)) = (from, to);
    match backend {
        DbBackend::Postgres => format!(
            "UPDATE escalations SET contact = jsonb_set(contact, '{{preferred_language}}', \
             to_jsonb(CASE contact->>'preferred_language' WHEN '{from_en}' THEN '{to_en}'::text \
             WHEN '{from_zh}' THEN '{to_zh}'::text ELSE contact->>'preferred_language' END))"
        ),
        _ => format!(
            "UPDATE escalations SET contact = json_set(contact, '$.preferred_language', \
             CASE json_extract(contact, '$.preferred_language') WHEN '{from_en}' THEN '{to_en}' \
             WHEN '{from_zh}' THEN '{to_zh}' ELSE json_extract(contact, '$.preferred_language') END)"
        ),
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        let db = manager.get_connection();
        db.execute_unprepared(&rewrite(backend, ("zh-hans", "en-us"), ("zh-Hans", "en")))
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("escalations")
                    .add_column(string_len("contact_language", 8).default("zh-Hans"))
                    .to_owned(),
            )
            .await?;
        let copy = match backend {
            DbBackend::Postgres => {
                "UPDATE escalations SET contact_language = contact->>'preferred_language'"
            }
            _ => {
                "UPDATE escalations SET contact_language = json_extract(contact, '$.preferred_language')"
            }
        };
        db.execute_unprepared(copy).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("escalations")
                    .drop_column("contact_language")
                    .to_owned(),
            )
            .await?;
        let backend = manager.get_database_backend();
        manager
            .get_connection()
            .execute_unprepared(&rewrite(backend, ("zh-Hans", "en"), ("zh-hans", "en-us")))
            .await?;
        Ok(())
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}
