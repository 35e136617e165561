//! What the escalation criteria need to know about the world, read in one statement: the
//! partner, the customer (only if it is the partner's), the service, the customer's live
//! subscription to it, an open escalation it would duplicate, the partner's overdue remediation
//! plans, how many incidents are open on the service and whether the partner has a webhook
//! endpoint to tell. The open incidents' ids take a second statement, and only when there are
//! some.

use chrono::NaiveDate;
use sea_orm::sea_query::{Expr, ExprTrait, JoinType, Query, SelectStatement};
use sea_orm::{DatabaseConnection, DbErr, FromQueryResult};
use uuid::Uuid;

use crate::domain::remediation::PlanStatus;
use crate::domain::{Category, IncidentStatus, SubscriptionStatus};
use crate::store::escalations::is_open;
use crate::store::{incidents, literal};

/// The row of the facts statement; every column but the partner's is `NULL` when what it
/// describes does not exist.
#[derive(Debug, Clone, FromQueryResult)]
pub struct FactsRow {
    pub partner_tenant_id: Uuid,
    pub partner_status: String,
    pub overdue_plans: i64,
    pub customer_tenant_id: Option<Uuid>,
    pub customer_support_plan: Option<String>,
    pub service_operated_by: Option<String>,
    pub service_first_party: Option<bool>,
    pub service_categories: Option<serde_json::Value>,
    pub subscription_status: Option<String>,
    pub duplicate_number: Option<String>,
    pub open_incidents: i64,
    /// The partner's enabled webhook endpoints: with none, nobody is to be told of a new
    /// escalation.
    pub enabled_endpoints: i64,
}

/// What a proposed escalation is about.
#[derive(Debug, Clone, Copy)]
pub struct About<'a> {
    pub partner_id: Uuid,
    pub customer_id: Uuid,
    pub service_key: &'a str,
    pub category: Category,
    /// Remediation plans due before this day (Beijing time) are overdue.
    pub today: NaiveDate,
}

/// The facts, with the ids of the incidents open on the service; `None` when the partner does
/// not exist.
pub async fn facts(
    db: &DatabaseConnection,
    about: About<'_>,
) -> Result<Option<(FactsRow, Vec<Uuid>)>, DbErr> {
    let statement = db.get_database_backend().build(&facts_statement(about));
    let Some(row) = FactsRow::find_by_statement(statement).one(db).await? else {
        return Ok(None);
    };
    let open_incidents = if row.open_incidents > 0 {
        incidents::active_ids_on(db, about.service_key).await?
    } else {
        Vec::new()
    };
    Ok(Some((row, open_incidents)))
}

/// A scalar subquery.
fn scalar(select: &mut SelectStatement) -> Expr {
    Expr::from(select.take())
}

/// The facts statement, public so that the test suite can check how each engine plans it.
pub fn facts_statement(about: About<'_>) -> SelectStatement {
    let col = |table: &'static str, column: &'static str| Expr::col((table, column));
    let overdue_plans = scalar(
        Query::select()
            .expr(Expr::col("id").count())
            .from("remediation_plans")
            .and_where(col("remediation_plans", "partner_id").equals(("p", "id")))
            .and_where(Expr::col("status").eq(literal(PlanStatus::Requested.as_str())))
            .and_where(Expr::col("respond_by").lt(about.today)),
    );
    let subscription_status = scalar(
        Query::select()
            .column("status")
            .from("subscriptions")
            .and_where(col("subscriptions", "customer_id").equals(("c", "id")))
            .and_where(Expr::col("service_key").eq(about.service_key))
            .and_where(Expr::col("status").ne(literal(SubscriptionStatus::Deleted.as_str())))
            .limit(1),
    );
    let duplicate_number = scalar(
        Query::select()
            .column("number")
            .from("escalations")
            .and_where(col("escalations", "customer_id").equals(("c", "id")))
            .and_where(Expr::col("service_key").eq(about.service_key))
            .and_where(Expr::col("category").eq(about.category.as_str()))
            .and_where(is_open("status"))
            .limit(1),
    );
    let open_incidents = scalar(
        Query::select()
            .expr(Expr::col("id").count())
            .from("service_incidents")
            .and_where(Expr::col("service_key").eq(about.service_key))
            .and_where(Expr::col("status").ne(literal(IncidentStatus::Resolved.as_str()))),
    );
    let enabled_endpoints = scalar(
        Query::select()
            .expr(Expr::col("id").count())
            .from("webhook_endpoints")
            .and_where(col("webhook_endpoints", "partner_id").equals(("p", "id")))
            .and_where(Expr::col("enabled").eq(true)),
    );
    Query::select()
        .expr_as(col("p", "tenant_id"), "partner_tenant_id")
        .expr_as(col("p", "status"), "partner_status")
        .expr_as(overdue_plans, "overdue_plans")
        .expr_as(col("c", "tenant_id"), "customer_tenant_id")
        .expr_as(col("c", "support_plan"), "customer_support_plan")
        .expr_as(col("s", "operated_by"), "service_operated_by")
        .expr_as(col("s", "first_party"), "service_first_party")
        .expr_as(col("s", "categories"), "service_categories")
        .expr_as(subscription_status, "subscription_status")
        .expr_as(duplicate_number, "duplicate_number")
        .expr_as(open_incidents, "open_incidents")
        .expr_as(enabled_endpoints, "enabled_endpoints")
        .from_as("partners", "p")
        .join_as(
            JoinType::LeftJoin,
            "customers",
            "c",
            col("c", "id")
                .eq(about.customer_id)
                .and(col("c", "partner_id").equals(("p", "id"))),
        )
        .join_as(
            JoinType::LeftJoin,
            "services",
            "s",
            col("s", "key").eq(about.service_key),
        )
        .and_where(col("p", "id").eq(about.partner_id))
        .take()
}
