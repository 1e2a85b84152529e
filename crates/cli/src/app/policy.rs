//! The policy the configuration describes: the built-in Rego or the operator's, with the data
//! every process starts from.

use portcullis_config::{Config, Problem};
use portcullis_policy::{PolicyError, PolicyLoader};

/// Parses the configured policy and checks that every entry point evaluates with the
/// configured data.
///
/// # Errors
/// The problem, naming the option and, for a Rego error, the file and line.
pub fn load(config: &Config) -> Result<PolicyLoader, Vec<Problem>> {
    portcullis_services::policy::loader(config).map_err(|error| {
        let path = match &error {
            PolicyError::Directory { .. } | PolicyError::EmptyDirectory { .. } => {
                "policy.rego_directory".to_owned()
            }
            PolicyError::Syntax(_) => "policy.rego_directory".to_owned(),
            PolicyError::Entrypoint { decision, .. } => format!("policy.{decision}_entrypoint"),
            PolicyError::Data(_) | PolicyError::Evaluation { .. } => "policy.data".to_owned(),
        };
        vec![Problem::error(path, error.to_string())]
    })
}
