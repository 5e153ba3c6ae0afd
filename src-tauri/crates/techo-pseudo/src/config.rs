//! The JSON config: `fhirVersion`, ordered `fhirPathRules`, `parameters`.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::PseudoError;

/// The built-in research profile, see [`Config::research_profile`].
pub const RESEARCH_PROFILE_JSON: &str = include_str!("../profiles/research.json");

/// A pseudonymisation config (the Microsoft anonymizer's shape, with Techo's limits).
///
/// Parse it with [`Config::from_json`] (errors name the offending rule); the derived
/// `Deserialize` is there for embedding but reports less context.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Config {
    /// Only `"R4"` is supported.
    #[serde(default = "default_version")]
    pub fhir_version: String,
    /// Ordered rules; for each node the first (lowest-index) rule that matches the node or
    /// one of its ancestors decides.
    pub fhir_path_rules: Vec<Rule>,
    #[serde(default)]
    pub parameters: Parameters,
}

fn default_version() -> String {
    "R4".to_string()
}

/// One rule: a path and a method with its parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Rule {
    /// A path in the supported FHIRPath subset (see the crate docs).
    pub path: String,
    pub method: Method,
    /// Free text for the reader of the config; ignored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// generalize: ordered `{"<condition>": <output>}`; conditions are
    /// `$this <op> <number>` joined by `and` (`<`, `<=`, `>`, `>=`, `=`, `!=`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cases: Option<Map<String, Value>>,
    /// generalize: what happens to values no case matches (default `redact`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub other_values: Option<OtherValues>,
    /// generalize: truncate dates to `year` or `month`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub truncate_to: Option<Granularity>,
    /// generalize with `truncateTo: year`: the birth year is raised so that nobody appears
    /// older than `maxAge + 1` at the reference date (the HIPAA "90 or older" bucket for 89).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_age: Option<u32>,
    /// substitute: the replacement (any JSON value; replaces the whole matched node).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replace_with: Option<Value>,
    /// perturb: width of the noise interval (noise is uniform in `[-span/2, span/2]`,
    /// times `|value|` for `proportional`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub span: Option<f64>,
    /// perturb: `fixed` (default) or `proportional`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub range_type: Option<RangeType>,
    /// perturb: decimals kept (default 2, at most 18).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub round_to: Option<u32>,
}

impl Rule {
    /// A rule with just a path and a method.
    pub fn new(path: &str, method: Method) -> Rule {
        Rule {
            path: path.to_string(),
            method,
            description: None,
            cases: None,
            other_values: None,
            truncate_to: None,
            max_age: None,
            replace_with: None,
            span: None,
            range_type: None,
            round_to: None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Method {
    Redact,
    Keep,
    DateShift,
    CryptoHash,
    Generalize,
    Substitute,
    Perturb,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum OtherValues {
    Redact,
    Keep,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Granularity {
    Year,
    Month,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum RangeType {
    Fixed,
    Proportional,
}

/// Global parameters. Keys (`dateShiftKey`, `cryptoHashKey`, `encryptKey`) are refused:
/// every keyed operation uses the per-vault research secret given to the pseudonymiser.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Parameters {
    /// Dates move by a per-person shift in `[-range, +range]` days, never 0 (default 50).
    #[serde(default = "default_range")]
    pub date_shift_range: u32,
    /// `redact` on an Age keeps ages of 89 and below.
    #[serde(default)]
    pub enable_partial_ages_for_redact: bool,
    /// `redact` on a date keeps its year (a birthDate of someone over 89 still goes).
    #[serde(default)]
    pub enable_partial_dates_for_redact: bool,
    /// `redact` on `Address.postalCode` keeps its first 3 digits.
    #[serde(default)]
    pub enable_partial_zip_codes_for_redact: bool,
    /// 3-digit prefixes that become `000` under partial postal-code redaction.
    #[serde(default)]
    pub restricted_zip_code_tabulation_areas: Vec<String>,
}

fn default_range() -> u32 {
    50
}

impl Default for Parameters {
    fn default() -> Self {
        Parameters {
            date_shift_range: default_range(),
            enable_partial_ages_for_redact: false,
            enable_partial_dates_for_redact: false,
            enable_partial_zip_codes_for_redact: false,
            restricted_zip_code_tabulation_areas: Vec::new(),
        }
    }
}

impl Config {
    /// Parses a config; errors name the rule index and the reason.
    /// (Only the shape is checked here; paths and method parameters are checked by
    /// [`crate::Pseudonymiser::new`].)
    pub fn from_json(text: &str) -> Result<Config, PseudoError> {
        let v: Value = serde_json::from_str(text).map_err(|e| PseudoError::ConfigSyntax(e.to_string()))?;
        Config::from_value(v)
    }

    /// [`Config::from_json`] for UTF-8 bytes.
    pub fn from_slice(bytes: &[u8]) -> Result<Config, PseudoError> {
        let text = std::str::from_utf8(bytes).map_err(|_| PseudoError::ConfigSyntax("not UTF-8".into()))?;
        Config::from_json(text)
    }

    /// [`Config::from_json`] for an already parsed value.
    pub fn from_value(v: Value) -> Result<Config, PseudoError> {
        let Value::Object(mut top) = v else {
            return Err(PseudoError::ConfigSyntax("the config must be a JSON object".into()));
        };
        let rules = match top.remove("fhirPathRules") {
            Some(Value::Array(a)) => a,
            Some(_) => return Err(PseudoError::ConfigSyntax("`fhirPathRules` must be an array".into())),
            None => return Err(PseudoError::ConfigSyntax("`fhirPathRules` is missing".into())),
        };
        let mut parsed = Vec::with_capacity(rules.len());
        for (index, r) in rules.into_iter().enumerate() {
            let path = r.get("path").and_then(Value::as_str).unwrap_or("?").to_string();
            let rule: Rule = serde_json::from_value(r).map_err(|e| PseudoError::Rule { index, path, reason: e.to_string() })?;
            parsed.push(rule);
        }
        if let Some(Value::Object(p)) = top.get("parameters") {
            for k in ["dateShiftKey", "cryptoHashKey", "encryptKey"] {
                if p.contains_key(k) {
                    return Err(PseudoError::Config(format!(
                        "parameters.{k}: keys are never read from the config, the vault's research secret is used; remove it"
                    )));
                }
            }
        }
        top.insert("fhirPathRules".into(), Value::Array(Vec::new()));
        let mut cfg: Config = serde_json::from_value(Value::Object(top)).map_err(|e| PseudoError::Config(e.to_string()))?;
        cfg.fhir_path_rules = parsed;
        Ok(cfg)
    }

    /// The built-in research profile (`profiles/research.json`, documented in the crate docs).
    pub fn research_profile() -> Config {
        match Config::from_json(RESEARCH_PROFILE_JSON) {
            Ok(c) => c,
            // The file is part of the crate and covered by tests.
            Err(e) => panic!("built-in research profile is invalid: {e}"),
        }
    }

    /// The config as pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}
