//! API keys: who may call, with which role, for which partner. Only digests are stored.

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, DatabaseConnection, DbErr, EntityTrait, ExprTrait,
    PaginatorTrait, QueryFilter, QuerySelect, Set,
};
use uuid::Uuid;

use super::{Page, PageRequest, VersionCheck, Versioned, fetch_page, update_versioned};
use crate::domain::secret::NewSecret;
use crate::domain::{DisplayName, Role, Scope};
use crate::entity::api_key::{ActiveModel, Column, Entity, Model};

/// `last_used_at` is refreshed at most this often (see `http::verified_keys`).
pub const LAST_USED_RESOLUTION: Duration = Duration::seconds(60);

#[derive(Debug, Clone)]
pub struct NewApiKey {
    pub name: DisplayName,
    pub role: Role,
    pub partner_id: Option<Uuid>,
}

#[derive(Debug, Clone, Default)]
pub struct ApiKeyFilter {
    pub partner_id: Option<Uuid>,
    pub role: Option<Role>,
    pub include_revoked: bool,
}

/// Stores the key's digest and prefix; the secret itself is returned to the caller only.
#[tracing::instrument(skip_all)]
pub async fn create(
    db: &impl sea_orm::ConnectionTrait,
    new: NewApiKey,
    secret: &NewSecret,
) -> Result<Model, DbErr> {
    let now = Utc::now();
    ActiveModel {
        id: Set(Uuid::now_v7()),
        name: Set(new.name.into_inner()),
        role: Set(new.role.as_str().to_owned()),
        partner_id: Set(new.partner_id),
        prefix: Set(secret.prefix.clone()),
        secret_hash: Set(secret.digest.clone()),
        last_used_at: Set(None),
        revoked_at: Set(None),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await
}

/// Unrevoked keys sharing a prefix: the candidates for a presented secret.
pub async fn active_by_prefix(db: &DatabaseConnection, prefix: &str) -> Result<Vec<Model>, DbErr> {
    Entity::find()
        .filter(Column::Prefix.eq(prefix))
        .filter(Column::RevokedAt.is_null())
        .all(db)
        .await
}

/// Of these keys, the ones not revoked.
pub async fn still_active(db: &DatabaseConnection, ids: &[Uuid]) -> Result<Vec<Uuid>, DbErr> {
    Entity::find()
        .select_only()
        .column(Column::Id)
        .filter(Column::Id.is_in(ids.iter().copied()))
        .filter(Column::RevokedAt.is_null())
        .into_tuple()
        .all(db)
        .await
}

/// Records that these keys were used at `now`.
pub async fn mark_used(
    db: &DatabaseConnection,
    ids: &[Uuid],
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    Entity::update_many()
        .col_expr(Column::LastUsedAt, Expr::value(now))
        .filter(Column::Id.is_in(ids.iter().copied()))
        .exec(db)
        .await?;
    Ok(())
}

/// The key, if it exists and the scope may see it.
#[tracing::instrument(skip_all, fields(id = %id))]
pub async fn get(db: &DatabaseConnection, scope: Scope, id: Uuid) -> Result<Option<Model>, DbErr> {
    let row = Entity::find_by_id(id).one(db).await?;
    Ok(row.filter(|row| visible(scope, row)))
}

fn visible(scope: Scope, key: &Model) -> bool {
    match scope {
        Scope::All => true,
        Scope::Partner(own) => key.partner_id == Some(own),
    }
}

#[tracing::instrument(skip_all)]
pub async fn list(
    db: &DatabaseConnection,
    scope: Scope,
    filter: ApiKeyFilter,
    page: PageRequest,
) -> Result<Page<Model>, DbErr> {
    let mut select = Entity::find();
    for partner_id in [scope.partner_id(), filter.partner_id]
        .into_iter()
        .flatten()
    {
        select = select.filter(Column::PartnerId.eq(partner_id));
    }
    if let Some(role) = filter.role {
        select = select.filter(Column::Role.eq(role.as_str()));
    }
    if !filter.include_revoked {
        select = select.filter(Column::RevokedAt.is_null());
    }
    fetch_page(db, select, Column::Id, |row| row.id, page).await
}

/// Renames the key if it is at an admitted version; `None` when it is not.
#[tracing::instrument(skip_all, fields(id = %id))]
pub async fn rename(
    db: &DatabaseConnection,
    id: Uuid,
    expected: &VersionCheck,
    name: DisplayName,
) -> Result<Option<Model>, DbErr> {
    let versioned = Versioned {
        id: Column::Id,
        version: Column::Version,
        updated_at: Column::UpdatedAt,
    };
    let assignments = vec![(Column::Name, Expr::value(name.into_inner()))];
    update_versioned::<Entity>(db, versioned, id, expected, assignments).await
}

/// Revokes the key; revoking a revoked key changes nothing.
#[tracing::instrument(skip_all, fields(id = %id))]
pub async fn revoke(db: &impl sea_orm::ConnectionTrait, id: Uuid) -> Result<(), DbErr> {
    let now = Utc::now();
    Entity::update_many()
        .col_expr(Column::RevokedAt, Expr::value(now))
        .col_expr(Column::Version, Expr::col(Column::Version).add(1))
        .col_expr(Column::UpdatedAt, Expr::value(now))
        .filter(Column::Id.eq(id))
        .filter(Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

/// Whether any unrevoked admin key exists: without one, nobody could manage the deployment.
pub async fn admin_exists(db: &DatabaseConnection) -> Result<bool, DbErr> {
    let admins = Entity::find()
        .filter(Column::Role.eq(Role::Admin.as_str()))
        .filter(Column::RevokedAt.is_null())
        .count(db)
        .await?;
    Ok(admins > 0)
}

/// Revokes every unrevoked key with one of these names (the demo replaces its keys each start).
pub async fn revoke_named(
    db: &impl sea_orm::ConnectionTrait,
    names: &[&str],
) -> Result<u64, DbErr> {
    let now = Utc::now();
    let result = Entity::update_many()
        .col_expr(Column::RevokedAt, Expr::value(now))
        .col_expr(Column::Version, Expr::col(Column::Version).add(1))
        .col_expr(Column::UpdatedAt, Expr::value(now))
        .filter(
            Condition::all()
                .add(Column::Name.is_in(names.iter().copied()))
                .add(Column::RevokedAt.is_null()),
        )
        .exec(db)
        .await?;
    Ok(result.rows_affected)
}
