//! Problems found while loading a configuration: errors that make it unusable and warnings that
//! the operator should read (unknown options, ignored values).

use std::fmt;

/// How serious a [`Problem`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Severity {
    /// The configuration cannot be used as it is.
    Error,
    /// The configuration works, but something in it is probably not what the operator meant.
    Warning,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Error => "error",
            Self::Warning => "warning",
        })
    }
}

/// One thing wrong with a configuration, located by the path of the option it is about.
///
/// The path uses the file's own spelling: `http.listeners[0].binds[1].port`. Problems about a
/// whole file (unreadable, invalid YAML) use the file's path instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Error or warning.
    pub severity: Severity,
    /// Where the problem is, e.g. `matrix.secret`.
    pub path: String,
    /// What is wrong, e.g. `environment variable MAS_CLIENTS_SECRET is not set`.
    pub message: String,
    /// How to fix it, when there is something useful to say.
    pub hint: Option<String>,
}

impl Problem {
    /// An error at `path`.
    pub fn error(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Error,
            path: path.into(),
            message: message.into(),
            hint: None,
        }
    }

    /// A warning at `path`.
    pub fn warning(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Warning,
            path: path.into(),
            message: message.into(),
            hint: None,
        }
    }

    /// The same problem with a hint on how to fix it.
    #[must_use]
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Whether this problem makes the configuration unusable.
    #[must_use]
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, " ({hint})")?;
        }
        Ok(())
    }
}

/// Every problem found in a configuration that could not be loaded: all its errors and all its
/// warnings, in the order they were found, so that `config check` can list them at once.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", render(.0))]
pub struct Problems(pub Vec<Problem>);

impl Problems {
    /// The errors, in order.
    pub fn errors(&self) -> impl Iterator<Item = &Problem> {
        self.0.iter().filter(|problem| problem.is_error())
    }

    /// The warnings, in order.
    pub fn warnings(&self) -> impl Iterator<Item = &Problem> {
        self.0.iter().filter(|problem| !problem.is_error())
    }
}

/// One problem a line, each prefixed by its severity.
fn render(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(|problem| format!("{}: {problem}", problem.severity))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_problem_displays_as_path_message_and_hint_in_parentheses() {
        let problem = Problem::warning("experimental.foo", "unknown option, ignored")
            .with_hint("did you mean oauth.foo?");
        assert_eq!(
            problem.to_string(),
            "experimental.foo: unknown option, ignored (did you mean oauth.foo?)"
        );
    }

    #[test]
    fn problems_display_one_line_each_with_their_severity() {
        let problems = Problems(vec![
            Problem::error("matrix", "missing section"),
            Problem::warning("foo", "unknown option, ignored"),
        ]);
        assert_eq!(
            problems.to_string(),
            "error: matrix: missing section\nwarning: foo: unknown option, ignored"
        );
    }
}
