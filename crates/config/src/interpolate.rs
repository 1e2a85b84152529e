//! `${VAR}` interpolation of environment variables in string values (our addition to MAS).
//!
//! `${VAR}` is replaced by the variable's value, `${VAR:-default}` falls back to `default` when
//! the variable is unset or empty (as in a POSIX shell), and `$${` writes a literal `${`.

use serde_json::Value;

use crate::{
    path::{index, join},
    problem::Problem,
};

/// Why a `${...}` reference could not be expanded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ExpandError {
    /// The variable is not set and has no default.
    #[error("environment variable {0} is not set")]
    Unset(String),
    /// `${` without its closing `}`.
    #[error("`${{` is not closed by `}}`")]
    Unterminated,
    /// The text between the braces is not a variable name.
    #[error("`${{{0}}}` does not name an environment variable")]
    BadName(String),
}

impl ExpandError {
    fn into_problem(self, path: &str) -> Problem {
        let hint = match &self {
            Self::Unset(name) => {
                format!("set it, or give a default with ${{{name}:-value}}")
            }
            Self::Unterminated | Self::BadName(_) => "write `$${` for a literal `${`".to_owned(),
        };
        Problem::error(path, self.to_string()).with_hint(hint)
    }
}

fn is_variable_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|first| first == '_' || first.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
}

/// Expands the references in `text`. A reference that cannot be expanded is kept as written and
/// reported, so that every problem of a value is found at once.
pub(crate) fn expand(
    text: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> (String, Vec<ExpandError>) {
    let mut out = String::with_capacity(text.len());
    let mut errors = Vec::new();
    let mut rest = text;
    while let Some(dollar) = rest.find('$') {
        out.push_str(&rest[..dollar]);
        let tail = &rest[dollar..];
        if let Some(after) = tail.strip_prefix("$${") {
            out.push_str("${");
            rest = after;
        } else if let Some(after) = tail.strip_prefix("${") {
            let Some(close) = after.find('}') else {
                errors.push(ExpandError::Unterminated);
                out.push_str(tail);
                rest = "";
                break;
            };
            let reference = &after[..close];
            let (name, default) = match reference.split_once(":-") {
                Some((name, default)) => (name, Some(default)),
                None => (reference, None),
            };
            if is_variable_name(name) {
                match (env(name), default) {
                    (Some(value), Some(default)) if value.is_empty() => out.push_str(default),
                    (Some(value), _) => out.push_str(&value),
                    (None, Some(default)) => out.push_str(default),
                    (None, None) => {
                        errors.push(ExpandError::Unset(name.to_owned()));
                        out.push_str(&tail[..close + 3]);
                    }
                }
            } else {
                errors.push(ExpandError::BadName(reference.to_owned()));
                out.push_str(&tail[..close + 3]);
            }
            rest = &after[close + 1..];
        } else {
            out.push('$');
            rest = &tail[1..];
        }
    }
    out.push_str(rest);
    (out, errors)
}

/// Expands every string value of `value` (keys are left alone), reporting failures at the path
/// of the value.
pub(crate) fn interpolate(
    value: &mut Value,
    env: &dyn Fn(&str) -> Option<String>,
    path: &str,
    problems: &mut Vec<Problem>,
) {
    match value {
        Value::String(text) => {
            let (expanded, errors) = expand(text, env);
            problems.extend(errors.into_iter().map(|error| error.into_problem(path)));
            *text = expanded;
        }
        Value::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                interpolate(item, env, &index(path, i), problems);
            }
        }
        Value::Object(map) => {
            for (key, item) in map.iter_mut() {
                interpolate(item, env, &join(path, key), problems);
            }
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "HOST" => Some("db.example".to_owned()),
            "EMPTY" => Some(String::new()),
            _ => None,
        }
    }

    #[test]
    fn a_set_variable_is_replaced_by_its_value() {
        assert_eq!(
            expand("postgresql://${HOST}/mas", &env),
            ("postgresql://db.example/mas".to_owned(), vec![])
        );
    }

    #[test]
    fn a_default_is_used_when_the_variable_is_unset_or_empty() {
        assert_eq!(expand("${NOPE:-5432}", &env).0, "5432");
        assert_eq!(expand("${EMPTY:-x}", &env).0, "x");
    }

    #[test]
    fn a_double_dollar_brace_is_a_literal_dollar_brace() {
        assert_eq!(expand("$${HOST} costs $5", &env).0, "${HOST} costs $5");
    }

    #[test]
    fn an_unset_variable_without_default_is_reported_and_kept() {
        assert_eq!(
            expand("${MISSING}", &env),
            (
                "${MISSING}".to_owned(),
                vec![ExpandError::Unset("MISSING".to_owned())]
            )
        );
    }

    #[test]
    fn an_unclosed_reference_is_reported() {
        assert_eq!(expand("a${HOST", &env).1, vec![ExpandError::Unterminated]);
    }

    #[test]
    fn every_unset_variable_of_a_tree_is_reported_at_its_path() {
        let mut tree = serde_json::json!({"a": ["${X}"], "b": {"c": "${Y}"}});
        let mut problems = Vec::new();
        interpolate(&mut tree, &env, "", &mut problems);
        let rendered: Vec<String> = problems
            .iter()
            .map(|p| format!("{}: {}", p.path, p.message))
            .collect();
        assert_eq!(
            rendered,
            [
                "a[0]: environment variable X is not set",
                "b.c: environment variable Y is not set"
            ]
        );
    }
}
