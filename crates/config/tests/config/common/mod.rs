//! Helpers shared by the integration tests.

#![allow(
    dead_code,
    reason = "each test file uses a different subset of the helpers"
)]

use std::{collections::HashMap, path::PathBuf};

use portcullis_config::{Loaded, Problems, load_documents};

/// An environment holding exactly `pairs`.
pub fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
    let vars: HashMap<String, String> = pairs
        .iter()
        .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
        .collect();
    move |name| vars.get(name).cloned()
}

/// The smallest valid configuration: the two required sections.
pub const MINIMAL: &str = r#"
matrix:
  secret: shared-secret
secrets:
  encryption: 0000111122223333444455556666777788889999aaaabbbbccccddddeeeeffff
  keys:
    - key_file: keys/rsa.pem
"#;

/// Loads YAML documents, in merge order, with the environment `pairs`.
pub fn load_yaml(documents: &[&str], pairs: &[(&str, &str)]) -> Result<Loaded, Problems> {
    let documents: Vec<(String, String)> = documents
        .iter()
        .enumerate()
        .map(|(i, text)| (format!("config-{i}.yaml"), (*text).to_owned()))
        .collect();
    load_documents(&documents, PathBuf::from("/etc/mas"), &env(pairs))
}

/// The problems of a configuration expected not to load, rendered one a line.
pub fn rendered_problems(result: Result<Loaded, Problems>) -> Vec<String> {
    match result {
        Ok(loaded) => panic!(
            "expected the configuration to be refused, it loaded with warnings {:?}",
            loaded.warnings
        ),
        Err(problems) => problems.0.iter().map(ToString::to_string).collect(),
    }
}

/// The configuration of documents expected to load.
pub fn loaded(result: Result<Loaded, Problems>) -> Loaded {
    match result {
        Ok(loaded) => loaded,
        Err(problems) => panic!("expected the configuration to load, got:\n{problems}"),
    }
}

/// Path of a fixture file.
pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}
