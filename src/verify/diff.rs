//! Structural differences between two values, leaf by leaf, for the
//! messages of violations.

use std::collections::HashSet;

use serde::Serialize;

/// `key.path: actual (label expected)` for each leaf that differs.
pub(super) fn differences<T: Serialize>(
    root: &str,
    expected: &T,
    actual: &T,
    label: &str,
) -> Vec<String> {
    let x = serde_json::to_value(expected).unwrap_or_default();
    let a = serde_json::to_value(actual).unwrap_or_default();
    let mut out = Vec::new();
    diff_values(root, &x, &a, label, &mut out);
    out
}

fn diff_values(
    at: &str,
    x: &serde_json::Value,
    a: &serde_json::Value,
    label: &str,
    out: &mut Vec<String>,
) {
    use serde_json::Value;
    if x == a {
        return;
    }
    match (x, a) {
        (Value::Object(xm), Value::Object(am)) => {
            let mut keys: Vec<&String> = xm.keys().chain(am.keys()).collect();
            keys.dedup();
            let mut seen = HashSet::new();
            for k in keys {
                if !seen.insert(k) {
                    continue;
                }
                let null = Value::Null;
                diff_values(
                    &format!("{at}.{k}"),
                    xm.get(k).unwrap_or(&null),
                    am.get(k).unwrap_or(&null),
                    label,
                    out,
                );
            }
        }
        (Value::Array(xs), Value::Array(as_)) if xs.len() == as_.len() => {
            for (i, (xv, av)) in xs.iter().zip(as_).enumerate() {
                diff_values(&format!("{at}[{i}]"), xv, av, label, out);
            }
        }
        _ => {
            let show = |v: &Value| match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            out.push(format!("{at}: {} ({label} {})", show(a), show(x)));
        }
    }
}
