//! 中文 and English: `Accept-Language` decides the language of every text a person reads, while
//! the codes programs match on stay the same; catalogue data (service names, self-help titles,
//! incident texts) comes in the caller's language when written in it; a partner contact's
//! language is kept on the escalation and filters the triage queue.

use escalade::config::ServeSettings;
use escalade::i18n::Language;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{
    Answer, ESCALATIONS, TestApp, incident_body, incident_path, keyed, spawn_app, spawn_app_with,
};
use crate::world::World;

const CHINESE: &str = "zh-Hans";
const ENGLISH: &str = "en";

/// `POST path` as `key` with `Accept-Language: language`.
async fn post_in(app: &TestApp, path: &str, key: &str, language: &str, body: &Value) -> Answer {
    let request = app.request(Method::POST, path, key).json(body);
    app.send(request.header("Accept-Language", language)).await
}

impl Answer {
    /// Asserts the answer says it is in `language` and varies with `Accept-Language`.
    #[track_caller]
    fn assert_language(&self, language: &str) {
        let said = self.header("content-language");
        assert_eq!(said, Some(language), "{}: {}", self.status, self.body);
        let varies = (self.headers.get_all("vary").iter())
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .any(|name| name.trim().eq_ignore_ascii_case("accept-language"));
        assert!(varies, "no Vary: Accept-Language on {:?}", self.headers);
    }

    /// Every message of the problem: `title`, `detail` and each `message` of `errors` and
    /// `violations`.
    fn problem_texts(&self) -> Vec<String> {
        let text = |value: &Value| value.as_str().unwrap_or_default().to_owned();
        let mut texts = vec![text(&self.body["title"]), text(&self.body["detail"])];
        for list in ["errors", "violations"] {
            for entry in self.body[list].as_array().into_iter().flatten() {
                texts.push(text(&entry["message"]));
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

    /// The first message of `errors`.
    fn first_error_message(&self) -> &str {
        self.body["errors"][0]["message"].as_str().unwrap()
    }
}

fn has_chinese(text: &str) -> bool {
    text.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
}

/// Submits `body` as the world's partner once with `Accept-Language: english` and once with
/// `chinese`, and asserts both are the same 422 `code` (same status, codes and fields, every
/// text in its own language) and that nothing was written. Returns both answers.
async fn refused_in_both_languages(
    world: &World,
    body: &Value,
    (english, chinese): (&str, &str),
    code: &str,
) -> (Answer, Answer) {
    let english = post_in(&world.app, ESCALATIONS, world.key(), english, body).await;
    let chinese = post_in(&world.app, ESCALATIONS, world.key(), chinese, body).await;
    english.problem(422, code);
    chinese.problem(422, code);
    assert_eq!(english.problem_codes(), chinese.problem_codes());
    english.assert_language(ENGLISH);
    chinese.assert_language(CHINESE);
    for (english, chinese) in english.problem_texts().iter().zip(chinese.problem_texts()) {
        assert!(!english.is_empty() && !has_chinese(english), "{english}");
        assert!(has_chinese(&chinese), "not Chinese: {chinese}");
    }
    let listed = world.escalations().await;
    assert_eq!(listed.body["items"], json!([]), "nothing was written");
    (english, chinese)
}

#[actix_web::test]
async fn invalid_fields_and_unmet_criteria_are_the_same_422_in_chinese_and_english() {
    // Arrange
    let world = World::new().await;
    let mut invalid = world.body.clone();
    invalid.as_object_mut().unwrap().remove("title");
    invalid["contact"]["email"] = json!("zhang.wei");
    invalid["severity"] = json!("urgent");
    invalid["contact"]["phone"] = json!("12345");
    let mut unmet = world.body.clone();
    unmet["category"] = json!("how_to");
    let stale = chrono::Utc::now() - chrono::Duration::hours(30);
    unmet["troubleshooting"]["service_health_checked_at"] = json!(stale);
    unmet["reasons"] = json!([]);

    // Act
    let languages = ("en-US", "zh-CN");
    let (english, chinese) =
        refused_in_both_languages(&world, &invalid, languages, "validation_failed").await;
    let (_, criteria) =
        refused_in_both_languages(&world, &unmet, ("en", "zh"), "criteria_not_met").await;

    // Assert
    let fields = ["contact.email", "contact.phone", "severity", "title"];
    assert_eq!(english.error_fields(), fields);
    assert_eq!(chinese.body["title"], "无法处理的内容");
    let unmet = [
        "escalatable_category",
        "reason_given",
        "partner_troubleshooting",
    ];
    assert_eq!(criteria.violations(), unmet);
}

#[actix_web::test]
async fn the_dry_run_checklist_and_self_help_advice_follow_the_language() {
    // Arrange
    let world = World::new().await;
    let (app, key) = (&world.app, world.key());
    app.create_incident(&world.operator, &incident_body("microsoft-365"))
        .await;
    let customer = world.customer_id;
    let self_help = format!("/v1/customers/{customer}/services/microsoft-365/self-help");

    // Act
    let validate = "/v1/escalations/validate";
    let checklist = post_in(app, validate, key, "zh-CN", &world.body).await;
    let advice_zh = app.get_in(&self_help, key, "zh-CN").await;
    let advice_en = app.get_in(&self_help, key, "en").await;

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
    let (zh, en) = (&advice_zh.body["advice"][0], &advice_en.body["advice"][0]);
    assert_eq!(zh["criterion"], en["criterion"]);
    assert!(has_chinese(zh["message"].as_str().unwrap()), "{zh}");
    assert!(!has_chinese(en["message"].as_str().unwrap()), "{en}");
}

#[actix_web::test]
async fn every_kind_of_answer_says_its_language_and_varies_on_it_errors_before_any_handler_too() {
    // Arrange
    let app = spawn_app().await;
    let admin = app.admin_key.as_str();

    for (label, path, key, status, code) in [
        ("a list", "/v1/services", admin, 200, ""),
        ("no key", "/v1/services", "esc_wrong", 401, "unauthorized"),
        ("no route", "/v1/nowhere", admin, 404, "not_found"),
        ("no such service", "/v1/services/x", admin, 404, "not_found"),
        (
            "a bad query",
            "/v1/customers?limit=0",
            admin,
            400,
            "invalid_query",
        ),
        ("an ops endpoint", "/healthz", "", 200, ""),
        ("the contract", "/openapi.json", "", 200, ""),
    ] {
        // Act
        let answer = app.get_in(path, key, "zh-CN").await;

        // Assert
        assert_eq!(answer.status, status, "{label}: {}", answer.body);
        answer.assert_language(CHINESE);
        if status != 200 {
            answer.problem(status, code);
            let texts = answer.problem_texts();
            let chinese = texts.iter().all(|text| has_chinese(text));
            assert!(chinese, "{label}: {texts:?}");
        }
    }
    let unauthorized = app.get_in("/v1/customers", "esc_wrong", "zh-CN").await;
    assert_eq!(unauthorized.body["title"], "未经授权");
}

#[actix_web::test]
async fn the_highest_q_value_the_service_speaks_wins_and_anything_else_is_the_default() {
    // Arrange
    let english_default = spawn_app().await;
    let chinese_default = spawn_app_with(ServeSettings {
        default_language: Language::SimplifiedChinese,
        ..ServeSettings::default()
    })
    .await;
    let me = async |app: &TestApp, header: &str| app.get_in("/v1/me", &app.admin_key, header).await;

    for (header, expected) in [
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
    ] {
        // Act
        let answer = me(&english_default, header).await;

        // Assert
        assert_eq!(answer.status, 200, "{header}: {}", answer.body);
        let language = answer.header("content-language");
        assert_eq!(language, Some(expected), "Accept-Language: {header}");
    }
    // Garbage falls back to the default and is never an error.
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
            let answer = me(app, header).await;

            assert_eq!(answer.status, 200, "{header:?}: {}", answer.body);
            answer.assert_language(default);
        }
        app.get("/v1/me", &app.admin_key)
            .await
            .assert_language(default);
    }
    // Non-ASCII bytes in the header are no error either.
    let app = &english_default;
    let non_ascii = reqwest::header::HeaderValue::from_bytes(b"zh-\xe4\xb8\xad").unwrap();
    let request = app.request(Method::GET, "/v1/me", &app.admin_key);
    let answer = app.send(request.header("Accept-Language", non_ascii)).await;
    assert_eq!(answer.status, 200);
    answer.assert_language(ENGLISH);
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
    let send = async |language: &str| {
        let request = keyed(&app, "/v1/services", &operator, "replay-language-1", &body);
        app.send(request.header("Accept-Language", language)).await
    };

    // Act
    let first = send("zh-CN").await;
    let replay = send("en").await;

    // Assert
    assert_eq!(first.status, 201, "{}", first.body);
    assert_eq!(first.body["name"], "Contoso 备份");
    first.assert_language(CHINESE);
    assert_eq!(replay.status, 201);
    assert_eq!(replay.header("idempotency-replayed"), Some("true"));
    assert_eq!(replay.body, first.body);
    replay.assert_language(CHINESE);
}

#[actix_web::test]
async fn seeded_services_and_the_vocabulary_are_named_in_the_callers_language() {
    // Arrange
    let app = spawn_app().await;
    let admin = app.admin_key.as_str();

    // Act
    let service_zh = app
        .get_in("/v1/services/microsoft-365", admin, "zh-CN")
        .await;
    let service_en = app.get_in("/v1/services/microsoft-365", admin, "en").await;
    let listed = app.get_in("/v1/services", admin, "zh-CN").await;
    let chinese = app.get_in("/v1/vocabulary", admin, "zh-CN").await;
    let english = app.get_in("/v1/vocabulary", admin, "en").await;

    // Assert: as the 21Vianet portals name them.
    let name_zh = "由世纪互联运营的 Microsoft 365";
    assert_eq!(service_zh.body["name"], name_zh);
    let name_en = "Microsoft 365 operated by 21Vianet";
    assert_eq!(service_en.body["name"], name_en);
    for answer in [&service_zh, &service_en] {
        assert_eq!(answer.body["name_zh"], name_zh);
    }
    let zh = &service_zh.body["self_help"][0]["title"];
    assert_eq!(zh, "Microsoft 365 管理中心中的服务运行状况");
    let en = &service_en.body["self_help"][0]["title"];
    assert_eq!(en, "Service health in the Microsoft 365 admin center");
    let (zh_tag, en_tag) = (service_zh.etag(), service_en.etag());
    assert_eq!(zh_tag, en_tag, "one version of one resource");
    for name in listed.strings("name") {
        assert!(name.starts_with("由世纪互联运营的"), "{name}");
    }
    // The vocabulary names every code.
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
        let terms = answer.body[set].as_array().unwrap().iter();
        let term = terms.clone().find(|term| term["code"] == code);
        term.map(|term| term["label"].clone())
            .unwrap_or_else(|| panic!("{set} has no {code}"))
    };
    let submitted = |answer| label(answer, "escalation_statuses", "submitted");
    assert_eq!(submitted(&chinese), "已提交");
    assert_eq!(submitted(&english), "Submitted");
    assert_eq!(label(&chinese, "languages", "zh-Hans"), "简体中文");
    for terms in chinese.body.as_object().unwrap().values() {
        for term in terms.as_array().unwrap() {
            assert!(has_chinese(term["label"].as_str().unwrap()), "{term}");
        }
    }
}

#[actix_web::test]
async fn an_incident_answers_in_the_language_it_was_written_in_and_a_bad_chinese_text_is_refused() {
    // Arrange
    let app = spawn_app().await;
    let operator = app.operator_key().await;
    let service = app.get("/v1/services/azure", &app.admin_key).await;
    let mut too_long = incident_body("azure");
    too_long["title_zh"] = json!("标".repeat(201));
    let title = "Virtual machines fail to start in China North 3";
    let title_zh = "中国北部 3 区域的虚拟机无法启动";

    // Act: a bad Chinese text is refused like the base one, and nothing is written.
    let incident = post_in(&app, "/v1/service-incidents", &operator, "zh-CN", &too_long).await;
    let rename = app.request(Method::PATCH, "/v1/services/azure", &operator);
    let rename = rename
        .header("If-Match", service.etag())
        .json(&json!({"name_zh": "  "}));
    let rename = app.send(rename.header("Accept-Language", "zh-CN")).await;

    // Assert
    incident.problem(422, "validation_failed");
    assert_eq!(incident.error_fields(), ["title_zh"]);
    assert!(has_chinese(incident.first_error_message()));
    rename.problem(422, "validation_failed");
    assert_eq!(rename.error_fields(), ["name_zh"]);
    let listed = app.get("/v1/service-incidents", &app.admin_key).await;
    assert_eq!(listed.body["items"], json!([]));
    let unchanged = app.get("/v1/services/azure", &app.admin_key).await;
    assert_eq!(unchanged.etag(), service.etag());

    // Arrange: one incident written in both languages, one in the base language alone.
    let mut both = incident_body("azure");
    both["title"] = json!(title);
    both["title_zh"] = json!(title_zh);
    let both = app.create_incident(&operator, &both).await;
    let only_base = app
        .create_incident(&operator, &incident_body("azure"))
        .await;
    let updates = format!("{}/updates", incident_path(both.id()));
    let update = json!({"text": "Engineers are rolling back a faulty update.",
        "text_zh": "工程师正在回滚有问题的更新。"});
    app.created(&updates, &operator, &update).await;

    // Act
    let admin = app.admin_key.as_str();
    let chinese = app.get_in(&incident_path(both.id()), admin, "zh-CN").await;
    let english = app.get_in(&incident_path(both.id()), admin, "en").await;
    let fallback = app
        .get_in(&incident_path(only_base.id()), admin, "zh-CN")
        .await;

    // Assert
    assert_eq!(chinese.body["title"], title_zh);
    assert_eq!(chinese.body["updates"][0]["text"], update["text_zh"]);
    assert_eq!(english.body["title"], title);
    assert_eq!(english.body["updates"][0]["text"], update["text"]);
    assert_eq!(english.body["title_zh"], title_zh);
    assert_eq!(fallback.body["title"], "Exchange Online 邮件投递延迟");
    assert_eq!(fallback.body["title_zh"], Value::Null);
}

#[actix_web::test]
async fn the_triage_queue_shows_and_filters_the_partner_contacts_language() {
    // Arrange
    let world = World::new().await;
    let (app, operator) = (&world.app, &world.operator);
    let chinese = world.submit().await;
    let english = world
        .submit_edited(|body| {
            body["category"] = json!("product_bug");
            body["contact"]["preferred_language"] = json!("en");
        })
        .await;

    // Act
    let in_language = async |language: &str| {
        let filter = [("contact_language", language)];
        app.get_query(ESCALATIONS, operator, &filter).await
    };
    let in_english = in_language("en").await;
    let in_chinese = in_language("zh-Hans").await;
    let unknown = "/v1/escalations?contact_language=fr";
    let unknown = app.get_in(unknown, operator, "zh-CN").await;

    // Assert
    assert_eq!(in_english.item_ids(), [english.id()]);
    assert_eq!(in_english.items()[0]["contact"]["preferred_language"], "en");
    assert_eq!(in_chinese.item_ids(), [chinese.id()]);
    assert_eq!(chinese.body["contact"]["preferred_language"], "zh-Hans");
    unknown.problem(400, "invalid_query");
    assert_eq!(unknown.error_fields(), ["contact_language"]);
    assert!(has_chinese(unknown.first_error_message()));
}
