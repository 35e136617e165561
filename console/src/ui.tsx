// What every screen shares: the session (who, which language, the API's vocabulary), links that
// move within the page, dates in Beijing time, failures put into words, labelled fields.

import { createContext, type ComponentChildren } from "preact";
import { useContext, useEffect, useState } from "preact/hooks";

import { call, listServices, type Failure, type Me, type Service, type Term, type Vocabulary } from "./api";
import type { Lang, Strings } from "./i18n";

export interface Session {
  lang: Lang;
  t: Strings;
  vocabulary: Vocabulary;
  me: Me;
  navigate: (path: string) => void;
  /** The key stopped working: back to sign-in, saying why. */
  expire: () => void;
}

export const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error("useSession outside a signed-in console");
  return session;
}

/** The label the vocabulary gives a code, in the session's language; the code itself if unknown. */
export function label(terms: Term[], code: string | null | undefined): string {
  if (!code) return "";
  return terms.find((term) => term.code === code)?.label ?? code;
}

/** Dates and times as 21Vianet's business hours run: Beijing time, named. */
export function formatTime(lang: Lang, iso: string | null | undefined): string {
  if (!iso) return "";
  return new Intl.DateTimeFormat(lang, {
    year: "numeric",
    month: "short",
    day: "numeric",
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
    timeZone: "Asia/Shanghai",
    timeZoneName: "short",
  }).format(new Date(iso));
}

export function formatSpan(t: Strings, milliseconds: number): string {
  const minutes = Math.max(0, Math.floor(milliseconds / 60_000));
  if (minutes < 60) return t.minutes(minutes);
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return t.hoursMinutes(hours, minutes % 60);
  return t.daysHours(Math.floor(hours / 24), hours % 24);
}

/** The current time, refreshed every `every` milliseconds, for countdowns. */
export function useNow(every = 1000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), every);
    return () => clearInterval(timer);
  }, [every]);
  return now;
}

/** The services, named in the session's language (for choosing and for showing a key's name). */
export function useServices(): Service[] {
  const { lang } = useSession();
  const [services, setServices] = useState<Service[]>([]);
  useEffect(() => {
    void call(listServices({ query: { limit: 100 } })).then((answer) => answer.ok && setServices(answer.data.items));
  }, [lang]);
  return services;
}

export function serviceName(services: Service[], key: string): string {
  return services.find((service) => service.key === key)?.name ?? key;
}

/** Within-console link: changes the address without reloading the page. */
export function Link(props: { href: string; class?: string; current?: boolean; children: ComponentChildren }) {
  const { navigate } = useSession();
  return (
    <a
      href={props.href}
      class={props.class}
      aria-current={props.current ? "page" : undefined}
      onClick={(event) => {
        if (event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
        event.preventDefault();
        navigate(props.href);
      }}
    >
      {props.children}
    </a>
  );
}

/** A failed request as a sentence saying what happened and what to do next. */
export function describeFailure(t: Strings, failure: Failure): string {
  switch (failure.status) {
    case 0:
      return t.offline;
    case 403:
      return failure.problem?.detail ?? t.forbidden;
    case 404:
      return t.notFound;
    case 409:
      return `${failure.problem?.detail ?? ""} ${t.conflictNext}`.trim();
    case 412:
      return t.stale;
    case 429:
      return t.tooMany(failure.retryAfter);
    case 503:
      return t.unavailable;
    default:
      return failure.problem?.detail ?? t.unavailable;
  }
}

/**
 * A failure, shown where it happened. 412 (and 409, where the page is behind) offer a reload;
 * 401 means the key stopped working, so the session ends.
 */
export function FailureNotice(props: { failure: Failure | null; onReload?: () => void }) {
  const { t, expire } = useSession();
  const failure = props.failure;
  useEffect(() => {
    if (failure?.status === 401) expire();
  }, [failure, expire]);
  if (!failure) return null;
  const offerReload = props.onReload && (failure.status === 412 || failure.status === 409);
  return (
    <div class="notice error" role="alert">
      <p>{describeFailure(t, failure)}</p>
      {offerReload && (
        <button type="button" onClick={props.onReload}>
          {t.reload}
        </button>
      )}
    </div>
  );
}

/** A field's label, control and its error, tied together for assistive technology. */
export function Field(props: {
  id: string;
  label: string;
  error?: string;
  hint?: string;
  children: ComponentChildren;
}) {
  return (
    <div class={props.error ? "field invalid" : "field"}>
      <label for={props.id}>{props.label}</label>
      {props.children}
      {props.hint && (
        <p class="hint" id={`${props.id}-hint`}>
          {props.hint}
        </p>
      )}
      {props.error && (
        <p class="field-error" id={`${props.id}-error`}>
          {props.error}
        </p>
      )}
    </div>
  );
}

/** A labelled text control: a `<textarea>` when given `rows`, an `<input>` otherwise. */
export function TextField(props: {
  id: string;
  label: string;
  value: string;
  onInput: (value: string) => void;
  error?: string;
  rows?: number;
  type?: "text" | "email" | "tel" | "datetime-local";
  autocomplete?: string;
}) {
  const control = {
    id: props.id,
    value: props.value,
    onInput: (event: { currentTarget: { value: string } }) => props.onInput(event.currentTarget.value),
    ...described(props.id, props.error),
  };
  return (
    <Field id={props.id} label={props.label} error={props.error}>
      {props.rows ? (
        <textarea rows={props.rows} {...control} />
      ) : (
        <input type={(props.type ?? "text") as "text"} autocomplete={props.autocomplete} {...control} />
      )}
    </Field>
  );
}

/** Paging by cursor: the page shown, and the cursors of those before it to step back. */
export function useCursors() {
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  return {
    cursor: cursors[cursors.length - 1],
    first: () => setCursors([undefined]),
    back: cursors.length > 1 ? () => setCursors(cursors.slice(0, -1)) : undefined,
    forward: (next: string) => setCursors([...cursors, next]),
  };
}

export function Pager(props: { paging: ReturnType<typeof useCursors>; next: string | null | undefined }) {
  const { t } = useSession();
  const { back, forward } = props.paging;
  const next = props.next;
  return (
    <div class="pager">
      <button type="button" disabled={!back} onClick={back}>
        {t.previousPage}
      </button>
      <button type="button" disabled={!next} onClick={() => next && forward(next)}>
        {t.nextPage}
      </button>
    </div>
  );
}

/** The `aria-describedby` and `aria-invalid` a control inside `Field` carries. */
export function described(id: string, error?: string, hint?: string) {
  const ids = [hint ? `${id}-hint` : "", error ? `${id}-error` : ""].filter(Boolean).join(" ");
  return { "aria-describedby": ids || undefined, "aria-invalid": error ? true : undefined };
}

/** Options of a `<select>` from vocabulary terms. */
export function TermOptions(props: { terms: Term[] }) {
  return (
    <>
      {props.terms.map((term) => (
        <option key={term.code} value={term.code}>
          {term.label}
        </option>
      ))}
    </>
  );
}
