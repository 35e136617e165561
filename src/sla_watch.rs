//! The SLA watch: announces `escalation.sla_warning` and `escalation.sla_breached`, once each per
//! escalation, through the outbox (so to webhooks and to the event feed).
//!
//! Every instance runs it. Each escalation keeps when its next alert is due, indexed, so a look
//! reads only the escalations with an alert due. An alert is announced in one transaction that
//! marks it announced only if it was not yet, so two instances never announce the same alert
//! twice, and one that dies mid-way leaves it to the next look.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::{DatabaseConnection, DbErr};
use tokio::sync::watch;

use crate::domain::escalation::policy::Window;
use crate::domain::escalation::sla::{AlertState, AlertStep, SlaAlert, SlaClock};
use crate::domain::escalation::{Severity, Status};
use crate::domain::webhook::EventType;
use crate::http::escalations::Escalation;
use crate::http::event_data::EscalationData;
use crate::http::metrics::Metrics;
use crate::http::webhooks::{describe, notice};
use crate::store::WriteGate;
use crate::store::escalations::{self, EscalationRow};

/// Escalations looked at per round; a full round is followed by another at once.
const BATCH: u64 = 64;

pub struct SlaWatch {
    pub db: DatabaseConnection,
    pub writes: Arc<WriteGate>,
    pub clock: SlaClock,
    pub metrics: Metrics,
    pub interval: Duration,
}

impl SlaWatch {
    /// Looks every `interval` until `stop` turns true.
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        loop {
            if *stop.borrow() {
                break;
            }
            let busy = match self.look(Utc::now()).await {
                Ok(seen) => seen == BATCH as usize,
                Err(err) => {
                    tracing::warn!(error = %err, "cannot look for SLA alerts");
                    false
                }
            };
            if busy {
                continue;
            }
            tokio::select! {
                _ = tokio::time::sleep(self.interval) => {}
                _ = stop.changed() => {}
            }
        }
    }

    /// Announces or reschedules each escalation with an alert due at `now`; how many it saw.
    pub async fn look(&self, now: DateTime<Utc>) -> Result<usize, DbErr> {
        let due = escalations::sla_alerts_due(&self.db, now, BATCH).await?;
        for row in &due {
            let Some(state) = self.state_of(row) else {
                tracing::error!(escalation_id = %row.id, severity = %row.severity,
                    sla_window = %row.sla_window,
                    "an escalation with an unreadable severity or SLA window has no SLA clock");
                escalations::reschedule_sla_alert(&self.db, row.id, None).await?;
                continue;
            };
            match state.step(now) {
                AlertStep::Wait(next) => {
                    if next != row.sla_alert_at {
                        escalations::reschedule_sla_alert(&self.db, row.id, next).await?;
                    }
                }
                AlertStep::Announce(alert, next) => self.announce(row, alert, next).await?,
            }
        }
        Ok(due.len())
    }

    fn state_of(&self, row: &EscalationRow) -> Option<AlertState> {
        let severity = Severity::parse(&row.severity)?;
        let window = row.sla_window.parse::<Window>().ok()?;
        let open = Status::parse(&row.status).is_some_and(Status::is_open);
        Some(AlertState {
            warning_at: self.clock.warning_in(severity, window, row.created_at),
            due_at: row.response_due_at,
            awaiting_response: open && row.first_response_at.is_none(),
            warning_announced: row.sla_warning_announced_at.is_some(),
            breach_announced: row.sla_breach_announced_at.is_some(),
        })
    }

    async fn announce(
        &self,
        row: &EscalationRow,
        alert: SlaAlert,
        next: Option<DateTime<Utc>>,
    ) -> Result<(), DbErr> {
        let event_type = match alert {
            SlaAlert::Warning => EventType::EscalationSlaWarning,
            SlaAlert::Breach => EventType::EscalationSlaBreached,
        };
        let escalation = describe(Escalation::from_row(row.clone(), Utc::now()))?;
        let notice = notice(
            event_type,
            Some(row.partner_id),
            EscalationData { escalation },
        )?;
        let announced =
            escalations::announce_sla_alert(&self.db, &self.writes, row, alert, next, notice)
                .await?;
        if announced {
            tracing::info!(
                escalation_id = %row.id, number = %row.number, event_type = %event_type,
                "SLA alert announced"
            );
            if alert == SlaAlert::Breach {
                self.metrics.count_breach();
            }
        }
        Ok(())
    }
}
