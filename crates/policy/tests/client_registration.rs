//! The built-in policy's client registration rules (MSC2966): which sites and schemes a
//! dynamically registered client may use, and what `policy.data.client_registration` relaxes.

use portcullis_policy::{ClientRegistrationInput, Policy, PolicyLoader, Requester};
use serde_json::{Value, json};

fn policy(data: Value) -> Policy {
    let mut base = serde_json::Map::new();
    base.insert("server_name".into(), json!("example.com"));
    PolicyLoader::builtin(base, data)
        .and_then(|loader| loader.instantiate(None))
        .expect("the built-in policy loads")
}

/// Element X's registration metadata.
fn element_x() -> Value {
    json!({
        "client_name": "Element X",
        "client_uri": "https://element.io",
        "logo_uri": "https://element.io/mobile-icon.png",
        "policy_uri": "https://element.io/cookie-policy",
        "tos_uri": "https://element.io/acceptable-use-policy-terms",
        "redirect_uris": ["io.element:/callback"],
        "application_type": "native",
        "token_endpoint_auth_method": "none",
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"]
    })
}

fn web_client() -> Value {
    json!({
        "client_name": "Example Web",
        "client_uri": "https://example.com/",
        "logo_uri": "https://static.example.com/logo.png",
        "tos_uri": "https://example.com/tos",
        "policy_uri": "https://example.com/privacy",
        "redirect_uris": ["https://app.example.com/callback", "https://example.com/cb?x=1"],
        "application_type": "web",
        "token_endpoint_auth_method": "client_secret_basic",
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
    })
}

fn with(mut base: Value, changes: &[(&str, Value)]) -> Value {
    for (key, value) in changes {
        if value.is_null() {
            base.as_object_mut().map(|object| object.remove(*key));
        } else {
            base[*key] = value.clone();
        }
    }
    base
}

/// The fields the policy finds at fault, in order.
fn faults(policy: &Policy, metadata: &Value) -> Vec<String> {
    let verdict = policy
        .evaluate_client_registration(&ClientRegistrationInput {
            client_metadata: metadata,
            requester: &Requester::default(),
        })
        .expect("the policy evaluates");
    let mut fields: Vec<String> = verdict
        .violations
        .iter()
        .map(|violation| {
            violation
                .field
                .clone()
                .unwrap_or_else(|| violation.msg.clone())
        })
        .collect();
    fields.sort();
    fields
}

#[test]
fn the_default_rules_accept_real_clients_and_refuse_what_misleads_users() {
    let policy = policy(json!({}));
    // (what, metadata, the fields at fault)
    let cases: Vec<(&str, Value, &[&str])> = vec![
        ("Element X", element_x(), &[]),
        ("a web client", web_client(), &[]),
        // Without a site, nothing is on it.
        (
            "no client_uri",
            with(web_client(), &[("client_uri", Value::Null)]),
            &[
                "client_uri",
                "logo_uri",
                "policy_uri",
                "redirect_uris[0]",
                "redirect_uris[1]",
                "tos_uri",
            ],
        ),
        (
            "http client_uri",
            with(
                web_client(),
                &[("client_uri", json!("http://example.com/"))],
            ),
            &["client_uri"],
        ),
        (
            "localhost client_uri",
            with(
                element_x(),
                &[
                    ("client_uri", json!("https://localhost/")),
                    ("logo_uri", Value::Null),
                    ("policy_uri", Value::Null),
                    ("tos_uri", Value::Null),
                    ("redirect_uris", json!(["http://localhost/cb"])),
                ],
            ),
            &["client_uri"],
        ),
        (
            "loopback client_uri",
            with(
                element_x(),
                &[
                    ("client_uri", json!("https://127.0.0.1/")),
                    ("logo_uri", Value::Null),
                    ("policy_uri", Value::Null),
                    ("tos_uri", Value::Null),
                    ("redirect_uris", json!(["http://localhost/cb"])),
                ],
            ),
            &["client_uri"],
        ),
        (
            "a public suffix as client_uri",
            with(
                element_x(),
                &[
                    ("client_uri", json!("https://github.io/")),
                    ("logo_uri", Value::Null),
                    ("policy_uri", Value::Null),
                    ("tos_uri", Value::Null),
                    ("redirect_uris", json!(["http://localhost/cb"])),
                ],
            ),
            &["client_uri"],
        ),
        (
            "a site under a public suffix",
            with(
                element_x(),
                &[
                    ("client_uri", json!("https://alice.github.io/")),
                    ("logo_uri", json!("https://alice.github.io/logo.png")),
                    ("policy_uri", Value::Null),
                    ("tos_uri", Value::Null),
                    ("redirect_uris", json!(["io.github.alice:/cb"])),
                ],
            ),
            &[],
        ),
        (
            "another site under the same suffix",
            with(
                web_client(),
                &[
                    ("client_uri", json!("https://alice.github.io/")),
                    ("logo_uri", json!("https://bob.github.io/logo.png")),
                    ("policy_uri", Value::Null),
                    ("tos_uri", Value::Null),
                    ("redirect_uris", json!(["https://alice.github.io/cb"])),
                ],
            ),
            &["logo_uri"],
        ),
        (
            "a logo on another host",
            with(
                web_client(),
                &[("logo_uri", json!("https://cdn.example.net/logo.png"))],
            ),
            &["logo_uri"],
        ),
        (
            "a logo on a host ending like the client's",
            with(
                web_client(),
                &[("logo_uri", json!("https://notexample.com/logo.png"))],
            ),
            &["logo_uri"],
        ),
        (
            "a policy over http",
            with(
                web_client(),
                &[("policy_uri", json!("http://example.com/privacy"))],
            ),
            &["policy_uri"],
        ),
        (
            "terms on the parent domain",
            with(
                web_client(),
                &[
                    ("client_uri", json!("https://app.example.com/")),
                    ("tos_uri", json!("https://example.com/tos")),
                ],
            ),
            &[],
        ),
        (
            "a localized terms page elsewhere",
            with(
                web_client(),
                &[("tos_uri#fr", json!("https://example.org/cgu"))],
            ),
            &["tos_uri#fr"],
        ),
        (
            "a localized logo over http",
            with(
                web_client(),
                &[("logo_uri#de", json!("http://example.com/logo.png"))],
            ),
            &["logo_uri#de"],
        ),
        (
            "a localized client_uri elsewhere",
            with(
                web_client(),
                &[("client_uri#fr", json!("https://example.fr/"))],
            ),
            &["client_uri#fr"],
        ),
        (
            "a web redirect over http",
            with(
                web_client(),
                &[(
                    "redirect_uris",
                    json!(["https://example.com/cb", "http://example.com/cb"]),
                )],
            ),
            &["redirect_uris[1]"],
        ),
        (
            "a web redirect on another host",
            with(
                web_client(),
                &[("redirect_uris", json!(["https://evil.example.net/cb"]))],
            ),
            &["redirect_uris[0]"],
        ),
        (
            "a web redirect on localhost",
            with(
                web_client(),
                &[("redirect_uris", json!(["https://localhost/cb"]))],
            ),
            &["redirect_uris[0]"],
        ),
        (
            "a web redirect with a private-use scheme",
            with(
                web_client(),
                &[("redirect_uris", json!(["com.example:/cb"]))],
            ),
            &["redirect_uris[0]"],
        ),
        (
            "native loopback redirects",
            with(
                element_x(),
                &[(
                    "redirect_uris",
                    json!([
                        "http://127.0.0.1:43210/cb",
                        "http://[::1]/cb",
                        "http://localhost:8080/"
                    ]),
                )],
            ),
            &[],
        ),
        (
            "a native redirect to another loopback address",
            with(
                element_x(),
                &[("redirect_uris", json!(["http://127.0.0.2/cb"]))],
            ),
            &["redirect_uris[0]"],
        ),
        (
            "a native http redirect to a public host",
            with(
                element_x(),
                &[("redirect_uris", json!(["http://element.io/cb"]))],
            ),
            &["redirect_uris[0]"],
        ),
        (
            "a native https redirect on the client site",
            with(
                element_x(),
                &[("redirect_uris", json!(["https://app.element.io/cb"]))],
            ),
            &[],
        ),
        (
            "a native https redirect elsewhere",
            with(
                element_x(),
                &[("redirect_uris", json!(["https://element.example/cb"]))],
            ),
            &["redirect_uris[0]"],
        ),
        (
            "a private-use scheme of a subdomain",
            with(
                element_x(),
                &[("redirect_uris", json!(["io.element.app:/cb"]))],
            ),
            &[],
        ),
        (
            "a private-use scheme of the parent domain",
            with(
                element_x(),
                &[
                    ("client_uri", json!("https://app.element.io/")),
                    ("redirect_uris", json!(["io.element:/cb"])),
                ],
            ),
            &[],
        ),
        (
            "a private-use scheme of another domain",
            with(
                element_x(),
                &[("redirect_uris", json!(["com.example:/cb"]))],
            ),
            &["redirect_uris[0]"],
        ),
        (
            "a private-use scheme not reversed",
            with(element_x(), &[("redirect_uris", json!(["element.io:/cb"]))]),
            &["redirect_uris[0]"],
        ),
        (
            "a private-use scheme without a dot",
            with(element_x(), &[("redirect_uris", json!(["element:/cb"]))]),
            &["redirect_uris[0]"],
        ),
        (
            "a post-logout redirect over http",
            with(
                web_client(),
                &[(
                    "post_logout_redirect_uris",
                    json!(["http://example.com/bye"]),
                )],
            ),
            &["post_logout_redirect_uris[0]"],
        ),
        (
            "a name under a top-level domain the list does not know",
            with(
                web_client(),
                &[
                    ("client_uri", json!("https://app.corp.internal/")),
                    ("logo_uri", Value::Null),
                    ("policy_uri", Value::Null),
                    ("tos_uri", Value::Null),
                    ("redirect_uris", json!(["https://app.corp.internal/cb"])),
                ],
            ),
            &[],
        ),
    ];
    let mut wrong = Vec::new();
    for (what, metadata, expected) in &cases {
        let found = faults(&policy, metadata);
        if found != *expected {
            wrong.push(format!("{what}: expected {expected:?}, found {found:?}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn the_client_registration_data_relaxes_each_rule() {
    let local_app = with(
        web_client(),
        &[
            ("client_uri", json!("http://localhost:8080/")),
            ("logo_uri", Value::Null),
            ("policy_uri", Value::Null),
            ("tos_uri", Value::Null),
            ("redirect_uris", json!(["http://localhost:8080/cb"])),
        ],
    );
    assert_eq!(
        faults(&policy(json!({})), &local_app),
        ["client_uri", "redirect_uris[0]"]
    );
    assert!(
        faults(
            &policy(json!({"client_registration": {"allow_insecure_uris": true}})),
            &local_app
        )
        .is_empty()
    );

    let elsewhere = with(
        web_client(),
        &[("redirect_uris", json!(["https://other.example.net/cb"]))],
    );
    assert_eq!(faults(&policy(json!({})), &elsewhere), ["redirect_uris[0]"]);
    assert!(
        faults(
            &policy(json!({"client_registration": {"allow_host_mismatch": true}})),
            &elsewhere
        )
        .is_empty()
    );

    let anonymous = with(
        web_client(),
        &[
            ("client_uri", Value::Null),
            ("logo_uri", Value::Null),
            ("policy_uri", Value::Null),
            ("tos_uri", Value::Null),
        ],
    );
    assert_eq!(
        faults(&policy(json!({})), &anonymous),
        ["client_uri", "redirect_uris[0]", "redirect_uris[1]"]
    );
    assert!(
        faults(
            &policy(json!({"client_registration": {"allow_missing_client_uri": true}})),
            &anonymous
        )
        .is_empty()
    );
    // Contacts are never required, as in current MAS: `allow_missing_contacts` changes nothing.
    assert!(
        faults(
            &policy(json!({"client_registration": {"allow_missing_contacts": false}})),
            &web_client()
        )
        .is_empty()
    );
}

#[test]
fn a_redirect_uri_violation_names_the_uri() {
    let policy = policy(json!({}));
    let metadata = with(
        web_client(),
        &[("redirect_uris", json!(["https://evil.example.net/cb"]))],
    );
    let verdict = policy
        .evaluate_client_registration(&ClientRegistrationInput {
            client_metadata: &metadata,
            requester: &Requester::default(),
        })
        .expect("evaluates");
    let violation = &verdict.violations[0];
    assert_eq!(
        violation.redirect_uri.as_deref(),
        Some("https://evil.example.net/cb")
    );
    assert!(
        violation.msg.contains("same site as client_uri"),
        "{}",
        violation.msg
    );
}
