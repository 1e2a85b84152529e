//! Property-based fuzzing of the configuration loader: any text, and any YAML tree under the
//! real section names (each value of any type, `${VAR}` references included), is loaded or
//! refused with problems naming their keys; the loader never panics.

use proptest::prelude::*;
use serde_json::Value;

/// The number of cases: `default`, or `PROPTEST_CASES` when set (to fuzz longer on demand).
fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|cases| cases.parse().ok())
        .unwrap_or(default)
}

const SECTIONS: [&str; 16] = [
    "http",
    "database",
    "secrets",
    "matrix",
    "passwords",
    "account",
    "email",
    "clients",
    "upstream_oauth2",
    "policy",
    "rate_limiting",
    "branding",
    "captcha",
    "experimental",
    "templates",
    "telemetry",
];

const KEYS: [&str; 24] = [
    "public_base",
    "issuer",
    "listeners",
    "binds",
    "resources",
    "name",
    "address",
    "uri",
    "encryption",
    "keys",
    "key_file",
    "homeserver",
    "secret",
    "endpoint",
    "schemes",
    "version",
    "algorithm",
    "data",
    "providers",
    "client_id",
    "burst",
    "per_second",
    "session_limit",
    "trusted_proxies",
];

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        any::<String>().prop_map(Value::from),
        "(\\$\\{[A-Z_]{1,8}\\}|https?://[a-z.:0-9\\[\\]]{0,20}/?|[0-9a-f]{0,70}|argon2id|bcrypt)"
            .prop_map(Value::from),
    ]
}

fn tree() -> impl Strategy<Value = Value> {
    scalar().prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::btree_map(
                prop_oneof![
                    prop::sample::select(KEYS.to_vec()).prop_map(str::to_owned),
                    "[a-z_]{1,10}"
                ],
                inner,
                0..5
            )
            .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

fn document() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[a-z_:\\- \\n{}\\[\\],'\"&*!|>%@`#]{0,200}",
        prop::collection::btree_map(
            prop::sample::select(SECTIONS.to_vec()).prop_map(str::to_owned),
            tree(),
            0..6
        )
        .prop_map(|sections| {
            serde_yaml_ng::to_string(&Value::Object(sections.into_iter().collect()))
                .unwrap_or_default()
        }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(2000)))]

    #[test]
    fn any_configuration_is_loaded_or_refused_with_problems(
        first in document(),
        second in document(),
        variable in proptest::option::of(any::<String>()),
    ) {
        let dir = std::env::temp_dir();
        let documents = [
            ("first.yaml".to_owned(), first),
            ("second.yaml".to_owned(), second),
        ];
        let env = |_: &str| variable.clone();
        if let Err(problems) = portcullis_config::load_documents(&documents, dir, &env) {
            prop_assert!(!problems.0.is_empty());
        }
    }
}
