// One escalation, for the partner who raised it and for 21Vianet: its number, status and first
// response countdown; the moves the reader's side may make (moves.tsx); the timeline, notes and
// attachments; and, for operators, the partner's escalation quality.

import { useCallback, useEffect, useRef, useState } from "preact/hooks";

import {
  Attempts,
  addEscalationNote,
  all,
  call,
  downloadEscalationAttachment,
  getCustomer,
  getEscalation,
  getEscalationQuality,
  listEscalationAttachments,
  listEscalationEvents,
  listEscalationNotes,
  type Attachment,
  type Escalation,
  type EscalationQuality,
  type Event as EscalationEvent,
  type Failure,
  type Note,
} from "./api";
import { change, latestReason } from "./events";
import type { Strings } from "./i18n";
import { Actions } from "./moves";
import { attach, takeUploads } from "./uploads";
import {
  FailureNotice,
  TextField,
  formatSpan,
  formatTime,
  label,
  serviceName,
  useNow,
  useServices,
  useSession,
} from "./ui";

export interface Loaded {
  escalation: Escalation;
  etag: string;
  events: EscalationEvent[];
  notes: Note[];
  attachments: Attachment[];
}

export function EscalationPage(props: { id: string }) {
  const { t, vocabulary, me } = useSession();
  const [loaded, setLoaded] = useState<Loaded | null>(null);
  const [failure, setFailure] = useState<Failure | null>(null);
  const [uploads, setUploads] = useState<{ name: string; failure?: Failure; done: boolean }[]>([]);

  /** The latest load: an older one finishing after it must not put back what it read. */
  const latest = useRef(0);
  const load = useCallback(async () => {
    const path = { id: props.id };
    const mine = ++latest.current;
    const [escalation, events, notes, attachments] = await Promise.all([
      call(getEscalation({ path })),
      all((cursor) => listEscalationEvents({ path, query: { limit: 100, cursor } })),
      all((cursor) => listEscalationNotes({ path, query: { limit: 100, cursor } })),
      all((cursor) => listEscalationAttachments({ path, query: { limit: 100, cursor } })),
    ]);
    if (mine !== latest.current) return;
    for (const answer of [escalation, events, notes, attachments]) {
      if (!answer.ok) {
        setFailure(answer.failure);
        return;
      }
    }
    if (escalation.ok && events.ok && notes.ok && attachments.ok) {
      setFailure(null);
      setLoaded({
        escalation: escalation.data,
        etag: escalation.response.headers.get("ETag") ?? "",
        events: events.data,
        notes: notes.data,
        attachments: attachments.data,
      });
    }
  }, [props.id]);

  // Loaded again when the language changes: the server's sentences come in it.
  useEffect(() => {
    void load();
  }, [load, t]);

  // Files dropped onto the new-request form: attached now that the escalation exists.
  useEffect(() => {
    const files = takeUploads(props.id);
    if (files.length === 0) return;
    setUploads(files.map((file) => ({ name: file.name, done: false })));
    void (async () => {
      for (const [index, file] of files.entries()) {
        const answer = await attach(props.id, file);
        setUploads((before) =>
          before.map((upload, i) =>
            i === index ? { ...upload, done: true, failure: answer.ok ? undefined : answer.failure } : upload,
          ),
        );
      }
      await load();
    })();
  }, [props.id, load]);

  if (!loaded) {
    return failure ? <FailureNotice failure={failure} /> : <p>{t.loading}</p>;
  }
  const { escalation } = loaded;
  return (
    <article aria-labelledby="escalation-heading" class="escalation">
      <header class="escalation-header">
        <h1 id="escalation-heading">
          <span class="number">{escalation.number}</span> {escalation.title}
        </h1>
        <p class="badges" role="status" tabIndex={-1} id="escalation-status">
          <span class={`badge status-${escalation.status}`} data-testid="status">
            {label(vocabulary.escalation_statuses, escalation.status)}
          </span>
          <span class={`badge severity-${escalation.severity}`}>
            {label(vocabulary.severities, escalation.severity)}
          </span>
          {escalation.sla.breached && <span class="badge breached">{t.breached}</span>}
        </p>
      </header>
      <FailureNotice failure={failure} onReload={load} />
      <div class="escalation-layout">
        <div>
          <Summary escalation={escalation} rejection={latestReason(loaded.events, "rejected")} />
          <Actions loaded={loaded} onDone={load} />
          <Timeline events={loaded.events} />
        </div>
        <div>
          <Notes escalationId={escalation.id} notes={loaded.notes} onAdded={load} />
          <Attachments escalationId={escalation.id} attachments={loaded.attachments} uploads={uploads} onAdded={load} />
          {me.role !== "partner" && <Quality partnerId={escalation.partner_id} />}
        </div>
      </div>
    </article>
  );
}

function Countdown(props: { escalation: Escalation }) {
  const { t, lang } = useSession();
  const now = useNow();
  const { sla } = props.escalation;
  if (sla.first_response_at) return <span>{t.respondedAt(formatTime(lang, sla.first_response_at))}</span>;
  const left = new Date(sla.response_due_at).getTime() - now;
  return (
    <span class={left < 0 ? "overdue" : undefined} data-testid="countdown">
      {left >= 0 ? t.dueIn(formatSpan(t, left)) : t.overdueBy(formatSpan(t, -left))}
    </span>
  );
}

function Summary(props: { escalation: Escalation; rejection?: string }) {
  const { t, lang, vocabulary } = useSession();
  const services = useServices();
  const e = props.escalation;
  const [customer, setCustomer] = useState<string>(e.customer_id);
  useEffect(() => {
    void call(getCustomer({ path: { id: e.customer_id } })).then(
      (answer) => answer.ok && setCustomer(answer.data.company_name),
    );
  }, [e.customer_id]);
  return (
    <dl class="facts card">
      <dt>{t.customer}</dt>
      <dd>{customer}</dd>
      <dt>{t.sla}</dt>
      <dd>
        {formatTime(lang, e.sla.response_due_at)} · <Countdown escalation={e} />
      </dd>
      <dt>{t.service}</dt>
      <dd>{serviceName(services, e.service_key)}</dd>
      <dt>{t.category}</dt>
      <dd>{label(vocabulary.categories, e.category)}</dd>
      <dt>{t.created}</dt>
      <dd>{formatTime(lang, e.created_at)}</dd>
      <dt>{t.contact}</dt>
      <dd>
        {lang === "zh-CN"
          ? `${e.contact.last_name}${e.contact.first_name}`
          : `${e.contact.first_name} ${e.contact.last_name}`}{" "}
        · {e.contact.email}
        {e.contact.phone ? ` · ${e.contact.phone}` : ""} · {label(vocabulary.languages, e.contact.preferred_language)}
      </dd>
      <dt>{t.description}</dt>
      <dd class="prose">{e.description}</dd>
      <dt>{t.businessImpact}</dt>
      <dd class="prose">{e.business_impact}</dd>
      <dt>{t.problemStartedAt}</dt>
      <dd>{formatTime(lang, e.problem_started_at)}</dd>
      <dt>{t.reasons}</dt>
      <dd>{e.reasons.map((reason) => label(vocabulary.reasons, reason)).join(lang === "zh-CN" ? "、" : ", ")}</dd>
      {e.justification && (
        <>
          <dt>{t.justification}</dt>
          <dd class="prose">{e.justification}</dd>
        </>
      )}
      <dt>{t.troubleshooting}</dt>
      <dd>
        <ol class="steps">
          {e.troubleshooting.steps.map((step, index) => (
            <li key={index}>{step}</li>
          ))}
        </ol>
        {e.troubleshooting.admin_center_attempted ? t.adminCenterTried : t.adminCenterNotTried} ·{" "}
        {t.healthChecked(formatTime(lang, e.troubleshooting.service_health_checked_at))}
      </dd>
      {e.unrelated_incident_ids.length > 0 && (
        <>
          <dt>{t.unrelatedIncidents}</dt>
          <dd>{e.unrelated_incident_ids.join(", ")}</dd>
        </>
      )}
      {e.engineer && (
        <>
          <dt>{t.engineer}</dt>
          <dd>
            {e.engineer.name} · {e.engineer.email}
            {e.engineer.phone ? ` · ${e.engineer.phone}` : ""}
          </dd>
        </>
      )}
      {e.resolution && (
        <>
          <dt>{t.resolution}</dt>
          <dd class="prose">{e.resolution}</dd>
        </>
      )}
      {e.misescalation && (
        <>
          <dt>{t.misescalation}</dt>
          <dd class="prose">{e.misescalation.reason}</dd>
        </>
      )}
      {e.status === "rejected" && !e.misescalation && (
        <>
          <dt>{t.rejectedNotMisescalation}</dt>
          <dd class="prose">{props.rejection}</dd>
        </>
      )}
    </dl>
  );
}

/** Who made a change: the person by name where a person did, otherwise the role they acted in. */
function byWhom(t: Strings, actor: EscalationEvent["actor"]): string {
  const role = t.roleNames[actor.role] ?? actor.role;
  return actor.kind === "person" && actor.name ? t.byPerson(actor.name, role) : t.by(role);
}

function Timeline(props: { events: EscalationEvent[] }) {
  const { t, lang, vocabulary } = useSession();
  const status = (value: unknown): string | undefined => {
    const code = change(value).status;
    return code ? label(vocabulary.escalation_statuses, code) : undefined;
  };
  return (
    <section class="card" aria-labelledby="timeline-heading">
      <h2 id="timeline-heading">{t.timeline}</h2>
      <ol class="timeline">
        {props.events.map((event) => {
          const from = status(event.before);
          const to = status(event.after);
          const { reason, engineer } = change(event.after);
          return (
            <li key={event.id} data-kind={event.kind}>
              <time dateTime={event.at}>{formatTime(lang, event.at)}</time>
              <span>
                <strong>{t.events[event.kind] ?? event.kind}</strong>
                {event.kind === "status_changed" && from && to ? ` · ${t.fromTo(from, to)}` : ""}{" "}
                <span class="muted">{byWhom(t, event.actor)}</span>
              </span>
              {event.kind === "status_changed" && engineer && engineer.name !== change(event.before).engineer?.name && (
                <span>
                  {t.engineer}: {engineer.name}
                </span>
              )}
              {event.kind === "status_changed" && reason && <span class="prose">{reason}</span>}
            </li>
          );
        })}
      </ol>
    </section>
  );
}

function Notes(props: { escalationId: string; notes: Note[]; onAdded: () => Promise<void> }) {
  const { t, lang } = useSession();
  const [text, setText] = useState("");
  const [failure, setFailure] = useState<Failure | null>(null);
  const [busy, setBusy] = useState(false);
  /** A retry of the same note after a lost answer adds it once. */
  const [attempts] = useState(() => new Attempts());
  const submit = async (event: Event) => {
    event.preventDefault();
    if (busy) return;
    setBusy(true);
    const body = { text: text.trim() };
    const answer = await call(
      addEscalationNote({
        path: { id: props.escalationId },
        body,
        headers: { "Idempotency-Key": attempts.keyFor(body.text) },
      }),
    );
    setBusy(false);
    attempts.settled(answer.ok ? undefined : answer.failure);
    if (answer.ok) {
      setText("");
      setFailure(null);
      await props.onAdded();
    } else {
      setFailure(answer.failure);
    }
  };
  const fieldError = failure?.problem?.errors?.map((error) => error.message).join(" ");
  return (
    <section class="card" aria-labelledby="notes-heading">
      <h2 id="notes-heading">{t.notes}</h2>
      {props.notes.length === 0 ? (
        <p class="muted">{t.noNotes}</p>
      ) : (
        <ul class="notes">
          {props.notes.map((note) => (
            <li key={note.id}>
              <p class="prose">{note.text}</p>
              <p class="muted">
                {t.roleNames[note.author_role] ?? note.author_role} · {formatTime(lang, note.created_at)}
              </p>
            </li>
          ))}
        </ul>
      )}
      <form onSubmit={submit} noValidate>
        <TextField id="note-text" label={t.addNote} rows={3} value={text} onInput={setText} error={fieldError} />
        <FailureNotice failure={fieldError ? null : failure} />
        <button type="submit" disabled={busy}>
          {t.addNote}
        </button>
      </form>
    </section>
  );
}

function Attachments(props: {
  escalationId: string;
  attachments: Attachment[];
  uploads: { name: string; failure?: Failure; done: boolean }[];
  onAdded: () => Promise<void>;
}) {
  const { t, lang } = useSession();
  const [failure, setFailure] = useState<Failure | null>(null);
  const [busy, setBusy] = useState(false);
  const upload = async (file: File) => {
    setBusy(true);
    const answer = await attach(props.escalationId, file);
    setBusy(false);
    setFailure(answer.ok ? null : answer.failure);
    if (answer.ok) await props.onAdded();
  };
  const download = async (attachment: Attachment) => {
    const answer = await call(
      downloadEscalationAttachment({
        path: { id: props.escalationId, attachment_id: attachment.id },
        parseAs: "blob",
      }),
    );
    if (!answer.ok) {
      setFailure(answer.failure);
      return;
    }
    const url = URL.createObjectURL(answer.data as Blob);
    const link = document.createElement("a");
    link.href = url;
    link.download = attachment.filename;
    link.click();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  };
  return (
    <section class="card" aria-labelledby="attachments-heading">
      <h2 id="attachments-heading">{t.attachments}</h2>
      {props.uploads.length > 0 && (
        <ul class="uploads" aria-live="polite">
          {props.uploads.map((item, index) => (
            <li key={index} class={item.failure ? "field-error" : undefined}>
              {item.failure
                ? `${t.uploadFailed(item.name)}: ${item.failure.problem?.detail ?? ""}`
                : item.done
                  ? `${item.name} ✓`
                  : t.uploading(item.name)}
            </li>
          ))}
        </ul>
      )}
      {props.attachments.length === 0 ? (
        <p class="muted">{t.noAttachments}</p>
      ) : (
        <ul class="attachments">
          {props.attachments.map((attachment) => (
            <li key={attachment.id}>
              <button type="button" class="link" onClick={() => void download(attachment)} aria-label={t.download(attachment.filename)}>
                {attachment.filename}
              </button>{" "}
              <span class="muted">
                {t.bytes(attachment.size_bytes)} · {attachment.media_type} ·{" "}
                {t.roleNames[attachment.uploader_role] ?? attachment.uploader_role} ·{" "}
                {formatTime(lang, attachment.created_at)}
              </span>
            </li>
          ))}
        </ul>
      )}
      <div class="field">
        <label for="attach-file">{t.addAttachment}</label>
        <input
          id="attach-file"
          type="file"
          disabled={busy}
          onChange={(event) => {
            const file = event.currentTarget.files?.[0];
            event.currentTarget.value = "";
            if (file) void upload(file);
          }}
        />
      </div>
      <FailureNotice failure={failure} />
    </section>
  );
}

function Quality(props: { partnerId: string }) {
  const { t, lang } = useSession();
  const [quality, setQuality] = useState<EscalationQuality | null>(null);
  const [failure, setFailure] = useState<Failure | null>(null);
  useEffect(() => {
    void call(getEscalationQuality({ path: { id: props.partnerId } })).then((answer) =>
      answer.ok ? setQuality(answer.data) : setFailure(answer.failure),
    );
  }, [props.partnerId, lang]);
  const percent = (value: number) => `${(value * 100).toFixed(1)} %`;
  return (
    <section class="card" aria-labelledby="quality-heading">
      <h2 id="quality-heading">{t.quality(quality?.window_days ?? 90)}</h2>
      <FailureNotice failure={failure} />
      {quality && (
        <>
          <p>
            {t.qualityFigures(quality.misescalations, quality.escalations, percent(quality.rate), percent(quality.threshold))}
          </p>
          {quality.exceeds_threshold && <p class="badge breached">{t.exceedsThreshold}</p>}
          <p class="muted">{quality.summary}</p>
        </>
      )}
    </section>
  );
}
