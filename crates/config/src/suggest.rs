//! Suggestions for unknown options: a table of options that moved, else the closest known
//! option at the same place, found through the JSON schema.

use serde_json::Value;

use crate::path::Segment;

/// Options that MAS moved or renamed, by their old path (list indexes left out).
const MOVED: &[(&str, &str)] = &[
    (
        "experimental.oauth2_device_code_grant",
        "oauth.device_code_grant_enabled",
    ),
    (
        "experimental.device_code_grant_enabled",
        "oauth.device_code_grant_enabled",
    ),
];

/// What an unknown option probably meant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Suggestion {
    /// An option MAS moved or renamed: its new dotted path.
    Moved(String),
    /// A known option at the same place, a few letters away: a likely misspelling.
    Typo(String),
}

impl Suggestion {
    /// The hint shown to the operator.
    pub(crate) fn hint(&self) -> String {
        match self {
            Self::Moved(key) | Self::Typo(key) => format!("did you mean {key}?"),
        }
    }
}

/// What the unknown option at `segments` probably meant, if there is a good guess.
pub(crate) fn suggestion(schema: &Value, segments: &[Segment]) -> Option<Suggestion> {
    let keys_only: Vec<&str> = segments
        .iter()
        .filter_map(|segment| match segment {
            Segment::Key(key) => Some(key.as_str()),
            Segment::Index(_) => None,
        })
        .collect();
    let dotted = keys_only.join(".");
    if let Some((_, new)) = MOVED.iter().find(|(old, _)| *old == dotted) {
        return Some(Suggestion::Moved((*new).to_owned()));
    }
    let (Segment::Key(unknown), parent) = segments.split_last()? else {
        return None;
    };
    let siblings = known_keys(schema, parent);
    let (best, distance) = siblings
        .iter()
        .map(|candidate| (candidate, levenshtein(unknown, candidate)))
        .min_by_key(|(_, distance)| *distance)?;
    // Close enough to be a typo: about one edit in three characters.
    (distance > 0 && distance <= unknown.chars().count().max(3) / 3)
        .then(|| Suggestion::Typo(best.clone()))
}

/// Property names of the object found at `segments` in the schema.
fn known_keys(schema: &Value, segments: &[Segment]) -> Vec<String> {
    let mut nodes = vec![schema];
    for segment in segments {
        let mut next = Vec::new();
        for node in alternatives(schema, &nodes) {
            let child = match segment {
                Segment::Key(key) => node
                    .get("properties")
                    .and_then(|properties| properties.get(key))
                    .or_else(|| node.get("additionalProperties").filter(|v| v.is_object())),
                Segment::Index(_) => node.get("items"),
            };
            next.extend(child);
        }
        nodes = next;
    }
    let mut keys: Vec<String> = alternatives(schema, &nodes)
        .into_iter()
        .filter_map(|node| node.get("properties").and_then(Value::as_object))
        .flat_map(|properties| properties.keys().cloned())
        .collect();
    keys.sort();
    keys.dedup();
    keys
}

/// The nodes themselves plus everything they refer to through `$ref`, `anyOf`, `oneOf` and
/// `allOf`, so that options and wrappers are looked through.
fn alternatives<'a>(root: &'a Value, nodes: &[&'a Value]) -> Vec<&'a Value> {
    fn visit<'a>(root: &'a Value, node: &'a Value, out: &mut Vec<&'a Value>, depth: usize) {
        // The schema's references never loop back on the way to an object, but a bound keeps
        // a malformed one from recursing forever.
        if depth > 16 {
            return;
        }
        out.push(node);
        if let Some(target) = node
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|reference| reference.strip_prefix('#'))
            .and_then(|pointer| root.pointer(pointer))
        {
            visit(root, target, out, depth + 1);
        }
        for combinator in ["anyOf", "oneOf", "allOf"] {
            for item in node
                .get(combinator)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                visit(root, item, out, depth + 1);
            }
        }
    }

    let mut out = Vec::new();
    for node in nodes {
        visit(root, node, &mut out, 0);
    }
    out
}

/// Edit distance between two words, in characters.
pub(crate) fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            let deletion = previous[j + 1] + 1;
            let insertion = current[j] + 1;
            current.push(substitution.min(deletion).min(insertion));
        }
        previous = current;
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distance_counts_insertions_deletions_and_substitutions() {
        assert_eq!(levenshtein("adress", "address"), 1);
        assert_eq!(levenshtein("kitten", "sitting"), 3);
        assert_eq!(levenshtein("", "abc"), 3);
    }

    #[test]
    fn a_moved_option_points_to_its_new_place() {
        let segments = [
            Segment::Key("experimental".to_owned()),
            Segment::Key("oauth2_device_code_grant".to_owned()),
        ];
        assert_eq!(
            suggestion(&crate::json_schema(), &segments)
                .map(|s| s.hint())
                .as_deref(),
            Some("did you mean oauth.device_code_grant_enabled?")
        );
    }

    #[test]
    fn a_typo_in_a_nested_option_suggests_the_closest_sibling() {
        let segments = [
            Segment::Key("http".to_owned()),
            Segment::Key("listeners".to_owned()),
            Segment::Index(0),
            Segment::Key("binds".to_owned()),
            Segment::Index(0),
            Segment::Key("adress".to_owned()),
        ];
        assert_eq!(
            suggestion(&crate::json_schema(), &segments)
                .map(|s| s.hint())
                .as_deref(),
            Some("did you mean address?")
        );
    }

    #[test]
    fn an_unrelated_name_gets_no_suggestion() {
        let segments = [Segment::Key("zzzzzzzz".to_owned())];
        assert_eq!(suggestion(&crate::json_schema(), &segments), None);
    }
}
