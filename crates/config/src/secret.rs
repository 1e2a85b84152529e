//! Secrets: values that must never be printed, and the `<name>` / `<name>_file` pairs through
//! which every secret can be given either inline or as a path to a file holding it.

use std::{fmt, io, path::PathBuf};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::problem::Problem;

/// What `config dump` prints in place of an inline secret.
pub const REDACTED: &str = "<redacted>";

/// A secret written inline in the configuration.
///
/// Its `Debug` output hides the value so that logging a configuration never leaks it; use
/// [`Secret::expose`] where the value itself is needed.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret value.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Replaces the value by [`REDACTED`].
    pub(crate) fn redact(&mut self) {
        REDACTED.clone_into(&mut self.0);
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({REDACTED})")
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self::new(value)
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self(value)
    }
}

/// Where a secret comes from: the configuration itself, or a file it names.
#[derive(Clone, PartialEq, Eq)]
pub enum SecretSource {
    /// Given inline, as `<name>: value`.
    Inline(Secret),
    /// Given as `<name>_file: path`; a relative path is relative to the working directory, as in
    /// MAS.
    File(PathBuf),
}

impl SecretSource {
    /// The secret's bytes, read from its file if it has one (exactly as stored).
    ///
    /// # Errors
    /// When the file cannot be read.
    pub fn read(&self) -> io::Result<Vec<u8>> {
        match self {
            Self::Inline(secret) => Ok(secret.expose().as_bytes().to_vec()),
            Self::File(path) => std::fs::read(path),
        }
    }

    /// The secret as text. A file's trailing line endings are dropped, because editors and
    /// `echo` add one that is not part of the secret.
    ///
    /// # Errors
    /// When the file cannot be read or is not UTF-8.
    pub fn read_string(&self) -> io::Result<String> {
        match self {
            Self::Inline(secret) => Ok(secret.expose().to_owned()),
            Self::File(path) => {
                let mut text = std::fs::read_to_string(path)?;
                let kept = text.trim_end_matches(['\n', '\r']).len();
                text.truncate(kept);
                Ok(text)
            }
        }
    }
}

impl fmt::Debug for SecretSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Inline(secret) => f.debug_tuple("Inline").field(secret).finish(),
            Self::File(path) => f.debug_tuple("File").field(path).finish(),
        }
    }
}

/// The source of a secret given through the pair `<name>` / `<name>_file`.
///
/// When both are set (which validation reports as an error) the inline value wins.
pub(crate) fn source(inline: Option<&Secret>, file: Option<&PathBuf>) -> Option<SecretSource> {
    match (inline, file) {
        (Some(secret), _) => Some(SecretSource::Inline(secret.clone())),
        (None, Some(path)) => Some(SecretSource::File(path.clone())),
        (None, None) => None,
    }
}

/// Whether one of a `<name>` / `<name>_file` pair must be given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Presence {
    Required,
    Optional,
}

/// Checks that a `<name>` / `<name>_file` pair is not given twice, and is given when required.
pub(crate) fn check_pair(
    problems: &mut Vec<Problem>,
    parent: &str,
    name: &str,
    given: (bool, bool),
    presence: Presence,
) {
    let path = crate::path::join(parent, name);
    match given {
        (true, true) => problems.push(
            Problem::error(path, format!("both `{name}` and `{name}_file` are set"))
                .with_hint("keep exactly one of them"),
        ),
        (false, false) if presence == Presence::Required => problems.push(
            Problem::error(path, format!("missing: set `{name}` or `{name}_file`"))
                .with_hint(format!(
                    "give the value inline as `{name}`, or the path of a file holding it as `{name}_file`"
                )),
        ),
        _ => {}
    }
}

/// Redacts an optional inline secret.
pub(crate) fn redact(secret: &mut Option<Secret>) {
    if let Some(secret) = secret {
        secret.redact();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_hides_its_value_when_debug_printed() {
        let secret = Secret::new("hunter2");
        assert!(!format!("{secret:?}").contains("hunter2"));
    }

    #[test]
    fn a_file_secret_is_read_without_its_trailing_newline() {
        let dir = tempfile::tempdir().expect("a temporary directory can be created");
        let path = dir.path().join("secret");
        std::fs::write(&path, "s3cr3t\n").expect("the secret file can be written");
        let source = SecretSource::File(path);
        assert_eq!(
            source.read_string().expect("the file is readable"),
            "s3cr3t"
        );
        assert_eq!(source.read().expect("the file is readable"), b"s3cr3t\n");
    }

    #[test]
    fn both_halves_of_a_pair_are_reported_with_both_key_names() {
        let mut problems = Vec::new();
        check_pair(
            &mut problems,
            "matrix",
            "secret",
            (true, true),
            Presence::Required,
        );
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].path, "matrix.secret");
        assert!(problems[0].message.contains("`secret`"));
        assert!(problems[0].message.contains("`secret_file`"));
    }
}
