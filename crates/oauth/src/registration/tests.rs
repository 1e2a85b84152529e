use serde_json::json;

use super::*;

fn metadata(value: Value) -> ClientMetadata {
    serde_json::from_value(value).expect("deserialisable metadata")
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
        "grant_types": [
            "authorization_code",
            "refresh_token",
            "urn:ietf:params:oauth:grant-type:device_code"
        ],
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
        "contacts": ["admin@example.com"]
    })
}

fn with(mut base: Value, key: &str, value: Value) -> Value {
    base[key] = value;
    base
}

fn without(mut base: Value, key: &str) -> Value {
    if let Some(object) = base.as_object_mut() {
        object.remove(key);
    }
    base
}

fn check(value: Value) -> Result<VerifiedClientMetadata, RegistrationError> {
    validate(&metadata(value))
}

/// Expect a failure on `field` with `problem`.
fn refused(value: Value, field: &str, problem: MetadataProblem) {
    assert_eq!(
        check(value),
        Err(RegistrationError {
            field: field.to_owned(),
            problem
        })
    );
}

fn native_redirect(uri: &str) -> Result<VerifiedClientMetadata, RegistrationError> {
    check(with(element_x(), "redirect_uris", json!([uri])))
}

fn web_redirect(uri: &str) -> Result<VerifiedClientMetadata, RegistrationError> {
    check(with(web_client(), "redirect_uris", json!([uri])))
}

// --- accepted metadata --------------------------------------------------------------------------

#[test]
fn element_x_metadata_is_accepted() {
    let verified = check(element_x()).expect("Element X registers");
    assert_eq!(verified.application_type, ApplicationType::Native);
    assert_eq!(verified.token_endpoint_auth_method, ClientAuthMethod::None);
    assert!(verified.has_grant(GrantType::DeviceCode));
    assert_eq!(
        verified.redirect_uris,
        [Url::parse("io.element:/callback").expect("valid")]
    );
}

#[test]
fn a_sample_web_client_is_accepted() {
    let verified = check(web_client()).expect("web client registers");
    assert_eq!(verified.application_type, ApplicationType::Web);
    assert_eq!(verified.redirect_uris.len(), 2);
    assert_eq!(verified.contacts, ["admin@example.com"]);
}

#[test]
fn defaults_are_those_of_rfc_7591() {
    let verified = check(json!({
        "client_uri": "https://example.com",
        "redirect_uris": ["https://example.com/cb"]
    }))
    .expect("minimal client registers");
    assert_eq!(verified.grant_types, [GrantType::AuthorizationCode]);
    assert_eq!(
        verified.response_types,
        ["code".parse::<ResponseTypes>().expect("valid")]
    );
    assert_eq!(
        verified.token_endpoint_auth_method,
        ClientAuthMethod::ClientSecretBasic
    );
    assert_eq!(verified.application_type, ApplicationType::Web);
}

#[test]
fn a_client_credentials_only_client_needs_no_redirect_uri_nor_response_type() {
    let verified = check(json!({
        "client_uri": "https://example.com",
        "grant_types": ["client_credentials"],
        "token_endpoint_auth_method": "client_secret_post"
    }))
    .expect("service client registers");
    assert!(verified.response_types.is_empty());
    assert!(verified.redirect_uris.is_empty());
}

#[test]
fn an_implicit_id_token_client_is_accepted() {
    assert!(
        check(json!({
            "client_uri": "https://example.com",
            "redirect_uris": ["https://example.com/cb"],
            "grant_types": ["authorization_code", "implicit"],
            "response_types": ["code id_token", "code"]
        }))
        .is_ok()
    );
}

#[test]
fn localized_fields_are_collected_by_language() {
    let value = with(
        with(element_x(), "client_name#fr", json!("Élément X")),
        "tos_uri#de-CH",
        json!("https://element.io/de/tos"),
    );
    let verified = check(value).expect("valid");
    assert_eq!(
        verified
            .client_name
            .by_language
            .get("fr")
            .map(String::as_str),
        Some("Élément X")
    );
    assert_eq!(
        verified.tos_uri.by_language.get("de-CH").map(Url::as_str),
        Some("https://element.io/de/tos")
    );
}

#[test]
fn unknown_metadata_is_ignored() {
    assert!(check(with(element_x(), "frobnicate", json!({"a": 1}))).is_ok());
}

#[test]
fn null_values_count_as_absent() {
    assert!(check(with(element_x(), "logo_uri", Value::Null)).is_ok());
}

#[test]
fn the_metadata_echo_contains_defaults_and_localized_variants() {
    let value = with(
        json!({
            "client_uri": "https://example.com",
            "redirect_uris": ["https://example.com/cb"]
        }),
        "client_name#fr",
        json!("Exemple"),
    );
    let echoed = check(value).expect("valid").to_metadata();
    let json = serde_json::to_value(&echoed).expect("serialisable");
    assert_eq!(json["grant_types"], json!(["authorization_code"]));
    assert_eq!(json["response_types"], json!(["code"]));
    assert_eq!(
        json["token_endpoint_auth_method"],
        json!("client_secret_basic")
    );
    assert_eq!(json["application_type"], json!("web"));
    assert_eq!(json["client_name#fr"], json!("Exemple"));
    assert!(json.get("logo_uri").is_none());
}

#[test]
fn private_key_jwt_with_jwks_is_accepted() {
    let value = with(
        with(
            web_client(),
            "token_endpoint_auth_method",
            json!("private_key_jwt"),
        ),
        "jwks",
        json!({"keys": [{"kty": "EC", "crv": "P-256", "x": "a", "y": "b"}]}),
    );
    assert!(check(value).is_ok());
}

#[test]
fn private_key_jwt_with_a_jwks_uri_is_accepted() {
    let value = with(
        with(
            web_client(),
            "token_endpoint_auth_method",
            json!("private_key_jwt"),
        ),
        "jwks_uri",
        json!("https://keys.example.net/jwks.json"),
    );
    assert!(check(value).is_ok());
}

// --- client_uri ---------------------------------------------------------------------------------

#[test]
fn a_client_uri_with_userinfo_is_refused() {
    refused(
        with(element_x(), "client_uri", json!("https://user@element.io")),
        "client_uri",
        MetadataProblem::Userinfo,
    );
}

#[test]
fn a_client_uri_that_is_not_a_url_is_refused() {
    refused(
        with(element_x(), "client_uri", json!("element.io")),
        "client_uri",
        MetadataProblem::NotAUrl,
    );
}

// --- public suffixes (MSC2966) ------------------------------------------------------------------

/// A web client of `client_uri`, with its redirect URI on `redirect_host`.

// --- logo, policy, tos --------------------------------------------------------------------------

#[test]
fn a_localized_field_with_an_invalid_language_tag_is_refused() {
    refused(
        with(element_x(), "client_name#", json!("X")),
        "client_name#",
        MetadataProblem::LanguageTag,
    );
}

#[test]
fn a_localized_field_that_is_not_a_string_is_refused() {
    refused(
        with(element_x(), "client_name#fr", json!(42)),
        "client_name#fr",
        MetadataProblem::WrongType,
    );
}

// --- redirect URIs ------------------------------------------------------------------------------

#[test]
fn redirect_uris_are_required_for_the_code_grant() {
    refused(
        without(element_x(), "redirect_uris"),
        "redirect_uris",
        MetadataProblem::Missing,
    );
}

#[test]
fn an_empty_redirect_uri_list_is_refused_for_the_code_grant() {
    refused(
        with(element_x(), "redirect_uris", json!([])),
        "redirect_uris",
        MetadataProblem::Missing,
    );
}

#[test]
fn a_missing_redirect_uri_is_an_invalid_redirect_uri_error() {
    let error = check(without(element_x(), "redirect_uris")).expect_err("required");
    assert_eq!(error.error_code(), ErrorCode::InvalidRedirectUri);
}

#[test]
fn a_web_redirect_with_a_fragment_is_refused() {
    assert_eq!(
        web_redirect("https://example.com/cb#frag").map_err(|e| e.problem),
        Err(MetadataProblem::Fragment)
    );
}

#[test]
fn a_web_redirect_with_an_empty_fragment_is_refused() {
    assert_eq!(
        web_redirect("https://example.com/cb#").map_err(|e| e.problem),
        Err(MetadataProblem::Fragment)
    );
}

#[test]
fn a_web_redirect_with_userinfo_is_refused() {
    assert_eq!(
        web_redirect("https://user:pass@example.com/cb").map_err(|e| e.problem),
        Err(MetadataProblem::Userinfo)
    );
}

#[test]
fn a_web_redirect_that_is_not_a_url_is_refused() {
    assert_eq!(
        web_redirect("/relative/cb").map_err(|e| e.problem),
        Err(MetadataProblem::NotAUrl)
    );
}

#[test]
fn a_native_private_use_redirect_with_a_fragment_is_refused() {
    assert_eq!(
        native_redirect("io.element:/callback#x").map_err(|e| e.problem),
        Err(MetadataProblem::Fragment)
    );
}

#[test]
fn a_native_loopback_redirect_with_userinfo_is_refused() {
    assert_eq!(
        native_redirect("http://user@127.0.0.1/cb").map_err(|e| e.problem),
        Err(MetadataProblem::Userinfo)
    );
}

#[test]
fn sites_and_schemes_are_left_to_the_policy() {
    // http, localhost and another site are the policy's to refuse (client_registration.rego).
    let value = with(
        with(web_client(), "client_uri", json!("http://localhost:8080/")),
        "redirect_uris",
        json!(["http://127.0.0.1:9000/cb"]),
    );
    let verified = check(value).expect("structurally valid");
    assert_eq!(
        verified.client_uri.map(|url| url.to_string()).as_deref(),
        Some("http://localhost:8080/")
    );
    assert!(check(without(web_client(), "client_uri")).is_ok());
}

#[test]
fn a_post_logout_redirect_with_a_fragment_is_client_metadata() {
    let value = with(
        web_client(),
        "post_logout_redirect_uris",
        json!(["https://example.com/bye#now"]),
    );
    let error = check(value).expect_err("fragment");
    assert_eq!(error.field, "post_logout_redirect_uris[0]");
    assert_eq!(error.error_code(), ErrorCode::InvalidClientMetadata);
}

// --- grant and response types -------------------------------------------------------------------

#[test]
fn an_unknown_grant_type_is_refused() {
    refused(
        with(
            element_x(),
            "grant_types",
            json!(["authorization_code", "password"]),
        ),
        "grant_types[1]",
        MetadataProblem::Unsupported,
    );
}

#[test]
fn an_empty_grant_type_list_is_refused() {
    refused(
        with(element_x(), "grant_types", json!([])),
        "grant_types",
        MetadataProblem::Missing,
    );
}

#[test]
fn the_token_response_type_is_refused() {
    refused(
        with(element_x(), "response_types", json!(["code", "token"])),
        "response_types[1]",
        MetadataProblem::Unsupported,
    );
}

#[test]
fn an_unknown_response_type_is_refused() {
    refused(
        with(element_x(), "response_types", json!(["magic"])),
        "response_types[0]",
        MetadataProblem::Unsupported,
    );
}

#[test]
fn the_code_response_type_without_the_code_grant_is_refused() {
    refused(
        with(element_x(), "grant_types", json!(["refresh_token"])),
        "response_types[0]",
        MetadataProblem::CodeWithoutGrant,
    );
}

#[test]
fn an_id_token_response_type_without_the_implicit_grant_is_refused() {
    refused(
        with(element_x(), "response_types", json!(["code id_token"])),
        "response_types[0]",
        MetadataProblem::IdTokenWithoutImplicit,
    );
}

#[test]
fn the_code_grant_without_a_code_response_type_is_refused() {
    refused(
        with(element_x(), "response_types", json!([])),
        "grant_types[0]",
        MetadataProblem::GrantWithoutResponseType,
    );
}

#[test]
fn the_implicit_grant_without_an_id_token_response_type_is_refused() {
    refused(
        with(
            element_x(),
            "grant_types",
            json!(["authorization_code", "implicit"]),
        ),
        "grant_types[1]",
        MetadataProblem::GrantWithoutResponseType,
    );
}

#[test]
fn a_public_client_cannot_use_client_credentials() {
    refused(
        with(
            element_x(),
            "grant_types",
            json!(["authorization_code", "client_credentials"]),
        ),
        "grant_types[1]",
        MetadataProblem::ClientCredentialsWithoutAuthentication,
    );
}

// --- application type and authentication --------------------------------------------------------

#[test]
fn an_unknown_application_type_is_refused() {
    refused(
        with(element_x(), "application_type", json!("desktop")),
        "application_type",
        MetadataProblem::Unsupported,
    );
}

#[test]
fn an_unknown_token_endpoint_auth_method_is_refused() {
    refused(
        with(
            element_x(),
            "token_endpoint_auth_method",
            json!("tls_client_auth"),
        ),
        "token_endpoint_auth_method",
        MetadataProblem::Unsupported,
    );
}

#[test]
fn private_key_jwt_without_keys_is_refused() {
    refused(
        with(
            web_client(),
            "token_endpoint_auth_method",
            json!("private_key_jwt"),
        ),
        "token_endpoint_auth_method",
        MetadataProblem::KeysRequired,
    );
}

#[test]
fn jwks_and_jwks_uri_together_are_refused() {
    let value = with(
        with(web_client(), "jwks", json!({"keys": []})),
        "jwks_uri",
        json!("https://example.com/jwks.json"),
    );
    refused(value, "jwks", MetadataProblem::BothJwksAndJwksUri);
}

#[test]
fn jwks_that_is_not_a_jwk_set_is_refused() {
    refused(
        with(web_client(), "jwks", json!([{"kty": "RSA"}])),
        "jwks",
        MetadataProblem::NotAJwkSet,
    );
}

#[test]
fn a_jwks_uri_over_http_is_refused() {
    refused(
        with(
            web_client(),
            "jwks_uri",
            json!("http://example.com/jwks.json"),
        ),
        "jwks_uri",
        MetadataProblem::NotHttps,
    );
}

#[test]
fn client_secret_jwt_with_an_asymmetric_algorithm_is_refused() {
    let value = with(
        with(
            web_client(),
            "token_endpoint_auth_method",
            json!("client_secret_jwt"),
        ),
        "token_endpoint_auth_signing_alg",
        json!("RS256"),
    );
    refused(
        value,
        "token_endpoint_auth_signing_alg",
        MetadataProblem::AlgorithmMismatch,
    );
}

#[test]
fn an_unsigned_client_assertion_algorithm_is_refused() {
    let value = with(
        with(
            with(
                web_client(),
                "token_endpoint_auth_method",
                json!("private_key_jwt"),
            ),
            "jwks_uri",
            json!("https://example.com/jwks.json"),
        ),
        "token_endpoint_auth_signing_alg",
        json!("none"),
    );
    refused(
        value,
        "token_endpoint_auth_signing_alg",
        MetadataProblem::AlgorithmMismatch,
    );
}

#[test]
fn unsigned_id_tokens_are_refused() {
    refused(
        with(element_x(), "id_token_signed_response_alg", json!("none")),
        "id_token_signed_response_alg",
        MetadataProblem::AlgorithmMismatch,
    );
}

#[test]
fn es256_id_tokens_are_accepted() {
    assert!(
        check(with(
            element_x(),
            "id_token_signed_response_alg",
            json!("ES256")
        ))
        .is_ok()
    );
}

#[test]
fn encrypted_id_tokens_are_refused() {
    refused(
        with(
            element_x(),
            "id_token_encrypted_response_alg",
            json!("RSA-OAEP"),
        ),
        "id_token_encrypted_response_alg",
        MetadataProblem::EncryptionNotSupported,
    );
}

// --- other fields -------------------------------------------------------------------------------

#[test]
fn an_empty_contact_is_refused() {
    refused(
        with(element_x(), "contacts", json!(["a@example.com", " "])),
        "contacts[1]",
        MetadataProblem::Missing,
    );
}

#[test]
fn a_malformed_scope_is_refused() {
    refused(
        with(element_x(), "scope", json!("openid  email")),
        "scope",
        MetadataProblem::Unsupported,
    );
}

#[test]
fn a_redirect_uri_list_of_the_wrong_type_does_not_deserialise() {
    assert!(
        serde_json::from_value::<ClientMetadata>(with(
            element_x(),
            "redirect_uris",
            json!("io.element:/callback")
        ))
        .is_err()
    );
}

#[test]
fn the_client_secret_methods_are_those_that_need_a_generated_secret() {
    assert!(ClientAuthMethod::ClientSecretBasic.uses_client_secret());
    assert!(ClientAuthMethod::ClientSecretJwt.uses_client_secret());
    assert!(!ClientAuthMethod::PrivateKeyJwt.uses_client_secret());
    assert!(!ClientAuthMethod::None.uses_client_secret());
}
