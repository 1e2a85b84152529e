//! Client authentication at the back-channel endpoints, exercised through the client
//! credentials grant: each registered method, and every way to get it wrong.

use crate::common::{
    TestApp, app, body_json,
    oauth::{CLIENT_SECRET, add_client, basic, post_form_with_auth, store_client, tokens},
    post_form,
};
use axum::{
    body::Body,
    http::{Response, StatusCode, header},
};
use base64ct::{Base64UrlUnpadded, Encoding as _};
use hmac::{Hmac, Mac as _};
use portcullis_keys::{JwsAlgorithm, Keystore, PrivateKey};
use portcullis_model::OAuthClient;
use serde_json::{Value, json};
use sha2::Sha256;

const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
const GRANTS: &[&str] = &["client_credentials"];

async fn assert_invalid_client(response: Response<Body>) -> Option<String> {
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let challenge = response
        .headers()
        .get(header::WWW_AUTHENTICATE)
        .map(|value| value.to_str().expect("ASCII").to_owned());
    let body = body_json(response).await;
    assert_eq!(body["error"], "invalid_client", "{body}");
    challenge
}

fn client_credentials(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut all = vec![("grant_type".to_owned(), "client_credentials".to_owned())];
    all.extend(
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    all
}

async fn token_request(app: &TestApp, pairs: &[(&str, &str)]) -> Response<Body> {
    let pairs = client_credentials(pairs);
    let borrowed: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    app.send(post_form("/oauth2/token", &borrowed)).await
}

/// Claims of an assertion by `client_id` for the token endpoint, valid for five minutes.
fn assertion_claims(app: &TestApp, client_id: &str, jti: &str) -> Value {
    let now = app.state.now().timestamp();
    json!({
        "iss": client_id,
        "sub": client_id,
        "aud": "https://auth.example.com/oauth2/token",
        "iat": now,
        "exp": now + 300,
        "jti": jti,
    })
}

fn hs256(secret: &str, claims: &Value) -> String {
    let header = Base64UrlUnpadded::encode_string(br#"{"alg":"HS256","typ":"JWT"}"#);
    let payload =
        Base64UrlUnpadded::encode_string(&serde_json::to_vec(claims).expect("serialisable"));
    let input = format!("{header}.{payload}");
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(input.as_bytes());
    let signature = Base64UrlUnpadded::encode_string(&mac.finalize().into_bytes());
    format!("{input}.{signature}")
}

fn client_key(fixture: &[u8]) -> Keystore {
    let key = PrivateKey::load(fixture, None).expect("the fixture key loads");
    Keystore::new(vec![(Some("client-key".to_owned()), key)]).expect("one key")
}

const EC_KEY: &[u8] = include_bytes!("../../../config/tests/fixtures/keys/ec-p256.sec1.pem");

async fn add_private_key_client(app: &TestApp, keys: &Keystore) -> OAuthClient {
    let client = OAuthClient {
        id: ulid::Ulid::new(),
        client_id: "signed".to_owned(),
        is_static: true,
        client_auth_method: "private_key_jwt".parse().expect("valid"),
        jwks: Some(serde_json::to_value(keys.public_jwks()).expect("serialisable")),
        grant_types: vec!["client_credentials".parse().expect("valid")],
        created_at: app.state.now(),
        ..OAuthClient::default()
    };
    store_client(app, &client).await
}

#[tokio::test]
async fn client_secret_basic_authenticates() {
    let app = app().await;
    add_client(&app, "service", "client_secret_basic", GRANTS).await;

    let response = app
        .send(post_form_with_auth(
            "/oauth2/token",
            &basic("service", CLIENT_SECRET),
            &[("grant_type", "client_credentials")],
        ))
        .await;

    tokens(response).await;
}

#[tokio::test]
async fn a_basic_secret_is_form_decoded() {
    let app = app().await;
    let secret = "p@ss word:+%/";
    let client = OAuthClient {
        id: ulid::Ulid::new(),
        client_id: "odd client".to_owned(),
        is_static: true,
        client_auth_method: "client_secret_basic".parse().expect("valid"),
        encrypted_client_secret: Some(app.state.encrypter().encrypt(secret.as_bytes())),
        grant_types: vec!["client_credentials".parse().expect("valid")],
        created_at: app.state.now(),
        ..OAuthClient::default()
    };
    store_client(&app, &client).await;

    let response = app
        .send(post_form_with_auth(
            "/oauth2/token",
            &basic("odd client", secret),
            &[("grant_type", "client_credentials")],
        ))
        .await;

    tokens(response).await;
}

#[tokio::test]
async fn a_wrong_basic_secret_is_refused_with_a_basic_challenge() {
    let app = app().await;
    add_client(&app, "service", "client_secret_basic", GRANTS).await;

    let response = app
        .send(post_form_with_auth(
            "/oauth2/token",
            &basic("service", "not-the-secret"),
            &[("grant_type", "client_credentials")],
        ))
        .await;

    let challenge = assert_invalid_client(response).await;
    assert!(
        challenge.is_some_and(|challenge| challenge.starts_with("Basic")),
        "a Basic challenge"
    );
}

#[tokio::test]
async fn client_secret_post_authenticates() {
    let app = app().await;
    add_client(&app, "service", "client_secret_post", GRANTS).await;

    let response = token_request(
        &app,
        &[("client_id", "service"), ("client_secret", CLIENT_SECRET)],
    )
    .await;

    tokens(response).await;
}

#[tokio::test]
async fn a_wrong_posted_secret_is_refused_without_challenge() {
    let app = app().await;
    add_client(&app, "service", "client_secret_post", GRANTS).await;

    let response = token_request(
        &app,
        &[("client_id", "service"), ("client_secret", "wrong")],
    )
    .await;

    assert_eq!(assert_invalid_client(response).await, None);
}

#[tokio::test]
async fn a_client_must_use_the_method_it_registered() {
    let app = app().await;
    add_client(&app, "service", "client_secret_basic", GRANTS).await;

    let response = token_request(
        &app,
        &[("client_id", "service"), ("client_secret", CLIENT_SECRET)],
    )
    .await;

    assert_invalid_client(response).await;
}

#[tokio::test]
async fn a_confidential_client_cannot_pass_for_a_public_one() {
    let app = app().await;
    add_client(&app, "service", "client_secret_post", GRANTS).await;

    let response = token_request(&app, &[("client_id", "service")]).await;

    assert_invalid_client(response).await;
}

#[tokio::test]
async fn an_unknown_client_is_refused() {
    let app = app().await;

    let response = token_request(
        &app,
        &[("client_id", "nobody"), ("client_secret", CLIENT_SECRET)],
    )
    .await;

    assert_invalid_client(response).await;
}

#[tokio::test]
async fn a_request_without_credentials_is_refused() {
    let app = app().await;

    let response = token_request(&app, &[]).await;

    assert_invalid_client(response).await;
}

#[tokio::test]
async fn two_methods_at_once_are_refused() {
    let app = app().await;
    add_client(&app, "service", "client_secret_basic", GRANTS).await;

    let response = app
        .send(post_form_with_auth(
            "/oauth2/token",
            &basic("service", CLIENT_SECRET),
            &[
                ("grant_type", "client_credentials"),
                ("client_secret", CLIENT_SECRET),
            ],
        ))
        .await;

    assert_invalid_client(response).await;
}

#[tokio::test]
async fn client_secret_jwt_authenticates_once_per_assertion() {
    let app = app().await;
    add_client(&app, "service", "client_secret_jwt", GRANTS).await;
    let assertion = hs256(CLIENT_SECRET, &assertion_claims(&app, "service", "jti-1"));
    let pairs = [
        ("client_assertion_type", ASSERTION_TYPE),
        ("client_assertion", assertion.as_str()),
    ];

    tokens(token_request(&app, &pairs).await).await;
    // RFC 7523 §3: the same JWT again is a replay.
    assert_invalid_client(token_request(&app, &pairs).await).await;
}

#[tokio::test]
async fn an_assertion_signed_with_another_secret_is_refused() {
    let app = app().await;
    add_client(&app, "service", "client_secret_jwt", GRANTS).await;
    let assertion = hs256(
        "another-secret",
        &assertion_claims(&app, "service", "jti-1"),
    );

    let response = token_request(
        &app,
        &[
            ("client_assertion_type", ASSERTION_TYPE),
            ("client_assertion", assertion.as_str()),
        ],
    )
    .await;

    assert_invalid_client(response).await;
}

#[tokio::test]
async fn an_expired_assertion_is_refused() {
    let app = app().await;
    add_client(&app, "service", "client_secret_jwt", GRANTS).await;
    let assertion = hs256(CLIENT_SECRET, &assertion_claims(&app, "service", "jti-1"));
    crate::common::oauth::advance_minutes(&app, 6);

    let response = token_request(
        &app,
        &[
            ("client_assertion_type", ASSERTION_TYPE),
            ("client_assertion", assertion.as_str()),
        ],
    )
    .await;

    assert_invalid_client(response).await;
}

#[tokio::test]
async fn an_assertion_for_another_audience_is_refused() {
    let app = app().await;
    add_client(&app, "service", "client_secret_jwt", GRANTS).await;
    let mut claims = assertion_claims(&app, "service", "jti-1");
    claims["aud"] = json!("https://other.example.com/token");
    let assertion = hs256(CLIENT_SECRET, &claims);

    let response = token_request(
        &app,
        &[
            ("client_assertion_type", ASSERTION_TYPE),
            ("client_assertion", assertion.as_str()),
        ],
    )
    .await;

    assert_invalid_client(response).await;
}

#[tokio::test]
async fn an_assertion_without_jti_is_refused() {
    let app = app().await;
    add_client(&app, "service", "client_secret_jwt", GRANTS).await;
    let mut claims = assertion_claims(&app, "service", "unused");
    claims.as_object_mut().expect("an object").remove("jti");
    let assertion = hs256(CLIENT_SECRET, &claims);

    let response = token_request(
        &app,
        &[
            ("client_assertion_type", ASSERTION_TYPE),
            ("client_assertion", assertion.as_str()),
        ],
    )
    .await;

    assert_invalid_client(response).await;
}

#[tokio::test]
async fn private_key_jwt_authenticates_with_a_registered_key() {
    let app = app().await;
    let keys = client_key(EC_KEY);
    add_private_key_client(&app, &keys).await;
    let assertion = keys
        .sign_jwt(
            JwsAlgorithm::Es256,
            &assertion_claims(&app, "signed", "jti-1"),
        )
        .expect("signed");

    let response = token_request(
        &app,
        &[
            ("client_assertion_type", ASSERTION_TYPE),
            ("client_assertion", assertion.as_str()),
            ("client_id", "signed"),
        ],
    )
    .await;

    tokens(response).await;
}

#[tokio::test]
async fn a_private_key_jwt_signed_by_an_unregistered_key_is_refused() {
    let app = app().await;
    let registered = client_key(EC_KEY);
    add_private_key_client(&app, &registered).await;
    // The server's own RSA fixture key: a valid signature, but not by the client's key.
    let other = client_key(include_bytes!(
        "../../../config/tests/fixtures/keys/rsa-2048.pkcs1.pem"
    ));
    let assertion = other
        .sign_jwt(
            JwsAlgorithm::Rs256,
            &assertion_claims(&app, "signed", "jti-1"),
        )
        .expect("signed");

    let response = token_request(
        &app,
        &[
            ("client_assertion_type", ASSERTION_TYPE),
            ("client_assertion", assertion.as_str()),
        ],
    )
    .await;

    assert_invalid_client(response).await;
}

#[tokio::test]
async fn an_hmac_assertion_is_refused_for_a_private_key_client() {
    let app = app().await;
    add_private_key_client(&app, &client_key(EC_KEY)).await;
    // Signing with a "secret" made of the public key is the classic algorithm confusion.
    let assertion = hs256("anything", &assertion_claims(&app, "signed", "jti-1"));

    let response = token_request(
        &app,
        &[
            ("client_assertion_type", ASSERTION_TYPE),
            ("client_assertion", assertion.as_str()),
        ],
    )
    .await;

    assert_invalid_client(response).await;
}

#[tokio::test]
async fn an_unknown_assertion_type_is_refused() {
    let app = app().await;
    add_client(&app, "service", "client_secret_jwt", GRANTS).await;
    let assertion = hs256(CLIENT_SECRET, &assertion_claims(&app, "service", "jti-1"));

    let response = token_request(
        &app,
        &[
            ("client_assertion_type", "urn:example:saml"),
            ("client_assertion", assertion.as_str()),
        ],
    )
    .await;

    assert_invalid_client(response).await;
}

/// Serves `jwks` at `http://127.0.0.1:<port>/jwks.json` for as long as the test runs.
async fn serve_jwks(jwks: Value) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    let router = axum::Router::new().route(
        "/jwks.json",
        axum::routing::get(move || async move { axum::Json(jwks) }),
    );
    tokio::spawn(async move { axum::serve(listener, router).await.expect("serves") });
    format!("http://{address}/jwks.json")
}

#[tokio::test]
async fn private_key_jwt_authenticates_with_keys_fetched_from_the_jwks_uri() {
    let app = app().await;
    let keys = client_key(EC_KEY);
    let uri = serve_jwks(serde_json::to_value(keys.public_jwks()).expect("serialisable")).await;
    let client = OAuthClient {
        id: ulid::Ulid::new(),
        client_id: "signed".to_owned(),
        is_static: true,
        client_auth_method: "private_key_jwt".parse().expect("valid"),
        jwks_uri: Some(uri.parse().expect("valid")),
        grant_types: vec!["client_credentials".parse().expect("valid")],
        created_at: app.state.now(),
        ..OAuthClient::default()
    };
    store_client(&app, &client).await;
    let assertion = keys
        .sign_jwt(
            JwsAlgorithm::Es256,
            &assertion_claims(&app, "signed", "jti-uri"),
        )
        .expect("signed");

    let response = token_request(
        &app,
        &[
            ("client_assertion_type", ASSERTION_TYPE),
            ("client_assertion", assertion.as_str()),
            ("client_id", "signed"),
        ],
    )
    .await;

    tokens(response).await;
}

#[tokio::test]
async fn an_unreachable_jwks_uri_is_an_authentication_failure() {
    let app = app().await;
    let keys = client_key(EC_KEY);
    let client = OAuthClient {
        id: ulid::Ulid::new(),
        client_id: "signed".to_owned(),
        is_static: true,
        client_auth_method: "private_key_jwt".parse().expect("valid"),
        jwks_uri: Some("http://127.0.0.1:9/jwks.json".parse().expect("valid")),
        grant_types: vec!["client_credentials".parse().expect("valid")],
        created_at: app.state.now(),
        ..OAuthClient::default()
    };
    store_client(&app, &client).await;
    let assertion = keys
        .sign_jwt(
            JwsAlgorithm::Es256,
            &assertion_claims(&app, "signed", "jti-x"),
        )
        .expect("signed");
    let response = token_request(
        &app,
        &[
            ("client_assertion_type", ASSERTION_TYPE),
            ("client_assertion", assertion.as_str()),
            ("client_id", "signed"),
        ],
    )
    .await;
    assert_invalid_client(response).await;
}
