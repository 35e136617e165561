//! People who sign in with their organisation's identity: one row per person (per directory
//! tenant and object id), written when their first accepted token is seen and kept up to date
//! from the tokens that follow.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ColumnTrait, DatabaseConnection, DbErr, EntityTrait, ExprTrait, QueryFilter, QuerySelect, Set,
};
use uuid::Uuid;

use super::{Page, PageRequest, fetch_page};
use crate::domain::Role;
use crate::domain::Scope;
pub use crate::entity::person::Model as PersonRow;
use crate::entity::person::{ActiveModel, Column, Entity};

/// A person as their token names them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeenPerson {
    pub tenant_id: Uuid,
    pub object_id: Uuid,
    pub name: String,
    pub email: String,
    pub role: Role,
    pub partner_id: Option<Uuid>,
}

/// Records the person a token names, seen at `now`: created the first time, otherwise their
/// name, e-mail, role and partner follow the token. One statement, whatever the race.
pub async fn seen(
    db: &DatabaseConnection,
    person: SeenPerson,
    now: DateTime<Utc>,
) -> Result<PersonRow, DbErr> {
    let row = ActiveModel {
        id: Set(Uuid::now_v7()),
        tenant_id: Set(person.tenant_id),
        object_id: Set(person.object_id),
        name: Set(person.name),
        email: Set(person.email),
        role: Set(person.role.as_str().to_owned()),
        partner_id: Set(person.partner_id),
        disabled_at: Set(None),
        first_seen_at: Set(now),
        last_seen_at: Set(now),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
    };
    Entity::insert(row)
        .on_conflict(
            OnConflict::columns([Column::TenantId, Column::ObjectId])
                .update_columns([
                    Column::Name,
                    Column::Email,
                    Column::Role,
                    Column::PartnerId,
                    Column::LastSeenAt,
                    Column::UpdatedAt,
                ])
                .to_owned(),
        )
        .exec_with_returning(db)
        .await
}

pub async fn get(
    db: &DatabaseConnection,
    scope: Scope,
    id: Uuid,
) -> Result<Option<PersonRow>, DbErr> {
    Entity::find_by_id(id).filter(visible(scope)).one(db).await
}

/// A partner sees its own people; 21Vianet's staff see their own (never a partner's).
fn visible(scope: Scope) -> sea_orm::Condition {
    match scope {
        Scope::Partner(partner_id) => {
            sea_orm::Condition::all().add(Column::PartnerId.eq(partner_id))
        }
        Scope::All => sea_orm::Condition::all().add(Column::PartnerId.is_null()),
    }
}

/// People as `scope` sees them, with `role` when given, oldest first.
pub async fn list(
    db: &DatabaseConnection,
    scope: Scope,
    role: Option<Role>,
    page: PageRequest,
) -> Result<Page<PersonRow>, DbErr> {
    let mut select = Entity::find().filter(visible(scope));
    if let Some(role) = role {
        select = select.filter(Column::Role.eq(role.as_str()));
    }
    fetch_page(db, select, Column::Id, |row| row.id, page).await
}

/// Disables or enables person `id` (21Vianet's or a partner's, as an admin may); the row after,
/// or `None` when there is no such person.
pub async fn set_disabled(
    db: &DatabaseConnection,
    id: Uuid,
    disabled_at: Option<DateTime<Utc>>,
) -> Result<Option<PersonRow>, DbErr> {
    let updated = Entity::update_many()
        .col_expr(Column::DisabledAt, Expr::value(disabled_at))
        .col_expr(Column::Version, Expr::col(Column::Version).add(1))
        .col_expr(Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(Column::Id.eq(id))
        .exec_with_returning(db)
        .await?;
    Ok(updated.into_iter().next())
}

/// Of these people, those not disabled.
pub async fn still_enabled(db: &DatabaseConnection, ids: &[Uuid]) -> Result<Vec<Uuid>, DbErr> {
    Entity::find()
        .select_only()
        .column(Column::Id)
        .filter(Column::Id.is_in(ids.iter().copied()))
        .filter(Column::DisabledAt.is_null())
        .into_tuple()
        .all(db)
        .await
}

/// Records that these people were seen at `now`.
pub async fn mark_seen(
    db: &DatabaseConnection,
    ids: &[Uuid],
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    Entity::update_many()
        .col_expr(Column::LastSeenAt, Expr::value(now))
        .filter(Column::Id.is_in(ids.iter().copied()))
        .exec(db)
        .await?;
    Ok(())
}
