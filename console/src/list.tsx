// Escalations as a filtered list: a partner's own (newest first), or 21Vianet's triage queue
// (earliest response due first, breached ones marked), with the filters each side needs.

import type { ComponentChildren } from "preact";
import { useEffect, useState } from "preact/hooks";

import {
  call,
  listEscalations,
  listPartners,
  type Escalation,
  type Failure,
  type ListEscalationsData,
  type Partner,
} from "./api";
import {
  FailureNotice,
  Link,
  Pager,
  TermOptions,
  formatSpan,
  formatTime,
  label,
  serviceName,
  useNow,
  useCursors,
  useServices,
  useSession,
} from "./ui";

const PAGE_SIZE = 20;

type Query = NonNullable<ListEscalationsData["query"]>;

interface Filters {
  status: string;
  severity: string;
  service: string;
  partner_id: string;
  contact_language: string;
}

export function EscalationList() {
  const { t, lang, me, vocabulary } = useSession();
  const operator = me.role !== "partner";
  const [filters, setFilters] = useState<Filters>({
    status: operator ? "submitted" : "",
    severity: "",
    service: "",
    partner_id: "",
    contact_language: "",
  });
  const paging = useCursors();
  const cursor = paging.cursor;
  const [items, setItems] = useState<Escalation[] | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const [failure, setFailure] = useState<Failure | null>(null);
  const services = useServices();
  const [partners, setPartners] = useState<Partner[]>([]);
  const now = useNow(30_000);

  useEffect(() => {
    if (operator) {
      void call(listPartners({ query: { limit: 100 } })).then((answer) => answer.ok && setPartners(answer.data.items));
    }
  }, [operator, lang]);

  useEffect(() => {
    const query: Query = {
      order: operator ? "due" : "newest",
      limit: PAGE_SIZE,
      cursor,
      status: (filters.status || undefined) as Query["status"],
      severity: (filters.severity || undefined) as Query["severity"],
      service: filters.service || undefined,
      partner_id: filters.partner_id || undefined,
      contact_language: (filters.contact_language || undefined) as Query["contact_language"],
    };
    let current = true;
    void call(listEscalations({ query })).then((answer) => {
      if (!current) return;
      if (answer.ok) {
        setItems(answer.data.items);
        setNext(answer.data.next_cursor ?? null);
        setFailure(null);
      } else {
        setFailure(answer.failure);
      }
    });
    return () => {
      current = false;
    };
  }, [filters, cursor, operator, lang]);

  const filter = (key: keyof Filters, value: string) => {
    setFilters({ ...filters, [key]: value });
    paging.first();
  };
  const select = (key: keyof Filters, name: string, options: ComponentChildren) => (
    <div class="field">
      <label for={`filter-${key}`}>{name}</label>
      <select id={`filter-${key}`} value={filters[key]} onChange={(e) => filter(key, e.currentTarget.value)}>
        <option value="">{t.any}</option>
        {options}
      </select>
    </div>
  );

  return (
    <section aria-labelledby="list-heading">
      <h1 id="list-heading">{operator ? t.queue : t.myEscalations}</h1>
      {operator && <p class="muted">{t.queueIntro}</p>}
      <form class="filters" aria-label={t.filters} onSubmit={(e) => e.preventDefault()}>
        {select("status", t.status, <TermOptions terms={vocabulary.escalation_statuses} />)}
        {select("severity", t.severity, <TermOptions terms={vocabulary.severities} />)}
        {select(
          "service",
          t.service,
          services.map((service) => (
            <option key={service.key} value={service.key}>
              {service.name}
            </option>
          )),
        )}
        {operator &&
          select(
            "partner_id",
            t.partner,
            partners.map((partner) => (
              <option key={partner.id} value={partner.id}>
                {partner.name}
              </option>
            )),
          )}
        {operator && select("contact_language", t.contactLanguage, <TermOptions terms={vocabulary.languages} />)}
      </form>
      <FailureNotice failure={failure} />
      {items && items.length === 0 && <p>{t.noEscalations}</p>}
      {items && items.length > 0 && (
        <div class="table-wrap">
          <table class="escalations">
            <thead>
              <tr>
                <th scope="col">{t.number}</th>
                <th scope="col">{t.title}</th>
                <th scope="col">{t.status}</th>
                <th scope="col">{t.severity}</th>
                <th scope="col">{t.service}</th>
                <th scope="col">{t.due}</th>
              </tr>
            </thead>
            <tbody>
              {items.map((escalation) => {
                const left = new Date(escalation.sla.response_due_at).getTime() - now;
                return (
                  <tr key={escalation.id} class={escalation.sla.breached ? "breached" : undefined}>
                    <td>
                      <Link href={`/console/escalations/${escalation.id}`}>{escalation.number}</Link>
                    </td>
                    <td>{escalation.title}</td>
                    <td>{label(vocabulary.escalation_statuses, escalation.status)}</td>
                    <td>{label(vocabulary.severities, escalation.severity)}</td>
                    <td>{serviceName(services, escalation.service_key)}</td>
                    <td>
                      {formatTime(lang, escalation.sla.response_due_at)}
                      {escalation.sla.breached ? (
                        <span class="badge breached">{t.breached}</span>
                      ) : (
                        !escalation.sla.first_response_at &&
                        left > 0 && <span class="muted"> · {t.dueIn(formatSpan(t, left))}</span>
                      )}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      <Pager paging={paging} next={next} />
    </section>
  );
}
