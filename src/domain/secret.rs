//! API key secrets: generated here, shown once, kept only as a SHA-256 digest.
//!
//! A key carries 32 random bytes, so a fast hash is enough: there is nothing to brute-force that
//! a slow password hash would protect. The first characters (the prefix) are stored in clear to
//! find the candidate rows and to let people recognise their keys; the digest is then compared in
//! constant time.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::TryRng;
use rand::rngs::SysRng;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

const SCHEME: &str = "esc_";
const RANDOM_BYTES: usize = 32;
/// `esc_` and 8 characters of the random part: 48 bits, so prefixes rarely repeat.
pub const PREFIX_LEN: usize = SCHEME.len() + 8;
const KEY_LEN: usize = SCHEME.len() + 43;

/// A freshly generated key. `Debug` hides the secret so it cannot reach a log by accident.
pub struct NewSecret {
    pub secret: String,
    pub prefix: String,
    pub digest: String,
}

impl std::fmt::Debug for NewSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewSecret")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl NewSecret {
    pub fn generate() -> Self {
        let mut bytes = [0u8; RANDOM_BYTES];
        SysRng
            .try_fill_bytes(&mut bytes)
            .expect("the operating system's random source is unavailable");
        let secret = format!("{SCHEME}{}", URL_SAFE_NO_PAD.encode(bytes));
        NewSecret {
            prefix: secret[..PREFIX_LEN].to_owned(),
            digest: digest(&secret),
            secret,
        }
    }
}

/// The prefix to look a presented key up by, or `None` when it cannot be one of ours.
pub fn prefix_of(presented: &str) -> Option<&str> {
    let well_formed = presented.len() == KEY_LEN
        && presented.starts_with(SCHEME)
        && presented[SCHEME.len()..]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    well_formed.then(|| &presented[..PREFIX_LEN])
}

pub fn digest(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Compares a presented key with a stored digest in time independent of where they differ.
pub fn matches(presented: &str, stored_digest: &str) -> bool {
    digest(presented)
        .as_bytes()
        .ct_eq(stored_digest.as_bytes())
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_are_recognised_and_match_their_digest() {
        let key = NewSecret::generate();
        assert_eq!(key.secret.len(), KEY_LEN);
        assert_eq!(prefix_of(&key.secret), Some(key.prefix.as_str()));
        assert!(matches(&key.secret, &key.digest));
        assert!(!matches(&NewSecret::generate().secret, &key.digest));
    }

    #[test]
    fn keys_differ_every_time() {
        assert_ne!(NewSecret::generate().secret, NewSecret::generate().secret);
    }

    #[test]
    fn foreign_tokens_have_no_prefix() {
        let key = NewSecret::generate().secret;
        assert_eq!(prefix_of(""), None);
        assert_eq!(prefix_of("Bearer"), None);
        assert_eq!(prefix_of(&key[..KEY_LEN - 1]), None);
        assert_eq!(prefix_of(&key.replace("esc_", "xyz_")), None);
        assert_eq!(prefix_of(&format!("{}!", &key[..KEY_LEN - 1])), None);
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let key = NewSecret::generate();
        assert!(!format!("{key:?}").contains(&key.secret));
    }
}
