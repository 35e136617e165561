//! The catalogue is whole in every language: the same messages, each with the same arguments,
//! and every key the code uses is in it.

use std::collections::{BTreeMap, BTreeSet};

use fluent_syntax::ast::{Entry, Expression, InlineExpression, Pattern, PatternElement};

use super::*;

const ENGLISH: &str = include_str!("locales/en/escalade.ftl");
const CHINESE: &str = include_str!("locales/zh-Hans/escalade.ftl");

/// Each message of a catalogue with the variables it uses.
fn messages(source: &'static str) -> BTreeMap<&'static str, BTreeSet<&'static str>> {
    let resource = fluent_syntax::parser::parse(source).expect("the catalogue parses");
    resource
        .body
        .iter()
        .filter_map(|entry| match entry {
            Entry::Message(message) => {
                let mut variables = BTreeSet::new();
                if let Some(value) = &message.value {
                    pattern_variables(value, &mut variables);
                }
                Some((message.id.name, variables))
            }
            _ => None,
        })
        .collect()
}

fn pattern_variables(pattern: &Pattern<&'static str>, out: &mut BTreeSet<&'static str>) {
    for element in &pattern.elements {
        if let PatternElement::Placeable { expression } = element {
            expression_variables(expression, out);
        }
    }
}

fn expression_variables(expression: &Expression<&'static str>, out: &mut BTreeSet<&'static str>) {
    match expression {
        Expression::Select { selector, variants } => {
            inline_variables(selector, out);
            for variant in variants {
                pattern_variables(&variant.value, out);
            }
        }
        Expression::Inline(inline) => inline_variables(inline, out),
    }
}

fn inline_variables(inline: &InlineExpression<&'static str>, out: &mut BTreeSet<&'static str>) {
    match inline {
        InlineExpression::VariableReference { id } => {
            out.insert(id.name);
        }
        InlineExpression::FunctionReference { arguments, .. } => {
            for positional in &arguments.positional {
                inline_variables(positional, out);
            }
        }
        InlineExpression::Placeable { expression } => expression_variables(expression, out),
        _ => {}
    }
}

#[test]
fn every_message_exists_in_both_languages_with_the_same_arguments() {
    let (english, chinese) = (messages(ENGLISH), messages(CHINESE));
    let only_english: Vec<&&str> = english
        .keys()
        .filter(|k| !chinese.contains_key(*k))
        .collect();
    let only_chinese: Vec<&&str> = chinese
        .keys()
        .filter(|k| !english.contains_key(*k))
        .collect();
    assert!(only_english.is_empty(), "only in English: {only_english:?}");
    assert!(only_chinese.is_empty(), "only in Chinese: {only_chinese:?}");
    for (key, variables) in &english {
        assert_eq!(
            variables, &chinese[key],
            "`{key}` takes other arguments in Chinese"
        );
    }
}

#[test]
fn the_catalogues_parse_without_junk() {
    for (name, source) in [("en", ENGLISH), ("zh-Hans", CHINESE)] {
        let resource = fluent_syntax::parser::parse(source).expect("parses");
        let junk = resource
            .body
            .iter()
            .any(|entry| matches!(entry, Entry::Junk { .. }));
        assert!(!junk, "{name} has lines that are not Fluent");
    }
}

/// Every `Text::new("…")` in the code names a message of the catalogue.
#[test]
fn every_key_the_code_uses_is_in_the_catalogue() {
    let english = messages(ENGLISH);
    let mut missing = Vec::new();
    let mut pending = vec![std::path::PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/src"
    ))];
    while let Some(path) = pending.pop() {
        if path.is_dir() {
            pending.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
            continue;
        }
        if path.extension().is_none_or(|extension| extension != "rs") {
            continue;
        }
        let source = std::fs::read_to_string(&path).unwrap();
        for occurrence in source.split("Text::new(\"").skip(1) {
            let key = occurrence.split('"').next().unwrap();
            let is_key = key
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
            if is_key && !english.contains_key(key) {
                missing.push(format!("{key} ({})", path.display()));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "keys missing from the catalogue: {missing:#?}"
    );
}

#[test]
fn arguments_and_plurals_render_in_each_language() {
    let count = |n: usize| Text::new("fields-invalid").with("count", n);
    assert_eq!(count(1).render(Language::English), "1 field is invalid");
    assert_eq!(count(3).render(Language::English), "3 fields are invalid");
    assert_eq!(count(3).render(Language::SimplifiedChinese), "3 个字段无效");
    let joined = Text::new("field-allowed-values").with("values", list(["a", "b"]));
    assert!(joined.render(Language::English).contains("a, b"));
    assert!(joined.render(Language::SimplifiedChinese).contains("a、b"));
}
