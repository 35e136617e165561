//! `/v1/customers/{customer_id}/subscriptions`: which services a partner's customer has, and in
//! what state — creating, the one-live-subscription rule, the status machine, who may do what,
//! filters and pages.

use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{
    Answer, TestApp, TestPartner, send_concurrently, spawn_app, subscription_body,
    subscription_path, uuid,
};
use crate::services::{FORBIDDEN, NOT_FOUND, marketplace_body};

const E5: &str = "Office 365 E5 (operated by 21Vianet)";

fn subscriptions_path(customer_id: Uuid) -> String {
    format!("/v1/customers/{customer_id}/subscriptions")
}

/// A partner with one customer; returns both and the customer's id.
async fn partner_with_customer(app: &TestApp) -> (TestPartner, Uuid) {
    let partner = app.create_partner("世纪互联合作伙伴").await;
    let customer = app.create_customer(&partner, "上海云启科技有限公司").await;
    (partner, customer.id())
}

/// Adds the marketplace product `contoso-backup` to the catalog, as an operator.
async fn add_marketplace_product(app: &TestApp) {
    let operator = app.operator_key().await;
    let body = marketplace_body("contoso-backup");
    app.created("/v1/services", &operator, &body).await;
}

/// A fresh customer of `partner` with a subscription to Microsoft 365 brought to `status` through
/// allowed moves; returns the last answer (carrying the subscription and its ETag).
async fn subscription_in(app: &TestApp, partner: &TestPartner, status: &str) -> Answer {
    let customer = app.create_customer(partner, "北京星河贸易有限公司").await;
    subscription_of(app, partner, customer.id(), "microsoft-365", status).await
}

/// A subscription of the customer to `service_key` brought to `status` through allowed moves;
/// returns the last answer.
async fn subscription_of(
    app: &TestApp,
    partner: &TestPartner,
    customer_id: Uuid,
    service_key: &str,
    status: &str,
) -> Answer {
    let start = if status == "pending" {
        status
    } else {
        "active"
    };
    let created = app
        .create_subscription(partner, customer_id, service_key, start)
        .await;
    match status {
        "pending" | "active" => created,
        _ => app.move_subscription(partner, &created, status).await,
    }
}

/// The path of the subscription an answer carries.
fn path_of(answer: &Answer) -> String {
    subscription_path(uuid(&answer.body["customer_id"]), answer.id())
}

#[tokio::test]
async fn a_partner_adds_subscriptions_for_its_own_customer() {
    // Arrange
    let app = spawn_app().await;
    let (partner, customer_id) = partner_with_customer(&app).await;
    add_marketplace_product(&app).await;
    let path = subscriptions_path(customer_id);
    let body = json!({
        "service_key": "microsoft-365",
        "offer_name": "Office 365 E3 (operated by 21Vianet)",
        "quantity": 250
    });

    // Act
    let answer = app.post(&path, &partner.key, &body).await;
    let read = app.get(&path_of(&answer), &partner.key).await;

    // Assert
    assert_eq!(answer.status, 201, "{}", answer.body);
    let id = answer.id();
    let location = subscription_path(customer_id, id);
    assert_eq!(answer.header("location"), Some(location.as_str()));
    assert_eq!(answer.etag(), "\"1\"");
    assert_eq!(id.get_version_num(), 7, "ids are UUID v7");
    let subscription = &answer.body;
    assert_eq!(subscription["customer_id"], json!(customer_id));
    assert_eq!(subscription["service_key"], "microsoft-365");
    assert_eq!(subscription["offer_name"], body["offer_name"]);
    assert_eq!(subscription["quantity"], 250);
    let why = "status defaults to active";
    assert_eq!(subscription["status"], "active", "{why}");
    assert_eq!(subscription["version"], 1);
    let partner_id = subscription.get("partner_id");
    assert!(partner_id.is_none(), "the partner is implied");
    assert_eq!(read.status, 200, "{}", read.body);
    assert_eq!(read.body, answer.body);
    assert_eq!(read.etag(), "\"1\"");

    for (service_key, field, sent, kept) in [
        ("azure", "status", json!("pending"), json!("pending")),
        ("power-bi", "quantity", json!(1), json!(1)),
        (
            "dynamics-365",
            "quantity",
            json!(1_000_000),
            json!(1_000_000),
        ),
        ("power-apps", "quantity", json!(250.0), json!(250)),
        ("contoso-backup", "status", json!("active"), json!("active")),
    ] {
        let mut body = subscription_body(service_key, "active");
        body[field] = sent;

        // Act
        let answer = app.post(&path, &partner.key, &body).await;

        // Assert
        assert_eq!(answer.status, 201, "{service_key}: {}", answer.body);
        assert_eq!(answer.body[field], kept, "{service_key}");
    }
}

#[tokio::test]
async fn an_invalid_subscription_is_refused_and_nothing_is_written() {
    // Arrange
    let app = spawn_app().await;
    let (partner, customer_id) = partner_with_customer(&app).await;
    let path = subscriptions_path(customer_id);
    let starting = |status: &str| subscription_body("azure", status);
    let quantity = |quantity: Value| {
        let mut body = subscription_body("azure", "active");
        body["quantity"] = quantity;
        body
    };
    let malformed = json!({"service_key": "Power_BI", "offer_name": "  ", "quantity": 0});
    let (status, range, integer) = (
        [("status", "invalid_value")],
        [("quantity", "range")],
        [("quantity", "invalid_type")],
    );
    let missing = [
        ("offer_name", "required"),
        ("quantity", "required"),
        ("service_key", "required"),
    ];
    let every_field_wrong = [
        ("offer_name", "length"),
        ("quantity", "range"),
        ("service_key", "invalid_service_key"),
    ];

    for (label, body, fields) in [
        ("starting suspended", starting("suspended"), &status[..]),
        ("starting deleted", starting("deleted"), &status),
        ("starting cancelled", starting("cancelled"), &status),
        ("quantity 0", quantity(json!(0)), &range),
        ("quantity 1000001", quantity(json!(1_000_001)), &range),
        ("quantity -5", quantity(json!(-5)), &range),
        ("quantity 2.5", quantity(json!(2.5)), &integer),
        ("quantity as text", quantity(json!("250")), &integer),
        ("nothing", json!({}), &missing),
        ("every field wrong", malformed, &every_field_wrong),
    ] {
        // Act
        let answer = app.post(&path, &partner.key, &body).await;

        // Assert
        answer.case_refused(label, 422, "validation_failed", fields);
    }
    let not_in_catalog = subscription_body("contoso-backup", "active");
    let answer = app.post(&path, &partner.key, &not_in_catalog).await;
    answer.problem(404, "not_found");
    let list = app.get(&path, &partner.key).await;
    assert!(list.items().is_empty(), "nothing was written");
}

#[tokio::test]
async fn a_customer_has_one_live_subscription_per_service() {
    // Arrange
    let app = spawn_app().await;
    let (partner, customer_id) = partner_with_customer(&app).await;
    let other_customer = app.create_customer(&partner, "深圳海岸网络有限公司").await;
    let subscribe = async |service_key: &str, status: &str| {
        app.create_subscription(&partner, customer_id, service_key, status)
            .await
    };
    subscribe("azure", "active").await;
    subscribe("power-bi", "pending").await;
    let dynamics = subscribe("dynamics-365", "active").await;
    app.move_subscription(&partner, &dynamics, "suspended")
        .await;
    let first = subscribe("power-apps", "active").await;
    app.move_subscription(&partner, &first, "deleted").await;
    let path = subscriptions_path(customer_id);
    let post = async |path: &str, service_key: &str, status: &str| {
        let body = subscription_body(service_key, status);
        app.post(path, &partner.key, &body).await
    };

    // Act
    let mut refused = Vec::new();
    for (label, service_key, status) in [
        ("a second active", "azure", "active"),
        ("a pending besides an active", "azure", "pending"),
        ("besides a pending", "power-bi", "active"),
        ("besides a suspended", "dynamics-365", "active"),
    ] {
        refused.push((label, post(&path, service_key, status).await));
    }
    let other_service = post(&path, "microsoft-365", "active").await;
    let other_path = subscriptions_path(other_customer.id());
    let other_customers = post(&other_path, "azure", "active").await;
    let again = post(&path, "power-apps", "active").await;
    let third = post(&path, "power-apps", "active").await;

    // Assert
    let taken = [("service_key", "taken")];
    for (label, answer) in refused {
        answer.case_refused(label, 409, "already_exists", &taken);
    }
    assert_eq!(other_service.status, 201, "{}", other_service.body);
    assert_eq!(other_customers.status, 201, "{}", other_customers.body);
    assert_eq!(again.status, 201, "once deleted, again: {}", again.body);
    assert_ne!(again.id(), first.id());
    third.case_refused("a third", 409, "already_exists", &taken);
    let list = app.get(&path, &partner.key).await;
    let listed = list
        .strings("service_key")
        .into_iter()
        .zip(list.strings("status"));
    let listed: Vec<String> = listed
        .map(|(key, status)| format!("{key} {status}"))
        .collect();
    assert_eq!(
        listed,
        [
            "azure active",
            "power-bi pending",
            "dynamics-365 suspended",
            "power-apps deleted",
            "microsoft-365 active",
            "power-apps active"
        ]
    );
}

#[tokio::test]
async fn only_the_customers_partner_writes_its_subscriptions_and_staff_read_them() {
    // Arrange
    let app = spawn_app().await;
    let (owner, customer_id) = partner_with_customer(&app).await;
    let other_customer = app
        .create_customer(&owner, "深圳海岸网络有限公司")
        .await
        .id();
    let subscription = app
        .create_subscription(&owner, customer_id, "azure", "active")
        .await;
    let intruder = app.create_partner("另一家合作伙伴").await;
    let operator = app.operator_key().await;
    let (own, foreign, admin) = (&owner.key, &intruder.key, &app.admin_key);
    let list = subscriptions_path(customer_id);
    let path = subscription_path(customer_id, subscription.id());
    let wrong_path = subscription_path(other_customer, subscription.id());
    let unknown = subscription_path(customer_id, Uuid::now_v7());
    let nobodys = subscriptions_path(Uuid::now_v7());
    let get = |path: &str, key: &str| app.request(Method::GET, path, key);
    let post = |path: &str, key: &str| {
        let request = app.request(Method::POST, path, key);
        request.json(&subscription_body("power-bi", "active"))
    };
    let patch = |path: &str, key: &str| {
        let request = app.request(Method::PATCH, path, key);
        request
            .header("If-Match", "\"1\"")
            .json(&json!({"status": "suspended"}))
    };

    // Act
    let mut refused = Vec::new();
    for (label, request, expected) in [
        ("an intruder adds", post(&list, foreign), NOT_FOUND),
        ("an intruder lists", get(&list, foreign), NOT_FOUND),
        ("an intruder reads", get(&path, foreign), NOT_FOUND),
        ("an intruder updates", patch(&path, foreign), NOT_FOUND),
        ("adding for nobody", post(&nobodys, own), NOT_FOUND),
        ("an admin lists nobody's", get(&nobodys, admin), NOT_FOUND),
        ("another customer's path", get(&wrong_path, own), NOT_FOUND),
        ("an admin at that path", get(&wrong_path, admin), NOT_FOUND),
        ("updating at that path", patch(&wrong_path, own), NOT_FOUND),
        ("reading an unknown one", get(&unknown, own), NOT_FOUND),
        ("updating an unknown one", patch(&unknown, own), NOT_FOUND),
        ("an operator adds", post(&list, &operator), FORBIDDEN),
        ("an operator updates", patch(&path, &operator), FORBIDDEN),
        ("an admin adds", post(&list, admin), FORBIDDEN),
        ("an admin updates", patch(&path, admin), FORBIDDEN),
    ] {
        refused.push((label, app.send(request).await, expected));
    }
    let mut staff_reads = Vec::new();
    for key in [&operator, admin] {
        staff_reads.push((app.get(&list, key).await, app.get(&path, key).await));
    }

    // Assert
    for (label, answer, (status, code)) in refused {
        answer.case_refused(label, status, code, &[]);
    }
    for (listed, read) in staff_reads {
        assert_eq!(listed.strings("service_key"), ["azure"]);
        assert_eq!(read.status, 200, "{}", read.body);
        assert_eq!(read.body, subscription.body);
    }
    let unchanged = app.get(&path, own).await;
    assert_eq!(unchanged.body["status"], "active");
    assert_eq!(unchanged.etag(), "\"1\"");
    assert_eq!(app.get(&list, own).await.strings("service_key"), ["azure"]);
    let other_list = app.get(&subscriptions_path(other_customer), own).await;
    assert!(other_list.items().is_empty());
}

#[tokio::test]
async fn every_allowed_status_move_succeeds_and_a_suspension_may_repeat() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("世纪互联合作伙伴").await;

    for (from, to) in [
        ("pending", "active"),
        ("pending", "deleted"),
        ("active", "suspended"),
        ("active", "deleted"),
        ("suspended", "active"),
        ("suspended", "deleted"),
    ] {
        let current = subscription_in(&app, &partner, from).await;
        assert_eq!(current.body["status"], from);
        let version = current.body["version"].as_i64().unwrap();

        let (path, etag, change) = (path_of(&current), current.etag(), json!({ "status": to }));

        // Act
        let answer = app.patch(&path, &partner.key, Some(&etag), &change).await;

        // Assert
        assert_eq!(answer.status, 200, "{from} -> {to}: {}", answer.body);
        assert_eq!(answer.body["status"], to, "{from} -> {to}");
        assert_eq!(answer.body["version"], version + 1, "{from} -> {to}");
        assert_eq!(answer.etag(), format!("\"{}\"", version + 1));
        assert_ne!(answer.etag(), etag);
        let read = app.get(&path, &partner.key).await;
        assert_eq!(read.body["status"], to, "{from} -> {to}");
    }
    let active = subscription_in(&app, &partner, "active").await;
    let mut current = active;
    for status in ["suspended", "active", "suspended"] {
        current = app.move_subscription(&partner, &current, status).await;
    }
    assert_eq!(current.body["status"], "suspended");
    assert_eq!(current.etag(), "\"4\"");
}

#[tokio::test]
async fn refused_status_moves_are_409_naming_the_allowed_ones_and_deleted_is_final() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("世纪互联合作伙伴").await;
    let move_to = |status: &str| json!({ "status": status });

    for (from, change, allowed) in [
        ("pending", move_to("suspended"), "active or deleted"),
        ("active", move_to("pending"), "suspended or deleted"),
        ("suspended", move_to("pending"), "active or deleted"),
        ("deleted", move_to("active"), "is final"),
        ("deleted", move_to("pending"), "is final"),
        ("deleted", move_to("suspended"), "is final"),
        ("deleted", move_to("deleted"), "is final"),
        ("deleted", json!({ "offer_name": E5 }), "is final"),
        ("deleted", json!({"quantity": 10}), "is final"),
    ] {
        let current = subscription_in(&app, &partner, from).await;
        let (label, path, etag) = (
            format!("{from}, {change}"),
            path_of(&current),
            current.etag(),
        );

        // Act
        let answer = app.patch(&path, &partner.key, Some(&etag), &change).await;

        // Assert
        let fields = [("status", "invalid_transition")];
        let problem = answer.case_refused(&label, 409, "invalid_transition", &fields);
        let message = problem["errors"][0]["message"].as_str().unwrap();
        assert!(message.contains(allowed), "{label}: {allowed}: {problem}");
        if from != "deleted" {
            let detail = problem["detail"].as_str().unwrap();
            let to = change["status"].as_str().unwrap();
            for named in [from, to, allowed] {
                assert!(detail.contains(named), "{label}: {detail}");
            }
        }
        let read = app.get(&path, &partner.key).await;
        assert_eq!(read.body, current.body, "{label}: unchanged");
        assert_eq!(read.etag(), etag, "{label}: unchanged");
    }
}

#[tokio::test]
async fn an_update_needs_the_current_version_is_validated_and_may_keep_the_status() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("世纪互联合作伙伴").await;
    let current = subscription_in(&app, &partner, "suspended").await;
    let (path, etag, key) = (path_of(&current), current.etag(), partner.key.as_str());
    let back = json!({"status": "active"});
    let invalid =
        json!({"quantity": 0, "offer_name": "", "service_key": "azure", "status": "gone"});
    let staying = json!({"offer_name": E5, "quantity": 300, "status": "suspended"});

    // Act
    let without = app.patch(&path, key, None, &back).await;
    let refused = app.patch(&path, key, Some(&etag), &invalid).await;
    let changed = app.patch(&path, key, Some(&etag), &staying).await;
    let stale = app.patch(&path, key, Some(&etag), &back).await;

    // Assert
    without.problem(428, "if_match_required");
    refused.fields_refused(
        422,
        "validation_failed",
        &[
            ("offer_name", "length"),
            ("quantity", "range"),
            ("service_key", "unknown_field"),
            ("status", "invalid_value"),
        ],
    );
    assert_eq!(changed.status, 200, "nothing else wrote: {}", changed.body);
    assert_eq!(changed.body["offer_name"], E5);
    assert_eq!(changed.body["quantity"], 300);
    let why = "staying put is not a move";
    assert_eq!(changed.body["status"], "suspended", "{why}");
    assert_ne!(changed.etag(), etag);
    stale.problem(412, "stale_version");
    let read = app.get(&path, key).await;
    assert_eq!(read.body, changed.body);
    assert_eq!(read.etag(), changed.etag());
}

#[tokio::test]
async fn the_list_filters_pages_and_refuses_bad_parameters() {
    // Arrange
    let app = spawn_app().await;
    let (partner, customer_id) = partner_with_customer(&app).await;
    add_marketplace_product(&app).await;
    let mut active = Vec::new();
    for (service_key, status) in [
        ("microsoft-365", "active"),
        ("azure", "pending"),
        ("power-bi", "suspended"),
        ("dynamics-365", "deleted"),
        ("power-automate", "active"),
        ("contoso-backup", "active"),
    ] {
        let created = subscription_of(&app, &partner, customer_id, service_key, status).await;
        if status == "active" {
            active.push(created.id());
        }
    }
    let path = subscriptions_path(customer_id);
    let everything = [
        "microsoft-365",
        "azure",
        "power-bi",
        "dynamics-365",
        "power-automate",
        "contoso-backup",
    ];

    // Act / Assert
    let list = async |query: &str| app.get(&format!("{path}?{query}"), &partner.key).await;
    let actives = ["microsoft-365", "power-automate", "contoso-backup"];
    for (query, expected) in [
        ("", &everything[..]),
        ("status=active", &actives),
        ("status=pending", &["azure"]),
        ("status=suspended", &["power-bi"]),
        ("status=deleted", &["dynamics-365"]),
        ("service_key=azure", &["azure"]),
        ("service_key=azure&status=pending", &["azure"]),
        ("service_key=azure&status=active", &[]),
        ("service_key=power-apps", &[]),
    ] {
        let answer = list(query).await;
        assert_eq!(answer.strings("service_key"), expected, "{query}");
    }
    let first = list("limit=1&status=active").await;
    let link = first.next_link().expect("a Link to the next page");
    assert!(link.contains("status=active"), "{link}");
    let pages = app.every_page(first, &partner.key).await;
    let pages: Vec<Vec<Uuid>> = pages.iter().map(Answer::item_ids).collect();
    assert_eq!(pages.len(), 3, "{pages:?}");
    assert_eq!(pages.concat(), active, "oldest first, each once");
    for (query, field) in [
        ("status=cancelled", ("status", "invalid_value")),
        (
            "service_key=Power_BI",
            ("service_key", "invalid_service_key"),
        ),
        ("limit=0", ("limit", "range")),
        ("limit=101", ("limit", "range")),
        ("cursor=nope", ("cursor", "invalid_cursor")),
    ] {
        list(query)
            .await
            .case_refused(query, 400, "invalid_query", &[field]);
    }
}

#[tokio::test]
async fn concurrent_creates_of_the_same_subscription_give_one_201_and_409s() {
    // Arrange
    let app = spawn_app().await;
    let (partner, customer_id) = partner_with_customer(&app).await;
    let path = subscriptions_path(customer_id);
    let body = subscription_body("azure", "active");

    // Act
    let create = || app.request(Method::POST, &path, &partner.key).json(&body);
    let answers = send_concurrently((0..6).map(|_| create()).collect()).await;

    // Assert
    let statuses: Vec<u16> = answers.iter().map(|a| a.status).collect();
    let created = statuses.iter().filter(|s| **s == 201).count();
    assert_eq!(created, 1, "{statuses:?}");
    for refused in answers.iter().filter(|a| a.status != 201) {
        refused.fields_refused(409, "already_exists", &[("service_key", "taken")]);
    }
    let list = app.get(&path, &partner.key).await;
    assert_eq!(list.items().len(), 1);
}

/// `deleted` is final whatever `If-Match` says: a PATCH with `If-Match: *` that read the
/// subscription while it was still active must not write a new status over a deletion that
/// committed in between. Each round races one deletion against wildcard suspensions; the first
/// round that ends with a deleted subscription no longer deleted fails the test.
#[tokio::test]
async fn a_deletion_stays_final_against_concurrent_wildcard_updates() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("世纪互联合作伙伴").await;

    for round in 0..40 {
        let subscription = subscription_in(&app, &partner, "active").await;
        let path = path_of(&subscription);
        let patch = |status: &str, if_match: &str| {
            let request = app.request(Method::PATCH, &path, &partner.key);
            request
                .header("If-Match", if_match)
                .json(&json!({ "status": status }))
        };
        let mut requests = vec![patch("deleted", &subscription.etag())];
        requests.extend((0..5).map(|_| patch("suspended", "*")));

        // Act
        let answers = send_concurrently(requests).await;

        // Assert
        for answer in &answers {
            let settled = matches!(answer.status, 200 | 409 | 412);
            assert!(settled, "round {round}: {}", answer.body);
        }
        if answers[0].status == 200 {
            let read = app.get(&path, &partner.key).await;
            assert_eq!(
                read.body["status"], "deleted",
                "round {round}: a deletion answered 200, then a wildcard PATCH moved the deleted \
                 subscription on: {}",
                read.body
            );
        }
    }
}
