//! Migrations are history: every one applies, rolls back and applies again on a fresh database.

use migration::{Migrator, MigratorTrait};

use crate::helpers::TestDatabase;

/// How many migrations the database has yet to apply.
pub(crate) async fn pending(db: &sea_orm::DatabaseConnection) -> usize {
    let pending = Migrator::get_pending_migrations(db).await;
    pending.expect("the pending migrations are listed").len()
}

#[tokio::test]
async fn migrations_apply_roll_back_and_apply_again() {
    let database = TestDatabase::empty().await;
    let total = Migrator::migrations().len();

    Migrator::up(&database.db, None).await.expect("up");
    assert_eq!(pending(&database.db).await, 0);
    Migrator::down(&database.db, None)
        .await
        .expect("down, all the way");
    assert_eq!(pending(&database.db).await, total);
    Migrator::up(&database.db, None).await.expect("up again");

    assert_eq!(pending(&database.db).await, 0);
}

#[tokio::test]
async fn each_migration_rolls_back_on_its_own() {
    let database = TestDatabase::empty().await;
    Migrator::up(&database.db, None).await.expect("up");

    for _ in 0..Migrator::migrations().len() {
        Migrator::down(&database.db, Some(1))
            .await
            .expect("one step down");
    }

    assert_eq!(pending(&database.db).await, Migrator::migrations().len());
}
