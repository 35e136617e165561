//! The escalation lifecycle: who may move an escalation from which status to which.
//!
//! `submitted` → `in_progress` (operator; assigns the engineer and records the first response)
//! ⇄ `awaiting_partner` → `resolved` → `closed`. Operators may reject a submitted or in-progress
//! escalation; partners may withdraw one before work starts and reopen a resolved one within 14
//! days.

use chrono::{DateTime, Duration, Utc};

use super::Status;
use crate::domain::Role;
use crate::i18n::Text;

/// Who moves an escalation: 21Vianet's side (operators, and admins acting as one) or the
/// partner that raised it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    Operator,
    Partner,
}

impl Side {
    pub fn of(role: Role) -> Side {
        match role {
            Role::Admin | Role::Operator => Side::Operator,
            Role::Partner => Side::Partner,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Side::Operator => "operator",
            Side::Partner => "partner",
        }
    }

    /// Who that is, in words.
    pub fn label(self) -> Text {
        match self {
            Side::Operator => Text::new("side-operator"),
            Side::Partner => Text::new("side-partner"),
        }
    }
}

/// How long after resolution a partner may reopen, in days.
pub const REOPEN_WINDOW_DAYS: i64 = 14;
pub const REOPEN_WINDOW: Duration = Duration::days(REOPEN_WINDOW_DAYS);

use Side::{Operator, Partner};
use Status::*;

/// Every allowed move.
pub const MOVES: [(Status, Status, Side); 12] = [
    (Submitted, InProgress, Operator),
    (AwaitingPartner, InProgress, Operator),
    (AwaitingPartner, InProgress, Partner),
    (Resolved, InProgress, Partner),
    (InProgress, AwaitingPartner, Operator),
    (InProgress, Resolved, Operator),
    (AwaitingPartner, Resolved, Operator),
    (Resolved, Closed, Operator),
    (Resolved, Closed, Partner),
    (Submitted, Rejected, Operator),
    (InProgress, Rejected, Operator),
    (Submitted, Withdrawn, Partner),
];

/// Why a move is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// No one may make this move from here: 409, naming what is possible.
    NotAllowed { from: Status, to: Status },
    /// The move exists, but for the other side: 403.
    WrongSide { to: Status, allowed: Side },
    /// A partner reopening after the window closed: 409.
    ReopenWindowClosed { resolved_at: DateTime<Utc> },
}

/// The moves possible from `from`, with who may make them.
pub fn moves_from(from: Status) -> Vec<(Status, Side)> {
    MOVES
        .iter()
        .filter(|(f, _, _)| *f == from)
        .map(|(_, to, side)| (*to, *side))
        .collect()
}

/// Whether `side` may move an escalation from `from` to `to` now.
pub fn check_move(
    from: Status,
    to: Status,
    side: Side,
    resolved_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<(), Refusal> {
    let sides: Vec<Side> = MOVES
        .iter()
        .filter(|(f, t, _)| *f == from && *t == to)
        .map(|(_, _, s)| *s)
        .collect();
    if sides.is_empty() {
        return Err(Refusal::NotAllowed { from, to });
    }
    if !sides.contains(&side) {
        return Err(Refusal::WrongSide {
            to,
            allowed: sides[0],
        });
    }
    if (from, to, side) == (Resolved, InProgress, Partner) {
        // A resolved escalation always has its resolution time; without one, nothing to reopen.
        let resolved_at = resolved_at.ok_or(Refusal::NotAllowed { from, to })?;
        if now - resolved_at > REOPEN_WINDOW {
            return Err(Refusal::ReopenWindowClosed { resolved_at });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-25T10:00:00Z")
            .unwrap()
            .to_utc()
    }

    /// The whole table: every status × target × side.
    #[test]
    fn every_move_is_allowed_or_refused_as_the_table_says() {
        for from in Status::ALL {
            for to in Status::ALL {
                for side in [Operator, Partner] {
                    let result = check_move(*from, *to, side, Some(now()), now());
                    let listed = MOVES.contains(&(*from, *to, side));
                    let for_other_side = MOVES
                        .iter()
                        .any(|(f, t, s)| f == from && t == to && *s != side);
                    match result {
                        Ok(()) => assert!(listed, "{from} -> {to} by {side:?} should be refused"),
                        Err(Refusal::WrongSide { .. }) => {
                            assert!(!listed && for_other_side, "{from} -> {to} by {side:?}")
                        }
                        Err(Refusal::NotAllowed { .. }) => {
                            assert!(!listed && !for_other_side, "{from} -> {to} by {side:?}")
                        }
                        Err(other) => panic!("{from} -> {to} by {side:?}: {other:?}"),
                    }
                }
            }
        }
    }

    #[test]
    fn final_statuses_go_nowhere() {
        for status in [Closed, Rejected, Withdrawn] {
            assert!(moves_from(status).is_empty(), "{status}");
        }
    }

    #[test]
    fn a_partner_reopens_within_14_days_only() {
        let just_inside = now() - REOPEN_WINDOW;
        assert_eq!(
            check_move(Resolved, InProgress, Partner, Some(just_inside), now()),
            Ok(())
        );
        let just_outside = now() - REOPEN_WINDOW - Duration::seconds(1);
        assert_eq!(
            check_move(Resolved, InProgress, Partner, Some(just_outside), now()),
            Err(Refusal::ReopenWindowClosed {
                resolved_at: just_outside
            })
        );
    }

    #[test]
    fn operators_triage_and_partners_withdraw() {
        assert_eq!(
            check_move(Submitted, Withdrawn, Operator, None, now()),
            Err(Refusal::WrongSide {
                to: Withdrawn,
                allowed: Partner
            })
        );
        assert_eq!(
            check_move(Submitted, InProgress, Partner, None, now()),
            Err(Refusal::WrongSide {
                to: InProgress,
                allowed: Operator
            })
        );
        assert_eq!(
            moves_from(Submitted),
            [
                (InProgress, Operator),
                (Rejected, Operator),
                (Withdrawn, Partner)
            ]
        );
    }

    #[test]
    fn admins_act_on_the_operator_side() {
        assert_eq!(Side::of(Role::Admin), Operator);
        assert_eq!(Side::of(Role::Operator), Operator);
        assert_eq!(Side::of(Role::Partner), Partner);
    }
}
