//! What a person types in a search box, as search reads it.

use migration::search_text::{fold, grams};
use uuid::Uuid;

use super::names::Invalid;
use crate::i18n::Text;

/// A search query: folded as the stored text is (`search_text::fold`) and cut into the same
/// grams. It may also be the start of a tenant id or an escalation's number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchText {
    folded: String,
    grams: Vec<String>,
    first: Option<String>,
}

impl SearchText {
    /// Fewer characters match too much to help anyone.
    pub const MIN_CHARS: usize = 2;

    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let folded = fold(raw.trim());
        if folded.chars().count() < Self::MIN_CHARS {
            return Err(Invalid::new(
                "search_too_short",
                Text::new("invalid-search-too-short").with("min", Self::MIN_CHARS),
            ));
        }
        // The grams no other gram of the query holds: a text that has `con` has `co` and `on`.
        let all = grams(&folded);
        let grams = all
            .keys()
            .filter(|gram| {
                !all.keys()
                    .any(|other| other != *gram && other.contains(*gram))
            })
            .cloned()
            .collect();
        // The longest gram that begins the query.
        let first = all
            .iter()
            .filter(|(_, begins)| **begins)
            .map(|(gram, _)| gram)
            .max_by_key(|gram| gram.chars().count())
            .cloned();
        let text = Self {
            folded,
            grams,
            first,
        };
        if text.grams.is_empty() && text.tenant_range().is_none() {
            return Err(Invalid::new(
                "search_without_word",
                Text::new("invalid-search-without-word"),
            ));
        }
        Ok(text)
    }

    /// The query as the stored text is compared: folded and trimmed.
    pub fn folded(&self) -> &str {
        &self.folded
    }

    /// The grams a match holds: those that no other of them holds, the others following.
    pub fn grams(&self) -> &[String] {
        &self.grams
    }

    /// The longest gram that begins the query: every text that starts with the query begins
    /// with it. `None` when the query's first word is a single character.
    pub fn first_gram(&self) -> Option<&str> {
        self.first.as_deref()
    }

    /// The query is a single gram: its postings alone are the matches, and a posting that begins
    /// a name is a name that begins with the query.
    pub fn is_one_gram(&self) -> bool {
        matches!(self.grams.as_slice(), [gram] if *gram == self.folded)
    }

    /// The escalation number it names, in any of the forms people say it: `ESC-000412`,
    /// `000412` or `412`.
    pub fn escalation_number(&self) -> Option<i64> {
        let digits = self.folded.strip_prefix("esc-").unwrap_or(&self.folded);
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        digits.parse().ok().filter(|n| *n > 0)
    }

    /// The tenant ids that start with it, first and last, when it is the start of one: hex
    /// digits, with or without the hyphens.
    pub fn tenant_range(&self) -> Option<(Uuid, Uuid)> {
        let hex: String = self.folded.chars().filter(|c| *c != '-').collect();
        if hex.len() < Self::MIN_CHARS
            || hex.len() > 32
            || !hex.bytes().all(|b| b.is_ascii_hexdigit())
        {
            return None;
        }
        let bound = |fill: char| {
            let padded: String = hex
                .chars()
                .chain(std::iter::repeat(fill))
                .take(32)
                .collect();
            Uuid::parse_str(&padded).ok()
        };
        Some((bound('0')?, bound('f')?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(raw: &str) -> SearchText {
        SearchText::parse(raw).expect("a search")
    }

    #[test]
    fn one_character_is_too_short_and_punctuation_finds_nothing() {
        assert_eq!(
            SearchText::parse(" 星 ").unwrap_err().code,
            "search_too_short"
        );
        assert_eq!(SearchText::parse("a").unwrap_err().code, "search_too_short");
        assert_eq!(
            SearchText::parse("..").unwrap_err().code,
            "search_without_word"
        );
        assert_eq!(
            SearchText::parse("a b").unwrap_err().code,
            "search_without_word"
        );
    }

    #[test]
    fn a_query_is_folded_like_the_text_it_finds() {
        let text = parsed(" Ｘｉｎｇｈｅ ");
        assert_eq!(text.folded(), "xinghe");
        assert_eq!(text.grams(), ["ghe", "ing", "ngh", "xin"]);
        assert!(parsed("星河").is_one_gram());
        assert!(parsed("CON").is_one_gram());
        assert!(!parsed("星河物流").is_one_gram());
        assert!(!parsed("co.").is_one_gram());
        assert_eq!(parsed("深圳星河").first_gram(), Some("深圳"));
        assert_eq!(parsed("contoso ltd").first_gram(), Some("con"));
        assert_eq!(parsed("a bc").first_gram(), None);
    }

    #[test]
    fn escalation_numbers_are_read_in_every_form() {
        for raw in [
            "ESC-000412",
            "esc-000412",
            "000412",
            "412",
            "ＥＳＣ－０００４１２",
        ] {
            assert_eq!(parsed(raw).escalation_number(), Some(412), "{raw}");
        }
        assert_eq!(parsed("ESC-").escalation_number(), None);
        assert_eq!(parsed("4a2").escalation_number(), None);
        assert_eq!(parsed("00").escalation_number(), None);
    }

    #[test]
    fn the_start_of_a_tenant_id_is_a_range_of_ids() {
        let (first, last) = parsed("3F2A-b1").tenant_range().expect("hex");
        assert_eq!(first.to_string(), "3f2ab100-0000-0000-0000-000000000000");
        assert_eq!(last.to_string(), "3f2ab1ff-ffff-ffff-ffff-ffffffffffff");
        assert_eq!(parsed("星河").tenant_range(), None);
        assert_eq!(parsed("xyz").tenant_range(), None);
    }
}
