//! People's bearer tokens, from their organisation's identity provider: Microsoft Entra ID
//! operated by 21Vianet in production, any OpenID Provider that publishes a configuration document
//! and its signing keys elsewhere (the test suites run one).
//!
//! A token is a JWT signed with RS256 (nothing else: `none` and HMAC are refused, so a token
//! "signed" with the public key as an HMAC secret is refused) by one of the provider's published
//! keys, found by its `kid`. A `kid` the cached keys lack makes one fetch of the keys, at most
//! every [`REFETCH_AFTER`], so a rotated key works within seconds without a restart. The token must
//! be issued for this API (`aud`), by the provider for the token's own tenant (`iss` equal to the
//! configuration's issuer with `{tenantid}` replaced by the token's `tid`, as Entra ID's
//! multi-tenant configuration writes it), within its `nbf`–`exp` window (a minute's leeway), and
//! name its tenant and person (`tid`, `oid`) by GUID.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::RwLock;
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{AlgorithmParameters, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::{Deserialize, Serialize};
use url::Url;
use uuid::Uuid;

/// The least time between two fetches of the provider's keys for an unknown `kid`.
pub const REFETCH_AFTER: Duration = Duration::from_secs(10);

/// How long the provider has to answer.
const FETCH_TIMEOUT: Duration = Duration::from_secs(10);

/// The leeway on `exp` and `nbf`, in seconds, for clocks that differ.
const LEEWAY_SECS: u64 = 60;

/// The placeholder for the token's tenant in a multi-tenant issuer.
const TENANT_PLACEHOLDER: &str = "{tenantid}";

/// The provider a deployment trusts, as `--oidc-*` and `--operator-tenant-id` configure it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderSettings {
    /// The OpenID configuration document.
    pub metadata_url: Url,
    /// What `aud` must be: the API's application id.
    pub audience: String,
    /// 21Vianet's own tenant.
    pub operator_tenant_id: Uuid,
    /// The console's public client id, if people sign in from it.
    pub console_client_id: Option<String>,
}

impl ProviderSettings {
    /// The settings from their four flags: all of the first three or none (the console's client
    /// id is optional); the configuration document over https, or http on a loopback host only.
    pub fn from_flags(
        metadata_url: Option<&str>,
        audience: Option<&str>,
        operator_tenant_id: Option<Uuid>,
        console_client_id: Option<&str>,
    ) -> Result<Option<Self>, String> {
        fn set(value: Option<&str>) -> Option<&str> {
            value.map(str::trim).filter(|value| !value.is_empty())
        }
        let (metadata_url, audience, console_client_id) =
            (set(metadata_url), set(audience), set(console_client_id));
        match (metadata_url, audience, operator_tenant_id) {
            (None, None, None) if console_client_id.is_none() => Ok(None),
            (Some(url), Some(audience), Some(operator_tenant_id)) => Ok(Some(Self {
                metadata_url: parse_metadata_url(url)?,
                audience: audience.to_owned(),
                operator_tenant_id,
                console_client_id: console_client_id.map(str::to_owned),
            })),
            _ => Err(
                "signing people in needs --oidc-metadata-url, --oidc-audience and \
                      --operator-tenant-id together (and --oidc-console-client-id for the \
                      console); give all of them, or none to accept API keys only"
                    .to_owned(),
            ),
        }
    }
}

fn parse_metadata_url(value: &str) -> Result<Url, String> {
    let refused = |why: &str| format!("--oidc-metadata-url `{value}` {why}");
    let url = Url::parse(value).map_err(|err| refused(&format!("is not a URL ({err})")))?;
    let loopback = match url.host() {
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(address)) => IpAddr::V4(address).is_loopback(),
        Some(url::Host::Ipv6(address)) => IpAddr::V6(address).is_loopback(),
        None => return Err(refused("names no host")),
    };
    match url.scheme() {
        "https" => Ok(url),
        "http" if loopback => Ok(url),
        "http" => Err(refused(
            "must be https: http is for a provider on this machine only",
        )),
        _ => Err(refused("must be an https URL")),
    }
}

/// What the provider's configuration document says that escalade needs.
#[derive(Debug, Clone, Deserialize)]
struct Metadata {
    issuer: String,
    jwks_uri: String,
    authorization_endpoint: Option<String>,
    token_endpoint: Option<String>,
    end_session_endpoint: Option<String>,
}

/// The provider's endpoints a browser signs in through, for the console.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Endpoints {
    /// The issuer, `{tenantid}` kept where the provider is multi-tenant.
    pub issuer: String,
    pub authorization_endpoint: Option<String>,
    pub token_endpoint: Option<String>,
    pub end_session_endpoint: Option<String>,
}

/// A person as a valid token names them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenPerson {
    pub tenant_id: Uuid,
    pub object_id: Uuid,
    pub name: String,
    pub email: String,
    /// The app roles the token carries (`roles`).
    pub app_roles: Vec<String>,
    /// When the token expires, in Unix seconds.
    pub expires_at: i64,
}

/// Why a token is refused; said in the log only (the caller gets a plain 401).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidToken {
    #[error("not a JWT")]
    Malformed,
    #[error("signed with {0:?}, not RS256")]
    Algorithm(Algorithm),
    #[error("no key of the provider's has kid {0:?}")]
    UnknownKey(Option<String>),
    #[error("the provider's keys are not loaded")]
    KeysNotLoaded,
    #[error("{0}")]
    Rejected(String),
    #[error("tid or oid is not a GUID")]
    NotGuid,
    #[error("issued by {0}, not by the provider for the token's tenant")]
    Issuer(String),
}

#[derive(Debug, Deserialize)]
struct Claims {
    iss: String,
    tid: String,
    oid: String,
    exp: i64,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    preferred_username: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    roles: Vec<String>,
}

#[derive(Default)]
struct Loaded {
    metadata: Option<Metadata>,
    keys: HashMap<String, DecodingKey>,
    fetched_at: Option<Instant>,
}

/// The provider a deployment trusts, with its keys as last fetched.
pub struct IdentityProvider {
    settings: ProviderSettings,
    client: reqwest::Client,
    loaded: RwLock<Loaded>,
    /// One fetch at a time; the others wait for it and use what it found.
    fetching: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for IdentityProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdentityProvider")
            .field("metadata_url", &self.settings.metadata_url.as_str())
            .finish_non_exhaustive()
    }
}

impl IdentityProvider {
    pub fn new(settings: ProviderSettings) -> Result<Self, String> {
        let client = reqwest::Client::builder()
            .timeout(FETCH_TIMEOUT)
            .build()
            .map_err(|err| format!("cannot make the identity provider's client: {err}"))?;
        Ok(Self {
            settings,
            client,
            loaded: RwLock::default(),
            fetching: tokio::sync::Mutex::new(()),
        })
    }

    pub fn settings(&self) -> &ProviderSettings {
        &self.settings
    }

    fn loaded(&self) -> std::sync::RwLockReadGuard<'_, Loaded> {
        self.loaded
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Whether the provider's keys are loaded, for `/readyz`.
    pub fn keys_loaded(&self) -> bool {
        !self.loaded().keys.is_empty()
    }

    /// The provider's sign-in endpoints, once its configuration is loaded.
    pub fn endpoints(&self) -> Option<Endpoints> {
        self.loaded().metadata.as_ref().map(|metadata| Endpoints {
            issuer: metadata.issuer.clone(),
            authorization_endpoint: metadata.authorization_endpoint.clone(),
            token_endpoint: metadata.token_endpoint.clone(),
            end_session_endpoint: metadata.end_session_endpoint.clone(),
        })
    }

    /// Fetches the configuration and the keys, unless they were fetched less than
    /// [`REFETCH_AFTER`] ago.
    pub async fn refresh(&self) -> Result<(), String> {
        let _turn = self.fetching.lock().await;
        if self
            .loaded()
            .fetched_at
            .is_some_and(|at| at.elapsed() < REFETCH_AFTER)
        {
            return Ok(());
        }
        let fetched = self.fetch().await;
        let mut loaded = self
            .loaded
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        loaded.fetched_at = Some(Instant::now());
        let (metadata, keys) = fetched?;
        loaded.metadata = Some(metadata);
        loaded.keys = keys;
        Ok(())
    }

    async fn fetch(&self) -> Result<(Metadata, HashMap<String, DecodingKey>), String> {
        let url = &self.settings.metadata_url;
        let metadata: Metadata = self.get_json(url.as_str()).await?;
        let jwks: JwkSet = self.get_json(&metadata.jwks_uri).await?;
        let keys: HashMap<String, DecodingKey> = jwks
            .keys
            .iter()
            .filter(|jwk| matches!(jwk.algorithm, AlgorithmParameters::RSA(_)))
            .filter_map(|jwk| {
                let kid = jwk.common.key_id.clone()?;
                Some((kid, DecodingKey::from_jwk(jwk).ok()?))
            })
            .collect();
        if keys.is_empty() {
            return Err(format!(
                "{} publishes no RSA signing key",
                metadata.jwks_uri
            ));
        }
        tracing::info!(keys = keys.len(), issuer = %metadata.issuer, "identity provider's keys loaded");
        Ok((metadata, keys))
    }

    async fn get_json<T: serde::de::DeserializeOwned>(&self, url: &str) -> Result<T, String> {
        let answer = self
            .client
            .get(url)
            .send()
            .await
            .and_then(|answer| answer.error_for_status())
            .map_err(|err| format!("{url} did not answer: {err}"))?;
        let body = answer
            .bytes()
            .await
            .map_err(|err| format!("{url} did not answer whole: {err}"))?;
        serde_json::from_slice(&body)
            .map_err(|err| format!("{url} did not answer with the expected JSON: {err}"))
    }

    /// The key `kid` names, fetching the keys once more when it is not among them.
    async fn key(&self, kid: &str) -> Result<DecodingKey, InvalidToken> {
        if let Some(key) = self.loaded().keys.get(kid) {
            return Ok(key.clone());
        }
        if let Err(err) = self.refresh().await {
            tracing::warn!(error = %err, "cannot fetch the identity provider's keys");
        }
        let loaded = self.loaded();
        if loaded.keys.is_empty() {
            return Err(InvalidToken::KeysNotLoaded);
        }
        loaded
            .keys
            .get(kid)
            .cloned()
            .ok_or_else(|| InvalidToken::UnknownKey(Some(kid.to_owned())))
    }

    /// The person a valid token names.
    pub async fn validate(&self, token: &str) -> Result<TokenPerson, InvalidToken> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| InvalidToken::Malformed)?;
        if header.alg != Algorithm::RS256 {
            return Err(InvalidToken::Algorithm(header.alg));
        }
        let kid = header.kid.ok_or(InvalidToken::UnknownKey(None))?;
        let key = self.key(&kid).await?;
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_audience(&[&self.settings.audience]);
        validation.set_required_spec_claims(&["exp", "nbf", "aud", "iss"]);
        validation.validate_nbf = true;
        validation.leeway = LEEWAY_SECS;
        let claims = jsonwebtoken::decode::<Claims>(token, &key, &validation)
            .map_err(|err| InvalidToken::Rejected(err.to_string()))?
            .claims;
        let (Ok(tenant_id), Ok(object_id)) = (claims.tid.parse(), claims.oid.parse()) else {
            return Err(InvalidToken::NotGuid);
        };
        let template = self
            .loaded()
            .metadata
            .as_ref()
            .map(|metadata| metadata.issuer.clone())
            .ok_or(InvalidToken::KeysNotLoaded)?;
        if claims.iss != template.replace(TENANT_PLACEHOLDER, &claims.tid) {
            return Err(InvalidToken::Issuer(claims.iss));
        }
        let email = claims
            .preferred_username
            .or(claims.email)
            .unwrap_or_default();
        Ok(TokenPerson {
            tenant_id,
            object_id,
            name: claims.name.unwrap_or_else(|| email.clone()),
            email,
            app_roles: claims.roles,
            expires_at: claims.exp,
        })
    }

    /// Loads the keys at start, then again every hour (and each time a token names an unknown
    /// key), retrying every half minute while the provider does not answer, until `stop`.
    pub async fn maintain(&self, mut stop: tokio::sync::watch::Receiver<bool>) {
        loop {
            let wait = match self.refresh().await {
                Ok(()) => Duration::from_secs(3600),
                Err(err) => {
                    tracing::warn!(error = %err, "cannot load the identity provider's keys; people cannot sign in until they are");
                    Duration::from_secs(30)
                }
            };
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = stop.changed() => {}
            }
            if *stop.borrow() {
                break;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_provider_is_configured_whole_or_not_at_all() {
        let tenant = Some(Uuid::now_v7());
        let url = Some(
            "https://login.partner.microsoftonline.cn/organizations/v2.0/.well-known/openid-configuration",
        );
        assert_eq!(
            ProviderSettings::from_flags(None, None, None, None),
            Ok(None)
        );
        assert_eq!(
            ProviderSettings::from_flags(Some(" "), Some(""), None, None),
            Ok(None)
        );
        let whole =
            ProviderSettings::from_flags(url, Some("api://escalade"), tenant, Some("console"))
                .unwrap()
                .unwrap();
        assert_eq!(whole.console_client_id.as_deref(), Some("console"));
        for partial in [
            ProviderSettings::from_flags(url, None, tenant, None),
            ProviderSettings::from_flags(None, Some("api://escalade"), tenant, None),
            ProviderSettings::from_flags(url, Some("api://escalade"), None, None),
            ProviderSettings::from_flags(None, None, None, Some("console")),
        ] {
            assert!(partial.unwrap_err().contains("--oidc-metadata-url"));
        }
    }

    #[test]
    fn the_configuration_is_fetched_over_https_or_from_this_machine() {
        for ok in [
            "https://login.partner.microsoftonline.cn/organizations/v2.0/.well-known/openid-configuration",
            "http://127.0.0.1:4000/organizations/v2.0/.well-known/openid-configuration",
            "http://[::1]:4000/x",
            "http://localhost:4000/x",
        ] {
            assert!(parse_metadata_url(ok).is_ok(), "{ok}");
        }
        for refused in [
            "http://idp.internal/x",
            "http://10.0.0.1/x",
            "ftp://127.0.0.1/x",
            "not a url",
        ] {
            assert!(parse_metadata_url(refused).is_err(), "{refused}");
        }
    }
}
