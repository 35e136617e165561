//! Migrations are history: every one applies, rolls back and applies again on a fresh database.

use migration::{Migrator, MigratorTrait};

use crate::helpers::TestDatabase;

#[tokio::test]
async fn migrations_apply_roll_back_and_apply_again() {
    let database = TestDatabase::empty().await;
    let total = Migrator::migrations().len();

    Migrator::up(&database.db, None).await.expect("up");
    assert!(
        Migrator::get_pending_migrations(&database.db)
            .await
            .unwrap()
            .is_empty()
    );
    Migrator::down(&database.db, None)
        .await
        .expect("down, all the way");
    assert_eq!(
        Migrator::get_pending_migrations(&database.db)
            .await
            .unwrap()
            .len(),
        total
    );
    Migrator::up(&database.db, None).await.expect("up again");

    assert!(
        Migrator::get_pending_migrations(&database.db)
            .await
            .unwrap()
            .is_empty()
    );
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

    assert_eq!(
        Migrator::get_pending_migrations(&database.db)
            .await
            .unwrap()
            .len(),
        Migrator::migrations().len()
    );
}
