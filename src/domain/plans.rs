//! Small closed vocabularies of the product, with the meaning of each value.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Implements `ALL`, `as_str`, `parse` and `Display` for a closed vocabulary, from one table of
/// variants and their wire names. With `labelled "prefix"`, also [`Labelled`]: what people read
/// for a value is the catalogue message `prefix-value`.
///
/// [`Labelled`]: crate::i18n::Labelled
macro_rules! vocabulary {
    ($name:ident labelled $prefix:literal { $($variant:ident => $text:literal),+ $(,)? }) => {
        vocabulary!($name { $($variant => $text),+ });

        impl $crate::i18n::Labelled for $name {
            fn all() -> &'static [Self] {
                Self::ALL
            }

            fn code(self) -> &'static str {
                self.as_str()
            }

            fn label(self) -> $crate::i18n::Text {
                $crate::i18n::Text::new(match self {
                    $($name::$variant => concat!($prefix, "-", $text)),+
                })
            }
        }
    };
    ($name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }

            /// The value stored in the database; `None` for anything else.
            pub fn parse(text: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|value| value.as_str() == text)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use vocabulary;

/// A customer's support agreement with 21Vianet: `standard`, or `premium` (the agreement that
/// entitles critical, severity A, escalations with a 2-hour response around the clock).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SupportPlan {
    Standard,
    Premium,
}

vocabulary!(SupportPlan labelled "support-plan" { Standard => "standard", Premium => "premium" });

/// Whether a partner may work with escalade: `active`, or `suspended` (its escalations are
/// refused until an admin reactivates it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PartnerStatus {
    Active,
    Suspended,
}

vocabulary!(PartnerStatus labelled "partner-status" { Active => "active", Suspended => "suspended" });

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_values_round_trip() {
        for plan in SupportPlan::ALL {
            assert_eq!(SupportPlan::parse(plan.as_str()), Some(*plan));
            assert_eq!(serde_json::to_value(plan).unwrap(), plan.as_str());
        }
        for status in PartnerStatus::ALL {
            assert_eq!(PartnerStatus::parse(status.as_str()), Some(*status));
            assert_eq!(serde_json::to_value(status).unwrap(), status.as_str());
        }
        assert_eq!(SupportPlan::parse("gold"), None);
    }
}
