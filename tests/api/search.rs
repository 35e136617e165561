//! Search by any part: customers by their name, domain or tenant; escalations by their number,
//! title or customer. Run on both databases like the rest.

use serde_json::json;
use uuid::Uuid;

use crate::customers::named;
use crate::helpers::*;

const CUSTOMERS: &str = "/v1/customers";
const ESCALATIONS: &str = "/v1/escalations";

/// Customers whose names share a city, whose domains repeat their names, in full-width forms,
/// with signs: what a partner's customer list looks like.
const SHELF: [(&str, &str); 9] = [
    ("深圳星河物流有限公司", "xinghe.partner.onmschina.cn"),
    ("深圳云启科技有限公司", "yunqi.partner.onmschina.cn"),
    ("上海星河电子有限公司", "shxinghe.partner.onmschina.cn"),
    ("星河传媒", "xhcm.partner.onmschina.cn"),
    ("Contoso Ltd", "contoso.partner.onmschina.cn"),
    ("Fabrikam China", "fbk.com.cn"),
    (
        "Ｎｏｒｔｈｗｉｎｄ Traders",
        "northwind.partner.onmschina.cn",
    ),
    ("100% Cloud", "hundred.partner.onmschina.cn"),
    ("École Numérique", "edu-nq.partner.onmschina.cn"),
];

impl TestApp {
    async fn search(&self, path: &str, key: &str, params: &[(&str, &str)]) -> Vec<String> {
        let found = self.get_query(path, key, params).await;
        assert_eq!(found.status, 200, "{params:?}: {}", found.body);
        let field = if path == CUSTOMERS {
            "company_name"
        } else {
            "title"
        };
        found.strings(field)
    }

    /// `SHELF` as `partner`'s customers, in order; their tenant ids.
    async fn shelve(&self, partner: &TestPartner) -> Vec<Uuid> {
        let mut tenants = Vec::new();
        for (name, domain) in SHELF {
            let body = named(name, domain);
            tenants.push(uuid(&body["tenant_id"]));
            self.created(CUSTOMERS, &partner.key, &body).await;
        }
        tenants
    }
}

#[tokio::test]
async fn customers_are_found_by_any_part_of_their_name_or_domain() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("搜索").await;
    app.shelve(&partner).await;
    let cases: &[(&str, &str, &[&str])] = &[
        (
            "a name's middle, names that start with it first",
            "星河",
            &["星河传媒", "深圳星河物流有限公司", "上海星河电子有限公司"],
        ),
        ("a name's end", "物流", &["深圳星河物流有限公司"]),
        ("longer Chinese", "星河物流", &["深圳星河物流有限公司"]),
        (
            "a city all start with",
            "深圳",
            &["深圳星河物流有限公司", "深圳云启科技有限公司"],
        ),
        (
            "the domain",
            "xinghe",
            &["深圳星河物流有限公司", "上海星河电子有限公司"],
        ),
        (
            "the domain, upper case",
            "XINGHE",
            &["深圳星河物流有限公司", "上海星河电子有限公司"],
        ),
        ("three Latin letters inside a word", "nto", &["Contoso Ltd"]),
        ("full-width query", "ｃｏｎｔｏｓｏ", &["Contoso Ltd"]),
        (
            "full-width name",
            "northwind tr",
            &["Ｎｏｒｔｈｗｉｎｄ Traders"],
        ),
        ("a later word", "china", &["Fabrikam China"]),
        ("a domain's own label", "fbk", &["Fabrikam China"]),
        ("the default tenant domain is no one's", "onmschina", &[]),
        ("a sign is no letter", "100%", &["100% Cloud"]),
        ("beyond ASCII", "ÉCOLE", &["École Numérique"]),
        ("accents are not folded", "ecole n", &[]),
        ("nothing", "星海", &[]),
        ("trimmed", "  深圳星河 ", &["深圳星河物流有限公司"]),
    ];

    for (label, q, expected) in cases {
        // Act
        let found = app.search(CUSTOMERS, &partner.key, &[("q", q)]).await;

        // Assert
        assert_eq!(found, *expected, "{label}: q={q:?}");
    }
}

#[tokio::test]
async fn a_customer_is_found_by_the_start_of_its_tenant_id_and_only_by_its_partner() {
    // Arrange: another partner has a customer of the same name
    let app = spawn_app().await;
    let partner = app.create_partner("搜索").await;
    let tenants = app.shelve(&partner).await;
    let other = app.create_partner("别家").await;
    app.created(
        CUSTOMERS,
        &other.key,
        &named("深圳星河物流有限公司", "xh2.com.cn"),
    )
    .await;
    let operator = app.operator_key().await;
    let tenant = tenants[4].to_string();

    // Act
    let by_tenant = app
        .search(CUSTOMERS, &partner.key, &[("q", &tenant[..8])])
        .await;
    let whole_tenant = app.search(CUSTOMERS, &partner.key, &[("q", &tenant)]).await;
    let own = app
        .search(CUSTOMERS, &partner.key, &[("q", "星河物流")])
        .await;
    let theirs = app.search(CUSTOMERS, &other.key, &[("q", "星河")]).await;
    let everyone = app.search(CUSTOMERS, &operator, &[("q", "星河物流")]).await;
    let one_partner = app
        .search(
            CUSTOMERS,
            &operator,
            &[("q", "星河"), ("partner_id", &other.id.to_string())],
        )
        .await;

    // Assert
    assert_eq!(by_tenant, ["Contoso Ltd"]);
    assert_eq!(whole_tenant, ["Contoso Ltd"]);
    assert_eq!(own, ["深圳星河物流有限公司"]);
    assert_eq!(theirs, ["深圳星河物流有限公司"]);
    assert_eq!(everyone.len(), 2, "{everyone:?}");
    assert_eq!(one_partner, ["深圳星河物流有限公司"]);
}

#[tokio::test]
async fn a_search_of_one_character_or_no_word_is_refused_and_an_empty_one_lists_all() {
    let app = spawn_app().await;
    let partner = app.create_partner("搜索").await;
    app.shelve(&partner).await;

    for (path, q, code) in [
        (CUSTOMERS, "星", "search_too_short"),
        (CUSTOMERS, " a ", "search_too_short"),
        (CUSTOMERS, "%", "search_too_short"),
        (CUSTOMERS, "%_", "search_without_word"),
        (CUSTOMERS, "a b", "search_without_word"),
        (ESCALATIONS, "星", "search_too_short"),
        (ESCALATIONS, "..", "search_without_word"),
    ] {
        let refused = app.get_query(path, &partner.key, &[("q", q)]).await;
        refused.problem(400, "invalid_query");
        assert_eq!(refused.error_fields(), ["q"], "{q:?}: {}", refused.body);
        assert_eq!(refused.body["errors"][0]["code"], code, "{q:?}");
    }
    let everyone = app.search(CUSTOMERS, &partner.key, &[("q", " ")]).await;
    assert_eq!(
        everyone.len(),
        SHELF.len(),
        "an empty search box filters nothing"
    );
}

#[tokio::test]
async fn search_pages_through_every_match_once_in_its_order() {
    // Arrange: names that start with 星河 and names that hold it, interleaved in time
    let app = spawn_app().await;
    let partner = app.create_partner("搜索").await;
    for name in [
        "深圳星河物流有限公司",
        "星河传媒",
        "上海星河电子有限公司",
        "星河科技",
        "北京数据有限公司",
        "广州星河地产",
        "星河",
        "星河地产",
    ] {
        app.created(CUSTOMERS, &partner.key, &named(name, "shop.com.cn"))
            .await;
    }
    let key = &partner.key;

    for q in ["星河", "星河地", "星河物"] {
        // Act: a page of one at a time
        let first = app
            .get_query(CUSTOMERS, key, &[("q", q), ("limit", "1")])
            .await;
        let pages = app.every_page(first, key).await;
        let whole = app.search(CUSTOMERS, key, &[("q", q)]).await;

        // Assert
        let seen: Vec<String> = pages
            .iter()
            .flat_map(|page| page.strings("company_name"))
            .collect();
        assert_eq!(seen, whole, "q={q}");
        let expected: &[&str] = match q {
            "星河" => &[
                "星河传媒",
                "星河科技",
                "星河",
                "星河地产",
                "深圳星河物流有限公司",
                "上海星河电子有限公司",
                "广州星河地产",
            ],
            "星河地" => &["星河地产", "广州星河地产"],
            _ => &["深圳星河物流有限公司"],
        };
        assert_eq!(seen, expected, "q={q}");
    }
}

#[tokio::test]
async fn a_renamed_customer_is_found_by_its_new_name_and_so_are_its_escalations() {
    // Arrange
    let app = spawn_app().await;
    let fixture = app.escalation_fixture("standard").await;
    let key = &fixture.partner.key;
    app.submit_escalation(key, &fixture.body).await;
    let path = format!("{CUSTOMERS}/{}", fixture.customer_id);
    let current = app.get(&path, key).await;

    // Act
    let renamed = app
        .patch(
            &path,
            key,
            Some(&current.etag()),
            &json!({"company_name": "Ｎｏｒｔｈｗｉｎｄ 中国", "domain": "nwind.com.cn"}),
        )
        .await;

    // Assert
    assert_eq!(renamed.status, 200, "{}", renamed.body);
    for (q, found) in [
        ("云启", false),
        ("northwind", true),
        ("中国", true),
        ("nwind", true),
    ] {
        let customers = app.search(CUSTOMERS, key, &[("q", q)]).await;
        let escalations = app.search(ESCALATIONS, key, &[("q", q)]).await;
        assert_eq!(customers.len(), usize::from(found), "customers, q={q}");
        assert_eq!(escalations.len(), usize::from(found), "escalations, q={q}");
    }
    let by_title = app.search(ESCALATIONS, key, &[("q", "外部域")]).await;
    assert_eq!(by_title.len(), 1, "the title's grams stay");
}

/// A partner with three escalations on two customers; the escalations' numbers.
async fn escalated(app: &TestApp, partner: &TestPartner) -> Vec<String> {
    let xinghe = app
        .create_escalatable_customer_named(partner, "深圳星河物流有限公司", "xinghe.com.cn")
        .await;
    let contoso = app
        .create_escalatable_customer_named(partner, "Contoso Ltd", "contoso.com.cn")
        .await;
    let mut numbers = Vec::new();
    for (customer, category, title) in [
        (
            xinghe,
            "service_unavailable",
            "Exchange Online 邮件无法投递到外部域",
        ),
        (xinghe, "network_disruption", "Teams 会议频繁掉线"),
        (contoso, "service_unavailable", "SharePoint 站点无法打开"),
    ] {
        let mut body = escalation_body(customer);
        body["category"] = json!(category);
        body["title"] = json!(title);
        let created = app.submit_escalation(&partner.key, &body).await;
        numbers.push(created.body["number"].as_str().unwrap().to_owned());
    }
    numbers
}

impl TestApp {
    async fn create_escalatable_customer_named(
        &self,
        partner: &TestPartner,
        name: &str,
        domain: &str,
    ) -> Uuid {
        let customer = self
            .created(CUSTOMERS, &partner.key, &named(name, domain))
            .await;
        self.create_subscription(partner, customer.id(), "microsoft-365", "active")
            .await;
        customer.id()
    }
}

#[tokio::test]
async fn escalations_are_found_by_number_title_or_customer_never_another_partners() {
    // Arrange: another partner's escalations say the same things
    let app = spawn_app().await;
    let partner = app.create_partner("搜索").await;
    let numbers = escalated(&app, &partner).await;
    let other = app.create_partner("别家").await;
    let theirs = escalated(&app, &other).await;
    let operator = app.operator_key().await;
    let number = &numbers[2];
    let digits = number.trim_start_matches("ESC-");
    // Without its zeros, or its last two digits: one digit alone is too short to search.
    let short = match digits.trim_start_matches('0') {
        short if short.len() >= 2 => short,
        _ => &digits[digits.len() - 2..],
    };
    let lower = number.to_lowercase();
    let key = &partner.key;

    let cases: Vec<(&str, &str, Vec<&str>)> = vec![
        ("the number", number, vec!["SharePoint 站点无法打开"]),
        (
            "the number, lower case",
            &lower,
            vec!["SharePoint 站点无法打开"],
        ),
        ("its digits", digits, vec!["SharePoint 站点无法打开"]),
        ("without zeros", short, vec!["SharePoint 站点无法打开"]),
        ("a title's part", "掉线", vec!["Teams 会议频繁掉线"]),
        (
            "a title's Latin part",
            "sharep",
            vec!["SharePoint 站点无法打开"],
        ),
        (
            "the customer's name, newest first",
            "星河",
            vec!["Teams 会议频繁掉线", "Exchange Online 邮件无法投递到外部域"],
        ),
        (
            "the customer's Latin name",
            "ntoso",
            vec!["SharePoint 站点无法打开"],
        ),
        (
            "words from title and customer both",
            "无法",
            vec![
                "SharePoint 站点无法打开",
                "Exchange Online 邮件无法投递到外部域",
            ],
        ),
        ("nothing", "星海", vec![]),
    ];
    for (label, q, expected) in &cases {
        // Act
        let found = app.search(ESCALATIONS, key, &[("q", q)]).await;

        // Assert
        assert_eq!(found, *expected, "{label}: q={q}");
    }
    let their_number = app.search(ESCALATIONS, key, &[("q", &theirs[0])]).await;
    assert_eq!(
        their_number,
        Vec::<String>::new(),
        "another partner's number"
    );
    let all = app.search(ESCALATIONS, &operator, &[("q", "星河")]).await;
    assert_eq!(all.len(), 4, "an operator searches every partner's");
    let theirs_only = app
        .search(
            ESCALATIONS,
            &operator,
            &[("q", "无法"), ("partner_id", &other.id.to_string())],
        )
        .await;
    assert_eq!(theirs_only.len(), 2, "{theirs_only:?}");
}

/// Query parameters, as pairs.
type Params<'a> = &'a [(&'a str, &'a str)];

#[tokio::test]
async fn escalation_search_combines_with_every_filter_and_order() {
    // Arrange
    let app = spawn_app().await;
    let partner = app.create_partner("搜索").await;
    escalated(&app, &partner).await;
    let operator = app.operator_key().await;
    let key = &partner.key;
    let found = app
        .get_query(ESCALATIONS, key, &[("q", "星河"), ("limit", "1")])
        .await;
    let xinghe = found.items()[0]["customer_id"].as_str().unwrap().to_owned();

    let cases: &[(Params, &[&str])] = &[
        (
            &[
                ("q", "无法"),
                ("severity", "moderate"),
                ("status", "submitted"),
            ],
            &[
                "SharePoint 站点无法打开",
                "Exchange Online 邮件无法投递到外部域",
            ],
        ),
        (
            &[("q", "无法"), ("customer_id", &xinghe)],
            &["Exchange Online 邮件无法投递到外部域"],
        ),
        (&[("q", "无法"), ("status", "resolved")], &[]),
        (&[("q", "无法"), ("breached", "true")], &[]),
        (&[("q", "无法"), ("service", "azure")], &[]),
        (
            &[("q", "无法"), ("order", "due")],
            &[
                "Exchange Online 邮件无法投递到外部域",
                "SharePoint 站点无法打开",
            ],
        ),
    ];
    for (params, expected) in cases {
        // Act
        let found = app.search(ESCALATIONS, &operator, params).await;

        // Assert
        assert_eq!(found, *expected, "{params:?}");
    }

    // Act: paged one by one, both orders
    for order in ["newest", "due"] {
        let params = [("q", "无法"), ("limit", "1"), ("order", order)];
        let first = app.get_query(ESCALATIONS, key, &params).await;
        let pages = app.every_page(first, key).await;
        let seen: Vec<String> = pages
            .iter()
            .flat_map(|page| page.strings("title"))
            .collect();
        let whole = app.search(ESCALATIONS, key, &params[..1]).await;
        assert_eq!(seen.len(), 2, "{order}: {seen:?}");
        if order == "newest" {
            assert_eq!(seen, whole);
        }
    }
}
