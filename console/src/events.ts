// Reading an escalation's audit events: what a move recorded about the state it made.

import type { Event as EscalationEvent, Status } from "./api";

/** What a `status_changed` event records about the new state (its `after`). */
export interface Change {
  status?: string;
  reason?: string | null;
  engineer?: { name: string } | null;
}

export function change(value: unknown): Change {
  return typeof value === "object" && value !== null ? (value as Change) : {};
}

/** The reason given with the latest move to `status`, if any. */
export function latestReason(events: EscalationEvent[], status: Status): string | undefined {
  const moves = events.filter((event) => event.kind === "status_changed" && change(event.after).status === status);
  return change(moves[moves.length - 1]?.after).reason ?? undefined;
}
