// The moves the reader's side may make on an escalation, each a small form sent under If-Match:
// a page someone else has changed since is told so instead of overwriting.

import { useEffect, useState } from "preact/hooks";

import { call, transitionEscalation, type Escalation, type Failure, type Status, type TransitionRequest } from "./api";
import type { Loaded } from "./escalation";
import { latestReason } from "./events";
import { FailureNotice, TextField, useSession } from "./ui";

type Move =
  | "withdraw"
  | "answer"
  | "reopen"
  | "close"
  | "start"
  | "ask"
  | "resume"
  | "resolve"
  | "reject";

/** How long after resolution a partner may reopen. */
const REOPEN_WINDOW_MS = 14 * 24 * 3600_000;

/** The moves the reader's side may make now (the server decides; this only offers). */
function movesFor(role: string, escalation: Escalation): Move[] {
  const status = escalation.status;
  if (role === "partner") {
    const reopenable =
      escalation.resolved_at && Date.now() - new Date(escalation.resolved_at).getTime() <= REOPEN_WINDOW_MS;
    return (
      {
        submitted: ["withdraw"],
        awaiting_partner: ["answer"],
        resolved: reopenable ? ["reopen", "close"] : ["close"],
      } as Partial<Record<Status, Move[]>>
    )[status] ?? [];
  }
  return (
    {
      submitted: ["start", "reject"],
      in_progress: ["ask", "resolve", "reject"],
      awaiting_partner: ["resume", "resolve"],
      resolved: ["close"],
    } as Partial<Record<Status, Move[]>>
  )[status] ?? [];
}

export function Actions(props: { loaded: Loaded; onDone: () => Promise<void> }) {
  const { t, me } = useSession();
  const moves = movesFor(me.role, props.loaded.escalation);
  const question =
    props.loaded.escalation.status === "awaiting_partner"
      ? latestReason(props.loaded.events, "awaiting_partner")
      : undefined;
  const [open, setOpen] = useState<Move | null>(null);
  useEffect(() => setOpen(null), [props.loaded.escalation.status]);
  if (moves.length === 0) return null;
  const names: Record<Move, string> = {
    withdraw: t.withdraw,
    answer: t.answer,
    reopen: t.reopen,
    close: t.close,
    start: t.startWork,
    ask: t.askPartner,
    resume: t.resume,
    resolve: t.resolve,
    reject: t.reject,
  };
  return (
    <section class="card" aria-labelledby="actions-heading">
      <h2 id="actions-heading">{t.actions}</h2>
      {question && (
        <p class="notice">
          <strong>{t.asks}</strong> {question}
        </p>
      )}
      <div class="buttons">
        {moves.map((move) => (
          <button key={move} type="button" aria-expanded={open === move} onClick={() => setOpen(open === move ? null : move)}>
            {names[move]}
          </button>
        ))}
      </div>
      {open && <MoveForm key={open} move={open} title={names[open]} loaded={props.loaded} onDone={props.onDone} />}
    </section>
  );
}

function MoveForm(props: { move: Move; title: string; loaded: Loaded; onDone: () => Promise<void> }) {
  const { t } = useSession();
  const { move } = props;
  const [reason, setReason] = useState("");
  const [engineer, setEngineer] = useState({ name: "", email: "", phone: "" });
  /** Whether a rejection counts against the partner: asked every time, never assumed. */
  const [misescalation, setMisescalation] = useState<boolean | null>(null);
  const [failure, setFailure] = useState<Failure | null>(null);
  const [busy, setBusy] = useState(false);
  const needsReason = move === "resolve" || move === "reject";
  const reasonText = reason.trim() || null;

  const body = (): TransitionRequest => {
    switch (move) {
      case "withdraw":
        return { to: "withdrawn", reason: reasonText };
      case "answer":
      case "reopen":
      case "resume":
        return { to: "in_progress", reason: reasonText };
      case "start":
        return {
          to: "in_progress",
          engineer: { name: engineer.name.trim(), email: engineer.email.trim(), phone: engineer.phone.trim() || null },
        };
      case "close":
        return { to: "closed", reason: reasonText };
      case "ask":
        return { to: "awaiting_partner", reason: reasonText };
      case "resolve":
        return { to: "resolved", reason: reason.trim() };
      case "reject":
        return { to: "rejected", misescalation: misescalation === true, reason: reason.trim() };
    }
  };
  const submit = async (event: Event) => {
    event.preventDefault();
    if (busy) return;
    setBusy(true);
    const answer = await call(
      transitionEscalation({
        path: { id: props.loaded.escalation.id },
        headers: { "If-Match": props.loaded.etag },
        body: body(),
      }),
    );
    setBusy(false);
    if (answer.ok) {
      await props.onDone();
      // The form is gone with the move: the focus goes to the status, which announces itself.
      document.getElementById("escalation-status")?.focus();
    } else {
      setFailure(answer.failure);
    }
  };
  const errors: Record<string, string> = {};
  for (const error of failure?.problem?.errors ?? []) errors[error.field] = error.message;
  return (
    <form class="move" onSubmit={submit} noValidate aria-label={props.title}>
      {move === "start" && (
        <>
          {(
            [
              ["name", t.engineerName, "text"],
              ["email", t.engineerEmail, "email"],
              ["phone", t.engineerPhone, "tel"],
            ] as const
          ).map(([key, name, type]) => (
            <TextField
              key={key}
              id={`m-engineer-${key}`}
              label={name}
              type={type}
              value={engineer[key]}
              onInput={(value) => setEngineer({ ...engineer, [key]: value })}
              error={errors[`engineer.${key}`]}
            />
          ))}
        </>
      )}
      {move === "reject" && (
        <fieldset>
          <legend>{t.isMisescalation}</legend>
          {([true, false] as const).map((value) => (
            <label key={String(value)} class="check">
              <input
                type="radio"
                name="misescalation"
                checked={misescalation === value}
                onChange={() => setMisescalation(value)}
              />
              {value ? t.misescalationYes : t.misescalationNo}
            </label>
          ))}
        </fieldset>
      )}
      {move !== "start" && (
        <TextField
          id="m-reason"
          label={needsReason ? t.reason : t.reasonOptional}
          rows={3}
          value={reason}
          onInput={setReason}
          error={errors["reason"]}
        />
      )}
      <FailureNotice failure={failure?.problem?.errors?.length ? null : failure} onReload={props.onDone} />
      <button type="submit" class="primary" disabled={busy || (move === "reject" && misescalation === null)}>
        {props.title}
      </button>
    </form>
  );
}
