//! `kind: webhook`: a POST of the CloudEvents document, signed per the
//! Standard Webhooks spec when `secretEnv` is set.
//!
//! Signing (<https://www.standardwebhooks.com/>): the secret is
//! `whsec_` + base64 of the key; the signed content is
//! `{webhook-id}.{webhook-timestamp}.{body}`; `webhook-signature` is
//! `v1,` + base64 of its HMAC-SHA256. `webhook-id` is the event id, the
//! same on every retry, so a receiver can drop what it already has.

use std::time::Duration;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::{cloudevent, http_error, secret, Message, Sent, Transport};
use crate::config::WebhookTarget;
use crate::error::{Error, Result};

/// The three Standard Webhooks headers for `body`.
#[derive(Debug)]
pub struct Signature {
    pub id: String,
    pub timestamp: i64,
    pub signature: String,
}

/// Sign `body` as message `id` sent at `timestamp` (unix seconds) with a
/// `whsec_…` secret.
pub fn sign(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> Result<Signature> {
    let key = key(secret)?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).expect("HMAC takes a key of any length");
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body);
    Ok(Signature {
        id: id.to_string(),
        timestamp,
        signature: format!("v1,{}", B64.encode(mac.finalize().into_bytes())),
    })
}

/// The key bytes of a `whsec_<base64>` secret (the prefix is optional).
fn key(secret: &str) -> Result<Vec<u8>> {
    let b64 = secret.strip_prefix("whsec_").unwrap_or(secret);
    match B64.decode(b64) {
        Ok(k) if k.len() >= 16 => Ok(k),
        _ => Err(Error::other(
            "the signing secret is not a Standard Webhooks secret: `whsec_` followed by the base64 of at least 16 random bytes (make one with `echo whsec_$(head -c 32 /dev/urandom | base64)`)",
        )),
    }
}

pub fn send(
    transport: &Transport,
    target: &WebhookTarget,
    timeout: Duration,
    m: &Message,
) -> Result<Sent> {
    let body = cloudevent::to_bytes(m);
    let mut request = transport
        .http
        .post(target.url.clone())
        .timeout(timeout)
        .header(
            "content-type",
            "application/cloudevents+json; charset=utf-8",
        );
    if let Some(env) = &target.secret_env {
        let secret = secret(env, "webhook signing secret")?;
        let s = sign(&secret, &m.event.id, chrono::Utc::now().timestamp(), &body)
            .map_err(|e| e.context(env))?;
        request = request
            .header("webhook-id", s.id)
            .header("webhook-timestamp", s.timestamp.to_string())
            .header("webhook-signature", s.signature);
    }
    let request = request.body(body);
    let who = target.url.host_str().unwrap_or("the receiver").to_string();
    transport.block_on(async move {
        let response = request.send().await.map_err(|e| http_error(e, timeout))?;
        super::answer(response, &who).await
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of the Standard Webhooks reference implementations.
    #[test]
    fn signs_like_the_reference_implementation() {
        let s = sign(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            br#"{"test": 2432232314}"#,
        )
        .unwrap();
        assert_eq!(
            s.signature,
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn a_secret_that_is_not_base64_is_refused_without_showing_it() {
        let e = sign("whsec_not base64!!", "id", 1, b"{}").unwrap_err();
        assert!(!e.to_string().contains("not base64!!"), "{e}");
    }
}
