//! Secrets at rest: what the service must be able to read back (webhook signing secrets, the
//! answers kept for idempotent replays) is sealed under the deployment's secret key, which lives
//! outside the database. A copy of the database alone then yields no working secret.
//!
//! Sealing is ChaCha20-Poly1305 (RustCrypto) under a key derived for each use from a secret key
//! (HMAC-SHA256 over the purpose and a context, such as the endpoint's id), so a sealed value is
//! bound to where it belongs and cannot be moved to another row. A sealed value names the secret
//! key that sealed it: `v1.<key id>.<base64 of nonce and ciphertext>`. The key ring holds the
//! current key, which seals, and earlier ones, which still open what they sealed until it is
//! sealed again (`escalade secret-key rewrap`).

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use hmac::{Hmac, Mac};
use rand::TryRng;
use rand::rngs::SysRng;
use sha2::{Digest, Sha256};

const VERSION: &str = "v1";
const KEY_BYTES: usize = 32;
const NONCE_BYTES: usize = 12;

/// One secret key: 32 random bytes. `Debug` shows only its id.
#[derive(Clone)]
pub struct SecretKey {
    bytes: [u8; KEY_BYTES],
    id: String,
}

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SecretKey({})", self.id)
    }
}

impl SecretKey {
    fn from_bytes(bytes: [u8; KEY_BYTES]) -> Self {
        // The id names the key in sealed values without revealing it.
        let id = hex::encode(&Sha256::digest(bytes)[..4]);
        Self { bytes, id }
    }

    pub fn generate() -> Self {
        let mut bytes = [0u8; KEY_BYTES];
        SysRng
            .try_fill_bytes(&mut bytes)
            .expect("the operating system's random source is unavailable");
        Self::from_bytes(bytes)
    }

    /// A key as written in a key file or `ESCALADE_SECRET_KEY`: base64 (standard or URL-safe)
    /// of 32 bytes.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let bytes = STANDARD
            .decode(text)
            .or_else(|_| URL_SAFE_NO_PAD.decode(text.trim_end_matches('=')))
            .map_err(|_| "a secret key must be base64".to_owned())?;
        let bytes: [u8; KEY_BYTES] = bytes
            .try_into()
            .map_err(|_| format!("a secret key must be {KEY_BYTES} bytes"))?;
        Ok(Self::from_bytes(bytes))
    }

    /// The key as written in a key file.
    pub fn encode(&self) -> String {
        STANDARD.encode(self.bytes)
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    /// The sealing key for `purpose` and `context`: HMAC-SHA256 under the secret key. (Not the
    /// `hkdf` crate's HKDF-Expand, which would add a counter byte to the same input: every key
    /// derived so far, and so every secret sealed in a deployment's database, would change.)
    fn derive(&self, purpose: &str, context: &[u8]) -> Key {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(&self.bytes).expect("HMAC takes keys of any length");
        mac.update(purpose.as_bytes());
        mac.update(&[0]);
        mac.update(context);
        Key::from(<[u8; KEY_BYTES]>::from(mac.finalize().into_bytes()))
    }
}

/// Why a sealed value cannot be opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unsealable {
    #[error("the value is not sealed in a form this version reads")]
    Malformed,
    #[error("the secret key {0} that sealed the value is not in the key ring")]
    UnknownKey(String),
    #[error("the value does not open with its key: altered, or sealed for another place")]
    Forged,
}

/// The deployment's secret keys: the first seals; every one opens what it sealed.
#[derive(Debug, Clone)]
pub struct KeyRing {
    keys: Vec<SecretKey>,
}

impl KeyRing {
    pub fn new(current: SecretKey, earlier: Vec<SecretKey>) -> Self {
        let mut keys = vec![current];
        keys.extend(earlier);
        Self { keys }
    }

    /// Keys as written in a key file or in `ESCALADE_SECRET_KEY`: one per line or separated by
    /// commas, the current one first; blank lines and `#` comments are ignored.
    pub fn parse(text: &str) -> Result<Self, String> {
        let keys = text
            .lines()
            .map(|line| line.split('#').next().unwrap_or_default())
            .flat_map(|line| line.split(','))
            .map(str::trim)
            .filter(|item| !item.is_empty())
            .map(SecretKey::parse)
            .collect::<Result<Vec<_>, _>>()?;
        match keys.split_first() {
            Some((current, earlier)) => Ok(Self::new(current.clone(), earlier.to_vec())),
            None => Err("no secret key is given".to_owned()),
        }
    }

    /// The key that seals.
    pub fn current(&self) -> &SecretKey {
        &self.keys[0]
    }

    /// Seals `plaintext` for `purpose` at `context` under the current key.
    pub fn seal(&self, purpose: &str, context: &[u8], plaintext: &[u8]) -> String {
        let key = self.current();
        let mut nonce = [0u8; NONCE_BYTES];
        SysRng
            .try_fill_bytes(&mut nonce)
            .expect("the operating system's random source is unavailable");
        let ciphertext = ChaCha20Poly1305::new(&key.derive(purpose, context))
            .encrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: plaintext,
                    aad: context,
                },
            )
            .expect("ChaCha20-Poly1305 seals any message of this size");
        let mut sealed = nonce.to_vec();
        sealed.extend(ciphertext);
        format!("{VERSION}.{}.{}", key.id(), URL_SAFE_NO_PAD.encode(sealed))
    }

    /// Opens what [`KeyRing::seal`] sealed for the same `purpose` and `context`.
    pub fn open(&self, purpose: &str, context: &[u8], sealed: &str) -> Result<Vec<u8>, Unsealable> {
        let mut parts = sealed.splitn(3, '.');
        let (Some(VERSION), Some(key_id), Some(data)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(Unsealable::Malformed);
        };
        let key = self
            .keys
            .iter()
            .find(|key| key.id() == key_id)
            .ok_or_else(|| Unsealable::UnknownKey(key_id.to_owned()))?;
        let data = URL_SAFE_NO_PAD
            .decode(data)
            .map_err(|_| Unsealable::Malformed)?;
        if data.len() < NONCE_BYTES {
            return Err(Unsealable::Malformed);
        }
        let (nonce, ciphertext) = data.split_at(NONCE_BYTES);
        let nonce: [u8; NONCE_BYTES] = nonce.try_into().map_err(|_| Unsealable::Malformed)?;
        ChaCha20Poly1305::new(&key.derive(purpose, context))
            .decrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: ciphertext,
                    aad: context,
                },
            )
            .map_err(|_| Unsealable::Forged)
    }

    /// Whether `sealed` was sealed by a key other than the current one (and so wants sealing
    /// again after a rotation).
    pub fn sealed_by_earlier_key(&self, sealed: &str) -> bool {
        sealed
            .split('.')
            .nth(1)
            .is_some_and(|key_id| key_id != self.current().id())
    }
}

/// Whether a stored value is sealed (rather than a plaintext one from before sealing).
pub fn is_sealed(value: &str) -> bool {
    value.starts_with(VERSION) && value.as_bytes().get(VERSION.len()) == Some(&b'.')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_sealed_opens_only_for_its_purpose_and_place() {
        let ring = KeyRing::new(SecretKey::generate(), Vec::new());
        let sealed = ring.seal("webhook-secret", b"endpoint-1", b"whsec_abc");

        assert!(is_sealed(&sealed));
        assert!(!sealed.contains("whsec_abc"));
        assert_eq!(
            ring.open("webhook-secret", b"endpoint-1", &sealed).unwrap(),
            b"whsec_abc"
        );
        assert_eq!(
            ring.open("webhook-secret", b"endpoint-2", &sealed),
            Err(Unsealable::Forged)
        );
        assert_eq!(
            ring.open("idempotency", b"endpoint-1", &sealed),
            Err(Unsealable::Forged)
        );
        // Each sealing draws a fresh nonce.
        assert_ne!(
            sealed,
            ring.seal("webhook-secret", b"endpoint-1", b"whsec_abc")
        );
    }

    #[test]
    fn earlier_keys_open_what_they_sealed_and_others_cannot() {
        let old = SecretKey::generate();
        let sealed_by_old = KeyRing::new(old.clone(), Vec::new()).seal("p", b"c", b"secret");
        let rotated = KeyRing::new(SecretKey::generate(), vec![old]);
        let stranger = KeyRing::new(SecretKey::generate(), Vec::new());

        assert_eq!(rotated.open("p", b"c", &sealed_by_old).unwrap(), b"secret");
        assert!(rotated.sealed_by_earlier_key(&sealed_by_old));
        assert!(!rotated.sealed_by_earlier_key(&rotated.seal("p", b"c", b"secret")));
        assert!(matches!(
            stranger.open("p", b"c", &sealed_by_old),
            Err(Unsealable::UnknownKey(_))
        ));
    }

    #[test]
    fn altered_or_malformed_values_do_not_open() {
        let ring = KeyRing::new(SecretKey::generate(), Vec::new());
        let sealed = ring.seal("p", b"c", b"secret");
        // One character of the ciphertext changed (not the last: its low bits are padding).
        let at = sealed.len() - 10;
        let changed = if &sealed[at..=at] == "A" { "B" } else { "A" };
        let altered = format!("{}{changed}{}", &sealed[..at], &sealed[at + 1..]);

        assert_eq!(ring.open("p", b"c", &altered), Err(Unsealable::Forged));
        for malformed in ["", "whsec_abc", "v1.", "v2.x.y", "v1.abcd.!!!"] {
            assert!(ring.open("p", b"c", malformed).is_err(), "{malformed}");
        }
    }

    #[test]
    fn key_rings_parse_from_files_and_variables() {
        let (current, earlier) = (SecretKey::generate(), SecretKey::generate());
        let file = format!(
            "# escalade secret keys, current first\n{}\n\n{}  # before the rotation\n",
            current.encode(),
            earlier.encode()
        );
        let variable = format!("{},{}", current.encode(), earlier.encode());

        for text in [file, variable] {
            let ring = KeyRing::parse(&text).unwrap();
            assert_eq!(ring.current().id(), current.id());
            assert_eq!(ring.keys.len(), 2);
        }
        assert!(KeyRing::parse("").is_err());
        assert!(KeyRing::parse("c2hvcnQ=").unwrap_err().contains("32 bytes"));
        assert!(
            KeyRing::parse("not base64!")
                .unwrap_err()
                .contains("base64")
        );
    }

    #[test]
    fn debug_never_shows_a_key() {
        let key = SecretKey::generate();
        let shown = format!("{:?}", KeyRing::new(key.clone(), Vec::new()));
        assert!(!shown.contains(&key.encode()));
        assert!(shown.contains(key.id()));
    }
}
