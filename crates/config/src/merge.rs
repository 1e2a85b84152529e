//! Merging of several configuration files, as MAS does it (figment's `admerge`): maps merge
//! key by key, lists are concatenated, and any other later value replaces the earlier one,
//! except a null, which never erases what an earlier file set.

use serde_json::{Map, Value};

/// Merges `overlay` (a later file) into `base`.
pub(crate) fn merge(base: &mut Value, overlay: Value) {
    match (base, overlay) {
        (Value::Object(base), Value::Object(overlay)) => {
            for (key, value) in overlay {
                match base.get_mut(&key) {
                    Some(existing) => merge(existing, value),
                    None => {
                        base.insert(key, value);
                    }
                }
            }
        }
        (Value::Array(base), Value::Array(overlay)) => base.extend(overlay),
        (_, Value::Null) => {}
        (base, overlay) => *base = overlay,
    }
}

/// Removes every map entry whose value is null, so that an empty key (`clients:`) means the
/// same as an absent one. Free-form data (`policy.data`) is passed to the policy untouched.
pub(crate) fn drop_nulls(sections: &mut Map<String, Value>) {
    fn walk(value: &mut Value, keep_data: bool) {
        match value {
            Value::Object(map) => {
                map.retain(|_, item| !item.is_null());
                for (key, item) in map.iter_mut() {
                    if keep_data && key == "data" {
                        continue;
                    }
                    walk(item, false);
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|item| walk(item, false)),
            _ => {}
        }
    }

    sections.retain(|_, section| !section.is_null());
    for (name, section) in sections.iter_mut() {
        walk(section, name == "policy");
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn maps_merge_deeply_and_later_scalars_win() {
        let mut base = json!({"http": {"public_base": "http://a/", "issuer": "http://a/"}});
        merge(&mut base, json!({"http": {"public_base": "http://b/"}}));
        assert_eq!(
            base,
            json!({"http": {"public_base": "http://b/", "issuer": "http://a/"}})
        );
    }

    #[test]
    fn lists_are_concatenated() {
        let mut base = json!({"clients": [{"client_id": "a"}]});
        merge(&mut base, json!({"clients": [{"client_id": "b"}]}));
        assert_eq!(
            base,
            json!({"clients": [{"client_id": "a"}, {"client_id": "b"}]})
        );
    }

    #[test]
    fn a_later_null_does_not_erase_an_earlier_value() {
        let mut base = json!({"matrix": {"secret": "s"}});
        merge(&mut base, json!({"matrix": {"secret": null}}));
        assert_eq!(base, json!({"matrix": {"secret": "s"}}));
    }

    #[test]
    fn null_entries_are_dropped_except_inside_policy_data() {
        let mut tree =
            json!({"clients": null, "http": {"issuer": null}, "policy": {"data": {"x": null}}});
        let Value::Object(sections) = &mut tree else {
            panic!("the test tree is a map");
        };
        drop_nulls(sections);
        assert_eq!(tree, json!({"http": {}, "policy": {"data": {"x": null}}}));
    }
}
