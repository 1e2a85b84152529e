//! `secrets`: the encryption key and the signing keys. A required section.
//!
//! Only the structure is checked here; whether the key material parses is the keys crate's
//! business (the CLI runs both).

use std::path::PathBuf;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::{
    path::{index, join},
    problem::Problem,
    secret::{self, Presence, Secret, SecretSource},
};

/// The encryption key for cookies and database fields, and the signing keys.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
pub struct SecretsConfig {
    /// 32-byte key in hex (64 characters). Changing it makes encrypted data unreadable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption: Option<Secret>,

    /// File holding the encryption key in hex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption_file: Option<PathBuf>,

    /// Signing keys. At least one should be RSA.
    #[serde(default)]
    pub keys: Vec<KeyConfig>,

    /// A directory whose files are all signing keys.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keys_dir: Option<PathBuf>,
}

/// One signing key, inline or from a file, optionally encrypted with a password.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
pub struct KeyConfig {
    /// Key identifier published in the JWKS; derived from the key when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,

    /// The private key: PKCS#1, PKCS#8 or SEC1, PEM or DER.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<Secret>,

    /// File holding the private key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_file: Option<PathBuf>,

    /// Password of an encrypted PKCS#8 key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<Secret>,

    /// File holding the password of an encrypted PKCS#8 key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_file: Option<PathBuf>,
}

impl KeyConfig {
    /// Where the key comes from.
    #[must_use]
    pub fn key(&self) -> Option<SecretSource> {
        secret::source(self.key.as_ref(), self.key_file.as_ref())
    }

    /// Where the key's password comes from, if it has one.
    #[must_use]
    pub fn password(&self) -> Option<SecretSource> {
        secret::source(self.password.as_ref(), self.password_file.as_ref())
    }
}

impl SecretsConfig {
    /// Where the encryption key comes from.
    #[must_use]
    pub fn encryption(&self) -> Option<SecretSource> {
        secret::source(self.encryption.as_ref(), self.encryption_file.as_ref())
    }

    /// Every problem in this section.
    #[must_use]
    pub fn validate(&self) -> Vec<Problem> {
        let mut problems = Vec::new();
        secret::check_pair(
            &mut problems,
            "secrets",
            "encryption",
            (self.encryption.is_some(), self.encryption_file.is_some()),
            Presence::Required,
        );
        if self.keys.is_empty() && self.keys_dir.is_none() {
            problems.push(
                Problem::error("secrets.keys", "no signing keys")
                    .with_hint("list keys under `keys`, or name a directory of keys as `keys_dir`; `config generate` writes a set"),
            );
        }
        for (i, key) in self.keys.iter().enumerate() {
            let path = index("secrets.keys", i);
            secret::check_pair(
                &mut problems,
                &path,
                "key",
                (key.key.is_some(), key.key_file.is_some()),
                Presence::Required,
            );
            secret::check_pair(
                &mut problems,
                &path,
                "password",
                (key.password.is_some(), key.password_file.is_some()),
                Presence::Optional,
            );
            if key.kid.as_deref().is_some_and(|kid| kid.trim().is_empty()) {
                problems.push(Problem::error(join(&path, "kid"), "the key id is empty"));
            }
        }
        let mut seen = std::collections::HashSet::new();
        let mut reported = std::collections::HashSet::new();
        for kid in self.keys.iter().filter_map(|key| key.kid.as_deref()) {
            if !seen.insert(kid) && reported.insert(kid) {
                problems.push(
                    Problem::error("secrets.keys", format!("the key id `{kid}` is used twice"))
                        .with_hint("give each key a unique `kid`"),
                );
            }
        }
        problems
    }

    pub(crate) fn redact_secrets(&mut self) {
        secret::redact(&mut self.encryption);
        for key in &mut self.keys {
            secret::redact(&mut key.key);
            secret::redact(&mut key.password);
        }
    }
}
