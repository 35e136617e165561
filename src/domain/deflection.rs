//! What to tell a partner before it writes an escalation: the checks of the 21Vianet criteria
//! that are already known once a customer and a service are chosen.

use serde::Serialize;
use utoipa::ToSchema;

use super::SubscriptionStatus;

/// The operator of the clouds escalations go to.
pub const OPERATOR: &str = "21Vianet";

/// One piece of advice, with the criterion it anticipates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Advice {
    /// The escalation criterion this concerns: `service_escalatable`, `active_subscription` or
    /// `no_active_incident`.
    #[schema(example = "no_active_incident")]
    pub criterion: &'static str,
    #[schema(
        example = "1 incident is open on this service: escalate only if the problem persists after it ends, or name it as unrelated"
    )]
    pub message: String,
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
            message: format!(
                "this service is run by {}, not escalated to 21Vianet: contact its publisher",
                situation.operated_by
            ),
        });
    }
    match situation.subscription {
        Some(SubscriptionStatus::Active) => {}
        Some(other) => advice.push(Advice {
            criterion: "active_subscription",
            message: format!(
                "the customer's subscription is {other}: only active subscriptions are escalated"
            ),
        }),
        None => advice.push(Advice {
            criterion: "active_subscription",
            message: "the customer has no subscription to this service".to_owned(),
        }),
    }
    if situation.active_incidents > 0 {
        let count = match situation.active_incidents {
            1 => "1 incident is".to_owned(),
            n => format!("{n} incidents are"),
        };
        advice.push(Advice {
            criterion: "no_active_incident",
            message: format!(
                "{count} open on this service: escalate only if the problem persists after it ends, \
                 or name it as unrelated"
            ),
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
        assert!(advice[0].message.contains("Contoso Software"));
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
        assert!(advice[0].message.starts_with("2 incidents are open"));
    }
}
