// The escalade console: sign in with a key, and /v1/me decides which console opens — the
// partner's four steps to a support request, or 21Vianet's triage queue.

import { render } from "preact";
import { useCallback, useEffect, useMemo, useState } from "preact/hooks";

import {
  call,
  getMe,
  getVocabulary,
  keepKey,
  setAcceptLanguage,
  storedKey,
  type Failure,
  type Me,
  type Vocabulary,
} from "./api";
import { EscalationPage } from "./escalation";
import { STRINGS, initialLang, rememberLang, type Lang, type Strings } from "./i18n";
import { EscalationList } from "./list";
import { CustomerSearch } from "./partner/customers";
import { NewRequest } from "./partner/new-request";
import { Link, SessionContext, describeFailure, type Session } from "./ui";
import "./styles.css";

const BASE = "/console/";

function LanguageSwitch(props: { lang: Lang; onChange: (lang: Lang) => void; t: Strings }) {
  return (
    <div class="languages" role="group" aria-label={props.t.language}>
      {(["zh-CN", "en"] as const).map((lang) => (
        <button
          key={lang}
          type="button"
          lang={lang}
          aria-pressed={props.lang === lang}
          onClick={() => props.onChange(lang)}
        >
          {lang === "zh-CN" ? "中文" : "English"}
        </button>
      ))}
    </div>
  );
}

function SignIn(props: { t: Strings; notice: string | null; onSignedIn: (me: Me) => void }) {
  const { t } = props;
  const [key, setKey] = useState("");
  const [error, setError] = useState<string | null>(props.notice);
  const [busy, setBusy] = useState(false);
  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    keepKey(key.trim());
    const answer = await call(getMe());
    setBusy(false);
    if (answer.ok) {
      props.onSignedIn(answer.data);
      return;
    }
    keepKey(null);
    setError(answer.failure.status === 401 ? t.keyRejected : describeFailure(t, answer.failure));
  };
  return (
    <main id="main" class="sign-in">
      <h1>{t.signIn}</h1>
      <p>{t.signInIntro}</p>
      <form onSubmit={submit}>
        <div class={error ? "field invalid" : "field"}>
          <label for="api-key">{t.apiKey}</label>
          <input
            id="api-key"
            type="password"
            autocomplete="off"
            spellcheck={false}
            required
            value={key}
            onInput={(event) => setKey(event.currentTarget.value)}
            aria-describedby={error ? "api-key-error" : undefined}
            aria-invalid={error ? true : undefined}
          />
          {error && (
            <p class="field-error" id="api-key-error" role="alert">
              {error}
            </p>
          )}
        </div>
        <button type="submit" class="primary" disabled={busy}>
          {t.signIn}
        </button>
      </form>
    </main>
  );
}

/** The part of the address after /console/, split into segments. */
function route(pathname: string): string[] {
  const rest = pathname.startsWith(BASE) ? pathname.slice(BASE.length) : "";
  return rest.split("/").filter(Boolean);
}

function Screen(props: { me: Me; segments: string[] }) {
  const [first, second, third, fourth] = props.segments;
  const partner = props.me.role === "partner";
  if (first === "escalations" && second) return <EscalationPage key={second} id={second} />;
  if (first === "escalations") return <EscalationList />;
  if (partner && first === "requests" && second === "new" && third) {
    return <NewRequest key={third} customerId={third} serviceKey={fourth} />;
  }
  return partner ? <CustomerSearch /> : <EscalationList />;
}

function App() {
  const [lang, setLang] = useState<Lang>(initialLang);
  const t = STRINGS[lang];
  const [me, setMe] = useState<Me | null>(null);
  const [vocabulary, setVocabulary] = useState<Vocabulary | null>(null);
  const [checking, setChecking] = useState(storedKey() !== null);
  const [notice, setNotice] = useState<string | null>(null);
  /** Why the signed-in console could not start (or follow a language change); `retry` tries again. */
  const [failure, setFailure] = useState<Failure | null>(null);
  const [attempt, setAttempt] = useState(0);
  const retry = () => {
    setFailure(null);
    setAttempt((n) => n + 1);
  };
  const [path, setPath] = useState(location.pathname);

  setAcceptLanguage(lang);
  const signOut = useCallback((why: string | null) => {
    keepKey(null);
    setMe(null);
    setVocabulary(null);
    setFailure(null);
    setNotice(why);
  }, []);
  useEffect(() => {
    document.documentElement.lang = lang;
    document.title = `${t.product} · ${me?.role === "partner" ? t.supportRequests : t.queue}`;
  }, [lang, me, t]);

  // A key kept in this tab from before a reload: see whether it still works. Only a refusal of
  // the key forgets it; a server that is busy or out of reach is tried again.
  useEffect(() => {
    if (!storedKey() || me) return;
    void call(getMe()).then((answer) => {
      if (answer.ok) setMe(answer.data);
      else if (answer.failure.status === 401) keepKey(null);
      else setFailure(answer.failure);
      setChecking(false);
    });
  }, [attempt]);

  // The API's names for its values, in the chosen language; an answer for a language no longer
  // chosen is dropped.
  useEffect(() => {
    if (!me) return;
    let current = true;
    void call(getVocabulary()).then((answer) => {
      if (!current) return;
      if (answer.ok) setVocabulary(answer.data);
      else if (answer.failure.status === 401) signOut(STRINGS[lang].sessionEnded);
      else setFailure(answer.failure);
    });
    return () => {
      current = false;
    };
  }, [me, lang, attempt]);

  useEffect(() => {
    const onPop = () => setPath(location.pathname);
    addEventListener("popstate", onPop);
    return () => removeEventListener("popstate", onPop);
  }, []);

  const navigate = useCallback((to: string) => {
    history.pushState(null, "", to);
    setPath(new URL(to, location.href).pathname);
    scrollTo(0, 0);
    document.getElementById("main")?.focus();
  }, []);
  const expire = useCallback(() => signOut(STRINGS[lang].sessionEnded), [signOut, lang]);
  const changeLang = (next: Lang) => {
    rememberLang(next);
    setLang(next);
  };

  const session = useMemo<Session | null>(
    () => (me && vocabulary ? { lang, t, vocabulary, me, navigate, expire } : null),
    [lang, t, vocabulary, me, navigate, expire],
  );

  const partner = me?.role === "partner";
  const segments = route(path);
  return (
    <SessionContext.Provider value={session}>
      <a class="skip" href="#main">
        {t.skipToContent}
      </a>
      <header class="top">
        <a class="brand" href={BASE}>
          {t.product}
        </a>
        {session && (
          <nav aria-label={t.mainNav}>
            {partner ? (
              <>
                <Link href={BASE} current={segments[0] !== "escalations"}>
                  {t.navCustomerRequests}
                </Link>
                <Link href={`${BASE}escalations`} current={segments[0] === "escalations"}>
                  {t.navMyEscalations}
                </Link>
              </>
            ) : (
              <Link href={BASE} current>
                {t.navQueue}
              </Link>
            )}
          </nav>
        )}
        <div class="session">
          {me && (
            <span class="who">
              {t.signedInAs(me.partner?.name ?? t.roleNames[me.role] ?? me.role)}
            </span>
          )}
          <LanguageSwitch lang={lang} onChange={changeLang} t={t} />
          {me && (
            <button type="button" onClick={() => signOut(null)}>
              {t.signOut}
            </button>
          )}
        </div>
      </header>
      {failure && (me || storedKey()) && (
        <div class="notice error" role="alert">
          <p>{describeFailure(t, failure)}</p>
          <button type="button" onClick={retry}>
            {t.retry}
          </button>
        </div>
      )}
      {session ? (
        <main id="main" tabIndex={-1}>
          <Screen me={session.me} segments={segments} />
        </main>
      ) : me || checking || (failure && storedKey()) ? (
        <main id="main" tabIndex={-1}>
          <p aria-live="polite">{failure ? "" : t.loading}</p>
        </main>
      ) : (
        <SignIn
          t={t}
          notice={notice}
          onSignedIn={(signedIn) => {
            setNotice(null);
            setMe(signedIn);
          }}
        />
      )}
    </SessionContext.Provider>
  );
}

render(<App />, document.getElementById("app")!);
