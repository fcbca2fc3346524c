//! The monthly cost of a change, from infracost (SPEC §4a): what
//! `spec.plan.cost` stores and `ipr plan analyze --cost` shows.
//!
//! The input is the output of `infracost breakdown --format json` (format
//! version 0.x, `schema/infracost.schema.json` of infracost). Of it, ipr
//! reads the top-level totals: `totalMonthlyCost` is the cost after the
//! change, `pastTotalMonthlyCost` the cost before it (absent or null when
//! infracost had no baseline, as for a directory rather than a plan: then
//! 0), and `currency`. Costs are decimal strings (`"123.45"`) or null.
//! Everything else in the document is skipped unread.
//!
//! A document that is not infracost output, a cost that is not a
//! non-negative decimal number, and a project infracost could not estimate
//! (an error in its `metadata.errors`, which infracost counts as 0) are
//! refused with [`Kind::Invalid`](crate::Kind::Invalid): a cost too low
//! would let a request pass rules such as `monthlyCostIncreaseAbove`.

use serde::{Deserialize, Deserializer};

use super::json_kind;
use crate::error::{Error, Result};

/// Infracost JSON format major version this module reads (`"0.2"` today).
const SUPPORTED_MAJOR: &str = "0";

/// Infracost's currency when a document names none.
const DEFAULT_CURRENCY: &str = "USD";

const HINT_INFRACOST: &str =
    "write it with `infracost breakdown --path plan.json --format json --out-file infracost.json`";

pub use crate::model::Cost;

pub(crate) use crate::model::{amount, signed_amount};

/// The top level of infracost's JSON output, as far as ipr reads it.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Raw {
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    currency: Option<String>,
    #[serde(default)]
    projects: Option<Vec<RawProject>>,
    /// `None` when absent, `Some(None)` when null.
    #[serde(default, deserialize_with = "present")]
    total_monthly_cost: Option<Option<Amount>>,
    #[serde(default)]
    past_total_monthly_cost: Option<Amount>,
}

#[derive(Deserialize)]
struct RawProject {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    metadata: Option<RawProjectMetadata>,
}

#[derive(Deserialize)]
struct RawProjectMetadata {
    #[serde(default)]
    errors: Option<Vec<RawDiag>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawDiag {
    #[serde(default)]
    message: Option<String>,
    /// Infracost sets it on every entry of `errors`; an entry without it is
    /// taken as an error.
    #[serde(default)]
    is_error: Option<bool>,
}

/// A cost as infracost writes it: a decimal string (a JSON number is read
/// too), checked by [`Amount::value`].
#[derive(Deserialize)]
#[serde(untagged)]
enum Amount {
    Text(String),
    Number(serde_json::Number),
    Other(serde_json::Value),
}

impl Amount {
    /// The amount as a finite, non-negative number, or why not.
    fn value(&self) -> std::result::Result<f64, String> {
        let text = match self {
            Amount::Text(s) => s.clone(),
            Amount::Number(n) => n.to_string(),
            Amount::Other(v) => return Err(format!("{v} is not a decimal number")),
        };
        if !is_decimal(&text) {
            return Err(format!("{:?} is not a decimal number", text));
        }
        let value: f64 = text
            .parse()
            .map_err(|_| format!("{text:?} is not a decimal number"))?;
        if !value.is_finite() {
            return Err(format!("{text:?} is out of range"));
        }
        if value < 0.0 {
            return Err(format!("{text} is negative"));
        }
        // `-0` is 0, shown without its sign.
        Ok(value.abs())
    }
}

/// `123`, `123.45`, `-1.5`, `1e3` as serde_json writes large numbers; not
/// `inf`, `NaN`, `0x10`, `1,000` or an empty string, which `f64::from_str`
/// partly accepts.
fn is_decimal(s: &str) -> bool {
    let s = s.strip_prefix(['-', '+']).unwrap_or(s);
    let (mantissa, exponent) = match s.split_once(['e', 'E']) {
        Some((m, e)) => (m, Some(e)),
        None => (s, None),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = !(int.is_empty() && frac.is_empty())
        && digits(int)
        && digits(frac)
        && !mantissa.ends_with('.');
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['-', '+']).unwrap_or(e);
        !e.is_empty() && digits(e)
    });
    mantissa_ok && exponent_ok
}

/// Tell an absent field (`None`) from a null one (`Some(None)`).
fn present<'de, D, T>(d: D) -> std::result::Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// Read the output of `infracost breakdown --format json` (also `infracost
/// diff --format json`, which has the same totals). `origin` names the
/// input in errors: the file name, or `-`.
pub fn parse_cost(json: &[u8], origin: &str) -> Result<Cost> {
    let refuse =
        |message: String| Error::invalid(format!("{origin}: {message}")).with_hint(HINT_INFRACOST);
    let text = json.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(json);
    let Some(&first) = text.iter().find(|b| !b.is_ascii_whitespace()) else {
        return Err(refuse(
            "empty input: expected the output of `infracost breakdown --format json`".into(),
        ));
    };
    // serde would read a JSON array into a struct field by field; infracost
    // output is always an object.
    if first != b'{' {
        return Err(refuse(
            match serde_json::from_slice::<serde_json::Value>(text) {
                Ok(v) => format!(
                    "not infracost JSON output: expected a JSON object, found {}",
                    json_kind(&v)
                ),
                Err(e) => format!("not valid JSON: {e}"),
            },
        ));
    }
    let raw: Raw = serde_json::from_slice(text).map_err(|e| {
        if e.is_syntax() || e.is_eof() {
            refuse(format!("not valid JSON: {e}"))
        } else {
            refuse(format!("not infracost JSON output: {e}"))
        }
    })?;

    let (Some(projects), Some(total)) = (&raw.projects, &raw.total_monthly_cost) else {
        let missing = if raw.projects.is_none() {
            "projects"
        } else {
            "totalMonthlyCost"
        };
        return Err(refuse(format!(
            "not infracost JSON output: no `{missing}` field"
        )));
    };
    if let Some(version) = &raw.version {
        let major = version.split('.').next().unwrap_or_default();
        if major != SUPPORTED_MAJOR {
            return Err(Error::invalid(format!(
                "{origin}: unsupported infracost JSON version `{}`: ipr reads {SUPPORTED_MAJOR}.x",
                version.escape_debug()
            ))
            .with_hint("upgrade ipr, or write the JSON with an infracost release whose JSON version is 0.x"));
        }
    }
    for project in projects {
        let errors = project
            .metadata
            .as_ref()
            .and_then(|m| m.errors.as_deref())
            .unwrap_or_default();
        if let Some(error) = errors.iter().find(|e| e.is_error.unwrap_or(true)) {
            let name = project.name.as_deref().unwrap_or("(unnamed)");
            let why = error.message.as_deref().unwrap_or("no message");
            return Err(Error::invalid(format!(
                "{origin}: infracost could not estimate project {name}: {why}"
            ))
            .with_hint(
                "fix what infracost reports and run `infracost breakdown` again; an estimate with errors counts missing resources as free",
            ));
        }
    }
    let Some(total) = total else {
        return Err(refuse(
            "infracost estimated no cost: `totalMonthlyCost` is null (no projects?)".into(),
        ));
    };
    let monthly_after = total
        .value()
        .map_err(|e| refuse(format!("`totalMonthlyCost`: {e}")))?;
    let monthly_before = match &raw.past_total_monthly_cost {
        None => 0.0,
        Some(past) => past
            .value()
            .map_err(|e| refuse(format!("`pastTotalMonthlyCost`: {e}")))?,
    };
    let currency = match raw.currency.as_deref().map(str::trim) {
        None | Some("") => DEFAULT_CURRENCY.to_owned(),
        Some(c) if c.len() == 3 && c.bytes().all(|b| b.is_ascii_alphabetic()) => {
            c.to_ascii_uppercase()
        }
        Some(c) => {
            return Err(refuse(format!(
                "`currency` {:?} is not an ISO 4217 code such as USD or EUR",
                c
            )))
        }
    };
    Ok(Cost {
        monthly_before,
        monthly_after,
        currency,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Kind;

    const BASELINE: &[u8] = include_bytes!("../../fixtures/infracost/baseline.json");
    const NO_BASELINE: &[u8] = include_bytes!("../../fixtures/infracost/no-baseline.json");
    const EUR: &[u8] = include_bytes!("../../fixtures/infracost/eur.json");
    const MALFORMED: &[u8] = include_bytes!("../../fixtures/infracost/malformed.json");
    const PLAN: &[u8] = include_bytes!("../../fixtures/plans/create.json");

    fn parse(json: &[u8]) -> Cost {
        parse_cost(json, "infracost.json").unwrap_or_else(|e| panic!("{}", e.message()))
    }

    fn refused(json: &[u8]) -> Error {
        let e = parse_cost(json, "infracost.json").expect_err("must be refused");
        assert_eq!(e.kind(), Kind::Invalid, "{}", e.message());
        assert!(
            e.message().starts_with("infracost.json: "),
            "names the file: {}",
            e.message()
        );
        e
    }

    /// `baseline.json` with `field` (a top-level key) set to `value`.
    fn with(field: &str, value: serde_json::Value) -> Vec<u8> {
        let mut doc: serde_json::Value = serde_json::from_slice(BASELINE).unwrap();
        doc[field] = value;
        serde_json::to_vec(&doc).unwrap()
    }

    /// `baseline.json` without the top-level key `field`.
    fn without(field: &str) -> Vec<u8> {
        let mut doc: serde_json::Value = serde_json::from_slice(BASELINE).unwrap();
        doc.as_object_mut().unwrap().remove(field).unwrap();
        serde_json::to_vec(&doc).unwrap()
    }

    #[test]
    fn a_breakdown_with_a_baseline_has_both_costs() {
        let cost = parse(BASELINE);
        assert_eq!(
            cost,
            Cost {
                monthly_before: 120.45,
                monthly_after: 230.1,
                currency: "USD".into()
            }
        );
        assert!((cost.increase() - 109.65).abs() < 1e-9);
        assert_eq!(cost.to_string(), "120.45 → 230.10 USD/month (+109.65)");
    }

    #[test]
    fn without_a_baseline_the_cost_before_is_zero() {
        // pastTotalMonthlyCost null, as infracost writes it for a directory.
        let cost = parse(NO_BASELINE);
        assert_eq!(cost.monthly_before, 0.0);
        assert_eq!(cost.monthly_after, 230.1);
        assert_eq!(cost.to_string(), "0.00 → 230.10 USD/month (+230.10)");
        // Absent, as in infracost releases before the diff totals.
        let cost = parse(&without("pastTotalMonthlyCost"));
        assert_eq!((cost.monthly_before, cost.monthly_after), (0.0, 230.1));
    }

    #[test]
    fn the_currency_is_infracosts() {
        let cost = parse(EUR);
        assert_eq!(cost.currency, "EUR");
        assert_eq!((cost.monthly_before, cost.monthly_after), (0.0, 29.41056));
        assert_eq!(cost.to_string(), "0.00 → 29.41 EUR/month (+29.41)");
        assert_eq!(parse(&with("currency", "eur".into())).currency, "EUR");
        assert_eq!(parse(&with("currency", "".into())).currency, "USD");
        assert_eq!(parse(&without("currency")).currency, "USD");
        let e = refused(&with("currency", "US dollars".into()));
        assert_eq!(
            e.message(),
            "infracost.json: `currency` \"US dollars\" is not an ISO 4217 code such as USD or EUR"
        );
        refused(&with("currency", "E\u{1b}R".into()));
    }

    #[test]
    fn a_malformed_file_is_refused_with_a_hint() {
        let e = refused(MALFORMED);
        assert!(
            e.message()
                .starts_with("infracost.json: not valid JSON: EOF while parsing"),
            "{}",
            e.message()
        );
        assert!(e.hint().unwrap().contains("infracost breakdown"));
        let e = refused(b"{\"version\": \"0.2\", ");
        assert!(e.message().contains("not valid JSON"), "{}", e.message());
        let e = refused(b" \n");
        assert!(
            e.message().starts_with("infracost.json: empty input"),
            "{}",
            e.message()
        );
        let e = refused(b"<html>502 Bad Gateway</html>");
        assert!(e.message().contains("not valid JSON"), "{}", e.message());
    }

    #[test]
    fn what_is_not_infracost_output_is_refused() {
        // The plan itself, given where its cost was meant.
        let e = refused(PLAN);
        assert_eq!(
            e.message(),
            "infracost.json: not infracost JSON output: no `projects` field"
        );
        let e = refused(br#"{"version": "0.2", "projects": []}"#);
        assert_eq!(
            e.message(),
            "infracost.json: not infracost JSON output: no `totalMonthlyCost` field"
        );
        let e = refused(br#"[{"totalMonthlyCost": "1"}]"#);
        assert_eq!(
            e.message(),
            "infracost.json: not infracost JSON output: expected a JSON object, found an array"
        );
        let e = refused(&with("projects", serde_json::json!({"a": 1})));
        assert!(
            e.message()
                .starts_with("infracost.json: not infracost JSON output: invalid type: map"),
            "{}",
            e.message()
        );
        let e = refused(&with("version", "1.0".into()));
        assert_eq!(
            e.message(),
            "infracost.json: unsupported infracost JSON version `1.0`: ipr reads 0.x"
        );
        assert!(e.hint().unwrap().contains("upgrade ipr"));
    }

    #[test]
    fn a_null_total_is_no_estimate() {
        let e = refused(&with("totalMonthlyCost", serde_json::Value::Null));
        assert_eq!(
            e.message(),
            "infracost.json: infracost estimated no cost: `totalMonthlyCost` is null (no projects?)"
        );
    }

    #[test]
    fn a_cost_must_be_a_non_negative_decimal() {
        for bad in [
            "$230.10",
            "1,000.00",
            "230.10 USD",
            "NaN",
            "inf",
            "",
            "0x10",
            "1.",
            ".5e",
        ] {
            let e = refused(&with("totalMonthlyCost", bad.into()));
            assert_eq!(
                e.message(),
                format!("infracost.json: `totalMonthlyCost`: {bad:?} is not a decimal number"),
            );
        }
        let e = refused(&with("pastTotalMonthlyCost", true.into()));
        assert_eq!(
            e.message(),
            "infracost.json: `pastTotalMonthlyCost`: true is not a decimal number"
        );
        let e = refused(&with("pastTotalMonthlyCost", "-12.5".into()));
        assert_eq!(
            e.message(),
            "infracost.json: `pastTotalMonthlyCost`: -12.5 is negative"
        );
        let e = refused(&with("totalMonthlyCost", "1e999".into()));
        assert_eq!(
            e.message(),
            "infracost.json: `totalMonthlyCost`: \"1e999\" is out of range"
        );
        // A JSON number, or a decimal with more places than f64 keeps, is read.
        assert_eq!(
            parse(&with("totalMonthlyCost", 230.1.into())).monthly_after,
            230.1
        );
        let precise = parse(&with("totalMonthlyCost", "0.315205479452054654123".into()));
        assert!((precise.monthly_after - 0.315_205_479_452_054_6).abs() < 1e-15);
        assert_eq!(
            parse(&with("totalMonthlyCost", "0".into())).monthly_after,
            0.0
        );
    }

    /// An estimate with a failed project counts that project as free: a
    /// cost too low to trust.
    #[test]
    fn a_project_infracost_could_not_estimate_is_refused() {
        let mut doc: serde_json::Value = serde_json::from_slice(BASELINE).unwrap();
        doc["projects"][0]["metadata"]["errors"] = serde_json::json!([{
            "code": 102,
            "message": "Error loading Terraform modules: failed to parse file main.tf",
            "data": null,
            "isError": true
        }]);
        let e = refused(&serde_json::to_vec(&doc).unwrap());
        assert_eq!(
            e.message(),
            "infracost.json: infracost could not estimate project platform/gitops/payments/plan.json: Error loading Terraform modules: failed to parse file main.tf"
        );
        // A diagnostic that is not an error does not block.
        doc["projects"][0]["metadata"]["errors"][0]["isError"] = false.into();
        assert_eq!(
            parse(&serde_json::to_vec(&doc).unwrap()).monthly_after,
            230.1
        );
    }

    #[test]
    fn cost_serializes_camel_case_and_refuses_unknown_fields() {
        let cost = parse(BASELINE);
        let v = serde_json::to_value(&cost).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"monthlyBefore": 120.45, "monthlyAfter": 230.1, "currency": "USD"})
        );
        let back: Cost = serde_json::from_value(v).unwrap();
        assert_eq!(back, cost);
        let extra =
            r#"{"monthlyBefore": 1, "monthlyAfter": 2, "currency": "USD", "monthlyDiff": 1}"#;
        assert!(serde_json::from_str::<Cost>(extra).is_err());
    }

    #[test]
    fn amounts_are_shown_to_the_cent() {
        assert_eq!(amount(1361.3075), "1361.31");
        assert_eq!(signed_amount(230.1 - 120.45), "+109.65");
        assert_eq!(signed_amount(-20.0), "-20.00");
        assert_eq!(signed_amount(-0.001), "+0.00");
        assert_eq!(signed_amount(0.0), "+0.00");
        let saving = Cost {
            monthly_before: 2045.92,
            monthly_after: 1303.28,
            currency: "USD".into(),
        };
        assert_eq!(saving.to_string(), "2045.92 → 1303.28 USD/month (-742.64)");
    }

    #[test]
    fn decimals_are_what_infracost_writes() {
        for ok in [
            "0",
            "12",
            "12.5",
            "0.0013698630136986",
            "-3",
            "1e-7",
            "2E+3",
        ] {
            assert!(is_decimal(ok), "{ok}");
        }
        for bad in [
            "", "-", ".", "1.", "1.2.3", "e5", "1e", "inf", "NaN", "1_000", " 1",
        ] {
            assert!(!is_decimal(bad), "{bad}");
        }
    }
}
