//! API tokens: `udata_` + 64 url-safe characters, shown once, stored only as an HMAC-SHA256.

use base64::Engine;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

use super::permissions::Scope;

pub const TOKEN_PREFIX: &str = "udata_";
/// How many random characters of the token `token_prefix` shows.
const PREFIX_DISPLAY_LENGTH: usize = 8;

/// A token as stored (never the plaintext).
#[derive(Debug, Clone)]
pub struct ApiToken {
    pub id: String,
    pub user_id: String,
    pub name: Option<String>,
    pub token_prefix: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub user_agents: Vec<String>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    /// What the token allows (never empty; udata's tokens are all `[Admin]`).
    pub scopes: Vec<Scope>,
}

/// A freshly generated plaintext token. Its `Debug` hides the secret.
pub struct PlainToken(String);

impl std::fmt::Debug for PlainToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PlainToken(<redacted>)")
    }
}

impl PlainToken {
    pub fn generate() -> Self {
        let mut bytes = [0u8; 48];
        rand::rng().fill_bytes(&mut bytes);
        let body = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
        PlainToken(format!("{TOKEN_PREFIX}{body}"))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// What may be shown later to recognise the token.
    pub fn display_prefix(&self) -> String {
        self.0
            .chars()
            .take(TOKEN_PREFIX.len() + PREFIX_DISPLAY_LENGTH)
            .collect()
    }
}

/// The server's HMAC key for tokens. Its `Debug` hides the key.
#[derive(Clone)]
pub struct TokenKey(Vec<u8>);

impl std::fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenKey(<redacted>)")
    }
}

impl TokenKey {
    pub fn new(key: Vec<u8>) -> Self {
        TokenKey(key)
    }

    /// The keyed hash stored in place of the token, as lowercase hex.
    pub fn hash(&self, token: &str) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(token.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// Names the key without revealing it: an HMAC of a fixed label, recorded in the database so that
    /// a node started with another key is noticed.
    pub fn fingerprint(&self) -> String {
        self.hash("rudata token key fingerprint v1")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_have_udata_shape() {
        let t = PlainToken::generate();
        assert!(t.expose().starts_with("udata_"));
        assert_eq!(t.expose().len(), 6 + 64);
        assert_eq!(t.display_prefix().len(), 14);
        assert!(!format!("{t:?}").contains(t.expose()));
    }

    #[test]
    fn hash_depends_on_key() {
        let a = TokenKey::new(b"one".to_vec()).hash("udata_x");
        let b = TokenKey::new(b"two".to_vec()).hash("udata_x");
        assert_ne!(a, b);
        assert_eq!(a.len(), 64);
    }
}
