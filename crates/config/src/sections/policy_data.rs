//! The shape of the `policy.data` keys MAS's default policy reads: a value of the wrong type, a
//! regular expression that does not compile or an address that does not parse is an error
//! naming its path; a key the default policy does not know inside one of its objects is a
//! warning (with the key it probably meant). Top-level keys of its own are left alone: a custom
//! policy may read them.

use serde_json::{Map, Value};

use crate::{problem::Problem, suggest::levenshtein};

/// The keys of a string-constraint object (`common.rego` in MAS): each a list of strings.
const STRING_CONSTRAINT: [&str; 5] = ["literals", "substrings", "regexes", "prefixes", "suffixes"];

/// What one known key holds.
#[derive(Clone, Copy)]
enum Shape {
    Strings,
    Boolean,
    StringConstraint,
    Addresses,
    Object(&'static [(&'static str, Shape)]),
}

/// The keys of `policy.data` that MAS's default policy reads, with their shapes.
const KNOWN: &[(&str, Shape)] = &[
    ("admin_users", Shape::Strings),
    ("admin_clients", Shape::Strings),
    (
        "client_registration",
        Shape::Object(&[
            ("allow_insecure_uris", Shape::Boolean),
            ("allow_host_mismatch", Shape::Boolean),
            ("allow_missing_contacts", Shape::Boolean),
            ("allow_missing_client_uri", Shape::Boolean),
        ]),
    ),
    (
        "registration",
        Shape::Object(&[
            ("allowed_usernames", Shape::StringConstraint),
            ("banned_usernames", Shape::StringConstraint),
        ]),
    ),
    (
        "emails",
        Shape::Object(&[
            ("allowed_addresses", Shape::StringConstraint),
            ("banned_addresses", Shape::StringConstraint),
        ]),
    ),
    ("allowed_domains", Shape::Strings),
    ("banned_domains", Shape::Strings),
    (
        "requester",
        Shape::Object(&[
            ("banned_ips", Shape::Addresses),
            ("banned_user_agents", Shape::StringConstraint),
        ]),
    ),
];

/// Every problem of the known keys of `data`.
pub(crate) fn problems(data: &Map<String, Value>) -> Vec<Problem> {
    let mut problems = Vec::new();
    for (key, value) in data {
        if let Some((_, shape)) = KNOWN.iter().find(|(known, _)| known == key) {
            check(&format!("policy.data.{key}"), value, *shape, &mut problems);
        }
    }
    problems
}

fn check(path: &str, value: &Value, shape: Shape, problems: &mut Vec<Problem>) {
    match shape {
        Shape::Boolean => {
            if !value.is_boolean() {
                problems.push(Problem::error(path, "expected true or false"));
            }
        }
        Shape::Strings => {
            strings(path, value, problems);
        }
        Shape::Addresses => {
            for (index, address) in strings(path, value, problems) {
                let parses = address.parse::<std::net::IpAddr>().is_ok()
                    || address.parse::<ipnet::IpNet>().is_ok();
                if !parses {
                    problems.push(Problem::error(
                        format!("{path}[{index}]"),
                        format!(
                            "{address:?} is neither an IP address nor a CIDR range (such as \
                             192.0.2.0/24 or 2001:db8::/32)"
                        ),
                    ));
                }
            }
        }
        Shape::StringConstraint => {
            let known: Vec<(&str, Shape)> = STRING_CONSTRAINT
                .iter()
                .map(|key| (*key, Shape::Strings))
                .collect();
            object(path, value, &known, problems);
            if let Some(regexes) = value.get("regexes") {
                for (index, pattern) in strings_quietly(regexes) {
                    if let Err(error) = regex::Regex::new(pattern) {
                        problems.push(Problem::error(
                            format!("{path}.regexes[{index}]"),
                            format!("not a regular expression: {error}"),
                        ));
                    }
                }
            }
        }
        Shape::Object(known) => object(path, value, known, problems),
    }
}

/// An object whose keys are `known`: each checked, any other one a warning.
fn object(path: &str, value: &Value, known: &[(&str, Shape)], problems: &mut Vec<Problem>) {
    let Some(map) = value.as_object() else {
        let keys: Vec<&str> = known.iter().map(|(key, _)| *key).collect();
        problems.push(Problem::error(
            path,
            format!("expected a map with {}", keys.join(", ")),
        ));
        return;
    };
    for (key, value) in map {
        let child = format!("{path}.{key}");
        match known.iter().find(|(name, _)| name == key) {
            Some((_, shape)) => check(&child, value, *shape, problems),
            None => {
                let closest = known
                    .iter()
                    .map(|(name, _)| (*name, levenshtein(key, name)))
                    .min_by_key(|(_, distance)| *distance)
                    .filter(|(_, distance)| *distance <= key.chars().count().max(3) / 3);
                let hint = closest.map_or_else(
                    || {
                        let names: Vec<&str> = known.iter().map(|(name, _)| *name).collect();
                        format!("it reads {}", names.join(", "))
                    },
                    |(name, _)| format!("did you mean {name}?"),
                );
                problems.push(Problem::warning(
                    child,
                    format!("not a key MAS's default policy reads here: {hint}"),
                ));
            }
        }
    }
}

/// The strings of a list, by index; an error when it is not a list of strings.
fn strings<'a>(path: &str, value: &'a Value, problems: &mut Vec<Problem>) -> Vec<(usize, &'a str)> {
    if !value
        .as_array()
        .is_some_and(|items| items.iter().all(Value::is_string))
    {
        problems.push(Problem::error(path, "expected a list of strings"));
    }
    strings_quietly(value)
}

fn strings_quietly(value: &Value) -> Vec<(usize, &str)> {
    value
        .as_array()
        .map(|items| {
            items
                .iter()
                .enumerate()
                .filter_map(|(index, item)| item.as_str().map(|text| (index, text)))
                .collect()
        })
        .unwrap_or_default()
}
