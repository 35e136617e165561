//! Idempotency records: the first request with a key claims it; its answer, if it succeeded, is
//! kept for 24 hours and replayed to retries. The unique index on (owner, key digest) decides
//! between concurrent first requests, on any number of instances. Records hold a digest of the
//! key, never the key, and the answer's body as the HTTP layer sealed it.

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, DatabaseConnection, DbErr, EntityTrait, QueryFilter,
    Set,
};
use uuid::Uuid;

use crate::entity::idempotency_record::{ActiveModel, Column, Entity, Model};

/// How long a key is remembered.
pub const RETENTION: Duration = Duration::hours(24);

/// How long a claim holds while its request runs. A request is over well before this (database
/// waits are bounded by seconds), so a claim older than this was left by an instance that died.
pub const CLAIM: Duration = Duration::seconds(60);

const IN_FLIGHT: &str = "in_flight";
const COMPLETED: &str = "completed";

/// A stored answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    pub status: u16,
    /// The headers that matter to a client: name and value.
    pub headers: Vec<(String, String)>,
    /// The body, sealed.
    pub sealed_body: String,
}

/// What a request with an idempotency key may do.
#[derive(Debug)]
pub enum Claim {
    /// It is the first (or the previous holder expired or died): run it, then `complete` or
    /// `release` the record.
    Acquired(Uuid),
    /// It was answered before: replay this.
    Replay(StoredResponse),
    /// The same key came with another request.
    Mismatch,
    /// The first request with this key is still running.
    InFlight,
}

/// The answer kept for `owner`'s key with this digest, if a request with this fingerprint was
/// answered within the last 24 hours.
#[tracing::instrument(skip_all)]
pub async fn answered(
    db: &DatabaseConnection,
    owner_id: Uuid,
    key_digest: &str,
    fingerprint: &str,
) -> Result<Option<StoredResponse>, DbErr> {
    let record = Entity::find()
        .filter(Column::OwnerId.eq(owner_id))
        .filter(Column::KeyDigest.eq(key_digest))
        .filter(Column::State.eq(COMPLETED))
        .filter(Column::Fingerprint.eq(fingerprint))
        .filter(Column::ExpiresAt.gt(Utc::now()))
        .one(db)
        .await?;
    Ok(record.and_then(|record| match judge(record) {
        Claim::Replay(stored) => Some(stored),
        _ => None,
    }))
}

/// Claims the key with `key_digest` for `owner`'s request with this fingerprint.
#[tracing::instrument(skip_all)]
pub async fn claim(
    db: &DatabaseConnection,
    owner_id: Uuid,
    key_digest: &str,
    fingerprint: &str,
) -> Result<Claim, DbErr> {
    // A record that disappears or is taken over between our insert and our read is looked at
    // again; after three rounds of such churn, the key is as good as in flight.
    for _ in 0..3 {
        let now = Utc::now();
        let id = Uuid::now_v7();
        let inserted = ActiveModel {
            id: Set(id),
            owner_id: Set(owner_id),
            key_digest: Set(key_digest.to_owned()),
            fingerprint: Set(fingerprint.to_owned()),
            state: Set(IN_FLIGHT.to_owned()),
            response_status: Set(None),
            response_headers: Set(None),
            response_body: Set(None),
            locked_until: Set(Some(now + CLAIM)),
            created_at: Set(now),
            expires_at: Set(now + RETENTION),
        }
        .insert(db)
        .await;
        match inserted {
            Ok(_) => return Ok(Claim::Acquired(id)),
            Err(err)
                if matches!(
                    err.sql_err(),
                    Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
                ) => {}
            Err(err) => return Err(err),
        }
        let Some(existing) = Entity::find()
            .filter(Column::OwnerId.eq(owner_id))
            .filter(Column::KeyDigest.eq(key_digest))
            .one(db)
            .await?
        else {
            continue;
        };
        if existing.expires_at <= now || abandoned(&existing, now) {
            if take_over(db, &existing, fingerprint, now).await? {
                return Ok(Claim::Acquired(existing.id));
            }
            continue;
        }
        if existing.fingerprint != fingerprint {
            return Ok(Claim::Mismatch);
        }
        return Ok(judge(existing));
    }
    Ok(Claim::InFlight)
}

fn abandoned(record: &Model, now: DateTime<Utc>) -> bool {
    record.state == IN_FLIGHT && record.locked_until.is_none_or(|until| until <= now)
}

/// What a live record says to a request with the same key.
fn judge(record: Model) -> Claim {
    if record.state == IN_FLIGHT {
        return Claim::InFlight;
    }
    let headers = record
        .response_headers
        .and_then(|headers| serde_json::from_value(headers).ok())
        .unwrap_or_default();
    Claim::Replay(StoredResponse {
        status: record
            .response_status
            .and_then(|status| u16::try_from(status).ok())
            .unwrap_or(200),
        headers,
        sealed_body: record.response_body.unwrap_or_default(),
    })
}

/// Re-arms an expired or abandoned record for a new request, if no one else did first.
async fn take_over(
    db: &DatabaseConnection,
    stale: &Model,
    fingerprint: &str,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let still_stale = Condition::any().add(Column::ExpiresAt.lte(now)).add(
        Condition::all()
            .add(Column::State.eq(IN_FLIGHT))
            .add(Column::LockedUntil.lte(now)),
    );
    let taken = Entity::update_many()
        .col_expr(Column::Fingerprint, Expr::value(fingerprint))
        .col_expr(Column::State, Expr::value(IN_FLIGHT))
        .col_expr(Column::ResponseStatus, Expr::value(Option::<i32>::None))
        .col_expr(
            Column::ResponseHeaders,
            Expr::value(Option::<serde_json::Value>::None),
        )
        .col_expr(Column::ResponseBody, Expr::value(Option::<String>::None))
        .col_expr(Column::LockedUntil, Expr::value(Some(now + CLAIM)))
        .col_expr(Column::CreatedAt, Expr::value(now))
        .col_expr(Column::ExpiresAt, Expr::value(now + RETENTION))
        .filter(Column::Id.eq(stale.id))
        .filter(Column::State.eq(stale.state.clone()))
        .filter(still_stale)
        .exec(db)
        .await?;
    Ok(taken.rows_affected == 1)
}

/// Keeps the answer of the request that holds the claim.
pub async fn complete(
    db: &DatabaseConnection,
    id: Uuid,
    response: &StoredResponse,
) -> Result<(), DbErr> {
    let headers = serde_json::to_value(&response.headers)
        .map_err(|err| DbErr::Custom(format!("headers do not serialise: {err}")))?;
    Entity::update_many()
        .col_expr(Column::State, Expr::value(COMPLETED))
        .col_expr(
            Column::ResponseStatus,
            Expr::value(i32::from(response.status)),
        )
        .col_expr(Column::ResponseHeaders, Expr::value(headers))
        .col_expr(
            Column::ResponseBody,
            Expr::value(response.sealed_body.clone()),
        )
        .col_expr(
            Column::LockedUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(Column::Id.eq(id))
        .filter(Column::State.eq(IN_FLIGHT))
        .exec(db)
        .await?;
    Ok(())
}

/// Frees the key after a request that did not succeed, so that a retry runs again.
pub async fn release(db: &DatabaseConnection, id: Uuid) -> Result<(), DbErr> {
    Entity::delete_many()
        .filter(Column::Id.eq(id))
        .filter(Column::State.eq(IN_FLIGHT))
        .exec(db)
        .await?;
    Ok(())
}

/// Deletes records past their 24 hours; returns how many.
pub async fn purge_expired(db: &DatabaseConnection, now: DateTime<Utc>) -> Result<u64, DbErr> {
    let deleted = Entity::delete_many()
        .filter(Column::ExpiresAt.lte(now))
        .exec(db)
        .await?;
    Ok(deleted.rows_affected)
}
