// The escalade console: people sign in with their organisation's identity (or, for the demo and
// deployments without a provider, with a key), and /v1/me decides which console opens — the
// partner's four steps to a support request, or 21Vianet's triage queue.

import { render } from "preact";
import { useCallback, useEffect, useMemo, useState } from "preact/hooks";

import {
  call,
  getAuthConfig,
  getMe,
  getVocabulary,
  keep,
  renewWith,
  setAcceptLanguage,
  storedCredential,
  type Failure,
  type Me,
  type SignInProvider,
  type Vocabulary,
} from "./api";
import { EscalationPage } from "./escalation";
import { STRINGS, initialLang, rememberLang, type Lang, type Strings } from "./i18n";
import { EscalationList } from "./list";
import { CustomerSearch } from "./partner/customers";
import { NewRequest } from "./partner/new-request";
import { beginSignIn, completeSignIn, isSignInReturn, renew, signOutUrl } from "./signin";
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

/** A provider people can sign in with from this page: loaded, and in a secure context (PKCE needs WebCrypto). */
function usable(provider: SignInProvider | null): SignInProvider | null {
  const loaded = provider?.issuer && provider.authorization_endpoint && provider.token_endpoint;
  return loaded && isSecureContext ? provider : null;
}

function SignIn(props: {
  t: Strings;
  notice: string | null;
  provider: SignInProvider | null;
  onSignedIn: (me: Me) => void;
}) {
  const { t } = props;
  const provider = usable(props.provider);
  const [key, setKey] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    keep({ kind: "key", key: key.trim() });
    const answer = await call(getMe());
    setBusy(false);
    if (answer.ok) {
      props.onSignedIn(answer.data);
      return;
    }
    keep(null);
    setError(answer.failure.status === 401 ? t.keyRejected : describeFailure(t, answer.failure));
  };
  return (
    <main id="main" class="sign-in">
      <h1>{t.signIn}</h1>
      {props.notice && (
        <p class="notice error" role="alert">
          {props.notice}
        </p>
      )}
      {provider && (
        <>
          <p>{t.organisationIntro}</p>
          <button type="button" class="primary" disabled={busy} onClick={() => void beginSignIn(provider)}>
            {t.signInWithOrganisation}
          </button>
          <h2>{t.orWithKey}</h2>
        </>
      )}
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
        <button type="submit" class={provider ? undefined : "primary"} disabled={busy}>
          {t.signIn}
        </button>
      </form>
    </main>
  );
}

/**
 * Why a credential that was working, or was just received, is refused: for a person turned away
 * (their organisation is not registered, or their role is not allowed) the server's own words.
 */
function describeRefusal(t: Strings, failure: Failure): string {
  return failure.status === 403 ? (failure.problem?.detail ?? t.forbidden) : t.sessionEnded;
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
  const [checking, setChecking] = useState(storedCredential() !== null || isSignInReturn());
  /** Where people sign in, if the deployment has a provider. */
  const [provider, setProvider] = useState<SignInProvider | null>(null);
  /** Whether /v1/auth/config has answered, so a person's tokens can be renewed. */
  const [configured, setConfigured] = useState(false);
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
  /** Forgets the credential; a person who chose to sign out also leaves the provider's session. */
  const signOut = useCallback(
    (why: string | null) => {
      const credential = storedCredential();
      keep(null);
      setMe(null);
      setVocabulary(null);
      setFailure(null);
      setNotice(why);
      const leave = why === null && credential?.kind === "person" && provider && signOutUrl(provider, credential.tokens);
      if (leave) location.assign(leave);
    },
    [provider],
  );

  // Where people sign in; and, when the provider has just sent someone back, their tokens.
  useEffect(() => {
    void call(getAuthConfig()).then(async (answer) => {
      const found = answer.ok ? (answer.data.provider ?? null) : null;
      setProvider(found);
      if (found) renewWith((tokens) => renew(found, tokens));
      setConfigured(true);
      if (!isSignInReturn()) return;
      try {
        if (!found) throw new Error("no provider to sign in with");
        keep({ kind: "person", tokens: await completeSignIn(found) });
      } catch {
        setNotice(STRINGS[lang].signInFailed);
        setChecking(false);
        return;
      }
      retry();
    });
  }, []);

  useEffect(() => {
    document.documentElement.lang = lang;
    document.title = `${t.product} · ${me?.role === "partner" ? t.supportRequests : t.queue}`;
  }, [lang, me, t]);

  // A credential kept in this tab from before a reload, or just received: see whether it works.
  // Only its refusal forgets it; a server that is busy or out of reach is tried again.
  useEffect(() => {
    if (!configured || !storedCredential() || me) return;
    void call(getMe()).then((answer) => {
      if (answer.ok) setMe(answer.data);
      else if (answer.failure.status === 401 || answer.failure.status === 403) {
        keep(null);
        setNotice(describeRefusal(STRINGS[lang], answer.failure));
      } else setFailure(answer.failure);
      setChecking(false);
    });
  }, [attempt, configured]);

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
              {t.signedInAs(
                [me.person?.name, me.partner?.name ?? t.roleNames[me.role] ?? me.role].filter(Boolean).join(" · "),
              )}
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
      {failure && (me || storedCredential()) && (
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
      ) : me || checking || (failure && storedCredential()) ? (
        <main id="main" tabIndex={-1}>
          <p aria-live="polite">{failure ? "" : t.loading}</p>
        </main>
      ) : (
        <SignIn
          t={t}
          notice={notice}
          provider={provider}
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
