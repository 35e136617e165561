//! 中文 and English: `Accept-Language` decides the language of every text a person reads, while
//! the codes programs match on stay the same; catalogue data (service names, self-help titles,
//! incident texts) comes in the caller's language when written in it; a partner contact's
//! language is kept on the escalation and filters the triage queue.

use escalade::config::ServeSettings;
use escalade::i18n::Language;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{
    Answer, EscalationFixture, TestApp, incident_body, incident_path, keyed, spawn_app,
    spawn_app_with,
};

const ESCALATIONS: &str = "/v1/escalations";
const CHINESE: &str = "zh-Hans";
const ENGLISH: &str = "en";

// ---------------------------------------------------------------------------------------------
// Helpers local to this module
// ---------------------------------------------------------------------------------------------

impl TestApp {
    /// `method path` as `key` with `Accept-Language: accept_language`, and `body` as JSON if
    /// given.
    async fn in_language(
        &self,
        method: Method,
        path: &str,
        key: &str,
        accept_language: &str,
        body: Option<&Value>,
    ) -> Answer {
        let mut request = self
            .request(method, path, key)
            .header("Accept-Language", accept_language);
        if let Some(body) = body {
            request = request.json(body);
        }
        self.send(request).await
    }

    async fn post_in(&self, path: &str, key: &str, accept_language: &str, body: &Value) -> Answer {
        self.in_language(Method::POST, path, key, accept_language, Some(body))
            .await
    }
}

impl Answer {
    /// Asserts the answer says it is in `language` and varies with `Accept-Language`.
    #[track_caller]
    fn assert_language(&self, language: &str) {
        assert_eq!(
            self.header("content-language"),
            Some(language),
            "status {}: {}",
            self.status,
            self.body
        );
        let varies = self
            .headers
            .get_all("vary")
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .any(|name| name.trim().eq_ignore_ascii_case("accept-language"));
        assert!(varies, "no Vary: Accept-Language on {:?}", self.headers);
    }

    /// Every message of the problem: `title`, `detail` and each `message` of `errors` and
    /// `violations`.
    fn problem_texts(&self) -> Vec<String> {
        let mut texts = vec![
            self.body["title"].as_str().unwrap_or_default().to_owned(),
            self.body["detail"].as_str().unwrap_or_default().to_owned(),
        ];
        for list in ["errors", "violations"] {
            for entry in self.body[list].as_array().into_iter().flatten() {
                texts.push(entry["message"].as_str().unwrap_or_default().to_owned());
            }
        }
        texts
    }

    /// The problem with every text taken out: what must not change with the language.
    fn problem_codes(&self) -> Value {
        let mut codes = self.body.clone();
        for field in ["title", "detail"] {
            codes[field] = Value::Null;
        }
        for list in ["errors", "violations"] {
            for entry in codes[list].as_array_mut().into_iter().flatten() {
                entry["message"] = Value::Null;
            }
        }
        codes
    }
}

fn has_chinese(text: &str) -> bool {
    text.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
}

/// Submits `body` as `fixture`'s partner once with `Accept-Language: english` and once with
/// `chinese`, and asserts both are the same 422 `code`, that nothing was written, and
/// [`assert_same_refusal`]. Returns both answers.
async fn refused_in_both_languages(
    app: &TestApp,
    fixture: &EscalationFixture,
    body: &Value,
    (english, chinese): (&str, &str),
    code: &str,
) -> (Answer, Answer) {
    let key = &fixture.partner.key;
    let english = app.post_in(ESCALATIONS, key, english, body).await;
    let chinese = app.post_in(ESCALATIONS, key, chinese, body).await;
    english.problem(422, code);
    chinese.problem(422, code);
    assert_same_refusal(&english, &chinese);
    let listed = app.get(ESCALATIONS, key).await;
    assert_eq!(listed.body["items"], json!([]), "nothing was written");
    (english, chinese)
}

/// Asserts the two answers are the same refusal in English and in Chinese: same status, codes
/// and fields, every text in its own language.
#[track_caller]
fn assert_same_refusal(english: &Answer, chinese: &Answer) {
    assert_eq!(english.status, chinese.status);
    assert_eq!(english.problem_codes(), chinese.problem_codes());
    english.assert_language(ENGLISH);
    chinese.assert_language(CHINESE);
    for (english, chinese) in english.problem_texts().iter().zip(chinese.problem_texts()) {
        assert!(!english.is_empty() && !has_chinese(english), "{english}");
        assert!(has_chinese(&chinese), "not Chinese: {chinese}");
    }
}

// ---------------------------------------------------------------------------------------------
// The same refusal in both languages
// ---------------------------------------------------------------------------------------------

#[actix_web::test]
async fn invalid_fields_are_the_same_422_in_chinese_and_english() {
    // Arrange
    let app = spawn_app().await;
    let fixture = app.escalation_fixture("standard").await;
    let body = fixture.edited(|body| {
        body.as_object_mut().unwrap().remove("title");
        body["contact"]["email"] = json!("zhang.wei");
        body["severity"] = json!("urgent");
        body["contact"]["phone"] = json!("12345");
    });

    // Act
    let languages = ("en-US", "zh-CN");
    let (english, chinese) =
        refused_in_both_languages(&app, &fixture, &body, languages, "validation_failed").await;

    // Assert
    assert_eq!(
        english.error_fields(),
        ["contact.email", "contact.phone", "severity", "title"]
    );
    assert_eq!(chinese.body["title"], "无法处理的内容");
}

#[actix_web::test]
async fn unmet_criteria_are_the_same_422_in_chinese_and_english() {
    // Arrange
    let app = spawn_app().await;
    let fixture = app.escalation_fixture("standard").await;
    let stale = chrono::Utc::now() - chrono::Duration::hours(30);
    let body = fixture.edited(|body| {
        body["category"] = json!("how_to");
        body["troubleshooting"]["service_health_checked_at"] = json!(stale);
        body["reasons"] = json!([]);
    });

    // Act
    let languages = ("en", "zh");
    let (_, chinese) =
        refused_in_both_languages(&app, &fixture, &body, languages, "criteria_not_met").await;

    // Assert
    assert_eq!(
        chinese.violations(),
        [
            "escalatable_category",
            "reason_given",
            "partner_troubleshooting"
        ]
    );
}

#[actix_web::test]
async fn the_dry_run_checklist_and_self_help_advice_follow_the_language() {
    // Arrange
    let app = spawn_app().await;
    let fixture = app.escalation_fixture("standard").await;
    let operator = app.operator_key().await;
    app.create_incident(&operator, &incident_body("microsoft-365"))
        .await;
    let self_help = format!(
        "/v1/customers/{}/services/microsoft-365/self-help",
        fixture.customer_id
    );

    // Act
    let checklist = app
        .post_in(
            "/v1/escalations/validate",
            &fixture.partner.key,
            "zh-CN",
            &fixture.body,
        )
        .await;
    let advice_zh = app.get_in(&self_help, &fixture.partner.key, "zh-CN").await;
    let advice_en = app.get_in(&self_help, &fixture.partner.key, "en").await;

    // Assert
    assert_eq!(checklist.status, 200, "{}", checklist.body);
    checklist.assert_language(CHINESE);
    let checks = checklist.body["checks"].as_array().unwrap();
    assert_eq!(checks.len(), 12);
    for check in checks {
        assert!(has_chinese(check["message"].as_str().unwrap()), "{check}");
    }
    advice_zh.assert_language(CHINESE);
    advice_en.assert_language(ENGLISH);
    let advice = |answer: &Answer| {
        answer.body["advice"][0]["message"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(
        advice_zh.body["advice"][0]["criterion"],
        advice_en.body["advice"][0]["criterion"]
    );
    assert!(has_chinese(&advice(&advice_zh)), "{}", advice(&advice_zh));
    assert!(!has_chinese(&advice(&advice_en)), "{}", advice(&advice_en));
}

#[actix_web::test]
async fn errors_before_any_handler_are_in_the_callers_language() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let unauthorized = app.get_in("/v1/customers", "esc_wrong", "zh-CN").await;
    let not_found = app
        .get_in("/v1/services/no-such-service", &app.admin_key, "zh-CN")
        .await;
    let bad_query = app
        .get_in("/v1/customers?limit=0", &app.admin_key, "zh-CN")
        .await;

    // Assert
    unauthorized.problem(401, "unauthorized");
    unauthorized.assert_language(CHINESE);
    assert_eq!(unauthorized.body["title"], "未经授权");
    not_found.problem(404, "not_found");
    not_found.assert_language(CHINESE);
    assert!(has_chinese(not_found.body["detail"].as_str().unwrap()));
    bad_query.problem(400, "invalid_query");
    bad_query.assert_language(CHINESE);
    assert!(has_chinese(
        bad_query.body["errors"][0]["message"].as_str().unwrap()
    ));
}

// ---------------------------------------------------------------------------------------------
// Negotiation
// ---------------------------------------------------------------------------------------------

#[actix_web::test]
async fn the_highest_q_value_the_service_speaks_wins() {
    // Arrange
    let app = spawn_app().await;
    let cases = [
        ("zh-CN", CHINESE),
        ("zh-Hans", CHINESE),
        ("zh-SG", CHINESE),
        ("zh", CHINESE),
        ("en-GB", ENGLISH),
        ("en;q=0.5, zh-CN;q=0.9", CHINESE),
        ("zh-CN;q=0.4, en-US;q=0.8", ENGLISH),
        ("fr-FR, zh-CN;q=0.9, en;q=0.8", CHINESE),
        ("zh-TW, en;q=0.3", ENGLISH),
        ("zh-CN;q=0, en;q=0.1", ENGLISH),
        ("de, fr;q=0.9", ENGLISH),
        ("*", ENGLISH),
    ];

    for (header, expected) in cases {
        // Act
        let answer = app.get_in("/v1/me", &app.admin_key, header).await;

        // Assert
        assert_eq!(answer.status, 200, "{header}: {}", answer.body);
        assert_eq!(
            answer.header("content-language"),
            Some(expected),
            "Accept-Language: {header}"
        );
    }
}

#[actix_web::test]
async fn garbage_headers_fall_back_to_the_default_and_are_never_an_error() {
    // Arrange
    let english_default = spawn_app().await;
    let chinese_default = spawn_app_with(ServeSettings {
        default_language: Language::SimplifiedChinese,
        ..ServeSettings::default()
    })
    .await;
    let garbage = [
        "",
        ";;;",
        "zh-CN;q=abc",
        "zh-CN;q=1.5",
        "en;level=1",
        "!!!",
        "zh_CN",
        "x-klingon-very-long-subtag-indeed",
        &"zh".repeat(2000),
    ];

    for (app, default) in [(&english_default, ENGLISH), (&chinese_default, CHINESE)] {
        for header in garbage {
            // Act
            let answer = app.get_in("/v1/me", &app.admin_key, header).await;

            // Assert
            assert_eq!(answer.status, 200, "{header:?}: {}", answer.body);
            answer.assert_language(default);
        }
        let without = app.get("/v1/me", &app.admin_key).await;
        without.assert_language(default);
    }
    // Non-ASCII bytes in the header are no error either.
    let request = english_default
        .request(Method::GET, "/v1/me", &english_default.admin_key)
        .header(
            "Accept-Language",
            reqwest::header::HeaderValue::from_bytes(b"zh-\xe4\xb8\xad").unwrap(),
        );
    let answer = english_default.send(request).await;
    assert_eq!(answer.status, 200);
    answer.assert_language(ENGLISH);
}

#[actix_web::test]
async fn every_kind_of_answer_says_its_language_and_varies_on_it() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let answers = [
        app.get_in("/v1/services", &app.admin_key, "zh-CN").await,
        app.get_in("/v1/services", "esc_wrong", "zh-CN").await,
        app.get_in("/v1/nowhere", &app.admin_key, "zh-CN").await,
        app.get_in("/healthz", "", "zh-CN").await,
        app.get_in("/openapi.json", "", "zh-CN").await,
    ];

    // Assert
    for answer in &answers {
        answer.assert_language(CHINESE);
    }
}

#[actix_web::test]
async fn a_replay_answers_in_the_language_of_the_first_request() {
    // Arrange
    let app = spawn_app().await;
    let operator = app.operator_key().await;
    let body = json!({
        "key": "contoso-backup", "name": "Contoso Backup", "name_zh": "Contoso 备份",
        "operated_by": "Contoso Software", "first_party": false,
        "admin_center_url": "https://backup.contoso.cn/admin", "support_hours": "business_hours",
        "categories": ["product_bug"]
    });

    // Act
    let first = app
        .send(
            keyed(&app, "/v1/services", &operator, "replay-language-1", &body)
                .header("Accept-Language", "zh-CN"),
        )
        .await;
    let replay = app
        .send(
            keyed(&app, "/v1/services", &operator, "replay-language-1", &body)
                .header("Accept-Language", "en"),
        )
        .await;

    // Assert
    assert_eq!(first.status, 201, "{}", first.body);
    assert_eq!(first.body["name"], "Contoso 备份");
    first.assert_language(CHINESE);
    assert_eq!(replay.status, 201);
    assert_eq!(replay.header("idempotency-replayed"), Some("true"));
    assert_eq!(replay.body, first.body);
    replay.assert_language(CHINESE);
}

// ---------------------------------------------------------------------------------------------
// Catalogue data in both languages
// ---------------------------------------------------------------------------------------------

#[actix_web::test]
async fn the_seeded_services_are_named_as_the_21vianet_portals_name_them() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let chinese = app
        .get_in("/v1/services/microsoft-365", &app.admin_key, "zh-CN")
        .await;
    let english = app
        .get_in("/v1/services/microsoft-365", &app.admin_key, "en")
        .await;

    // Assert
    assert_eq!(chinese.body["name"], "由世纪互联运营的 Microsoft 365");
    assert_eq!(english.body["name"], "Microsoft 365 operated by 21Vianet");
    for answer in [&chinese, &english] {
        assert_eq!(answer.body["name_zh"], "由世纪互联运营的 Microsoft 365");
    }
    assert_eq!(
        chinese.body["self_help"][0]["title"],
        "Microsoft 365 管理中心中的服务运行状况"
    );
    assert_eq!(
        english.body["self_help"][0]["title"],
        "Service health in the Microsoft 365 admin center"
    );
    assert_eq!(
        chinese.etag(),
        english.etag(),
        "one version of one resource"
    );
    let listed = app.get_in("/v1/services", &app.admin_key, "zh-CN").await;
    for service in listed.body["items"].as_array().unwrap() {
        let name = service["name"].as_str().unwrap();
        assert!(name.starts_with("由世纪互联运营的"), "{name}");
    }
}

#[actix_web::test]
async fn an_incident_answers_in_the_language_it_was_written_in_and_falls_back_to_the_other() {
    // Arrange
    let app = spawn_app().await;
    let operator = app.operator_key().await;
    let mut both = incident_body("azure");
    both["title"] = json!("Virtual machines fail to start in China North 3");
    both["title_zh"] = json!("中国北部 3 区域的虚拟机无法启动");
    let only_base = incident_body("azure");
    let both = app.create_incident(&operator, &both).await;
    let only_base = app.create_incident(&operator, &only_base).await;
    let updates = format!("{}/updates", incident_path(both.id()));
    let published = app
        .post(
            &updates,
            &operator,
            &json!({"text": "Engineers are rolling back a faulty update.", "text_zh": "工程师正在回滚有问题的更新。"}),
        )
        .await;
    assert_eq!(published.status, 201, "{}", published.body);

    // Act
    let chinese = app
        .get_in(&incident_path(both.id()), &app.admin_key, "zh-CN")
        .await;
    let english = app
        .get_in(&incident_path(both.id()), &app.admin_key, "en")
        .await;
    let fallback = app
        .get_in(&incident_path(only_base.id()), &app.admin_key, "zh-CN")
        .await;

    // Assert
    assert_eq!(chinese.body["title"], "中国北部 3 区域的虚拟机无法启动");
    assert_eq!(
        chinese.body["updates"][0]["text"],
        "工程师正在回滚有问题的更新。"
    );
    assert_eq!(
        english.body["title"],
        "Virtual machines fail to start in China North 3"
    );
    assert_eq!(
        english.body["updates"][0]["text"],
        "Engineers are rolling back a faulty update."
    );
    assert_eq!(english.body["title_zh"], "中国北部 3 区域的虚拟机无法启动");
    assert_eq!(fallback.body["title"], "Exchange Online 邮件投递延迟");
    assert_eq!(fallback.body["title_zh"], Value::Null);
}

#[actix_web::test]
async fn a_bad_chinese_text_is_refused_like_the_base_one_and_nothing_is_written() {
    // Arrange
    let app = spawn_app().await;
    let operator = app.operator_key().await;
    let mut body = incident_body("azure");
    body["title_zh"] = json!("标".repeat(201));
    let service = app.get("/v1/services/azure", &app.admin_key).await;

    // Act
    let incident = app
        .post_in("/v1/service-incidents", &operator, "zh-CN", &body)
        .await;
    let rename = app
        .send(
            app.request(Method::PATCH, "/v1/services/azure", &operator)
                .header("If-Match", service.etag())
                .header("Accept-Language", "zh-CN")
                .json(&json!({"name_zh": "  "})),
        )
        .await;

    // Assert
    incident.problem(422, "validation_failed");
    assert_eq!(incident.error_fields(), ["title_zh"]);
    assert!(has_chinese(
        incident.body["errors"][0]["message"].as_str().unwrap()
    ));
    rename.problem(422, "validation_failed");
    assert_eq!(rename.error_fields(), ["name_zh"]);
    let listed = app.get("/v1/service-incidents", &app.admin_key).await;
    assert_eq!(listed.body["items"], json!([]));
    let unchanged = app.get("/v1/services/azure", &app.admin_key).await;
    assert_eq!(unchanged.etag(), service.etag());
}

#[actix_web::test]
async fn the_vocabulary_names_every_code_in_the_callers_language() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let chinese = app.get_in("/v1/vocabulary", &app.admin_key, "zh-CN").await;
    let english = app.get_in("/v1/vocabulary", &app.admin_key, "en").await;

    // Assert
    assert_eq!(chinese.status, 200, "{}", chinese.body);
    chinese.assert_language(CHINESE);
    let codes = |answer: &Answer| -> Value {
        let mut codes = answer.body.clone();
        for terms in codes.as_object_mut().unwrap().values_mut() {
            for term in terms.as_array_mut().unwrap() {
                term["label"] = Value::Null;
            }
        }
        codes
    };
    assert_eq!(codes(&chinese), codes(&english));
    assert_eq!(chinese.body["categories"].as_array().unwrap().len(), 12);
    let label = |answer: &Answer, set: &str, code: &str| {
        answer.body[set]
            .as_array()
            .unwrap()
            .iter()
            .find(|term| term["code"] == code)
            .map(|term| term["label"].clone())
            .unwrap_or_else(|| panic!("{set} has no {code}"))
    };
    assert_eq!(
        label(&chinese, "escalation_statuses", "submitted"),
        "已提交"
    );
    assert_eq!(
        label(&english, "escalation_statuses", "submitted"),
        "Submitted"
    );
    assert_eq!(label(&chinese, "languages", "zh-Hans"), "简体中文");
    for terms in chinese.body.as_object().unwrap().values() {
        for term in terms.as_array().unwrap() {
            assert!(has_chinese(term["label"].as_str().unwrap()), "{term}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The partner contact's language
// ---------------------------------------------------------------------------------------------

#[actix_web::test]
async fn the_triage_queue_shows_and_filters_the_partner_contacts_language() {
    // Arrange
    let app = spawn_app().await;
    let fixture = app.escalation_fixture("standard").await;
    let operator = app.operator_key().await;
    let chinese = app
        .submit_escalation(&fixture.partner.key, &fixture.body)
        .await;
    let english_body = fixture.edited(|body| {
        body["category"] = json!("product_bug");
        body["contact"]["preferred_language"] = json!("en");
    });
    let english = app
        .submit_escalation(&fixture.partner.key, &english_body)
        .await;

    // Act
    let in_english = app
        .get_query(ESCALATIONS, &operator, &[("contact_language", "en")])
        .await;
    let in_chinese = app
        .get_query(ESCALATIONS, &operator, &[("contact_language", "zh-Hans")])
        .await;
    let unknown = app
        .in_language(
            Method::GET,
            "/v1/escalations?contact_language=fr",
            &operator,
            "zh-CN",
            None,
        )
        .await;

    // Assert
    assert_eq!(in_english.item_ids(), [english.id()]);
    assert_eq!(in_english.items()[0]["contact"]["preferred_language"], "en");
    assert_eq!(in_chinese.item_ids(), [chinese.id()]);
    assert_eq!(chinese.body["contact"]["preferred_language"], "zh-Hans");
    unknown.problem(400, "invalid_query");
    assert_eq!(unknown.error_fields(), ["contact_language"]);
    assert!(has_chinese(
        unknown.body["errors"][0]["message"].as_str().unwrap()
    ));
}
