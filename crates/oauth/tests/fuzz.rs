//! Property-based fuzzing of every parser of outside input in the protocol crate: token
//! strings, user codes, login hints, scopes, the authorization, device authorization and token
//! requests as they arrive in a query or a form, and dynamic client registration metadata.
//! Whatever comes in, each parser answers `Ok` or `Err`; none panics.
//!
//! `PROPTEST_CASES` sets the number of cases (CI runs the default of each test).

use portcullis_oauth::{
    registration::ClientMetadata,
    requests::{
        AuthorizationParams, AuthorizationRequest, DeviceAuthorizationParams,
        DeviceAuthorizationRequest, LoginHint, TokenParams, TokenRequest,
    },
    scope::Scope,
    token::{TokenKind, TokenType, UserCode},
};
use proptest::prelude::*;
use serde_json::Value;

/// The number of cases: `default`, or `PROPTEST_CASES` when set (to fuzz longer on demand).
fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|cases| cases.parse().ok())
        .unwrap_or(default)
}

/// Text biased towards what these parsers look at: token prefixes, separators, percent
/// escapes, non-ASCII, and plain noise.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "(mat_|mar_|mct_|mcr_|mpt_|syt_|syr_|MDAx|mxid:|email:)?[A-Za-z0-9_:@.=+/%#!~*'-]{0,80}",
        "[ \\t\\n:;,=&?#%._-]{0,20}",
        "\\PC{0,40}",
    ]
}

/// Any JSON value, nested a few levels deep.
fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        text().prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
            prop::collection::btree_map(text(), inner, 0..6)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

/// Client metadata as a client could post it: the fields MAS reads, each given a value of
/// any type, plus anything else.
fn metadata() -> impl Strategy<Value = Value> {
    const FIELDS: [&str; 20] = [
        "redirect_uris",
        "response_types",
        "grant_types",
        "application_type",
        "contacts",
        "client_name",
        "logo_uri",
        "client_uri",
        "policy_uri",
        "tos_uri",
        "jwks_uri",
        "jwks",
        "token_endpoint_auth_method",
        "token_endpoint_auth_signing_alg",
        "id_token_signed_response_alg",
        "userinfo_signed_response_alg",
        "post_logout_redirect_uris",
        "scope",
        "client_uri#fr",
        "id_token_encrypted_response_alg",
    ];
    prop::collection::vec(
        (
            prop_oneof![
                prop::sample::select(FIELDS.to_vec()).prop_map(str::to_owned),
                text()
            ],
            json(),
        ),
        0..12,
    )
    .prop_map(|fields| Value::Object(fields.into_iter().collect()))
}

/// A query or form body: known keys and others, values of any text, sometimes raw noise.
fn form(keys: &'static [&'static str]) -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        prop::collection::vec(
            (
                prop_oneof![
                    prop::sample::select(keys.to_vec()).prop_map(str::to_owned),
                    text()
                ],
                text()
            ),
            0..12
        )
        .prop_map(|pairs| {
            url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(pairs)
                .finish()
        }),
    ]
}

const AUTHORIZE_KEYS: &[&str] = &[
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "nonce",
    "prompt",
    "max_age",
    "code_challenge",
    "code_challenge_method",
    "response_mode",
    "login_hint",
    "request",
    "request_uri",
    "registration",
    "id_token_hint",
    "ui_locales",
];

const TOKEN_KEYS: &[&str] = &[
    "grant_type",
    "code",
    "redirect_uri",
    "code_verifier",
    "refresh_token",
    "scope",
    "device_code",
    "client_id",
    "client_secret",
    "client_assertion",
    "client_assertion_type",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(4000)))]

    #[test]
    fn token_strings_never_panic(token in text()) {
        let _ = TokenType::check(&token);
        let _ = TokenKind::detect(&token);
        let _ = UserCode::parse(&token);
        let _ = token.parse::<Scope>();
    }

    #[test]
    fn login_hints_never_panic(hint in text(), server in text()) {
        let _ = LoginHint::parse(&hint, &server);
    }

    #[test]
    fn authorization_queries_never_panic(query in form(AUTHORIZE_KEYS)) {
        if let Ok(params) = serde_urlencoded::from_str::<AuthorizationParams>(&query) {
            let _ = AuthorizationRequest::try_from(params);
        }
        if let Ok(params) = serde_urlencoded::from_str::<DeviceAuthorizationParams>(&query) {
            let _ = DeviceAuthorizationRequest::try_from(&params);
        }
    }

    #[test]
    fn token_requests_never_panic(body in form(TOKEN_KEYS)) {
        if let Ok(params) = serde_urlencoded::from_str::<TokenParams>(&body) {
            let _ = TokenRequest::try_from(&params);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(2000)))]

    #[test]
    fn client_metadata_never_panics(value in metadata()) {
        if let Ok(metadata) = serde_json::from_value::<ClientMetadata>(value)
            && let Ok(verified) = metadata.validate()
        {
            // What is registered can be described back.
            let _ = serde_json::to_value(verified.to_metadata());
        }
    }

    #[test]
    fn client_metadata_from_any_json_never_panics(value in json()) {
        if let Ok(metadata) = serde_json::from_value::<ClientMetadata>(value) {
            let _ = metadata.validate();
        }
    }
}
