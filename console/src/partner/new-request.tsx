// A new request for a customer, as the source document's procedure goes: choose the service;
// look at its admin center, self-help and service health, where the problem may be solved
// without escalating; then, if the customer still needs help, the support details form with
// 21Vianet's twelve criteria checked live beside it.

import { useEffect, useRef, useState } from "preact/hooks";

import {
  call,
  createEscalation,
  getCustomer,
  getSelfHelp,
  Attempts,
  validateEscalation,
  type Customer,
  type EscalationInput,
  type Failure,
  type FieldError,
  type SelfHelp,
  type ValidationReport,
  type Violation,
} from "../api";
import { queueUploads } from "../uploads";
import {
  Field,
  FailureNotice,
  Link,
  TermOptions,
  TextField,
  described,
  formatTime,
  label,
  useServices,
  useSession,
} from "../ui";
import { Dropzone } from "./dropzone";

const VALIDATE_DEBOUNCE_MS = 400;
/** Where the partner's contact is remembered: per partner, so another partner's key never sees it. */
function contactItem(partnerId: string | undefined): string {
  return `escalade.contact.${partnerId ?? "none"}`;
}

export function NewRequest(props: { customerId: string; serviceKey?: string }) {
  const { t } = useSession();
  const [customer, setCustomer] = useState<Customer | null>(null);
  const [failure, setFailure] = useState<Failure | null>(null);
  useEffect(() => {
    void call(getCustomer({ path: { id: props.customerId } })).then((answer) =>
      answer.ok ? setCustomer(answer.data) : setFailure(answer.failure),
    );
  }, [props.customerId]);
  return (
    <section aria-labelledby="new-request-heading">
      <p class="breadcrumb">
        {t.supportRequests} › {customer?.company_name ?? "…"}
      </p>
      <h1 id="new-request-heading">{t.newRequest}</h1>
      <FailureNotice failure={failure} />
      {customer &&
        (props.serviceKey ? (
          <ServiceSteps customer={customer} serviceKey={props.serviceKey} />
        ) : (
          <ServiceChoice customer={customer} />
        ))}
    </section>
  );
}

function ServiceChoice(props: { customer: Customer }) {
  const { t } = useSession();
  const services = useServices();
  return (
    <>
      <h2>1. {t.stepService}</h2>
      {services.length === 0 && <p>{t.loading}</p>}
      <ul class="choices">
        {services.map((service) => (
          <li key={service.key}>
            <Link class="choice" href={`/console/requests/new/${props.customer.id}/${service.key}`}>
              {service.name}
            </Link>
          </li>
        ))}
      </ul>
    </>
  );
}

function ServiceSteps(props: { customer: Customer; serviceKey: string }) {
  const { t, lang, vocabulary } = useSession();
  const [help, setHelp] = useState<SelfHelp | null>(null);
  const [failure, setFailure] = useState<Failure | null>(null);
  /** When the partner was shown the service's health: the criteria ask for a check within a day. */
  const [healthCheckedAt, setHealthCheckedAt] = useState<string | null>(null);
  const [stillNeedsHelp, setStillNeedsHelp] = useState(false);
  // Read again in a newly chosen language; the time of the first look stands, and a failure
  // then leaves what is on screen (the form too) in place.
  useEffect(() => {
    let current = true;
    void call(getSelfHelp({ path: { customer_id: props.customer.id, service_key: props.serviceKey } })).then(
      (answer) => {
        if (!current) return;
        if (answer.ok) {
          setHelp(answer.data);
          setFailure(null);
          setHealthCheckedAt((before) => before ?? new Date().toISOString());
        } else {
          setFailure(answer.failure);
        }
      },
    );
    return () => {
      current = false;
    };
  }, [props.customer.id, props.serviceKey, lang]);

  if (!help || !healthCheckedAt) return failure ? <FailureNotice failure={failure} /> : <p>{t.loading}</p>;
  const name = help.service.name;
  if (stillNeedsHelp) {
    return (
      <>
        <h2>3. {t.stepDetails} · {name}</h2>
        <button type="button" onClick={() => setStillNeedsHelp(false)}>
          {t.back}
        </button>
        <FailureNotice failure={failure} />
        <RequestForm customer={props.customer} help={help} healthCheckedAt={healthCheckedAt} />
      </>
    );
  }
  return (
    <>
      <h2>2. {t.stepSelfHelp} · {name}</h2>
      <FailureNotice failure={failure} />
      <Link href={`/console/requests/new/${props.customer.id}`}>{t.back}</Link>
      <div class="self-help">
        <section class="card" aria-labelledby="admin-center-heading">
          <h3 id="admin-center-heading">{t.adminCenter(name)}</h3>
          <a href={help.admin_center_url} target="_blank" rel="noopener noreferrer">
            {help.admin_center_url}
          </a>
          <p>
            {t.subscription}:{" "}
            {help.subscription
              ? `${help.subscription.offer_name} · ${label(vocabulary.subscription_statuses, help.subscription.status)}`
              : t.noSubscription}
          </p>
        </section>
        <section class="card" aria-labelledby="self-help-heading">
          <h3 id="self-help-heading">{t.selfHelpResources}</h3>
          <ul>
            {help.self_help.map((resource) => (
              <li key={resource.url}>
                <a href={resource.url} target="_blank" rel="noopener noreferrer">
                  {resource.title}
                </a>
              </li>
            ))}
          </ul>
        </section>
        <section class="card" aria-labelledby="health-heading">
          <h3 id="health-heading">{t.serviceHealth}</h3>
          {help.active_incidents.length === 0 ? (
            <p>{t.noActiveIncidents}</p>
          ) : (
            <ul>
              {help.active_incidents.map((incident) => (
                <li key={incident.id}>
                  <strong>{lang === "zh-CN" && incident.title_zh ? incident.title_zh : incident.title}</strong>{" "}
                  ({label(vocabulary.incident_severities, incident.severity)},{" "}
                  {label(vocabulary.incident_statuses, incident.status)}, {formatTime(lang, incident.started_at)})
                </li>
              ))}
            </ul>
          )}
          {help.advice.map((advice) => (
            <p key={advice.criterion} class="notice">
              {advice.message}
            </p>
          ))}
        </section>
      </div>
      <button type="button" class="primary" onClick={() => setStillNeedsHelp(true)}>
        {t.stillNeedsHelp}
      </button>
    </>
  );
}

/** What the form holds, as the partner types it. */
interface Draft {
  category: string;
  severity: string;
  title: string;
  description: string;
  business_impact: string;
  problem_started_at: string;
  reasons: string[];
  justification: string;
  admin_center_attempted: boolean;
  steps: string;
  unrelated_incident_ids: string[];
  contact: {
    first_name: string;
    last_name: string;
    email: string;
    phone: string;
    preferred_contact_method: string;
    preferred_language: string;
    time_zone: string;
    available_24x7: boolean;
  };
}

const EMPTY_CONTACT: Draft["contact"] = {
  first_name: "",
  last_name: "",
  email: "",
  phone: "",
  preferred_contact_method: "email",
  preferred_language: "zh-Hans",
  time_zone: "Asia/Shanghai",
  available_24x7: false,
};

/** The contact of the partner's last request from this browser (not a secret). */
function rememberedContact(partnerId: string | undefined): Draft["contact"] {
  try {
    return { ...EMPTY_CONTACT, ...JSON.parse(localStorage.getItem(contactItem(partnerId)) ?? "{}") };
  } catch {
    return EMPTY_CONTACT;
  }
}

function trimmed(value: string): string | undefined {
  return value.trim() === "" ? undefined : value.trim();
}

/**
 * The request body the form stands for. An unanswered choice is left out (not sent empty), so
 * the server names it as required next to its field.
 */
function toInput(customer: Customer, serviceKey: string, healthCheckedAt: string, draft: Draft): EscalationInput {
  // Entered in Beijing time, as every time the console shows.
  const started = draft.problem_started_at ? new Date(`${draft.problem_started_at}:00+08:00`) : null;
  // The server checks every value (the console passes on what the partner chose, unanswered
  // choices left out); the field names at least are the contract's.
  const input = {
    customer_id: customer.id,
    service_key: serviceKey,
    category: draft.category || undefined,
    severity: draft.severity || undefined,
    title: draft.title.trim(),
    description: draft.description.trim(),
    business_impact: draft.business_impact.trim(),
    problem_started_at: started && !Number.isNaN(started.getTime()) ? started.toISOString() : undefined,
    reasons: draft.reasons,
    justification: trimmed(draft.justification),
    troubleshooting: {
      service_health_checked_at: healthCheckedAt,
      admin_center_attempted: draft.admin_center_attempted,
      steps: draft.steps
        .split("\n")
        .map((step) => step.trim())
        .filter(Boolean),
    },
    unrelated_incident_ids: draft.unrelated_incident_ids,
    contact: {
      first_name: trimmed(draft.contact.first_name),
      last_name: trimmed(draft.contact.last_name),
      email: trimmed(draft.contact.email),
      phone: trimmed(draft.contact.phone),
      preferred_contact_method: draft.contact.preferred_contact_method,
      preferred_language: draft.contact.preferred_language,
      time_zone: trimmed(draft.contact.time_zone),
      available_24x7: draft.contact.available_24x7,
    },
  } satisfies { [K in keyof EscalationInput]?: unknown };
  return input as EscalationInput;
}

/** A field error's path (`contact.email`, `troubleshooting.steps[0]`) as the id of its control. */
function fieldId(path: string): string {
  return `f-${path.replace(/\[\d+\]$/, "").replaceAll(".", "-")}`;
}

function errorsById(errors: FieldError[] | undefined): Record<string, string> {
  const byId: Record<string, string> = {};
  for (const error of errors ?? []) {
    const id = fieldId(error.field);
    byId[id] = byId[id] ? `${byId[id]} ${error.message}` : error.message;
  }
  return byId;
}

/** Checkboxes choosing any of `options`, as the list of their codes. */
function Checkboxes(props: {
  options: { code: string; label: string }[];
  chosen: string[];
  onChange: (chosen: string[]) => void;
}) {
  return (
    <>
      {props.options.map((option) => (
        <label key={option.code} class="check">
          <input
            type="checkbox"
            checked={props.chosen.includes(option.code)}
            onChange={(event) =>
              props.onChange(
                event.currentTarget.checked
                  ? [...props.chosen, option.code]
                  : props.chosen.filter((code) => code !== option.code),
              )
            }
          />
          {option.label}
        </label>
      ))}
    </>
  );
}

function RequestForm(props: { customer: Customer; help: SelfHelp; healthCheckedAt: string }) {
  const { t, lang, vocabulary, navigate, me } = useSession();
  const [draft, setDraft] = useState<Draft>(() => ({
    category: "",
    severity: "moderate",
    title: "",
    description: "",
    business_impact: "",
    problem_started_at: "",
    reasons: [],
    justification: "",
    admin_center_attempted: false,
    steps: "",
    unrelated_incident_ids: [],
    contact: rememberedContact(me.partner?.id),
  }));
  const [files, setFiles] = useState<File[]>([]);
  const [report, setReport] = useState<ValidationReport | null>(null);
  const [checking, setChecking] = useState(false);
  const [fieldErrors, setFieldErrors] = useState<Record<string, string>>({});
  /** Fields the partner has changed: only their errors show before a submission. */
  const [touched, setTouched] = useState<Set<string>>(new Set());
  const [submitted, setSubmitted] = useState(false);
  const [failure, setFailure] = useState<Failure | null>(null);
  const [violations, setViolations] = useState<Violation[]>([]);
  const [submitting, setSubmitting] = useState(false);
  /** One key per body: a double click or a retry of the same body replays one escalation. */
  const [attempts] = useState(() => new Attempts());
  const inFlight = useRef(false);

  const serviceKey = props.help.service.key;
  const input = toInput(props.customer, serviceKey, props.healthCheckedAt, draft);

  // The dry run, as the form changes (and in the chosen language).
  const inputJson = JSON.stringify(input);
  useEffect(() => {
    let current = true;
    setChecking(true);
    const timer = setTimeout(async () => {
      const answer = await call(validateEscalation({ body: JSON.parse(inputJson) as EscalationInput }));
      if (!current) return;
      setChecking(false);
      if (answer.ok) {
        setReport(answer.data);
        setFieldErrors({});
        setFailure(null);
        // What a refused submission listed is now shown, as it stands, by the checklist.
        setViolations([]);
      } else {
        setReport(null);
        setFieldErrors(errorsById(answer.failure.problem?.errors));
        setFailure(answer.failure.status === 422 ? null : answer.failure);
      }
    }, VALIDATE_DEBOUNCE_MS);
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [inputJson, lang]);

  const update = (id: string, change: (draft: Draft) => Draft) => {
    setTouched((before) => new Set(before).add(id));
    setDraft((before) => change(before));
  };
  const set = <K extends Exclude<keyof Draft, "contact">>(key: K, value: Draft[K]) =>
    update(fieldId(key), (before) => ({ ...before, [key]: value }));
  const setContact = <K extends keyof Draft["contact"]>(key: K, value: Draft["contact"][K]) =>
    update(fieldId(`contact.${key}`), (before) => ({ ...before, contact: { ...before.contact, [key]: value } }));
  const error = (id: string) => (submitted || touched.has(id) ? fieldErrors[id] : undefined);
  const text = (key: "title" | "description" | "business_impact" | "justification", name: string, rows?: number) => (
    <TextField
      id={fieldId(key)}
      label={name}
      rows={rows}
      value={draft[key]}
      onInput={(value) => set(key, value)}
      error={error(fieldId(key))}
    />
  );
  type ContactText = "first_name" | "last_name" | "email" | "phone" | "time_zone";
  const contactText = (key: ContactText, name: string, type: "text" | "email" | "tel", autocomplete?: string) => (
    <TextField
      id={fieldId(`contact.${key}`)}
      label={name}
      type={type}
      autocomplete={autocomplete}
      value={draft.contact[key]}
      onInput={(value) => setContact(key, value)}
      error={error(fieldId(`contact.${key}`))}
    />
  );

  const submit = async (event: Event) => {
    event.preventDefault();
    if (inFlight.current) return;
    inFlight.current = true;
    setSubmitting(true);
    setSubmitted(true);
    const answer = await call(
      createEscalation({ body: input, headers: { "Idempotency-Key": attempts.keyFor(JSON.stringify(input)) } }),
    );
    inFlight.current = false;
    setSubmitting(false);
    attempts.settled(answer.ok ? undefined : answer.failure);
    if (answer.ok) {
      localStorage.setItem(contactItem(me.partner?.id), JSON.stringify(draft.contact));
      queueUploads(answer.data.id, files);
      navigate(`/console/escalations/${answer.data.id}`);
      return;
    }
    const problem = answer.failure.problem;
    setFieldErrors(errorsById(problem?.errors));
    setViolations(problem?.violations ?? []);
    setFailure(answer.failure.status === 422 && problem?.errors?.length ? null : answer.failure);
    // The first field the server refused takes the focus, its message beside it.
    requestAnimationFrame(() => document.querySelector<HTMLElement>('.request-form [aria-invalid="true"]')?.focus());
  };

  const fieldsInvalid = submitted && Object.keys(fieldErrors).length > 0;
  const failedCount = report?.checks.filter((check) => check.outcome === "failed").length ?? 0;
  const duplicate = failure?.problem?.duplicate_of;
  return (
    <div class="request-layout">
      <form class="request-form" onSubmit={submit} noValidate>
        <fieldset>
          <legend>{t.stepDetails}</legend>
          <Field id="f-category" label={t.category} error={error("f-category")}>
            <select
              id="f-category"
              value={draft.category}
              onChange={(e) => set("category", e.currentTarget.value)}
              {...described("f-category", error("f-category"))}
            >
              <option value="">{t.choose}</option>
              <TermOptions terms={vocabulary.categories} />
            </select>
          </Field>
          <Field id="f-severity" label={t.severity} error={error("f-severity")}>
            <select
              id="f-severity"
              value={draft.severity}
              onChange={(e) => set("severity", e.currentTarget.value)}
              {...described("f-severity", error("f-severity"))}
            >
              <TermOptions terms={vocabulary.severities} />
            </select>
          </Field>
          {text("title", t.title)}
          {text("description", t.description, 4)}
          {text("business_impact", t.businessImpact, 2)}
          <TextField
            id="f-problem_started_at"
            label={t.problemStartedAt}
            type="datetime-local"
            value={draft.problem_started_at}
            onInput={(value) => set("problem_started_at", value)}
            error={error("f-problem_started_at")}
          />
        </fieldset>
        <fieldset aria-describedby={error("f-reasons") ? "f-reasons-error" : undefined}>
          <legend>{t.reasons}</legend>
          <Checkboxes options={vocabulary.reasons} chosen={draft.reasons} onChange={(codes) => set("reasons", codes)} />
          {error("f-reasons") && (
            <p class="field-error" id="f-reasons-error">
              {error("f-reasons")}
            </p>
          )}
          {text("justification", t.justification, 2)}
        </fieldset>
        <fieldset>
          <legend>{t.troubleshooting}</legend>
          <p class="hint">{t.healthCheckedAt(formatTime(lang, props.healthCheckedAt))}</p>
          <label class="check">
            <input
              type="checkbox"
              checked={draft.admin_center_attempted}
              onChange={(e) => set("admin_center_attempted", e.currentTarget.checked)}
            />
            {t.adminCenterAttempted}
          </label>
          <TextField
            id="f-troubleshooting-steps"
            label={t.steps}
            rows={3}
            value={draft.steps}
            onInput={(value) => update("f-troubleshooting-steps", (d) => ({ ...d, steps: value }))}
            error={error("f-troubleshooting-steps")}
          />
          {props.help.active_incidents.length > 0 && (
            <fieldset>
              <legend>{t.unrelatedIncidents}</legend>
              <Checkboxes
                options={props.help.active_incidents.map((incident) => ({
                  code: incident.id,
                  label: lang === "zh-CN" && incident.title_zh ? incident.title_zh : incident.title,
                }))}
                chosen={draft.unrelated_incident_ids}
                onChange={(ids) => set("unrelated_incident_ids", ids)}
              />
            </fieldset>
          )}
        </fieldset>
        <fieldset>
          <legend>{t.contact}</legend>
          <div class="columns">
            {contactText("last_name", t.lastName, "text", "family-name")}
            {contactText("first_name", t.firstName, "text", "given-name")}
            {contactText("email", t.email, "email", "email")}
            {contactText("phone", t.phone, "tel", "tel")}
            <Field id="f-contact-preferred_contact_method" label={t.contactMethod}>
              <select
                id="f-contact-preferred_contact_method"
                value={draft.contact.preferred_contact_method}
                onChange={(e) => setContact("preferred_contact_method", e.currentTarget.value)}
              >
                <TermOptions terms={vocabulary.contact_methods} />
              </select>
            </Field>
            <Field id="f-contact-preferred_language" label={t.preferredLanguage}>
              <select
                id="f-contact-preferred_language"
                value={draft.contact.preferred_language}
                onChange={(e) => setContact("preferred_language", e.currentTarget.value)}
              >
                <TermOptions terms={vocabulary.languages} />
              </select>
            </Field>
            {contactText("time_zone", t.timeZone, "text")}
          </div>
          <label class="check">
            <input
              type="checkbox"
              checked={draft.contact.available_24x7}
              onChange={(e) => setContact("available_24x7", e.currentTarget.checked)}
            />
            {t.available24x7}
          </label>
        </fieldset>
        <Dropzone files={files} onChange={setFiles} />
        {fieldsInvalid && (
          <p class="notice error" role="alert">
            {t.fixFields}
          </p>
        )}
        {violations.length > 0 && (
          <div class="notice error" role="alert">
            <p>{t.refusedCriteria}</p>
            <ul>
              {violations.map((violation) => (
                <li key={violation.criterion}>
                  {label(vocabulary.criteria, violation.criterion)}: {violation.message}
                </li>
              ))}
            </ul>
          </div>
        )}
        {duplicate ? (
          <p class="notice error" role="alert">
            {t.duplicateOf(duplicate.number)}{" "}
            <Link href={`/console/escalations/${duplicate.id}`}>{duplicate.number}</Link>
          </p>
        ) : (
          violations.length === 0 && <FailureNotice failure={failure} />
        )}
        <button type="submit" class="primary" disabled={submitting} aria-disabled={submitting}>
          {submitting ? t.submitting : t.submit}
        </button>
      </form>
      <aside class="checklist card" aria-labelledby="checklist-heading">
        <h2 id="checklist-heading">{t.checklist}</h2>
        <p aria-live="polite" class="status-line">
          {checking ? t.checking : report ? (report.eligible ? t.eligible : t.notEligible(failedCount)) : ""}
        </p>
        <ol class="criteria">
          {vocabulary.criteria.map((criterion) => {
            const check = report?.checks.find((c) => c.criterion === criterion.code);
            const state = check?.outcome ?? "pending";
            return (
              <li key={criterion.code} class={`criterion ${state}`} data-criterion={criterion.code}>
                <span class="mark" aria-hidden="true">
                  {state === "passed" ? "✓" : state === "failed" ? "✗" : "…"}
                </span>
                <span>
                  <strong>{criterion.label}</strong>{" "}
                  <span class="outcome">
                    {state === "passed" ? t.passed : state === "failed" ? t.failed : ""}
                  </span>
                  <br />
                  <span class="message">{check?.message ?? t.checklistPending}</span>
                </span>
              </li>
            );
          })}
        </ol>
        {report && <p class="due">{t.responseDue(formatTime(lang, report.response_due_at))}</p>}
      </aside>
    </div>
  );
}
