//! Every text a person reads, in the caller's language: English or Simplified Chinese, the
//! language of the 21Vianet portals. Codes (`not_found`, `criteria_not_met`, …) never change with
//! the language; programs match on them. The words around them come from a Project Fluent
//! catalogue per language (`locales/<language>/escalade.ftl`, embedded in the binary by
//! fluent-templates), so plurals and numbers follow each language's rules.
//!
//! A [`Text`] is a message key with its arguments, made where the rule is and rendered only when
//! the answer's language is known.

mod negotiation;

use std::borrow::Cow;
use std::collections::HashMap;

use fluent_templates::fluent_bundle::FluentValue;
use fluent_templates::fluent_bundle::types::{FluentNumber, FluentNumberOptions};
use fluent_templates::{LanguageIdentifier, Loader, langid};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub use negotiation::negotiate;

fluent_templates::static_loader! {
    static CATALOGUE = {
        locales: "./src/i18n/locales",
        fallback_language: "en",
        // No Unicode isolation marks around arguments: the texts go into JSON, not bidi text.
        customise: |bundle| bundle.set_use_isolating(false),
    };
}

/// A language escalade speaks: `zh-Hans` (Simplified Chinese) or `en` (English).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
pub enum Language {
    #[serde(rename = "en")]
    #[schema(rename = "en")]
    English,
    #[serde(rename = "zh-Hans")]
    #[schema(rename = "zh-Hans")]
    SimplifiedChinese,
}

impl Language {
    pub const ALL: [Language; 2] = [Language::English, Language::SimplifiedChinese];

    /// Its BCP 47 tag, as `Content-Language` gives it.
    pub fn tag(self) -> &'static str {
        match self {
            Language::English => "en",
            Language::SimplifiedChinese => "zh-Hans",
        }
    }

    pub fn parse(tag: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|language| language.tag().eq_ignore_ascii_case(tag))
    }

    /// A text written by people, in this language: its Chinese version for Chinese when there is
    /// one, the base text otherwise (English, or whatever its author wrote it in).
    pub fn pick(self, base: &str, chinese: Option<&str>) -> String {
        match (self, chinese) {
            (Language::SimplifiedChinese, Some(chinese)) => chinese.to_owned(),
            _ => base.to_owned(),
        }
    }

    fn identifier(self) -> LanguageIdentifier {
        match self {
            Language::English => langid!("en"),
            Language::SimplifiedChinese => langid!("zh-Hans"),
        }
    }
}

/// A closed set of values, each with a name for people in the catalogue.
pub trait Labelled: Copy + 'static {
    fn all() -> &'static [Self];
    /// The value programs send and match on.
    fn code(self) -> &'static str;
    /// Its name for people.
    fn label(self) -> Text;
}

impl Labelled for Language {
    fn all() -> &'static [Self] {
        &Self::ALL
    }

    fn code(self) -> &'static str {
        self.tag()
    }

    fn label(self) -> Text {
        Text::new(match self {
            Language::English => "language-en",
            Language::SimplifiedChinese => "language-zh-Hans",
        })
    }
}

impl std::fmt::Display for Language {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.tag())
    }
}

/// An argument of a [`Text`].
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    /// Words or a value shown as it is (a field name, a code, a URL).
    Plain(String),
    /// A count: chooses plural forms.
    Count(i64),
    /// A number shown with `decimals` digits after the point.
    Decimal { value: f64, decimals: usize },
    /// Another text, in the same language.
    Text(Box<Text>),
    /// Several, joined by the catalogue's `separator` message: a list, or whole clauses.
    Joined {
        items: Vec<Arg>,
        separator: &'static str,
    },
    /// Several, joined as the language joins alternatives ("a, b or c").
    Alternatives(Vec<Arg>),
}

impl From<&str> for Arg {
    fn from(value: &str) -> Self {
        Arg::Plain(value.to_owned())
    }
}

impl From<String> for Arg {
    fn from(value: String) -> Self {
        Arg::Plain(value)
    }
}

impl From<Text> for Arg {
    fn from(value: Text) -> Self {
        Arg::Text(Box::new(value))
    }
}

macro_rules! count_arg {
    ($($int:ty),+) => {$(
        impl From<$int> for Arg {
            fn from(value: $int) -> Self {
                Arg::Count(i64::try_from(value).unwrap_or(i64::MAX))
            }
        }
    )+};
}

count_arg!(i32, i64, u16, u32, u64, usize);

/// A message of the catalogue with its arguments, rendered in a language when one is known.
#[derive(Debug, Clone, PartialEq)]
pub struct Text {
    key: &'static str,
    args: Vec<(&'static str, Arg)>,
}

impl Text {
    pub fn new(key: &'static str) -> Self {
        Self {
            key,
            args: Vec::new(),
        }
    }

    /// The text with `$name` set to `value`.
    pub fn with(mut self, name: &'static str, value: impl Into<Arg>) -> Self {
        self.args.push((name, value.into()));
        self
    }

    pub fn key(&self) -> &'static str {
        self.key
    }

    /// The arguments, for carrying a text through another error type (see `http::fields`).
    pub fn args(&self) -> &[(&'static str, Arg)] {
        &self.args
    }

    /// The words in `language`. A key missing from the catalogue (a test proves none is) would
    /// show in English, and failing that as the key itself.
    pub fn render(&self, language: Language) -> String {
        let args: HashMap<Cow<'static, str>, FluentValue<'_>> = self
            .args
            .iter()
            .map(|(name, arg)| (Cow::Borrowed(*name), value(arg, language)))
            .collect();
        CATALOGUE.lookup_with_args(&language.identifier(), self.key, &args)
    }
}

fn value(arg: &Arg, language: Language) -> FluentValue<'static> {
    match arg {
        Arg::Plain(text) => FluentValue::from(text.clone()),
        Arg::Count(count) => FluentValue::from(*count),
        Arg::Decimal { value, decimals } => FluentValue::from(FluentNumber::new(
            {
                let scale = 10f64.powi(i32::try_from(*decimals).unwrap_or(0));
                (value * scale).round() / scale
            },
            FluentNumberOptions {
                minimum_fraction_digits: Some(*decimals),
                maximum_fraction_digits: Some(*decimals),
                ..FluentNumberOptions::default()
            },
        )),
        Arg::Text(text) => FluentValue::from(text.render(language)),
        Arg::Joined { items, separator } => {
            let separator = Text::new(separator).render(language);
            FluentValue::from(rendered(items, language).join(&separator))
        }
        Arg::Alternatives(items) => {
            let mut items = rendered(items, language);
            let Some(last) = items.pop() else {
                return FluentValue::from(String::new());
            };
            if items.is_empty() {
                return FluentValue::from(last);
            }
            let separator = Text::new("list-separator").render(language);
            let or = Text::new("list-or").render(language);
            FluentValue::from(format!("{}{or}{last}", items.join(&separator)))
        }
    }
}

fn rendered(items: &[Arg], language: Language) -> Vec<String> {
    items
        .iter()
        .map(|item| match value(item, language) {
            FluentValue::String(text) => text.into_owned(),
            FluentValue::Number(number) => number.as_string().into_owned(),
            _ => String::new(),
        })
        .collect()
}

/// Several values as one argument, joined as the language joins a list.
pub fn list<T: Into<Arg>>(items: impl IntoIterator<Item = T>) -> Arg {
    Arg::Joined {
        items: items.into_iter().map(Into::into).collect(),
        separator: "list-separator",
    }
}

/// Several whole clauses as one argument, joined as the language joins clauses of a sentence.
pub fn clauses<T: Into<Arg>>(items: impl IntoIterator<Item = T>) -> Arg {
    Arg::Joined {
        items: items.into_iter().map(Into::into).collect(),
        separator: "clause-separator",
    }
}

/// Several values as one argument, joined as the language joins alternatives.
pub fn alternatives<T: Into<Arg>>(items: impl IntoIterator<Item = T>) -> Arg {
    Arg::Alternatives(items.into_iter().map(Into::into).collect())
}

#[cfg(test)]
mod tests;
