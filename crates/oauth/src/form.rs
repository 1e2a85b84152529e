//! Serde helpers for `application/x-www-form-urlencoded` parameters.

use serde::{Deserialize, Deserializer};

/// RFC 6749 §3.1: "Parameters sent without a value MUST be treated as if they were omitted from
/// the request." Use with `#[serde(default, deserialize_with = "...")]`.
pub(crate) fn empty_as_none<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<String>, D::Error> {
    let value = Option::<String>::deserialize(deserializer)?;
    Ok(value.filter(|v| !v.is_empty()))
}

/// A required parameter, which an empty value does not satisfy (RFC 6749 §3.1).
pub(crate) fn non_empty<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    let value = String::deserialize(deserializer)?;
    if value.is_empty() {
        return Err(serde::de::Error::custom("parameter has an empty value"));
    }
    Ok(value)
}
