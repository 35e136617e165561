//! Each criterion on both sides of its boundary, starting from a proposal that passes all.

use super::*;
use crate::i18n::Language;

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-25T10:00:00+08:00")
        .unwrap()
        .to_utc()
}

fn proposal() -> Proposal {
    Proposal {
        category: Category::ServiceUnavailable,
        severity: Severity::Moderate,
        reasons: vec![Reason::LacksSupportTools],
        justification: Some("需要 21Vianet 的后端日志才能定位邮件投递失败的原因".to_owned()),
        admin_center_attempted: true,
        troubleshooting_steps: 2,
        service_health_checked_at: Some(now() - Duration::hours(1)),
        unrelated_incident_ids: Vec::new(),
        contact: ContactFacts {
            first_name: true,
            last_name: true,
            email: true,
            phone: true,
            method: Some(ContactMethod::Email),
            available_24x7: false,
        },
    }
}

fn facts() -> Facts {
    Facts {
        customer: Some(CustomerFacts {
            tenant_id: Uuid::from_u128(1),
            support_plan: SupportPlan::Standard,
        }),
        partner: PartnerFacts {
            tenant_id: Uuid::from_u128(2),
            status: PartnerStatus::Active,
            overdue_remediation_plans: 0,
        },
        service: Some(ServiceFacts {
            operated_by: OPERATOR.to_owned(),
            first_party: true,
            categories: Category::ESCALATABLE.to_vec(),
        }),
        subscription: Some(SubscriptionStatus::Active),
        active_incidents: Vec::new(),
        open_duplicate: None,
        highest_severity: Severity::Critical,
    }
}

fn failed(proposal: &Proposal, facts: &Facts) -> Vec<Criterion> {
    EscalationCriteria::evaluate(proposal, facts, now())
        .failed()
        .map(|check| check.criterion)
        .collect()
}

#[test]
fn a_proper_escalation_passes_all_twelve() {
    let evaluation = EscalationCriteria::evaluate(&proposal(), &facts(), now());
    assert_eq!(evaluation.checks.len(), 12);
    assert!(
        evaluation.eligible(),
        "{:?}",
        evaluation.failed().collect::<Vec<_>>()
    );
    let order: Vec<&str> = evaluation
        .checks
        .iter()
        .map(|c| c.criterion.as_str())
        .collect();
    assert_eq!(
        order,
        Criterion::ALL
            .iter()
            .map(|c| c.as_str())
            .collect::<Vec<_>>()
    );
}

#[test]
fn customer_relationship_needs_a_customer_of_the_partner() {
    let facts = Facts {
        customer: None,
        ..facts()
    };
    let failed = failed(&proposal(), &facts);
    assert!(failed.contains(&Criterion::CustomerRelationship));
    // What depends on the customer cannot pass without one.
    for dependent in [
        Criterion::NotPartnerTenant,
        Criterion::ActiveSubscription,
        Criterion::NoDuplicate,
    ] {
        assert!(failed.contains(&dependent), "{dependent}");
    }
}

#[test]
fn the_partners_own_tenant_is_not_covered() {
    let mut facts = facts();
    facts.partner.tenant_id = Uuid::from_u128(1);
    assert_eq!(failed(&proposal(), &facts), [Criterion::NotPartnerTenant]);
}

#[test]
fn only_first_party_services_operated_by_21vianet() {
    let mut marketplace = facts();
    marketplace.service.as_mut().unwrap().first_party = false;
    assert_eq!(
        failed(&proposal(), &marketplace),
        [Criterion::ServiceEscalatable]
    );

    let mut elsewhere = facts();
    elsewhere.service.as_mut().unwrap().operated_by = "Contoso".to_owned();
    assert_eq!(
        failed(&proposal(), &elsewhere),
        [Criterion::ServiceEscalatable]
    );

    let unknown = Facts {
        service: None,
        ..facts()
    };
    assert_eq!(
        failed(&proposal(), &unknown),
        [Criterion::ServiceEscalatable]
    );
}

#[test]
fn only_an_active_subscription_counts() {
    for status in [SubscriptionStatus::Pending, SubscriptionStatus::Suspended] {
        let facts = Facts {
            subscription: Some(status),
            ..facts()
        };
        assert_eq!(
            failed(&proposal(), &facts),
            [Criterion::ActiveSubscription],
            "{status}"
        );
    }
    let none = Facts {
        subscription: None,
        ..facts()
    };
    assert_eq!(failed(&proposal(), &none), [Criterion::ActiveSubscription]);
}

#[test]
fn partner_owned_categories_are_refused() {
    for category in Category::ALL.iter().filter(|c| !c.is_escalatable()) {
        let proposal = Proposal {
            category: *category,
            ..proposal()
        };
        assert_eq!(
            failed(&proposal, &facts()),
            [Criterion::EscalatableCategory],
            "{category}"
        );
    }
    for category in Category::ESCALATABLE {
        let proposal = Proposal {
            category,
            ..proposal()
        };
        assert!(failed(&proposal, &facts()).is_empty(), "{category}");
    }
}

#[test]
fn the_service_must_accept_the_category() {
    let mut facts = facts();
    facts.service.as_mut().unwrap().categories = vec![Category::BillingDispute];
    assert_eq!(
        failed(&proposal(), &facts),
        [Criterion::EscalatableCategory]
    );
}

#[test]
fn a_reason_and_a_real_justification_are_needed() {
    let no_reason = Proposal {
        reasons: Vec::new(),
        ..proposal()
    };
    assert_eq!(failed(&no_reason, &facts()), [Criterion::ReasonGiven]);

    let none = Proposal {
        justification: None,
        ..proposal()
    };
    assert_eq!(failed(&none, &facts()), [Criterion::ReasonGiven]);

    let short = "x".repeat(MIN_JUSTIFICATION_CHARS - 1);
    let just_under = Proposal {
        justification: Some("abcdefghij klmnopqr".to_owned()),
        ..proposal()
    };
    assert_eq!(
        "abcdefghij klmnopqr".chars().count(),
        MIN_JUSTIFICATION_CHARS - 1
    );
    assert_eq!(failed(&just_under, &facts()), [Criterion::ReasonGiven]);
    let exactly = Proposal {
        justification: Some("abcdefghij klmnopqrs".to_owned()),
        ..proposal()
    };
    assert!(failed(&exactly, &facts()).is_empty());

    let padding = Proposal {
        justification: Some(format!("{short}{short}")),
        ..proposal()
    };
    assert_eq!(
        failed(&padding, &facts()),
        [Criterion::ReasonGiven],
        "repeated characters are not an explanation"
    );
}

#[test]
fn service_health_must_be_checked_within_24_hours() {
    let at = |age: Duration| Proposal {
        service_health_checked_at: Some(now() - age),
        ..proposal()
    };
    assert!(
        failed(&at(HEALTH_CHECK_WINDOW), &facts()).is_empty(),
        "exactly 24 hours is still fine"
    );
    assert_eq!(
        failed(&at(HEALTH_CHECK_WINDOW + Duration::seconds(1)), &facts()),
        [Criterion::PartnerTroubleshooting]
    );
    assert!(
        failed(&at(-CLOCK_SKEW), &facts()).is_empty(),
        "a little clock skew is tolerated"
    );
    assert_eq!(
        failed(&at(-CLOCK_SKEW - Duration::seconds(1)), &facts()),
        [Criterion::PartnerTroubleshooting]
    );
    let never = Proposal {
        service_health_checked_at: None,
        ..proposal()
    };
    assert_eq!(
        failed(&never, &facts()),
        [Criterion::PartnerTroubleshooting]
    );
}

#[test]
fn the_admin_center_and_a_step_are_needed() {
    let no_admin_center = Proposal {
        admin_center_attempted: false,
        ..proposal()
    };
    assert_eq!(
        failed(&no_admin_center, &facts()),
        [Criterion::PartnerTroubleshooting]
    );
    let no_steps = Proposal {
        troubleshooting_steps: 0,
        ..proposal()
    };
    assert_eq!(
        failed(&no_steps, &facts()),
        [Criterion::PartnerTroubleshooting]
    );
    let one_step = Proposal {
        troubleshooting_steps: 1,
        ..proposal()
    };
    assert!(failed(&one_step, &facts()).is_empty());
}

#[test]
fn open_incidents_must_each_be_named_unrelated() {
    let (a, b) = (Uuid::from_u128(10), Uuid::from_u128(11));
    let facts = Facts {
        active_incidents: vec![a, b],
        ..facts()
    };
    assert_eq!(failed(&proposal(), &facts), [Criterion::NoActiveIncident]);

    let one_named = Proposal {
        unrelated_incident_ids: vec![a],
        ..proposal()
    };
    let check = EscalationCriteria::evaluate(&one_named, &facts, now());
    let message = &check
        .failed()
        .next()
        .unwrap()
        .message
        .render(Language::English);
    assert!(
        message.contains(&b.to_string()) && !message.contains(&a.to_string()),
        "names the unexplained one"
    );

    let both_named = Proposal {
        unrelated_incident_ids: vec![b, a],
        ..proposal()
    };
    assert!(self::failed(&both_named, &facts).is_empty());
}

#[test]
fn critical_needs_premium_and_a_24x7_phone_contact() {
    let entitled_contact = ContactFacts {
        phone: true,
        available_24x7: true,
        ..proposal().contact
    };
    let critical = Proposal {
        severity: Severity::Critical,
        contact: entitled_contact,
        ..proposal()
    };
    let mut premium = facts();
    premium.customer.as_mut().unwrap().support_plan = SupportPlan::Premium;
    assert!(failed(&critical, &premium).is_empty());

    assert_eq!(
        failed(&critical, &facts()),
        [Criterion::SeverityEntitlement],
        "standard customer"
    );
    let office_hours = Proposal {
        contact: ContactFacts {
            available_24x7: false,
            ..entitled_contact
        },
        ..critical.clone()
    };
    assert_eq!(
        failed(&office_hours, &premium),
        [Criterion::SeverityEntitlement]
    );
    let no_phone = Proposal {
        contact: ContactFacts {
            phone: false,
            ..entitled_contact
        },
        ..critical.clone()
    };
    assert_eq!(
        failed(&no_phone, &premium),
        [Criterion::SeverityEntitlement]
    );

    let moderate = Proposal {
        severity: Severity::Moderate,
        ..no_phone
    };
    assert!(
        failed(&moderate, &facts()).is_empty(),
        "moderate needs no entitlement"
    );

    // Billing problems are at most moderate, however entitled the customer is to critical.
    let billing = Facts {
        highest_severity: Severity::Moderate,
        ..premium
    };
    let critical_billing = Proposal {
        category: Category::BillingDispute,
        ..critical
    };
    assert_eq!(
        failed(&critical_billing, &billing),
        [Criterion::SeverityEntitlement]
    );
    let check = EscalationCriteria::evaluate(&critical_billing, &billing, Utc::now())
        .checks
        .into_iter()
        .find(|check| check.criterion == Criterion::SeverityEntitlement)
        .unwrap();
    let message = check.message.render(Language::English);
    assert!(message.starts_with("billing, subscription and quota problems are escalated at severity B (moderate) at most"), "{message}");
    let moderate_billing = Proposal {
        severity: Severity::Moderate,
        ..critical_billing
    };
    assert!(failed(&moderate_billing, &billing).is_empty());
}

#[test]
fn the_contact_must_be_complete() {
    let contact = proposal().contact;
    for incomplete in [
        ContactFacts {
            first_name: false,
            ..contact
        },
        ContactFacts {
            last_name: false,
            ..contact
        },
        ContactFacts {
            email: false,
            ..contact
        },
        ContactFacts {
            method: None,
            ..contact
        },
        ContactFacts {
            method: Some(ContactMethod::Phone),
            phone: false,
            ..contact
        },
    ] {
        let proposal = Proposal {
            contact: incomplete,
            ..proposal()
        };
        assert_eq!(
            failed(&proposal, &facts()),
            [Criterion::ContactComplete],
            "{incomplete:?}"
        );
    }
    let email_without_phone = Proposal {
        contact: ContactFacts {
            phone: false,
            ..contact
        },
        ..proposal()
    };
    assert!(
        failed(&email_without_phone, &facts()).is_empty(),
        "no phone needed when the method is e-mail"
    );
}

#[test]
fn an_open_duplicate_is_named() {
    let facts = Facts {
        open_duplicate: Some("ESC-000042".to_owned()),
        ..facts()
    };
    let evaluation = EscalationCriteria::evaluate(&proposal(), &facts, now());
    let failed: Vec<&Check> = evaluation.failed().collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].criterion, Criterion::NoDuplicate);
    for language in Language::ALL {
        assert!(failed[0].message.render(language).contains("ESC-000042"));
    }
}

#[test]
fn suspended_partners_and_overdue_plans_fail_good_standing() {
    let mut suspended = facts();
    suspended.partner.status = PartnerStatus::Suspended;
    assert_eq!(
        failed(&proposal(), &suspended),
        [Criterion::PartnerInGoodStanding]
    );

    let mut overdue = facts();
    overdue.partner.overdue_remediation_plans = 1;
    assert_eq!(
        failed(&proposal(), &overdue),
        [Criterion::PartnerInGoodStanding]
    );
}

#[test]
fn several_failures_are_all_reported() {
    let proposal = Proposal {
        category: Category::HowTo,
        reasons: Vec::new(),
        admin_center_attempted: false,
        ..proposal()
    };
    let facts = Facts {
        subscription: None,
        ..facts()
    };
    assert_eq!(
        failed(&proposal, &facts),
        [
            Criterion::ActiveSubscription,
            Criterion::EscalatableCategory,
            Criterion::ReasonGiven,
            Criterion::PartnerTroubleshooting
        ]
    );
}
