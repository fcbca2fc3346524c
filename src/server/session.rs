//! The web UI's login (SPEC §12): a user signs in once with their API
//! token; the server then keeps a session cookie (HttpOnly,
//! SameSite=Strict) that names the token's hash, its expiry, and a MAC of
//! both under the server's session key. Every request checks the MAC, the
//! expiry, and that the hash is still under `server.tokens` of the config
//! in force: removing a token signs its sessions out.
//!
//! Forms carry a CSRF token, a MAC of the session under the same key;
//! with SameSite=Strict that is two locks on every form.
//!
//! The key comes from `IPR_SESSION_KEY` (so that several servers behind
//! one load balancer accept each other's sessions), or is drawn at random
//! when the server starts (sessions then end with the process).

use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::error::{Error, Result};

/// The session cookie's name.
pub const COOKIE: &str = "ipr_session";
/// How long a session lasts.
pub const LIFETIME: Duration = Duration::hours(12);

/// The key sessions and CSRF tokens are signed with.
#[derive(Clone)]
pub struct SessionKey([u8; 32]);

impl std::fmt::Debug for SessionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionKey(..)")
    }
}

impl SessionKey {
    /// A key from a secret of at least 32 bytes (`IPR_SESSION_KEY`).
    pub fn from_secret(secret: &str) -> Result<SessionKey> {
        if secret.len() < 32 {
            return Err(Error::usage(
                "IPR_SESSION_KEY must be at least 32 characters (e.g. `openssl rand -hex 32`)",
            ));
        }
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(b"ipr session key")
            .map_err(|e| Error::other(e.to_string()))?;
        mac.update(secret.as_bytes());
        Ok(SessionKey(mac.finalize().into_bytes().into()))
    }

    /// A random key: sessions end with the process.
    pub fn random() -> Result<SessionKey> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).map_err(|e| Error::other(format!("no randomness: {e}")))?;
        Ok(SessionKey(bytes))
    }

    fn mac(&self, parts: &[&str]) -> Hmac<Sha256> {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.0)
            .unwrap_or_else(|_| unreachable!("HMAC takes a key of any length"));
        for p in parts {
            mac.update(p.as_bytes());
            mac.update(b"\0");
        }
        mac
    }

    /// The cookie value of a session for the token whose hash is `hash`.
    pub fn issue(&self, hash: &str, now: DateTime<Utc>) -> String {
        let expires = (now + LIFETIME).timestamp().to_string();
        let tag = crate::model::hex(
            &self
                .mac(&["session", hash, &expires])
                .finalize()
                .into_bytes(),
        );
        format!("v1.{hash}.{expires}.{tag}")
    }

    /// The token hash a cookie value names, if its MAC holds and it has
    /// not expired.
    pub fn open(&self, value: &str, now: DateTime<Utc>) -> Option<String> {
        let rest = value.strip_prefix("v1.")?;
        let (rest, tag) = rest.rsplit_once('.')?;
        let (hash, expires) = rest.rsplit_once('.')?;
        let tag = decode_hex(tag)?;
        self.mac(&["session", hash, expires])
            .verify_slice(&tag)
            .ok()?;
        let expires: i64 = expires.parse().ok()?;
        (now.timestamp() < expires).then(|| hash.to_string())
    }

    /// The CSRF token of the forms of `principal` (a session's token hash,
    /// or the user an auth proxy names).
    pub fn csrf(&self, principal: &str) -> String {
        crate::model::hex(&self.mac(&["csrf", principal]).finalize().into_bytes())
    }

    /// Whether `given` is the CSRF token of `principal` (compared in
    /// constant time).
    pub fn check_csrf(&self, principal: &str, given: &str) -> bool {
        decode_hex(given)
            .is_some_and(|tag| self.mac(&["csrf", principal]).verify_slice(&tag).is_ok())
    }
}

/// The `Set-Cookie` value of a session; `secure` when the server is
/// reached over https.
pub fn set_cookie(value: &str, secure: bool) -> String {
    cookie::Cookie::build((COOKIE, value.to_string()))
        .http_only(true)
        .same_site(cookie::SameSite::Strict)
        .secure(secure)
        .path("/")
        .max_age(cookie::time::Duration::seconds(LIFETIME.num_seconds()))
        .build()
        .to_string()
}

/// The `Set-Cookie` value that ends a session.
pub fn clear_cookie(secure: bool) -> String {
    cookie::Cookie::build((COOKIE, ""))
        .http_only(true)
        .same_site(cookie::SameSite::Strict)
        .secure(secure)
        .path("/")
        .max_age(cookie::time::Duration::ZERO)
        .build()
        .to_string()
}

/// The cookie that pairs the sign-in form with the browser it was
/// served to.
pub const LOGIN_COOKIE: &str = "ipr_login";

/// The `Set-Cookie` value of the sign-in form's nonce (ten minutes).
pub fn login_cookie(nonce: &str) -> String {
    cookie::Cookie::build((LOGIN_COOKIE, nonce.to_string()))
        .http_only(true)
        .same_site(cookie::SameSite::Strict)
        .path("/login")
        .max_age(cookie::time::Duration::minutes(10))
        .build()
        .to_string()
}

/// The session cookie's value among a request's `Cookie` headers.
pub fn cookie_of(headers: &axum::http::HeaderMap) -> Option<String> {
    named_cookie(headers, COOKIE)
}

/// The sign-in nonce among a request's `Cookie` headers.
pub fn login_cookie_of(headers: &axum::http::HeaderMap) -> Option<String> {
    named_cookie(headers, LOGIN_COOKIE)
}

fn named_cookie(headers: &axum::http::HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(cookie::Cookie::split_parse)
        .filter_map(|c| c.ok())
        .find(|c| c.name() == name)
        .map(|c| c.value().to_string())
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    crate::model::unhex(text, 64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_opens_only_with_its_key_and_before_it_expires() {
        let key = SessionKey::from_secret(&"k".repeat(32)).unwrap();
        let now = Utc::now();
        let value = key.issue("sha256:abc", now);
        assert_eq!(key.open(&value, now).as_deref(), Some("sha256:abc"));
        assert_eq!(key.open(&value, now + LIFETIME), None);
        let other = SessionKey::from_secret(&"j".repeat(32)).unwrap();
        assert_eq!(other.open(&value, now), None);
        let forged = value.replace("sha256:abc", "sha256:abd");
        assert_eq!(key.open(&forged, now), None);
        assert!(SessionKey::from_secret("short").is_err());
    }

    #[test]
    fn csrf_tokens_belong_to_one_principal() {
        let key = SessionKey::random().unwrap();
        let t = key.csrf("sha256:abc");
        assert!(key.check_csrf("sha256:abc", &t));
        assert!(!key.check_csrf("sha256:abd", &t));
        assert!(!key.check_csrf("sha256:abc", "00"));
        assert!(!key.check_csrf("sha256:abc", "zz"));
    }
}
