//! How the engines plan the statements on the hot path. PostgreSQL plans a prepared statement
//! afresh at each execution for as long as its generic plan looks worse than a plan made for the
//! values at hand, and planning the criteria's facts cost more than running them. A generic plan
//! looks worse when a constant that a partial index's predicate names is bound as a parameter:
//! the plan cannot know the value, so it cannot use the index. SQLite, whose plans are stable
//! across bindings here, cannot either. So such constants are written into the SQL.

use chrono::Utc;
use escalade::domain::search::SearchText;
use escalade::domain::{Category, Scope};
use escalade::store::PageRequest;
use escalade::store::criteria::{About, facts_statement};
use escalade::store::customers::{self, CustomerFilter};
use escalade::store::escalations::{self, EscalationFilter, Order};
use uuid::Uuid;

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

/// A search by a single gram, a later page: each group of matches is read from the postings'
/// index in list order from the cursor on, never the customers or escalations table whole,
/// whatever the values.
#[actix_web::test]
async fn a_search_reads_its_page_from_the_postings_whatever_the_values() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("搜索").await;
    let page = PageRequest {
        limit: 25,
        after: Some(Uuid::now_v7()),
    };
    let backend = app.db.get_database_backend();
    let text = SearchText::parse("星河").expect("a search");
    let customers = CustomerFilter {
        q: Some(text.clone()),
        ..CustomerFilter::default()
    };
    let escalations = EscalationFilter {
        q: Some(text),
        ..EscalationFilter::default()
    };
    let now = Utc::now();
    let statements = [
        (
            "a partner's customers",
            customers::search_statement(
                backend,
                Scope::Partner(partner.id),
                &customers,
                Some("星河"),
                page,
            ),
        ),
        (
            "every partner's customers",
            customers::search_statement(backend, Scope::All, &customers, Some("星河"), page),
        ),
        (
            "a partner's escalations",
            escalations::search_statement(
                Scope::Partner(partner.id),
                &escalations,
                Order::Newest,
                page,
                now,
                Some("星河"),
            ),
        ),
        (
            "every partner's escalations",
            escalations::search_statement(
                Scope::All,
                &escalations,
                Order::Newest,
                page,
                now,
                Some("星河"),
            ),
        ),
    ];

    for (what, statement) in statements {
        // Act
        let plan = app
            .generic_plan(&statement.expect("a statement"))
            .await
            .join("\n");

        // Assert
        let whole_table = [
            "Seq Scan",
            "SCAN customers",
            "SCAN escalations",
            "SCAN lead",
        ];
        for step in whole_table {
            assert!(!plan.contains(step), "{what}: {step} in the plan:\n{plan}");
        }
        let postings = ["_grams_pkey", "_grams_all_partners", "SEARCH lead USING"];
        assert!(
            postings.iter().any(|index| plan.contains(index)),
            "{what}: the postings' index is not in the plan:\n{plan}"
        );
    }
}
