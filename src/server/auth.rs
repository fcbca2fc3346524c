//! Who is calling (SPEC §12): a bearer token whose SHA-256 the config
//! maps to a user, or a header set by an auth proxy, believed only from
//! `server.trustedProxies`. The user must be in `users:` of the config in
//! force: a token of someone removed stops working with that commit.
//! Tokens are never stored, logged or echoed; only their hashes are in
//! the config.

use std::net::IpAddr;

use axum::http::HeaderMap;
use base64::Engine as _;
use sha2::{Digest, Sha256};

use super::ApiError;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::model::{hex, same_email};

/// `sha256:<hex>` of a token: the key of `server.tokens`.
pub fn token_hash(token: &str) -> String {
    format!("sha256:{}", hex(&Sha256::digest(token.trim().as_bytes())))
}

/// A new random API token (256 bits).
pub fn new_token() -> Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| Error::other(format!("no randomness: {e}")))?;
    Ok(format!(
        "ipr_{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    ))
}

/// The user a request acts as, as `users:` spells the email.
pub fn user_of(
    config: &Config,
    headers: &HeaderMap,
    peer: IpAddr,
) -> std::result::Result<String, ApiError> {
    if let Some(value) = headers.get(axum::http::header::AUTHORIZATION) {
        let value = value.to_str().unwrap_or("");
        let Some(token) = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
        else {
            return Err(ApiError::unauthorized(
                "use `Authorization: Bearer TOKEN` (`ipr token new EMAIL` makes one)",
            ));
        };
        return user_of_hash(config, &token_hash(token));
    }
    if let Some(user) = user_of_proxy(config, headers, peer) {
        return user;
    }
    Err(ApiError::unauthorized(
        "authentication required: `Authorization: Bearer TOKEN` (`ipr token new EMAIL` makes one)",
    ))
}

/// The user of the token whose hash is `hash`.
pub fn user_of_hash(config: &Config, hash: &str) -> std::result::Result<String, ApiError> {
    let server = config.server.clone().unwrap_or_default();
    let Some(email) = server.tokens.get(hash) else {
        return Err(ApiError::unauthorized("this token is not valid"));
    };
    known(config, email)
        .ok_or_else(|| ApiError::unauthorized("this token's user is no longer in .ipr/config.yaml"))
}

/// The user an auth proxy names in `server.trustedHeader`, when the
/// request carries that header: believed only from a trusted proxy.
pub fn user_of_proxy(
    config: &Config,
    headers: &HeaderMap,
    peer: IpAddr,
) -> Option<std::result::Result<String, ApiError>> {
    let server = config.server.clone().unwrap_or_default();
    let name = server.trusted_header.as_ref()?;
    let mut values = headers.get_all(name.as_str()).iter();
    let value = values.next()?;
    if values.next().is_some() {
        return Some(Err(ApiError::unauthorized(&format!(
            "{name} is given more than once"
        ))));
    }
    let peer = match peer {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(peer),
        v4 => v4,
    };
    if !server.trusted_proxies.contains(&peer) {
        return Some(Err(ApiError::unauthorized(&format!(
            "{name} is only believed from server.trustedProxies"
        ))));
    }
    let email = value.to_str().unwrap_or("").trim();
    Some(
        known(config, email)
            .ok_or_else(|| ApiError::unauthorized("the proxy's user is not in .ipr/config.yaml")),
    )
}

/// `email` as `users:` spells it, if it is a user.
fn known(config: &Config, email: &str) -> Option<String> {
    config.users.keys().find(|u| same_email(u, email)).cloned()
}
