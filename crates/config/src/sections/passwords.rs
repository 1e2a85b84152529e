//! `passwords`: local password login, the hashing schemes and the strength required.

use std::{collections::HashSet, path::PathBuf};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::{
    path::{index, join},
    problem::Problem,
    secret::{self, Presence, Secret, SecretSource},
    sections::default_true,
};

/// Password hashing algorithms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum HashingAlgorithm {
    /// Argon2id (the default).
    Argon2id,
    /// bcrypt, as Synapse uses.
    Bcrypt,
    /// PBKDF2.
    Pbkdf2,
}

/// One versioned hashing scheme. The highest version hashes new passwords; the others still
/// verify old hashes, which are upgraded at the next login.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct HashingScheme {
    /// Version number, unique among the schemes.
    pub version: u16,

    /// Algorithm of this version.
    pub algorithm: HashingAlgorithm,

    /// bcrypt cost; 12 when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost: Option<u32>,

    /// A pepper mixed into the hashes, so that a leaked database alone cannot be brute-forced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<Secret>,

    /// File holding the pepper.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_file: Option<PathBuf>,

    /// Normalise passwords to Unicode NFKC before hashing.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unicode_normalization: bool,
}

impl HashingScheme {
    /// Where the pepper comes from, if there is one.
    #[must_use]
    pub fn secret(&self) -> Option<SecretSource> {
        secret::source(self.secret.as_ref(), self.secret_file.as_ref())
    }
}

/// Local passwords.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PasswordsConfig {
    /// Whether users may log in with a local password.
    #[serde(default = "default_true")]
    pub enabled: bool,

    /// Hashing schemes, by version.
    #[serde(default = "default_schemes")]
    pub schemes: Vec<HashingScheme>,

    /// Least zxcvbn score (0 to 4) a new password must reach.
    #[serde(default = "default_minimum_complexity")]
    pub minimum_complexity: u8,
}

fn default_schemes() -> Vec<HashingScheme> {
    vec![HashingScheme {
        version: 1,
        algorithm: HashingAlgorithm::Argon2id,
        cost: None,
        secret: None,
        secret_file: None,
        unicode_normalization: false,
    }]
}

fn default_minimum_complexity() -> u8 {
    3
}

impl Default for PasswordsConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            schemes: default_schemes(),
            minimum_complexity: default_minimum_complexity(),
        }
    }
}

impl PasswordsConfig {
    /// Every problem in this section.
    #[must_use]
    pub fn validate(&self) -> Vec<Problem> {
        let mut problems = Vec::new();
        if self.minimum_complexity > 4 {
            problems.push(Problem::error(
                "passwords.minimum_complexity",
                format!(
                    "{} is out of range: the score goes from 0 to 4",
                    self.minimum_complexity
                ),
            ));
        }
        if self.enabled && self.schemes.is_empty() {
            problems.push(
                Problem::error("passwords.schemes", "no hashing scheme")
                    .with_hint("add `- version: 1` with `algorithm: argon2id`"),
            );
        }
        let mut versions = HashSet::new();
        for (i, scheme) in self.schemes.iter().enumerate() {
            let path = index("passwords.schemes", i);
            if !versions.insert(scheme.version) {
                problems.push(
                    Problem::error(
                        join(&path, "version"),
                        format!("version {} is used twice", scheme.version),
                    )
                    .with_hint("each scheme needs its own version number"),
                );
            }
            if let Some(cost) = scheme.cost {
                if scheme.algorithm != HashingAlgorithm::Bcrypt {
                    problems.push(Problem::warning(
                        join(&path, "cost"),
                        "only used by bcrypt, ignored",
                    ));
                } else if !(4..=31).contains(&cost) {
                    problems.push(Problem::error(
                        join(&path, "cost"),
                        format!("bcrypt's cost goes from 4 to 31, not {cost}"),
                    ));
                }
            }
            secret::check_pair(
                &mut problems,
                &path,
                "secret",
                (scheme.secret.is_some(), scheme.secret_file.is_some()),
                Presence::Optional,
            );
        }
        problems
    }

    pub(crate) fn redact_secrets(&mut self) {
        for scheme in &mut self.schemes {
            secret::redact(&mut scheme.secret);
        }
    }
}
