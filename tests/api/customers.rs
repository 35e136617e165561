//! `/v1/customers`: a partner's customers, as partner systems and 21Vianet staff use them —
//! creating, validating, reading, searching, paging, updating, deleting, and who may do what.
//!
//! Also home to steps `partners` shares: bodies edited by dotted field, refusals checked with
//! the case's label, every page of a list, and an update checked to change only what was sent.

use std::collections::HashSet;

use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{
    Answer, TestApp, TestPartner, customer_body, send_concurrently, spawn_app, timestamp,
};

const CUSTOMERS: &str = "/v1/customers";

fn customer_path(id: Uuid) -> String {
    format!("{CUSTOMERS}/{id}")
}

/// A valid customer body, with a fresh tenant and domain.
fn valid() -> Value {
    customer_body("上海云启科技有限公司")
}

/// A valid customer body with these dotted fields set.
fn valid_with(edits: &[(&str, Value)]) -> Value {
    edited(valid(), edits)
}

/// Customers of `partner` named `{prefix} 1`, `{prefix} 2`, … up to `count`, oldest first.
async fn numbered(app: &TestApp, partner: &TestPartner, prefix: &str, count: usize) -> Vec<Uuid> {
    let mut ids = Vec::new();
    for n in 1..=count {
        ids.push(
            app.create_customer(partner, &format!("{prefix} {n}"))
                .await
                .id(),
        );
    }
    ids
}

/// A valid customer body with a chosen name and domain, so searches match only what they should.
pub(crate) fn named(company_name: &str, domain: &str) -> Value {
    edited(customer_body(company_name), &[("domain", json!(domain))])
}

// ---------------------------------------------------------------------------------------------
// Steps `partners` shares
// ---------------------------------------------------------------------------------------------

/// `body` with each dotted field (`primary_contact.phone`) set to its value.
pub(crate) fn edited(mut body: Value, edits: &[(&str, Value)]) -> Value {
    for (field, value) in edits {
        *field.split('.').fold(&mut body, |node, key| &mut node[key]) = value.clone();
    }
    body
}

/// `body` without these dotted fields.
pub(crate) fn without(mut body: Value, fields: &[&str]) -> Value {
    for field in fields {
        let pointer = format!("/{}", field.replace('.', "/"));
        let (parent, name) = pointer.rsplit_once('/').expect("a field");
        let object = body.pointer_mut(parent).and_then(Value::as_object_mut);
        object.expect("an object holds the field").remove(name);
    }
    body
}

/// (field, code) pairs of a refusal's `errors`.
pub(crate) type Fields<'a> = &'a [(&'a str, &'a str)];

/// Dotted fields and the values they hold.
pub(crate) type Values<'a> = &'a [(&'a str, Value)];

/// The decoded query parameters of a relative URL.
pub(crate) fn url_params(link: &str) -> Vec<(String, String)> {
    let query = link.split_once('?').map_or("", |(_, query)| query);
    form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect()
}

impl Answer {
    /// Asserts each dotted field of the body holds its value (absent counts as `null`).
    #[track_caller]
    pub(crate) fn holds(&self, label: &str, expected: Values) {
        for (field, value) in expected {
            let pointer = format!("/{}", field.replace('.', "/"));
            let actual = self.body.pointer(&pointer).unwrap_or(&Value::Null);
            assert_eq!(actual, value, "{label}: {field} of {}", self.body);
        }
    }
}

impl TestApp {
    /// `first` and every page after it, following the `Link` headers as `key`. Each link keeps
    /// its page's `next_cursor`, once; the last page has neither.
    pub(crate) async fn every_page(&self, first: Answer, key: &str) -> Vec<Answer> {
        let mut pages = vec![first];
        while let Some(link) = pages.last().and_then(Answer::next_link) {
            let cursor = &pages.last().unwrap().body["next_cursor"];
            let cursors: Vec<Value> = url_params(&link)
                .into_iter()
                .filter_map(|(name, value)| (name == "cursor").then(|| json!(value)))
                .collect();
            assert_eq!(cursors, std::slice::from_ref(cursor), "{link}");
            assert!(pages.len() < 50, "paging does not end: {link}");
            pages.push(self.get(&link, key).await);
        }
        let last = pages.last().unwrap();
        assert_eq!(last.status, 200, "{}", last.body);
        assert_eq!(last.body["next_cursor"], Value::Null, "{}", last.body);
        pages
    }

    /// PATCHes `changes` onto `previous`, the resource at `path`, as `key` with `If-Match: tag`,
    /// and asserts it took: 200 with ETag `etag` (its version), every field not sent or sent as
    /// `null` as it was, `updated_at` not earlier (and nothing at all changed when the version
    /// stays), and the same resource read back. Returns the answer.
    pub(crate) async fn assert_updated(
        &self,
        path: &str,
        key: &str,
        tag: &str,
        changes: &Value,
        previous: &Value,
        etag: &str,
    ) -> Answer {
        let answer = self.patch(path, key, Some(tag), changes).await;
        assert_eq!(answer.status, 200, "{changes}: {}", answer.body);
        assert_eq!(answer.etag(), etag, "{changes}");
        assert_eq!(format!("\"{}\"", answer.body["version"]), etag);
        for (field, before) in previous.as_object().expect("an object") {
            let sent = changes.get(field).is_some_and(|value| !value.is_null());
            if !sent && !["version", "updated_at"].contains(&field.as_str()) {
                assert_eq!(&answer.body[field], before, "{changes}: {field} is kept");
            }
        }
        assert!(timestamp(&answer.body["updated_at"]) >= timestamp(&previous["updated_at"]));
        if etag == format!("\"{}\"", previous["version"]) {
            assert_eq!(&answer.body, previous, "no new version, nothing changed");
        }
        let read = self.get(path, key).await;
        assert_eq!((read.etag(), &read.body), (answer.etag(), &answer.body));
        answer
    }
}

// ---------------------------------------------------------------------------------------------
// Create
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_partner_creates_a_customer_with_a_chinese_name_and_its_location_reads_it_back() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("世纪互联合作伙伴").await;
    let tenant_id = Uuid::new_v4();
    let body = json!({
        "company_name": "上海云启科技有限公司",
        "domain": "YunQi.Partner.OnMSChina.CN",
        "tenant_id": tenant_id,
        "country": "CN",
        "support_plan": "premium",
        "primary_contact": {"name": "王芳", "email": "wang.fang@yunqi.cn", "phone": "+86 21 5555 0100"}
    });

    // Act
    let answer = app.post(CUSTOMERS, &partner.key, &body).await;
    let read = app
        .get(answer.header("location").unwrap_or_default(), &partner.key)
        .await;

    // Assert
    assert_eq!(answer.status, 201, "{}", answer.body);
    let id = answer.id();
    assert_eq!(answer.header("location"), Some(customer_path(id).as_str()));
    assert_eq!(answer.etag(), "\"1\"");
    assert_eq!(id.get_version_num(), 7, "ids are UUID v7");
    let contact = json!({"name": "王芳", "email": "wang.fang@yunqi.cn", "phone": "+862155550100"});
    let stored = [
        ("partner_id", json!(partner.id)),
        ("company_name", json!("上海云启科技有限公司")),
        ("domain", json!("yunqi.partner.onmschina.cn")), // in lower case
        ("tenant_id", json!(tenant_id)),
        ("country", json!("CN")),
        ("support_plan", json!("premium")),
        ("primary_contact", contact), // the phone in E.164
        ("version", json!(1)),
    ];
    answer.holds("created", &stored);
    let customer = &answer.body;
    assert_eq!(
        timestamp(&customer["created_at"]),
        timestamp(&customer["updated_at"])
    );
    assert!(
        customer["created_at"].as_str().unwrap().ends_with('Z'),
        "UTC"
    );
    assert_eq!(read.status, 200, "{}", read.body);
    assert_eq!((read.etag(), read.body), ("\"1\"".to_owned(), answer.body));
}

/// Defaults fill what was left out; names are trimmed and counted in characters; phone numbers
/// of several countries' numbering plans are stored in E.164.
#[tokio::test]
async fn optional_fields_default_and_values_are_stored_normalised() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("Defaults").await;
    let longest = "世纪互联".repeat(50);
    assert_eq!(longest.chars().count(), 200);
    let (phone, cn, null) = ("primary_contact.phone", json!("CN"), Value::Null);
    let cases: &[(&str, Option<Value>, Value)] = &[
        ("country", None, cn.clone()),
        ("country", Some(null.clone()), cn),
        (phone, None, null.clone()),
        (phone, Some(null.clone()), null),
        (
            "company_name",
            Some(json!("  上海云启 ")),
            json!("上海云启"),
        ),
        ("company_name", Some(json!(longest)), json!(longest)),
        (
            phone,
            Some(json!("+86 138 0013 8000")),
            json!("+8613800138000"),
        ),
        (
            phone,
            Some(json!("+86 21 5555 0100")),
            json!("+862155550100"),
        ),
        (phone, Some(json!("+852 2123 4567")), json!("+85221234567")),
    ];

    for (field, sent, stored) in cases {
        // Act
        let body = match sent {
            Some(value) => valid_with(&[(field, value.clone())]),
            None => without(valid(), &[field]),
        };
        let answer = app.post(CUSTOMERS, &partner.key, &body).await;

        // Assert
        let label = sent
            .as_ref()
            .map_or(format!("{field} left out"), |v| format!("{field}: {v}"));
        assert_eq!(answer.status, 201, "{label}: {}", answer.body);
        answer.holds(&label, &[(field, stored.clone())]);
    }
    let charset = Some("application/json; charset=utf-8");
    let answer = app
        .post_raw(CUSTOMERS, &partner.key, charset, valid().to_string())
        .await;
    assert_eq!(answer.status, 201, "a charset: {}", answer.body);
}

/// Every broken rule, wrong type and unknown field is listed at once, each named by its full
/// path, and nothing is written.
#[tokio::test]
async fn an_invalid_customer_is_422_naming_every_bad_field() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("Validation").await;
    let operator = app.operator_key().await;
    let (length, invalid_type, unknown) = ("length", "invalid_type", "unknown_field");
    let (phone, invalid_phone) = ("primary_contact.phone", "invalid_phone");
    // One field of a valid body set, refused by name.
    let too_long = json!(format!("{}云", "世纪互联".repeat(50))); // 201 characters
    let edits: &[(&str, Value, &str)] = &[
        ("company_name", too_long, length),
        ("company_name", json!("   "), length),
        ("company_name", json!(5), invalid_type),
        ("tenant_id", json!("nope"), invalid_type),
        ("support_plan", json!("gold"), "invalid_value"),
        ("country", json!(["CN"]), invalid_type),
        ("primary_contact", json!("王芳"), invalid_type),
        ("primary_contact.email", json!(42), invalid_type),
        // Numbers of the right shape that no numbering plan has
        (phone, json!("+86 1234 5678"), invalid_phone),
        (phone, json!("+86 10 5555"), invalid_phone),
        (phone, json!("+999 1234 5678"), invalid_phone),
        (phone, json!("+1 555 0100 999"), invalid_phone),
        ("nickname", json!("云启"), unknown),
        ("primary_contact.nickname", json!("芳芳"), unknown),
        ("primary_contact.name", json!("王".repeat(20_000)), length), // 60,000 bytes, under 64 KiB
    ];
    // Whole bodies, each refused for every field it gets wrong.
    let bodies: &[(&str, Value, Fields)] = &[
        (
            "five rules broken",
            json!({
                "company_name": "",
                "domain": "not a domain",
                "tenant_id": Uuid::new_v4(),
                "country": "XX",
                "support_plan": "standard",
                "primary_contact": {"name": "王芳", "email": "wang.fang", "phone": "12345"}
            }),
            &[
                ("company_name", length),
                ("country", "invalid_country"),
                ("domain", "invalid_domain"),
                ("primary_contact.email", "invalid_email"),
                (phone, invalid_phone),
            ],
        ),
        (
            "lower-case country, trailing dot, padded long name",
            valid_with(&[
                ("company_name", json!(format!(" {}", "世纪互联".repeat(50)))),
                ("country", json!("hk")),
                ("domain", json!("yunqi.partner.onmschina.cn.")),
            ]),
            &[
                ("company_name", length),
                ("country", "invalid_country"),
                ("domain", "invalid_domain"),
            ],
        ),
        (
            "contact and name rules",
            valid_with(&[
                ("company_name", json!("上海\u{0007}云启")),
                ("primary_contact.name", json!("王".repeat(101))),
                ("primary_contact.email", json!("wang fang@yunqi.cn")),
                (phone, json!("021 5555 0100")),
            ]),
            &[
                ("company_name", "control_characters"),
                ("primary_contact.email", "invalid_email"),
                ("primary_contact.name", length),
                (phone, invalid_phone),
            ],
        ),
        (
            "top-level fields missing",
            json!({"company_name": "上海云启科技有限公司", "domain": "yunqi.cn"}),
            &[
                ("primary_contact", "required"),
                ("support_plan", "required"),
                ("tenant_id", "required"),
            ],
        ),
        (
            "the contact's name missing",
            json!({
                "company_name": "上海云启科技有限公司",
                "domain": "yunqi.cn",
                "support_plan": "standard",
                "primary_contact": {"email": "wang.fang@yunqi.cn"}
            }),
            &[
                ("primary_contact.name", "required"),
                ("tenant_id", "required"),
            ],
        ),
        (
            "an empty object",
            json!({}),
            &[
                ("company_name", "required"),
                ("domain", "required"),
                ("primary_contact", "required"),
                ("support_plan", "required"),
                ("tenant_id", "required"),
            ],
        ),
        ("a string", json!("上海云启"), &[("body", invalid_type)]),
        ("a number", json!(42), &[("body", invalid_type)]),
        ("null", json!(null), &[("body", invalid_type)]),
        ("a boolean", json!(true), &[("body", invalid_type)]),
        (
            "the fields in declaration order, as an array",
            json!([
                "上海云启科技有限公司",
                "yunqi.partner.onmschina.cn",
                Uuid::new_v4(),
                "CN",
                "standard",
                {"name": "王芳", "email": "wang.fang@yunqi.cn"}
            ]),
            &[("body", invalid_type)],
        ),
        (
            "wrong types, unknown fields and broken rules together",
            json!({
                "company_name": 5,
                "domain": "not a domain",
                "tenant_id": "not-a-uuid",
                "support_plan": "gold",
                "nickname": "x",
                "primary_contact": {"name": "", "email": 7, "pager": "123"}
            }),
            &[
                ("company_name", invalid_type),
                ("domain", "invalid_domain"),
                ("nickname", unknown),
                ("primary_contact.email", invalid_type),
                ("primary_contact.name", length),
                ("primary_contact.pager", unknown),
                ("support_plan", "invalid_value"),
                ("tenant_id", invalid_type),
            ],
        ),
    ];
    let assert_refused = |label: &str, answer: &Answer, fields: Fields| {
        answer.case_refused(label, 422, "validation_failed", fields);
        let detail = match fields.len() {
            1 => "1 field is invalid".to_owned(),
            n => format!("{n} fields are invalid"),
        };
        assert_eq!(answer.body["detail"], detail, "{label}");
        assert_eq!(answer.body["instance"], CUSTOMERS, "{label}");
    };

    for (field, value, code) in edits {
        // Act
        let body = valid_with(&[(field, value.clone())]);
        let answer = app.post(CUSTOMERS, &partner.key, &body).await;

        // Assert
        let label: String = format!("{field}: {value}").chars().take(60).collect();
        assert_refused(&label, &answer, &[(field, code)]);
    }
    for (label, body, fields) in bodies {
        // Act
        let answer = app.post(CUSTOMERS, &partner.key, body).await;

        // Assert
        assert_refused(label, &answer, fields);
    }
    for key in [&partner.key, &operator] {
        let listed = app.get(CUSTOMERS, key).await;
        assert!(listed.items().is_empty(), "nothing written");
    }
}

#[tokio::test]
async fn a_create_refused_for_its_form_or_its_caller_writes_nothing() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("Nothing half-written").await;
    let operator = app.operator_key().await;
    let (json, body) = (Some("application/json"), valid().to_string());
    let huge = valid_with(&[("primary_contact.name", json!("王".repeat(25_000)))]).to_string();
    assert!(huge.len() > 64 * 1024, "75,000 bytes");
    let post = |key: &str, content_type: Option<&str>, body: &str| {
        let request = app.request(Method::POST, CUSTOMERS, key);
        match content_type {
            Some(content_type) => request.header("Content-Type", content_type),
            None => request,
        }
        .body(body.to_owned())
    };
    let sent = |body: &str| post(&partner.key, json, body);
    let typed = |content_type: Option<&str>| post(&partner.key, content_type, &body);
    let (malformed, unsupported) = ("malformed_json", "unsupported_media_type");
    let cases = [
        ("cut short", sent(r#"{"a":"#), 400, malformed),
        ("empty", sent(""), 400, malformed),
        (
            "single quotes",
            sent("{'company_name': 'x'}"),
            400,
            malformed,
        ),
        ("not JSON", sent("not json"), 400, malformed),
        ("no Content-Type", typed(None), 415, unsupported),
        ("text/plain", typed(Some("text/plain")), 415, unsupported),
        (
            "a form",
            typed(Some("application/x-www-form-urlencoded")),
            415,
            unsupported,
        ),
        ("text/json", typed(Some("text/json")), 415, unsupported),
        ("over 64 KiB", sent(&huge), 413, "body_too_large"),
        (
            "an operator",
            post(&operator, json, &body),
            403,
            "forbidden",
        ),
        (
            "an admin",
            post(&app.admin_key, json, &body),
            403,
            "forbidden",
        ),
    ];

    for (label, request, status, code) in cases {
        // Act
        let answer = app.send(request).await;

        // Assert
        answer.case_refused(label, status, code, &[]);
        if status == 400 {
            let detail = answer.body["detail"].as_str().unwrap();
            assert!(detail.contains("not valid JSON"), "{label}: {detail}");
        }
    }
    for key in [&partner.key, &operator] {
        let listed = app.get(CUSTOMERS, key).await;
        assert!(listed.items().is_empty(), "nothing written");
    }
}

// ---------------------------------------------------------------------------------------------
// Tenant rules, roles and partner isolation
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_tenant_is_unique_among_one_partners_live_customers_and_never_its_own() {
    // Arrange: in Partner Center one tenant may have relationships with several partners.
    let app = spawn_app().await;
    let first = app.create_partner("First").await;
    let second = app.create_partner("Second").await;
    let operator = app.operator_key().await;
    let original = app.create_customer(&first, "上海云启科技有限公司").await;
    let tenant_id = original.body["tenant_id"].clone();
    let same_partner = edited(
        customer_body("上海云启科技（二）有限公司"),
        &[("tenant_id", tenant_id.clone())],
    );
    let other_partner = edited(
        customer_body("北京云启科技有限公司"),
        &[("tenant_id", tenant_id.clone())],
    );

    // Act
    let again = app.post(CUSTOMERS, &first.key, &same_partner).await;
    let elsewhere = app.post(CUSTOMERS, &second.key, &other_partner).await;
    let second_again = app.post(CUSTOMERS, &second.key, &other_partner).await;
    let own = valid_with(&[("tenant_id", json!(first.tenant_id))]);
    let own = app.post(CUSTOMERS, &first.key, &own).await;

    // Assert
    let own_tenant = [("tenant_id", "partner_own_tenant")];
    own.case_refused("its own tenant", 422, "partner_own_tenant", &own_tenant);
    for (label, answer) in [
        ("again", &again),
        ("the second partner again", &second_again),
    ] {
        answer.case_refused(label, 409, "already_exists", &[("tenant_id", "taken")]);
        let text = answer.body.to_string().to_lowercase();
        for leak in ["unique constraint", "sqlx", "insert", "ux_customers"] {
            assert!(!text.contains(leak), "the problem leaks `{leak}`: {text}");
        }
    }
    assert_eq!(elsewhere.status, 201, "{}", elsewhere.body);
    assert_eq!(elsewhere.body["tenant_id"], tenant_id);
    // Each partner sees its own relationship only, by list, by filter and by id.
    let tenant = [("tenant_id", tenant_id.as_str().unwrap())];
    assert_eq!(
        app.get(CUSTOMERS, &first.key).await.item_ids(),
        [original.id()]
    );
    let filtered = app.get_query(CUSTOMERS, &second.key, &tenant).await;
    assert_eq!(filtered.item_ids(), [elsewhere.id()]);
    let foreign = app.get(&customer_path(original.id()), &second.key).await;
    foreign.problem(404, "not_found");
    // Staff see both.
    let both: HashSet<Uuid> = app
        .get_query(CUSTOMERS, &operator, &tenant)
        .await
        .item_ids()
        .into_iter()
        .collect();
    assert_eq!(both, HashSet::from([original.id(), elsewhere.id()]));

    // Act: the first partner deletes its customer and adds the tenant again.
    let deleted = app.delete(&customer_path(original.id()), &first.key).await;
    let recreated = app.post(CUSTOMERS, &first.key, &same_partner).await;

    // Assert
    assert_eq!(deleted.status, 204);
    assert_eq!(recreated.status, 201, "{}", recreated.body);
    assert_ne!(recreated.id(), original.id());
}

#[tokio::test]
async fn staff_read_every_partners_customers_but_change_none_and_a_partner_lists_its_own() {
    // Arrange
    let app = spawn_app().await;
    let operator = app.operator_key().await;
    let first = app.create_partner("First").await;
    let second = app.create_partner("Second").await;
    let a = app.create_customer(&first, "上海云启科技有限公司").await;
    let b = app.create_customer(&second, "北京数据有限公司").await;
    let c = app.create_customer(&first, "Fabrikam China").await;
    let (a, c, b_path) = (a.id(), c.id(), customer_path(b.id()));
    let ids = [first.id, second.id, Uuid::new_v4()].map(|id| id.to_string());
    let [of_first, of_second, of_nobody] = ids.each_ref().map(|id| [("partner_id", id.as_str())]);
    let admin = app.admin_key.as_str();
    let cases: &[(&str, &str, Fields, &[Uuid])] = &[
        ("operator", &operator, &[], &[a, b.id(), c]),
        ("operator, first's", &operator, &of_first, &[a, c]),
        ("operator, second's", &operator, &of_second, &[b.id()]),
        ("operator, nobody's", &operator, &of_nobody, &[]),
        ("admin", admin, &[], &[a, b.id(), c]),
        ("admin, second's", admin, &of_second, &[b.id()]),
        ("admin, nobody's", admin, &of_nobody, &[]),
        ("partner", &first.key, &[], &[a, c]),
        ("partner, its own", &first.key, &of_first, &[a, c]),
        ("partner, another's", &first.key, &of_second, &[]),
    ];

    for (label, key, params, expected) in cases {
        // Act
        let listed = app.get_query(CUSTOMERS, key, params).await;

        // Assert
        assert_eq!(listed.item_ids(), *expected, "{label}");
    }
    let premium = json!({"support_plan": "premium"});
    for (label, key) in [("operator", operator.as_str()), ("admin", admin)] {
        // Act
        let read = app.get(&b_path, key).await;
        let patched = app.patch(&b_path, key, Some("\"1\""), &premium).await;
        let deleted = app.delete(&b_path, key).await;

        // Assert
        assert_eq!(read.status, 200, "{label}: {}", read.body);
        assert_eq!(
            (read.etag(), read.body),
            ("\"1\"".to_owned(), b.body.clone()),
            "{label}"
        );
        patched.case_refused(label, 403, "forbidden", &[]);
        deleted.case_refused(label, 403, "forbidden", &[]);
    }
    let unchanged = app.get(&b_path, &second.key).await;
    assert_eq!(unchanged.body, b.body, "unchanged");
}

#[tokio::test]
async fn another_partners_customer_is_404_to_read_update_or_delete_like_a_missing_one() {
    // Arrange
    let app = spawn_app().await;
    let owner = app.create_partner("Owner").await;
    let intruder = app.create_partner("Intruder").await;
    let customer = app.create_customer(&owner, "上海云启科技有限公司").await;
    let (path, missing) = (customer_path(customer.id()), customer_path(Uuid::now_v7()));
    let (rename, premium) = (
        json!({"company_name": "被劫持"}),
        json!({"support_plan": "premium"}),
    );
    let key = intruder.key.as_str();

    // Act
    let answers = [
        ("a missing one read", app.get(&missing, key).await),
        ("read", app.get(&path, key).await),
        (
            "renamed at version 1",
            app.patch(&path, key, Some("\"1\""), &rename).await,
        ),
        (
            "updated under *",
            app.patch(&path, key, Some("*"), &premium).await,
        ),
        (
            "a missing one updated",
            app.patch(&missing, key, Some("*"), &premium).await,
        ),
        ("deleted", app.delete(&path, key).await),
        (
            "deleted at version 1",
            app.with_if_match(Method::DELETE, &path, key, "\"1\"", None)
                .await,
        ),
    ];

    // Assert
    let absent = &answers[0].1.body["detail"];
    for (label, answer) in &answers {
        answer.case_refused(label, 404, "not_found", &[]);
        assert_eq!(
            &answer.body["detail"], absent,
            "{label}: indistinguishable from absent"
        );
        assert!(!answer.body.to_string().contains("上海云启"), "{label}");
    }
    let after = app.get(&path, &owner.key).await;
    assert_eq!(
        (after.etag(), after.body),
        ("\"1\"".to_owned(), customer.body),
        "unchanged"
    );
}

#[tokio::test]
async fn a_malformed_customer_id_is_400_invalid_path_parameter() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("Bad path").await;
    let operator = app.operator_key().await;
    let path = "/v1/customers/not-a-uuid";
    let premium = json!({"support_plan": "premium"});

    // Act
    let answers = [
        ("partner reads", app.get(path, &partner.key).await),
        ("operator reads", app.get(path, &operator).await),
        (
            "partner updates",
            app.patch(path, &partner.key, Some("\"1\""), &premium).await,
        ),
        ("partner deletes", app.delete(path, &partner.key).await),
    ];

    // Assert
    for (label, answer) in &answers {
        answer.case_refused(
            label,
            400,
            "invalid_path_parameter",
            &[("id", "invalid_uuid")],
        );
        assert_eq!(answer.body["instance"], path, "{label}");
    }
}

// ---------------------------------------------------------------------------------------------
// Search and filters
// ---------------------------------------------------------------------------------------------

/// `q` is a case-insensitive (beyond ASCII, but accent-sensitive) prefix of the company name or
/// the domain, trimmed, with `%`, `_` and `\` taken literally; a rename is found by the new name.
#[tokio::test]
async fn exact_filters_on_country_support_plan_and_tenant() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("Filters").await;
    let [a, b, c] = [
        ("A 上海标准", "CN", "standard"),
        ("B 香港高级", "HK", "premium"),
        ("C 北京高级", "CN", "premium"),
    ]
    .map(|(name, country, plan)| {
        edited(
            customer_body(name),
            &[("country", json!(country)), ("support_plan", json!(plan))],
        )
    });
    for body in [&a, &b, &c] {
        app.created(CUSTOMERS, &partner.key, body).await;
    }
    let (tenant_of_a, no_tenant) = (a["tenant_id"].as_str().unwrap(), Uuid::new_v4().to_string());
    let cases: &[(&str, Fields, &[&str])] = &[
        ("Hong Kong", &[("country", "HK")], &["B 香港高级"]),
        ("China", &[("country", "CN")], &["A 上海标准", "C 北京高级"]),
        ("Japan", &[("country", "JP")], &[]),
        (
            "premium",
            &[("support_plan", "premium")],
            &["B 香港高级", "C 北京高级"],
        ),
        ("standard", &[("support_plan", "standard")], &["A 上海标准"]),
        (
            "filters combine with AND",
            &[("country", "CN"), ("support_plan", "premium")],
            &["C 北京高级"],
        ),
        ("a's tenant", &[("tenant_id", tenant_of_a)], &["A 上海标准"]),
        ("another tenant", &[("tenant_id", &no_tenant)], &[]),
        (
            "q and a plan",
            &[("q", "香港"), ("support_plan", "premium")],
            &["B 香港高级"],
        ),
        (
            "q and another plan",
            &[("q", "香港"), ("support_plan", "standard")],
            &[],
        ),
    ];

    for (label, params, expected) in cases {
        // Act
        let found = app.get_query(CUSTOMERS, &partner.key, params).await;

        // Assert
        assert_eq!(found.strings("company_name"), *expected, "{label}");
    }
}

#[tokio::test]
async fn a_malformed_list_query_is_400_naming_the_parameter() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("Bad queries").await;
    let long_q = "云".repeat(201);
    let (range, invalid_type, invalid_cursor) = ("range", "invalid_type", "invalid_cursor");
    let cases: &[(&str, &str, &str)] = &[
        ("q", &long_q, "length"),
        ("country", "XX", "invalid_country"),
        ("country", "hk", "invalid_country"),
        ("country", "China", "invalid_country"),
        ("support_plan", "gold", "invalid_value"),
        ("tenant_id", "nope", invalid_type),
        ("partner_id", "nope", invalid_type),
        ("limit", "0", range),
        ("limit", "101", range),
        ("limit", "-1", invalid_type),
        ("limit", "ten", invalid_type),
        ("limit", "", invalid_type),
        ("cursor", "garbage!", invalid_cursor),
        ("cursor", "AAAA", invalid_cursor),
        ("cursor", "not a cursor", invalid_cursor),
        ("cursor", "", invalid_cursor),
        ("page", "1", "unknown_field"),
        ("colour", "1", "unknown_field"),
        ("company_name", "1", "unknown_field"),
    ];

    for (parameter, value, code) in cases {
        // Act
        let answer = app
            .get_query(CUSTOMERS, &partner.key, &[(*parameter, *value)])
            .await;

        // Assert
        let label = format!("{parameter}={value}");
        answer.case_refused(&label, 400, "invalid_query", &[(*parameter, *code)]);
    }
    for limit in ["1", "100"] {
        let answer = app
            .get_query(CUSTOMERS, &partner.key, &[("limit", limit)])
            .await;
        assert_eq!(answer.status, 200, "limit={limit}: {}", answer.body);
    }
}

// ---------------------------------------------------------------------------------------------
// Pagination
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn pages_follow_by_cursor_or_link_and_the_last_has_neither() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("Pages").await;
    let key = &partner.key;
    let empty = app.get(CUSTOMERS, key).await;
    let created = numbered(&app, &partner, "客户", 5).await;

    // Act
    let whole = app.get_query(CUSTOMERS, key, &[("limit", "5")]).await;
    let first = app.get_query(CUSTOMERS, key, &[("limit", "2")]).await;
    let cursor = first.body["next_cursor"].as_str().expect("a next cursor");
    let second = app
        .get_query(CUSTOMERS, key, &[("limit", "2"), ("cursor", cursor)])
        .await;
    let cursor = second.body["next_cursor"].as_str().expect("a next cursor");
    let third = app
        .get_query(CUSTOMERS, key, &[("limit", "2"), ("cursor", cursor)])
        .await;
    let linked = app
        .every_page(app.get_query(CUSTOMERS, key, &[("limit", "2")]).await, key)
        .await;

    // Assert
    assert_eq!(empty.status, 200);
    assert_eq!(empty.body, json!({"items": [], "next_cursor": null}));
    assert_eq!(empty.header("link"), None);
    let why = "a page that exactly fills the limit is the last";
    assert_eq!(whole.item_ids(), created, "{why}");
    assert_eq!(whole.body["next_cursor"], Value::Null);
    assert_eq!(whole.header("link"), None);
    assert_eq!(first.item_ids(), created[0..2]);
    assert_eq!(second.item_ids(), created[2..4]);
    assert_eq!(third.item_ids(), created[4..5]);
    assert_eq!(third.body["next_cursor"], Value::Null, "the last page");
    assert_eq!(third.header("link"), None);
    let pages: Vec<Vec<Uuid>> = linked.iter().map(Answer::item_ids).collect();
    assert_eq!(pages, [&created[0..2], &created[2..4], &created[4..5]]);
}

#[tokio::test]
async fn the_default_page_holds_25_customers() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("Default limit").await;
    numbered(&app, &partner, "客户", 26).await;

    // Act
    let first = app.get(CUSTOMERS, &partner.key).await;
    let cursor = first.body["next_cursor"].as_str().expect("a next cursor");
    let rest = app
        .get_query(CUSTOMERS, &partner.key, &[("cursor", cursor)])
        .await;

    // Assert
    assert_eq!(first.items().len(), 25);
    assert_eq!(rest.strings("company_name"), ["客户 26"]);
}

#[tokio::test]
async fn a_link_keeps_the_search_and_the_limit_even_with_reserved_characters() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("Links").await;
    for name in [
        "上海一号有限公司",
        "Contoso",
        "上海二号有限公司",
        "上海三号有限公司",
        "R&D+云计 一号",
        "R&D+云计 二号",
        "R&D 三号",
        "R&D+云计 四号",
    ] {
        let domain = format!("d{}.partner.onmschina.cn", Uuid::new_v4().simple());
        app.created(CUSTOMERS, &partner.key, &named(name, &domain))
            .await;
    }
    let cases: &[(&str, &str, [&[&str]; 2])] = &[
        (
            "Chinese",
            "上海",
            [
                &["上海一号有限公司", "上海二号有限公司"],
                &["上海三号有限公司"],
            ],
        ),
        (
            "reserved characters",
            "r&d+云计 ",
            [&["R&D+云计 一号", "R&D+云计 二号"], &["R&D+云计 四号"]],
        ),
    ];

    for (label, q, expected) in cases {
        // Act
        let params = [("q", *q), ("limit", "2")];
        let first = app.get_query(CUSTOMERS, &partner.key, &params).await;
        let link = first.next_link().expect("a Link to the next page");
        let pages = app.every_page(first, &partner.key).await;

        // Assert
        let found: Vec<Vec<String>> = pages
            .iter()
            .map(|page| page.strings("company_name"))
            .collect();
        assert_eq!(found, expected, "{label}: the link keeps the search");
        assert!(link.starts_with("/v1/customers?"), "{label}: {link}");
        for (name, value) in params {
            let kept = (name.to_owned(), value.to_owned());
            assert!(url_params(&link).contains(&kept), "{label}: {link}");
        }
    }
}

#[tokio::test]
async fn paging_is_stable_while_customers_are_added_and_the_cursors_one_deleted() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("Stable").await;
    let existing = numbered(&app, &partner, "旧客户", 4).await;
    let first = app
        .get_query(CUSTOMERS, &partner.key, &[("limit", "2")])
        .await;

    // Act: while the client is between pages, the customer its cursor points at is deleted and
    // three others arrive
    let deleted = app.delete(&customer_path(existing[1]), &partner.key).await;
    assert_eq!(deleted.status, 204);
    let added = numbered(&app, &partner, "新客户", 3).await;
    let pages = app.every_page(first, &partner.key).await;

    // Assert
    let why = "the cursor still works";
    assert_eq!(pages[1].item_ids(), existing[2..4], "{why}");
    let seen: Vec<Uuid> = pages.iter().flat_map(Answer::item_ids).collect();
    let expected: Vec<Uuid> = existing.iter().chain(&added).copied().collect();
    let why = "no duplicates, no gaps, new ones at the end";
    assert_eq!(seen, expected, "{why}");
    assert_eq!(seen.iter().collect::<HashSet<_>>().len(), seen.len());
}

// ---------------------------------------------------------------------------------------------
// Update and delete
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn an_update_under_a_matching_if_match_changes_only_the_fields_sent_normalised() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("Update").await;
    let created = app.create_customer(&partner, "上海云启科技有限公司").await;
    assert_eq!(created.body["primary_contact"]["phone"], "+862155550100");
    let path = customer_path(created.id());
    let li_lei = json!({"name": "李雷", "email": "li.lei@yunqi.cn"});
    let han_meimei = json!({"name": "韩梅梅", "email": "han.meimei@yunqi.cn"});
    let cases: &[(&str, &str, Value, &str, Values)] = &[
        (
            "nothing sent: not a new version",
            "\"1\"",
            json!({}),
            "\"1\"",
            &[],
        ),
        (
            "name, plan and country",
            "\"1\"",
            json!({"company_name": "上海云启数字科技有限公司", "support_plan": "premium", "country": "MO"}),
            "\"2\"",
            &[
                ("company_name", json!("上海云启数字科技有限公司")),
                ("support_plan", json!("premium")),
                ("country", json!("MO")),
            ],
        ),
        (
            "normalised like a create",
            "\"2\"",
            json!({"domain": "YunQi.Partner.OnMSChina.CN", "company_name": "  北京云启  "}),
            "\"3\"",
            &[
                ("domain", json!("yunqi.partner.onmschina.cn")),
                ("company_name", json!("北京云启")),
            ],
        ),
        (
            "the whole contact replaced, without a phone",
            "\"3\"",
            json!({"primary_contact": li_lei}),
            "\"4\"",
            &[(
                "primary_contact",
                edited(li_lei.clone(), &[("phone", Value::Null)]),
            )],
        ),
        (
            "the whole contact replaced, under If-Match *",
            "*",
            json!({"primary_contact": edited(han_meimei.clone(), &[("phone", json!("+86 10-5555.0100"))])}),
            "\"5\"",
            &[(
                "primary_contact",
                edited(han_meimei.clone(), &[("phone", json!("+861055550100"))]),
            )],
        ),
        (
            "null fields keep their value, under a list with the current tag",
            "\"4\", \"5\"",
            json!({"company_name": null, "domain": null, "country": null, "primary_contact": null, "support_plan": "standard"}),
            "\"6\"",
            &[("support_plan", json!("standard"))],
        ),
    ];
    let mut previous = created.body;

    for (label, tag, changes, etag, stored) in cases {
        // Act
        let answer = app
            .assert_updated(&path, &partner.key, tag, changes, &previous, etag)
            .await;

        // Assert
        answer.holds(label, stored);
        previous = answer.body;
    }
}

#[tokio::test]
async fn a_refused_update_or_delete_changes_nothing_and_the_current_tag_still_deletes() {
    // Arrange: a customer at version 2
    let app = spawn_app().await;
    let partner = app.create_partner("Refusals").await;
    let operator = app.operator_key().await;
    let customer = app.create_customer(&partner, "上海云启科技有限公司").await;
    let kept = app.create_customer(&partner, "北京数据有限公司").await;
    let (path, key) = (customer_path(customer.id()), partner.key.as_str());
    let premium = json!({"support_plan": "premium"});
    let current = app.patch(&path, key, Some("\"1\""), &premium).await;
    assert_eq!(current.status, 200, "{}", current.body);
    let tags = [
        ("\"1\"", "stale"),
        ("\"3\"", "from the future"),
        ("2", "unquoted"),
        ("two", "not a tag"),
        ("W/\"2\"", "weak"),
        ("", "empty"),
    ];
    let every_bad_field = json!({
        "company_name": "",
        "domain": "bad domain",
        "country": "XX",
        "primary_contact": {"name": "李雷", "email": "not-an-email"}
    });
    let bodies: &[(&str, Value, Fields)] = &[
        (
            "every bad field",
            every_bad_field,
            &[
                ("company_name", "length"),
                ("country", "invalid_country"),
                ("domain", "invalid_domain"),
                ("primary_contact.email", "invalid_email"),
            ],
        ),
        (
            "an unknown plan",
            json!({"support_plan": "gold"}),
            &[("support_plan", "invalid_value")],
        ),
        (
            "a new tenant",
            json!({"tenant_id": Uuid::new_v4()}),
            &[("tenant_id", "unknown_field")],
        ),
        (
            "an array",
            json!([null, null, null, "premium", null]),
            &[("body", "invalid_type")],
        ),
    ];
    let raw = |content_type: &str, body: &str| {
        let request = app
            .request(Method::PATCH, &path, key)
            .header("If-Match", "\"2\"");
        request
            .header("Content-Type", content_type)
            .body(body.to_owned())
    };

    // Act and assert: If-Match missing or not the current tag
    let untagged = app.patch(&path, key, None, &premium).await;
    untagged.case_refused("PATCH without If-Match", 428, "if_match_required", &[]);
    for method in [Method::PATCH, Method::DELETE] {
        for (tag, why) in tags {
            let answer = app
                .with_if_match(method.clone(), &path, key, tag, Some(&premium))
                .await;
            let label = format!("{method} If-Match {tag:?}, {why}");
            answer.case_refused(&label, 412, "stale_version", &[]);
        }
    }

    // Act and assert: bodies refused under the current tag
    for (label, body, fields) in bodies {
        let answer = app.patch(&path, key, Some("\"2\""), body).await;
        answer.case_refused(label, 422, "validation_failed", fields);
    }
    let malformed = app.send(raw("application/json", r#"{"a":"#)).await;
    malformed.case_refused("malformed JSON", 400, "malformed_json", &[]);
    let not_json = app
        .send(raw("text/plain", r#"{"support_plan":"premium"}"#))
        .await;
    not_json.case_refused("not declared as JSON", 415, "unsupported_media_type", &[]);
    let after = app.get(&path, key).await;
    assert_eq!(
        (after.etag(), after.body),
        ("\"2\"".to_owned(), current.body)
    );

    // Act
    let deleted = app
        .with_if_match(Method::DELETE, &path, key, "\"2\"", None)
        .await;

    // Assert: gone for everyone, the partner's other customer kept
    assert_eq!(deleted.status, 204, "{}", deleted.body);
    assert_eq!(deleted.body, Value::Null, "no body");
    app.get(&path, key).await.problem(404, "not_found");
    app.get(&path, &operator).await.problem(404, "not_found");
    app.delete(&path, key).await.problem(404, "not_found");
    let listed = app.get(CUSTOMERS, key).await;
    assert_eq!(listed.item_ids(), [kept.id()]);
}

#[tokio::test]
async fn of_ten_concurrent_updates_with_the_same_if_match_exactly_one_wins() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("Race").await;
    let customer = app.create_customer(&partner, "上海云启科技有限公司").await;
    let path = customer_path(customer.id());
    let racers = (0..10)
        .map(|n| {
            let rename = json!({"company_name": format!("赛跑者 {n}")});
            let request = app.request(Method::PATCH, &path, &partner.key);
            request.header("If-Match", "\"1\"").json(&rename)
        })
        .collect();

    // Act
    let answers = send_concurrently(racers).await;

    // Assert
    let statuses: Vec<u16> = answers.iter().map(|answer| answer.status).collect();
    let winners: Vec<usize> = (0..10).filter(|&n| statuses[n] == 200).collect();
    assert_eq!(winners.len(), 1, "statuses: {statuses:?}");
    for answer in answers.iter().filter(|answer| answer.status != 200) {
        answer.problem(412, "stale_version");
    }
    let winner = winners[0];
    assert_eq!(answers[winner].etag(), "\"2\"");
    let after = app.get(&path, &partner.key).await;
    assert_eq!(after.etag(), "\"2\"");
    assert_eq!(after.body["version"], 2);
    let name = format!("赛跑者 {winner}");
    assert_eq!(
        after.body["company_name"], name,
        "the winner's change, no other"
    );
}
