//! Errors. Messages name the config rule or the problem, never resource content.

/// Everything [`crate::Pseudonymiser`] and [`crate::Config`] can fail with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PseudoError {
    /// The config text is not JSON of the expected shape.
    #[error("pseudonymisation config is not valid: {0}")]
    ConfigSyntax(String),
    /// The config parses but a top-level setting is wrong (`fhirVersion`, `parameters`).
    #[error("pseudonymisation config: {0}")]
    Config(String),
    /// One rule of `fhirPathRules` is wrong; `index` counts from 0.
    #[error("pseudonymisation config, rule {index} (path `{path}`): {reason}")]
    Rule { index: usize, path: String, reason: String },
    /// The input is not a JSON object.
    #[error("the resource is not a JSON object")]
    NotAnObject,
    /// The input object has no non-empty string `resourceType`.
    #[error("the resource has no resourceType")]
    NoResourceType,
}

impl PseudoError {
    /// A stable machine-readable code, for the IPC layer and logs.
    pub fn code(&self) -> &'static str {
        match self {
            PseudoError::ConfigSyntax(_) => "pseudo.config_syntax",
            PseudoError::Config(_) => "pseudo.config_invalid",
            PseudoError::Rule { .. } => "pseudo.rule_invalid",
            PseudoError::NotAnObject => "pseudo.not_an_object",
            PseudoError::NoResourceType => "pseudo.no_resource_type",
        }
    }
}
