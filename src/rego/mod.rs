//! Policy as code: Rego policies, evaluated with regorus (Microsoft's Rego
//! interpreter), that block or flag a Terraform plan request.
//!
//! The convention is conftest's. Each `.rego` file declares a package (Rego
//! v1 syntax: `deny contains msg if { … }`); in every package, the members of
//! the set `deny` block the request and the members of `warn` are only
//! shown. A member is a message string, or an object with a `msg` string;
//! anything else is shown as JSON. The input document is [`input`]:
//! `{"plan": <terraform show -json>, "request": <the ticket as JSON>}`.
//!
//! [`test`] runs policies against fixture plans (`ipr policy test`).

pub mod test;

use serde::Serialize;

use crate::error::{Error, Result};

/// One policy file: its path (named in messages) and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    pub path: String,
    pub text: String,
}

pub use crate::error::Finding;

/// What the policies say about one input.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Verdict {
    pub deny: Vec<Finding>,
    pub warn: Vec<Finding>,
}

/// A package and the files that declare it.
#[derive(Debug, Clone)]
struct Package {
    /// `data.ipr.rds_public`, the query prefix of its rules.
    path: String,
    files: Vec<String>,
}

/// Policies loaded and checked, ready to evaluate.
pub struct PolicySet {
    engine: regorus::Engine,
    packages: Vec<Package>,
}

impl PolicySet {
    /// Parse every source. A syntax error is an invalid-input error naming
    /// the file, line and column.
    pub fn load(sources: &[Source]) -> Result<PolicySet> {
        let mut engine = regorus::Engine::new();
        engine.set_gather_prints(true);
        let mut packages: Vec<Package> = Vec::new();
        for s in sources {
            let path = engine
                .add_policy(s.path.clone(), s.text.clone())
                .map_err(|e| policy_error(&s.path, &e))?;
            match packages.iter_mut().find(|p| p.path == path) {
                Some(p) => p.files.push(s.path.clone()),
                None => packages.push(Package {
                    path,
                    files: vec![s.path.clone()],
                }),
            }
        }
        Ok(PolicySet { engine, packages })
    }

    pub fn is_empty(&self) -> bool {
        self.packages.is_empty()
    }

    /// Whether the file at `path` declares a `deny` or `warn` rule (a file
    /// without either is a library that other policies import).
    pub fn declares_rules(&self, path: &str) -> Result<bool> {
        let mut any = false;
        for rule in ["deny", "warn"] {
            any |= self
                .engine
                .has_declared_rule_rooted_at(path, rule)
                .map_err(|e| policy_error(path, &e))?;
        }
        Ok(any)
    }

    /// Evaluate `deny` and `warn` of every package against `input_json`.
    pub fn evaluate(&mut self, input_json: &str) -> Result<Verdict> {
        self.evaluate_where(input_json, |_| true)
    }

    /// Evaluate only the package declared by the file at `path`.
    pub fn evaluate_file(&mut self, input_json: &str, path: &str) -> Result<Verdict> {
        self.evaluate_where(input_json, |p| p.files.iter().any(|f| f == path))
    }

    fn evaluate_where(
        &mut self,
        input_json: &str,
        keep: impl Fn(&Package) -> bool,
    ) -> Result<Verdict> {
        self.engine
            .set_input_json(input_json)
            .map_err(|e| Error::invalid(format!("policy input is not JSON: {e}")))?;
        let mut verdict = Verdict::default();
        let packages: Vec<Package> = self.packages.iter().filter(|p| keep(p)).cloned().collect();
        for package in &packages {
            let policy = package.files.join(", ");
            for (rule, out) in [("deny", &mut verdict.deny), ("warn", &mut verdict.warn)] {
                let query = format!("{}.{rule}", package.path);
                let results = self
                    .engine
                    .eval_query(query, false)
                    .map_err(|e| policy_error(&policy, &e))?;
                for r in &results.result {
                    for e in &r.expressions {
                        for message in messages(&e.value, rule)? {
                            out.push(Finding {
                                policy: policy.clone(),
                                message,
                            });
                        }
                    }
                }
            }
        }
        // Prints are gathered so they do not interleave with ipr's output.
        let _ = self.engine.take_prints();
        Ok(verdict)
    }
}

/// The input document policies see: `{"plan": …, "request": …}`, built
/// without parsing the (possibly large) plan a second time.
pub fn input(plan_json: &[u8], request: &serde_json::Value) -> Result<String> {
    let plan = plan_json.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(plan_json);
    let plan = std::str::from_utf8(plan)
        .map_err(|_| Error::invalid("plan JSON is not valid UTF-8"))?
        .trim();
    let plan = if plan.is_empty() { "null" } else { plan };
    let request = serde_json::to_string(request).expect("JSON values always serialize");
    Ok(format!("{{\"plan\":{plan},\"request\":{request}}}"))
}

/// The messages of a `deny`/`warn` value: a set (or array) of strings or
/// `{"msg": …}` objects; `true` stands for one message naming the rule.
fn messages(value: &regorus::Value, rule: &str) -> Result<Vec<String>> {
    let json = serde_json::to_value(value)
        .map_err(|e| Error::invalid(format!("{rule}: value cannot be read: {e}")))?;
    let one = |v: &serde_json::Value| match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Object(o) => match o.get("msg") {
            Some(serde_json::Value::String(s)) => s.clone(),
            _ => v.to_string(),
        },
        other => other.to_string(),
    };
    Ok(match &json {
        serde_json::Value::Array(items) => items.iter().map(one).collect(),
        serde_json::Value::Bool(true) => vec![format!("`{rule}` is true")],
        serde_json::Value::Bool(false) | serde_json::Value::Null => Vec::new(),
        other => vec![one(other)],
    })
}

/// regorus reports errors as a source excerpt; ipr wants one line:
/// `FILE:LINE:COL: message`.
fn policy_error(origin: &str, e: &impl std::fmt::Display) -> Error {
    let text = e.to_string();
    let location = text
        .lines()
        .find_map(|l| l.trim_start().strip_prefix("--> "))
        .map(str::trim);
    let message = text
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix("error: "))
        .map(str::trim);
    let line = match (location, message) {
        (Some(at), Some(m)) => format!("{at}: {m}"),
        _ => {
            let flat: Vec<&str> = text
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .collect();
            format!("{origin}: {}", flat.join(" "))
        }
    };
    Error::invalid(format!("policy {line}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(files: &[(&str, &str)]) -> Result<PolicySet> {
        let sources: Vec<Source> = files
            .iter()
            .map(|(p, t)| Source {
                path: p.to_string(),
                text: t.to_string(),
            })
            .collect();
        PolicySet::load(&sources)
    }

    #[test]
    fn deny_and_warn_of_every_package() {
        let mut s = set(&[
            (
                "a.rego",
                "package a\ndeny contains m if { input.plan.x == 1; m := \"x is 1\" }\nwarn contains {\"msg\": \"obj\"} if { true }\n",
            ),
            ("b.rego", "package b\ndeny contains \"always\" if { true }\n"),
            ("lib.rego", "package lib\nhelper(x) := x + 1\n"),
        ])
        .unwrap();
        let input = input(br#"{"x": 1}"#, &serde_json::json!({"id": 1})).unwrap();
        let v = s.evaluate(&input).unwrap();
        let deny: Vec<String> = v.deny.iter().map(|f| f.to_string()).collect();
        assert_eq!(deny, ["x is 1 (a.rego)", "always (b.rego)"]);
        assert_eq!(v.warn[0].message, "obj");
        let only_b = s.evaluate_file(&input, "b.rego").unwrap();
        assert_eq!(only_b.deny.len(), 1);
        assert!(only_b.warn.is_empty());
        assert!(s.declares_rules("a.rego").unwrap());
        assert!(!s.declares_rules("lib.rego").unwrap());
    }

    #[test]
    fn errors_are_one_line_with_file_and_line() {
        let e = set(&[(
            "p/bad.rego",
            "package x\n\ndeny contains m if {\n  m := \n}\n",
        )])
        .err()
        .unwrap();
        assert_eq!(e.kind(), crate::error::Kind::Invalid);
        assert!(
            e.message().starts_with("policy p/bad.rego:4:"),
            "{}",
            e.message()
        );
        assert!(!e.message().contains('\n'));
        let mut s = set(&[("d.rego", "package d\ndeny contains x if { x := 1/0 }\n")]).unwrap();
        let e = s.evaluate("{}").unwrap_err();
        assert!(
            e.message().starts_with("policy d.rego:2:"),
            "{}",
            e.message()
        );
        assert!(e.message().ends_with("divide by zero"), "{}", e.message());
    }

    #[test]
    fn input_splices_the_plan() {
        let i = input(
            b"\xEF\xBB\xBF {\"a\": [1]}\n",
            &serde_json::json!({"k": "v"}),
        )
        .unwrap();
        let v: serde_json::Value = serde_json::from_str(&i).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"plan": {"a": [1]}, "request": {"k": "v"}})
        );
    }
}
