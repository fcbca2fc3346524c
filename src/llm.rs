//! An OpenAI-compatible chat-completions client (SPEC §13): one question,
//! answered as one JSON object that follows a schema (structured output:
//! `response_format` of type `json_schema`, strict).
//!
//! The API key is read from the environment variable `llm.apiKeyEnv`
//! names and goes in the `Authorization` header, nowhere else: no error
//! carries it (what the service says back is scrubbed of it). What the
//! model answers is data: this module only checks that it is one JSON
//! object; the caller checks it against its schema.

use std::time::Duration;

use serde::Deserialize;
use serde_json::{json, Map, Value};
use url::Url;

use crate::config::LlmConfig;
use crate::error::{Error, Result};
use crate::secrets::Secrets;

/// The largest answer read from the service.
const MAX_ANSWER_BYTES: usize = 1 << 20;
/// How much of a refusal or an error body is quoted.
const QUOTE_CHARS: usize = 300;

/// One question: the instructions, the person's text (sent as its own
/// user message, never spliced into the instructions) and the schema the
/// answer must follow.
pub struct Chat<'a> {
    pub system: &'a str,
    pub user: &'a str,
    /// The schema's name (`ipr_request`): letters, digits, `_` and `-`.
    pub name: &'a str,
    pub schema: &'a Value,
}

/// The body of `POST {baseUrl}/chat/completions`.
pub fn body(model: &str, chat: &Chat) -> Value {
    json!({
        "model": model,
        "messages": [
            {"role": "system", "content": chat.system},
            {"role": "user", "content": chat.user},
        ],
        "response_format": {
            "type": "json_schema",
            "json_schema": {
                "name": chat.name,
                "strict": true,
                "schema": chat.schema,
            }
        },
    })
}

/// `{baseUrl}/chat/completions`, keeping a query the base URL has. The
/// key is sent to it, so it must be https (http only to this machine) and
/// hold no credentials of its own.
pub fn endpoint(base: &Url) -> Result<Url> {
    let local = base.host_str().is_some_and(crate::model::is_loopback);
    if base.scheme() != "https" && !(base.scheme() == "http" && local) {
        return Err(Error::usage(
            "llm.baseUrl must be an https URL (http only for localhost): the API key is sent to it",
        ));
    }
    if !base.username().is_empty() || base.password().is_some() {
        return Err(Error::usage(
            "llm.baseUrl holds a user name or password; the key belongs in the variable llm.apiKeyEnv names",
        ));
    }
    let mut url = base.clone();
    url.path_segments_mut()
        .map_err(|_| Error::usage("llm.baseUrl cannot take a path"))?
        .pop_if_empty()
        .extend(["chat", "completions"]);
    Ok(url)
}

/// Ask `chat` of the model `config` names; its answer as a JSON object.
///
/// Errors say what failed and never hold the key: the key variable unset
/// or the URL unusable (`Usage`/`Other`), the service unreachable, slow or
/// refusing (`Other`), the model declining (`Invalid`, its words quoted
/// and escaped), an answer that is not one JSON object (`Other`).
pub fn ask(config: &LlmConfig, chat: &Chat) -> Result<Map<String, Value>> {
    let url = endpoint(&config.base_url)?;
    let key = crate::notify::secret(&config.api_key_env, "API key of the LLM").map_err(|e| {
        e.with_hint(format!(
            "export {} with the key of {} (llm.apiKeyEnv in .ipr/config.yaml names the variable)",
            config.api_key_env,
            config.base_url.host_str().unwrap_or("the LLM service")
        ))
    })?;
    let secrets = Secrets::new(std::slice::from_ref(&key));
    let host = url.host_str().unwrap_or("?").to_string();
    let timeout = config.timeout();
    let (status, bytes) = post(&url, &key, &body(&config.model, chat), timeout)
        .map_err(|e| scrubbed(e, &secrets).context(format!("the LLM at {host}")))?;
    if !status.is_success() {
        return Err(refused(status, &bytes, &config.api_key_env, &secrets)
            .context(format!("the LLM at {host}")));
    }
    read(&bytes).map_err(|e| scrubbed(e, &secrets))
}

/// Send the request on a runtime of its own (never nested in a caller's,
/// so a server may call this from a blocking task); the status and body.
fn post(
    url: &Url,
    key: &str,
    body: &Value,
    timeout: Duration,
) -> Result<(reqwest::StatusCode, Vec<u8>)> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::other(format!("tokio runtime: {e}")))?;
    let mut http = reqwest::Client::builder()
        .user_agent(concat!("ipr/", env!("CARGO_PKG_VERSION")))
        // The key must not follow a redirect somewhere else.
        .redirect(reqwest::redirect::Policy::none());
    if url.host_str().is_some_and(crate::model::is_loopback) {
        // Plain http is allowed only to this machine: no proxy sees it.
        http = http.no_proxy();
    }
    let http = http
        .build()
        .map_err(|e| Error::other(format!("HTTP client: {e}")))?;
    let request = http
        .post(url.clone())
        .timeout(timeout)
        .bearer_auth(key)
        .json(body);
    crate::runner::block_on(&runtime, async move {
        let mut response = request
            .send()
            .await
            .map_err(|e| crate::notify::http_error(e, timeout))?;
        let status = response.status();
        let mut bytes = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| crate::notify::http_error(e, timeout))?
        {
            if bytes.len() + chunk.len() > MAX_ANSWER_BYTES {
                return Err(Error::other(format!(
                    "the answer is larger than {} KiB",
                    MAX_ANSWER_BYTES / 1024
                )));
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok((status, bytes))
    })
}

/// A non-2xx answer, worded without the key.
fn refused(status: reqwest::StatusCode, body: &[u8], key_env: &str, secrets: &Secrets) -> Error {
    if matches!(status.as_u16(), 401 | 403) {
        // Its body may quote part of the key ("Incorrect API key provided: sk-ab…").
        return Error::other(format!("refused the API key in {key_env} ({status})"));
    }
    let text = String::from_utf8_lossy(body);
    // OpenAI-style errors: {"error": {"message": "..."}}.
    let said = serde_json::from_str::<Value>(&text)
        .ok()
        .and_then(|v| v["error"]["message"].as_str().map(str::to_string))
        .unwrap_or_else(|| text.lines().next().unwrap_or("").to_string());
    let said = quote(&secrets.scrub(&said));
    if said.is_empty() {
        Error::other(format!("answered {status}"))
    } else {
        Error::other(format!("answered {status}: {said}"))
    }
}

fn scrubbed(e: Error, secrets: &Secrets) -> Error {
    let message = secrets.scrub(e.message());
    let hint = e.hint().map(|h| secrets.scrub(h));
    let out = Error::new(e.kind(), message);
    match hint {
        Some(h) => out.with_hint(h),
        None => out,
    }
}

/// `text` as one escaped line of at most [`QUOTE_CHARS`] characters.
fn quote(text: &str) -> String {
    let text = crate::text::esc(text.trim());
    if text.chars().count() <= QUOTE_CHARS {
        return text;
    }
    let mut s: String = text.chars().take(QUOTE_CHARS).collect();
    s.push('…');
    s
}

#[derive(Deserialize)]
struct Completion {
    choices: Vec<Choice>,
}

#[derive(Deserialize)]
struct Choice {
    message: Message,
    #[serde(default)]
    finish_reason: Option<String>,
}

#[derive(Deserialize)]
struct Message {
    #[serde(default)]
    content: Option<String>,
    #[serde(default)]
    refusal: Option<String>,
}

/// An answer that does not have the shape asked for.
pub fn unreadable(why: impl std::fmt::Display) -> Error {
    Error::other(format!("the model's answer could not be read: {why}"))
        .with_hint("try again, or rephrase the text; a model that supports structured output (json_schema) answers reliably")
}

/// The JSON object of a chat completion's first choice.
pub fn read(body: &[u8]) -> Result<Map<String, Value>> {
    let completion: Completion = serde_json::from_slice(body)
        .map_err(|e| unreadable(format!("it is not a chat completion ({e})")))?;
    let Some(choice) = completion.choices.into_iter().next() else {
        return Err(unreadable("it has no choices"));
    };
    if let Some(refusal) = choice.message.refusal.filter(|r| !r.trim().is_empty()) {
        return Err(
            Error::invalid(format!("the model declined: {}", quote(&refusal))).with_hint(
                "nothing was drafted; describe the change in other words, or file it with `-f`",
            ),
        );
    }
    match choice.finish_reason.as_deref() {
        Some("length") => return Err(unreadable("it was cut short (the model's output limit)")),
        Some("content_filter") => {
            return Err(Error::invalid(
                "the model declined: its provider's content filter stopped the answer",
            ))
        }
        _ => {}
    }
    let Some(content) = choice.message.content else {
        return Err(unreadable("it has no content"));
    };
    match serde_json::from_str::<Value>(unfenced(&content)) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(unreadable("it is not a JSON object")),
        Err(e) => Err(unreadable(format!("it is not JSON ({e})"))),
    }
}

/// Content without the Markdown code fence some services put around JSON.
fn unfenced(content: &str) -> &str {
    let t = content.trim();
    match t.strip_prefix("```") {
        Some(rest) => {
            let rest = rest.strip_prefix("json").unwrap_or(rest);
            rest.strip_suffix("```").unwrap_or(rest).trim()
        }
        None => t,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn completion(message: Value, finish: &str) -> Vec<u8> {
        serde_json::to_vec(&json!({
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        }))
        .unwrap()
    }

    #[test]
    fn reads_the_json_object_of_the_first_choice() {
        let body = completion(
            json!({"role": "assistant", "content": "{\"a\": 1}", "refusal": null}),
            "stop",
        );
        assert_eq!(read(&body).unwrap()["a"], 1);
        let fenced = completion(json!({"content": "```json\n{\"a\": 2}\n```"}), "stop");
        assert_eq!(read(&fenced).unwrap()["a"], 2);
    }

    #[test]
    fn a_refusal_is_quoted_escaped() {
        let body = completion(
            json!({"content": null, "refusal": "I can't\n\u{1b}[31mhelp"}),
            "stop",
        );
        let e = read(&body).unwrap_err();
        assert_eq!(e.kind(), crate::Kind::Invalid);
        assert_eq!(e.message(), "the model declined: I can't\\n\\u{1b}[31mhelp");
    }

    #[test]
    fn what_is_not_one_json_object_cannot_be_read() {
        for (content, why) in [
            ("{\"a\": ", "it is not JSON"),
            ("[1, 2]", "it is not a JSON object"),
            ("sure! here it is", "it is not JSON"),
        ] {
            let e = read(&completion(json!({ "content": content }), "stop")).unwrap_err();
            assert!(
                e.message()
                    .starts_with(&format!("the model's answer could not be read: {why}")),
                "{}",
                e.message()
            );
        }
        let cut = completion(json!({"content": "{\"a\": 1}"}), "length");
        assert!(read(&cut).unwrap_err().message().contains("cut short"));
        assert!(read(b"<html>bad gateway</html>").is_err());
        assert!(read(br#"{"choices": []}"#).is_err());
    }

    #[test]
    fn the_endpoint_keeps_the_path_and_query_and_wants_https() {
        let u = |s: &str| endpoint(&Url::parse(s).unwrap()).map(|u| u.to_string());
        assert_eq!(
            u("https://llm.example.com/v1").unwrap(),
            "https://llm.example.com/v1/chat/completions"
        );
        assert_eq!(
            u("https://llm.example.com/v1/?x=1").unwrap(),
            "https://llm.example.com/v1/chat/completions?x=1"
        );
        assert_eq!(
            u("http://127.0.0.1:8000/v1").unwrap(),
            "http://127.0.0.1:8000/v1/chat/completions"
        );
        assert!(u("http://llm.example.com/v1").is_err());
        assert!(u("https://user:pw@llm.example.com/v1").is_err());
    }

    #[test]
    fn the_body_sends_the_text_only_as_the_user_message() {
        let schema = json!({"type": "object"});
        let b = body(
            "m",
            &Chat {
                system: "rules",
                user: "the text",
                name: "ipr_request",
                schema: &schema,
            },
        );
        assert_eq!(
            b["messages"][0],
            json!({"role": "system", "content": "rules"})
        );
        assert_eq!(
            b["messages"][1],
            json!({"role": "user", "content": "the text"})
        );
        assert_eq!(b["response_format"]["json_schema"]["strict"], true);
    }

    #[test]
    fn it_can_be_called_from_a_blocking_task_of_a_server() {
        let env = "IPR_TEST_LLM_KEY_BLOCKING_TASK";
        std::env::set_var(env, "sk-test-blocking-0123456789");
        // A port nothing listens on: the call fails, without a panic
        // about nested runtimes.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let config = LlmConfig {
            base_url: Url::parse(&format!("http://127.0.0.1:{port}/v1")).unwrap(),
            model: "m".into(),
            api_key_env: env.into(),
            timeout: None,
        };
        let schema = json!({"type": "object"});
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let task = rt.spawn_blocking(move || {
            let chat = Chat {
                system: "s",
                user: "u",
                name: "n",
                schema: &schema,
            };
            ask(&config, &chat).unwrap_err()
        });
        let e = rt.block_on(task).unwrap();
        assert!(
            e.message()
                .starts_with("the LLM at 127.0.0.1: cannot connect"),
            "{}",
            e.message()
        );
    }

    #[test]
    fn an_error_body_is_scrubbed_of_the_key() {
        let s = Secrets::new(&["sk-SECRET-123456".to_string()]);
        let e = refused(
            reqwest::StatusCode::BAD_REQUEST,
            br#"{"error": {"message": "bad key sk-SECRET-123456 given"}}"#,
            "K",
            &s,
        );
        assert!(!e.message().contains("SECRET"), "{}", e.message());
        let e = refused(
            reqwest::StatusCode::UNAUTHORIZED,
            b"sk-SECRET-123456",
            "K",
            &s,
        );
        assert_eq!(e.message(), "refused the API key in K (401 Unauthorized)");
    }
}
