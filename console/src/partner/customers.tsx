// Support requests › Customer requests: find the customer as you type (by any part of its name
// or domain, from two characters on), move through the results with the keyboard, page through
// them, and start a new request for the one chosen.

import { useEffect, useState } from "preact/hooks";

import { call, listCustomers, type Customer, type Failure } from "../api";
import { FailureNotice, Link, Pager, label, useCursors, useSession } from "../ui";

const PAGE_SIZE = 5;
const DEBOUNCE_MS = 250;
/** The server refuses shorter searches: one character matches too much to help. */
const MIN_SEARCH_CHARS = 2;

/** What is searched for: the query typed, once it is long enough; nothing (every customer) before. */
function searched(query: string): string | undefined {
  const q = query.trim();
  return [...q].length >= MIN_SEARCH_CHARS ? q : undefined;
}

interface Page {
  items: Customer[];
  next: string | null;
}

export function CustomerSearch() {
  const { t, vocabulary } = useSession();
  const [query, setQuery] = useState("");
  const paging = useCursors();
  const cursor = paging.cursor;
  const [page, setPage] = useState<Page | null>(null);
  const [failure, setFailure] = useState<Failure | null>(null);
  const [active, setActive] = useState(0);
  const [chosen, setChosen] = useState<Customer | null>(null);
  const [busy, setBusy] = useState(false);
  const q = searched(query);

  useEffect(() => {
    let current = true;
    setBusy(true);
    const timer = setTimeout(async () => {
      const answer = await call(listCustomers({ query: { q, limit: PAGE_SIZE, cursor } }));
      if (!current) return;
      setBusy(false);
      if (answer.ok) {
        setPage({ items: answer.data.items, next: answer.data.next_cursor ?? null });
        setFailure(null);
        setActive(0);
      } else {
        setFailure(answer.failure);
      }
    }, DEBOUNCE_MS);
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [q, cursor]);

  const items = page?.items ?? [];
  // ARIA's combobox pattern (Preact's types allow the role only on inputs with a `list`).
  const combobox: object = { role: "combobox", "aria-expanded": items.length > 0 };
  // A chosen customer is announced by moving the focus to its card.
  useEffect(() => {
    if (chosen) document.getElementById("chosen-customer")?.focus();
  }, [chosen]);
  const onKeyDown = (event: KeyboardEvent) => {
    if (event.key === "ArrowDown") {
      event.preventDefault();
      setActive((index) => Math.min(index + 1, items.length - 1));
    } else if (event.key === "ArrowUp") {
      event.preventDefault();
      setActive((index) => Math.max(index - 1, 0));
    } else if (event.key === "Enter" && items[active]) {
      event.preventDefault();
      setChosen(items[active]!);
    }
  };

  return (
    <section aria-labelledby="customers-heading">
      <p class="breadcrumb">
        {t.supportRequests} › {t.customerRequests}
      </p>
      <h1 id="customers-heading">{t.customerRequests}</h1>
      <div class="search">
        <label for="customer-search">{t.searchCustomers}</label>
        <input
          id="customer-search"
          type="search"
          autocomplete="off"
          {...combobox}
          aria-autocomplete="list"
          aria-controls="customer-results"
          aria-activedescendant={items[active] ? `customer-${items[active]!.id}` : undefined}
          aria-describedby="customer-search-hint"
          value={query}
          onInput={(event) => {
            setQuery(event.currentTarget.value);
            paging.first();
          }}
          onKeyDown={onKeyDown}
        />
        <p class="hint" id="customer-search-hint">
          {t.searchHint}
        </p>
      </div>
      <FailureNotice failure={failure} />
      <p class="status-line" aria-live="polite">
        {busy ? t.searching : page && items.length === 0 ? t.noCustomers : ""}
      </p>
      <ul id="customer-results" role="listbox" aria-label={t.customerRequests} class="results">
        {items.map((customer, index) => (
          <li
            key={customer.id}
            id={`customer-${customer.id}`}
            role="option"
            aria-selected={index === active}
            class={index === active ? "active" : undefined}
            onMouseMove={() => setActive(index)}
            onClick={() => setChosen(customer)}
          >
            <span class="name">{customer.company_name}</span>
            <span class="muted">{customer.domain}</span>
          </li>
        ))}
      </ul>
      <Pager paging={paging} next={page?.next} />
      {chosen && (
        <article class="card" aria-labelledby="chosen-customer">
          <h2 id="chosen-customer" tabIndex={-1}>
            {chosen.company_name}
          </h2>
          <dl class="facts">
            <dt>{t.domain}</dt>
            <dd>{chosen.domain}</dd>
            <dt>{t.tenant}</dt>
            <dd>{chosen.tenant_id}</dd>
            <dt>{t.supportPlan}</dt>
            <dd>{label(vocabulary.support_plans, chosen.support_plan)}</dd>
            <dt>{t.primaryContact}</dt>
            <dd>
              {chosen.primary_contact.name} · {chosen.primary_contact.email}
            </dd>
          </dl>
          <Link class="button primary" href={`/console/requests/new/${chosen.id}`}>
            {t.newRequest}
          </Link>
        </article>
      )}
    </section>
  );
}
