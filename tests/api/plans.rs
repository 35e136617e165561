//! How the engines plan the statements on the hot path. PostgreSQL plans a prepared statement
//! afresh at each execution for as long as its generic plan looks worse than a plan made for the
//! values at hand, and planning the criteria's facts cost more than running them. A generic plan
//! looks worse when a constant that a partial index's predicate names is bound as a parameter:
//! the plan cannot know the value, so it cannot use the index. SQLite, whose plans are stable
//! across bindings here, cannot either. So such constants are written into the SQL.

use chrono::Utc;
use escalade::domain::Category;
use escalade::store::criteria::{About, facts_statement};

use crate::helpers::spawn_app;

#[actix_web::test]
async fn the_criteria_facts_use_the_partial_indexes_whatever_the_values() {
    // Arrange
    let app = spawn_app().await;
    let fixture = app.escalation_fixture("standard").await;
    let about = About {
        partner_id: fixture.partner.id,
        customer_id: fixture.customer_id,
        service_key: "microsoft-365",
        category: Category::ServiceUnavailable,
        today: Utc::now().date_naive(),
    };

    // Act
    let plan = app.generic_plan(&facts_statement(about)).await.join("\n");

    // Assert
    for index in ["ux_subscriptions_live", "ux_escalations_open"] {
        assert!(plan.contains(index), "{index} is not in the plan:\n{plan}");
    }
}
