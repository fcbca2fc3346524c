//! The CloudEvents 1.0 document of SPEC §9, the body of webhooks and the
//! value of Kafka records (structured content mode, JSON format).

use chrono::SecondsFormat;
use serde_json::{json, Value};

use super::Message;

/// `specversion`, `type`, `source`, `id`, `time`, `subject`,
/// `datacontenttype`, and `data {actor, commit, url, request}`.
pub fn document(m: &Message) -> Value {
    let e = &m.event;
    json!({
        "specversion": "1.0",
        "type": e.kind.as_str(),
        "source": m.source,
        "id": e.id,
        "time": e.time.to_rfc3339_opts(SecondsFormat::Secs, true),
        "subject": e.request.to_string(),
        "datacontenttype": "application/json",
        "data": {
            "actor": e.actor,
            "commit": e.commit.to_string(),
            "url": m.url,
            "approvals": { "count": m.approvals.0, "required": m.approvals.1 },
            "request": serde_json::to_value(&e.ticket).unwrap_or(Value::Null),
        },
    })
}

/// The document as the bytes that are sent (and signed).
pub fn to_bytes(m: &Message) -> Vec<u8> {
    serde_json::to_vec(&document(m)).expect("a JSON value serializes")
}
