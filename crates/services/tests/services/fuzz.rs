//! Property-based fuzzing of application service registration files (Synapse's format, read
//! at start-up): any text, and any YAML tree with the real keys, is read or refused with a
//! message; the reader never panics.

use portcullis_services::app_services::AppService;
use proptest::prelude::*;
use serde_json::Value;

/// The number of cases: `default`, or `PROPTEST_CASES` when set (to fuzz longer on demand).
fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|cases| cases.parse().ok())
        .unwrap_or(default)
}

fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<String>().prop_map(Value::from),
        "(@[a-z_.]{0,10}:[a-z.]{0,10}|[a-z_]{0,10}|\\.\\*|\\[|\\(|@_bridge_.*)"
            .prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(Value::from),
            prop::collection::btree_map(
                prop::sample::select(vec![
                    "regex",
                    "exclusive",
                    "users",
                    "aliases",
                    "rooms",
                    "group_id",
                ])
                .prop_map(str::to_owned),
                inner,
                0..3
            )
            .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

fn registration() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        prop::collection::btree_map(
            prop::sample::select(vec![
                "id",
                "url",
                "as_token",
                "hs_token",
                "sender_localpart",
                "namespaces",
                "rate_limited",
                "protocols",
                "de.sorunome.msc2409.push_ephemeral",
            ])
            .prop_map(str::to_owned),
            value(),
            0..9,
        )
        .prop_map(|map| {
            serde_yaml_ng::to_string(&Value::Object(map.into_iter().collect())).unwrap_or_default()
        }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(3000)))]

    #[test]
    fn any_registration_file_is_read_or_refused(yaml in registration()) {
        if let Err(message) = AppService::parse(&yaml) {
            prop_assert!(!message.is_empty());
        }
    }
}
