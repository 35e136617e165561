//! What to tell a partner before it writes an escalation: the checks of the 21Vianet criteria
//! that are already known once a customer and a service are chosen.

use super::SubscriptionStatus;
use crate::i18n::Text;

/// The operator of the clouds escalations go to.
pub const OPERATOR: &str = "21Vianet";

/// One piece of advice, with the criterion it anticipates.
#[derive(Debug, Clone, PartialEq)]
pub struct Advice {
    /// `service_escalatable`, `active_subscription` or `no_active_incident`.
    pub criterion: &'static str,
    pub message: Text,
}

/// What is known about a customer's use of a service before anything is written.
#[derive(Debug, Clone, Copy)]
pub struct Situation<'a> {
    pub operated_by: &'a str,
    pub first_party: bool,
    pub subscription: Option<SubscriptionStatus>,
    pub active_incidents: usize,
}

/// Advice for every known obstacle to escalating; empty when none.
pub fn advise(situation: Situation<'_>) -> Vec<Advice> {
    let mut advice = Vec::new();
    if !situation.first_party || situation.operated_by != OPERATOR {
        advice.push(Advice {
            criterion: "service_escalatable",
            message: Text::new("advice-marketplace").with("operator", situation.operated_by),
        });
    }
    match situation.subscription {
        Some(SubscriptionStatus::Active) => {}
        Some(other) => advice.push(Advice {
            criterion: "active_subscription",
            message: Text::new("advice-subscription-inactive").with("status", other.as_str()),
        }),
        None => advice.push(Advice {
            criterion: "active_subscription",
            message: Text::new("criterion-subscription-none"),
        }),
    }
    if situation.active_incidents > 0 {
        advice.push(Advice {
            criterion: "no_active_incident",
            message: Text::new("advice-incidents-open").with("count", situation.active_incidents),
        });
    }
    advice
}

#[cfg(test)]
mod tests {
    use super::*;

    fn situation() -> Situation<'static> {
        Situation {
            operated_by: OPERATOR,
            first_party: true,
            subscription: Some(SubscriptionStatus::Active),
            active_incidents: 0,
        }
    }

    fn criteria(advice: &[Advice]) -> Vec<&str> {
        advice.iter().map(|a| a.criterion).collect()
    }

    #[test]
    fn nothing_to_say_when_all_is_in_order() {
        assert!(advise(situation()).is_empty());
    }

    #[test]
    fn marketplace_products_go_to_their_publisher() {
        let advice = advise(Situation {
            operated_by: "Contoso Software",
            first_party: false,
            ..situation()
        });
        assert_eq!(criteria(&advice), ["service_escalatable"]);
        assert!(
            advice[0]
                .message
                .render(crate::i18n::Language::SimplifiedChinese)
                .contains("Contoso Software")
        );
    }

    #[test]
    fn only_active_subscriptions_count() {
        for status in [SubscriptionStatus::Pending, SubscriptionStatus::Suspended] {
            let advice = advise(Situation {
                subscription: Some(status),
                ..situation()
            });
            assert_eq!(criteria(&advice), ["active_subscription"]);
        }
        let none = advise(Situation {
            subscription: None,
            ..situation()
        });
        assert_eq!(criteria(&none), ["active_subscription"]);
    }

    #[test]
    fn open_incidents_are_counted() {
        let advice = advise(Situation {
            active_incidents: 2,
            ..situation()
        });
        assert_eq!(criteria(&advice), ["no_active_incident"]);
        let english = advice[0].message.render(crate::i18n::Language::English);
        assert!(english.starts_with("2 incidents are open"), "{english}");
    }
}
