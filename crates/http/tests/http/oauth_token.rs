//! `POST /oauth2/token`: the authorization code and client credentials grants, and every way a
//! code exchange must be refused.

use crate::common::{
    app, body_json, body_text,
    oauth::{
        Authorization, CLIENT_SECRET, VERIFIER, add_client, add_email, advance_minutes, basic,
        consented_code, exchange, introspect, is_active, lock, post_form_with_auth, refresh,
        sign_in, tokens,
    },
    post_form,
};
use axum::http::{Request, StatusCode, header};
use portcullis_oauth::id_token::{HashAlg, half_hash};

const CODE_GRANTS: &[&str] = &["authorization_code", "refresh_token"];

async fn assert_error(
    response: axum::http::Response<axum::body::Body>,
    status: StatusCode,
    error: &str,
) {
    assert_eq!(response.status(), status);
    assert_eq!(
        response
            .headers()
            .get(header::CACHE_CONTROL)
            .map(|v| v.as_bytes()),
        Some(&b"no-store"[..])
    );
    let body = body_json(response).await;
    assert_eq!(body["error"], error, "{body}");
    // RFC 6749 §5.2: `error`, and optionally `error_description` and `error_uri`.
    let object = body.as_object().expect("an object");
    assert!(
        object
            .keys()
            .all(|key| ["error", "error_description", "error_uri"].contains(&key.as_str())),
        "{body}"
    );
}

#[tokio::test]
async fn exchanging_a_code_with_pkce_gives_tokens_and_a_verifiable_id_token() {
    let app = app().await;
    let client = add_client(&app, "app", "none", CODE_GRANTS).await;
    let alice = sign_in(&app, "alice").await;
    add_email(&app, &alice.user, "alice@example.org").await;
    let code = consented_code(
        &app,
        &client,
        &alice,
        &Authorization {
            scope: "openid email urn:matrix:client:api:*",
            ..Authorization::default()
        },
    )
    .await;

    let response = exchange(&app, "app", None, &code.code, Some(VERIFIER)).await;

    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()[header::CACHE_CONTROL], "no-store");
    assert_eq!(response.headers()[header::PRAGMA], "no-cache");
    let body = body_json(response).await;
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 300);
    assert_eq!(body["scope"], "email openid urn:matrix:client:api:*");
    let access_token = body["access_token"].as_str().expect("an access token");
    assert!(access_token.starts_with("mat_"));
    assert!(
        body["refresh_token"]
            .as_str()
            .expect("a refresh token")
            .starts_with("mar_")
    );

    let jwks = body_text(
        app.send(
            Request::get("/oauth2/keys.json")
                .body(axum::body::Body::empty())
                .expect("request"),
        )
        .await,
    )
    .await;
    let id_token = body["id_token"].as_str().expect("an ID token");
    let claims = portcullis_keys::verify_jwt(&jwks, id_token).expect("signed by a published key");
    assert_eq!(claims["iss"], "https://example.com/");
    assert_eq!(claims["sub"], alice.user.id.to_string());
    assert_eq!(claims["aud"], "app");
    assert_eq!(claims["nonce"], "n-0S6_WzA2Mj");
    assert_eq!(claims["at_hash"], half_hash(HashAlg::Sha256, access_token));
    assert_eq!(claims["c_hash"], half_hash(HashAlg::Sha256, &code.code));
    assert_eq!(claims["auth_time"], app.state.now().timestamp());
    assert_eq!(claims["iat"], app.state.now().timestamp());
    assert_eq!(claims["exp"], app.state.now().timestamp() + 3600);
    assert_eq!(claims["email"], "alice@example.org");
    assert_eq!(claims["email_verified"], true);
}

#[tokio::test]
async fn no_id_token_is_issued_without_the_openid_scope() {
    let app = app().await;
    let client = add_client(&app, "app", "none", CODE_GRANTS).await;
    let alice = sign_in(&app, "alice").await;
    let code = consented_code(
        &app,
        &client,
        &alice,
        &Authorization {
            scope: "urn:matrix:client:api:*",
            ..Authorization::default()
        },
    )
    .await;

    let body = tokens(exchange(&app, "app", None, &code.code, Some(VERIFIER)).await).await;

    assert!(body.get("id_token").is_none(), "{body}");
}

#[tokio::test]
async fn a_client_without_the_refresh_grant_gets_no_refresh_token() {
    let app = app().await;
    let client = add_client(&app, "app", "none", &["authorization_code"]).await;
    let alice = sign_in(&app, "alice").await;
    let code = consented_code(&app, &client, &alice, &Authorization::default()).await;

    let body = tokens(exchange(&app, "app", None, &code.code, Some(VERIFIER)).await).await;

    assert!(body.get("refresh_token").is_none(), "{body}");
}

#[tokio::test]
async fn a_replayed_code_is_refused_and_revokes_what_it_gave() {
    let app = app().await;
    let client = add_client(&app, "app", "none", CODE_GRANTS).await;
    let alice = sign_in(&app, "alice").await;
    let code = consented_code(&app, &client, &alice, &Authorization::default()).await;
    let first = tokens(exchange(&app, "app", None, &code.code, Some(VERIFIER)).await).await;
    let access_token = first["access_token"].as_str().expect("access token");
    let refresh_token = first["refresh_token"].as_str().expect("refresh token");
    assert!(is_active(&app, access_token).await);

    let replay = exchange(&app, "app", None, &code.code, Some(VERIFIER)).await;

    assert_error(replay, StatusCode::BAD_REQUEST, "invalid_grant").await;
    assert!(!is_active(&app, access_token).await);
    assert_error(
        refresh(&app, "app", refresh_token).await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
    )
    .await;
}

#[tokio::test]
async fn an_unknown_code_is_an_invalid_grant() {
    let app = app().await;
    add_client(&app, "app", "none", CODE_GRANTS).await;

    let response = exchange(
        &app,
        "app",
        None,
        "NoSuchCodeNoSuchCodeNoSuchCode12",
        Some(VERIFIER),
    )
    .await;

    assert_error(response, StatusCode::BAD_REQUEST, "invalid_grant").await;
}

#[tokio::test]
async fn a_code_presented_by_another_client_is_refused() {
    let app = app().await;
    let client = add_client(&app, "app", "none", CODE_GRANTS).await;
    add_client(&app, "intruder", "none", CODE_GRANTS).await;
    let alice = sign_in(&app, "alice").await;
    let code = consented_code(&app, &client, &alice, &Authorization::default()).await;

    let response = exchange(&app, "intruder", None, &code.code, Some(VERIFIER)).await;

    assert_error(response, StatusCode::BAD_REQUEST, "invalid_grant").await;
    // The code is spent: the rightful client cannot use it after it leaked.
    assert_error(
        exchange(&app, "app", None, &code.code, Some(VERIFIER)).await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
    )
    .await;
}

#[tokio::test]
async fn a_code_with_another_redirect_uri_is_refused() {
    let app = app().await;
    let client = add_client(&app, "app", "none", CODE_GRANTS).await;
    let alice = sign_in(&app, "alice").await;
    let code = consented_code(&app, &client, &alice, &Authorization::default()).await;

    let response = app
        .send(post_form(
            "/oauth2/token",
            &[
                ("grant_type", "authorization_code"),
                ("code", &code.code),
                ("redirect_uri", "https://app.example.com/elsewhere"),
                ("client_id", "app"),
                ("code_verifier", VERIFIER),
            ],
        ))
        .await;

    assert_error(response, StatusCode::BAD_REQUEST, "invalid_grant").await;
}

#[tokio::test]
async fn a_code_without_its_redirect_uri_is_refused() {
    let app = app().await;
    let client = add_client(&app, "app", "none", CODE_GRANTS).await;
    let alice = sign_in(&app, "alice").await;
    let code = consented_code(&app, &client, &alice, &Authorization::default()).await;

    let response = app
        .send(post_form(
            "/oauth2/token",
            &[
                ("grant_type", "authorization_code"),
                ("code", &code.code),
                ("client_id", "app"),
                ("code_verifier", VERIFIER),
            ],
        ))
        .await;

    assert_error(response, StatusCode::BAD_REQUEST, "invalid_grant").await;
}

#[tokio::test]
async fn a_code_older_than_ten_minutes_is_refused() {
    let app = app().await;
    let client = add_client(&app, "app", "none", CODE_GRANTS).await;
    let alice = sign_in(&app, "alice").await;
    let code = consented_code(&app, &client, &alice, &Authorization::default()).await;
    advance_minutes(&app, 11);

    let response = exchange(&app, "app", None, &code.code, Some(VERIFIER)).await;

    assert_error(response, StatusCode::BAD_REQUEST, "invalid_grant").await;
}

#[tokio::test]
async fn a_code_with_a_challenge_is_refused_without_its_verifier() {
    let app = app().await;
    let client = add_client(&app, "app", "none", CODE_GRANTS).await;
    let alice = sign_in(&app, "alice").await;
    let code = consented_code(&app, &client, &alice, &Authorization::default()).await;

    let response = exchange(&app, "app", None, &code.code, None).await;

    assert_error(response, StatusCode::BAD_REQUEST, "invalid_grant").await;
}

#[tokio::test]
async fn a_code_with_a_wrong_verifier_is_refused() {
    let app = app().await;
    let client = add_client(&app, "app", "none", CODE_GRANTS).await;
    let alice = sign_in(&app, "alice").await;
    let code = consented_code(&app, &client, &alice, &Authorization::default()).await;

    let response = exchange(
        &app,
        "app",
        None,
        &code.code,
        Some("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
    )
    .await;

    assert_error(response, StatusCode::BAD_REQUEST, "invalid_grant").await;
}

#[tokio::test]
async fn a_verifier_for_a_code_without_challenge_is_refused() {
    let app = app().await;
    let client = add_client(&app, "app", "none", CODE_GRANTS).await;
    let alice = sign_in(&app, "alice").await;
    let code = consented_code(
        &app,
        &client,
        &alice,
        &Authorization {
            pkce: false,
            ..Authorization::default()
        },
    )
    .await;

    let response = exchange(&app, "app", None, &code.code, Some(VERIFIER)).await;

    assert_error(response, StatusCode::BAD_REQUEST, "invalid_grant").await;
}

#[tokio::test]
async fn a_code_of_a_locked_user_is_refused() {
    let app = app().await;
    let client = add_client(&app, "app", "none", CODE_GRANTS).await;
    let alice = sign_in(&app, "alice").await;
    let code = consented_code(&app, &client, &alice, &Authorization::default()).await;
    lock(&app, &alice.user).await;

    let response = exchange(&app, "app", None, &code.code, Some(VERIFIER)).await;

    assert_error(response, StatusCode::BAD_REQUEST, "invalid_grant").await;
}

#[tokio::test]
async fn a_grant_the_client_did_not_register_is_unauthorized() {
    let app = app().await;
    add_client(&app, "app", "client_secret_post", CODE_GRANTS).await;

    let response = app
        .send(post_form(
            "/oauth2/token",
            &[
                ("grant_type", "client_credentials"),
                ("client_id", "app"),
                ("client_secret", CLIENT_SECRET),
            ],
        ))
        .await;

    assert_error(response, StatusCode::BAD_REQUEST, "unauthorized_client").await;
}

#[tokio::test]
async fn an_unknown_grant_type_is_unsupported() {
    let app = app().await;
    add_client(&app, "app", "none", CODE_GRANTS).await;

    let response = app
        .send(post_form(
            "/oauth2/token",
            &[("grant_type", "password"), ("client_id", "app")],
        ))
        .await;

    assert_error(response, StatusCode::BAD_REQUEST, "unsupported_grant_type").await;
}

#[tokio::test]
async fn a_code_exchange_without_code_is_an_invalid_request() {
    let app = app().await;
    add_client(&app, "app", "none", CODE_GRANTS).await;

    let response = app
        .send(post_form(
            "/oauth2/token",
            &[("grant_type", "authorization_code"), ("client_id", "app")],
        ))
        .await;

    assert_error(response, StatusCode::BAD_REQUEST, "invalid_request").await;
}

#[tokio::test]
async fn a_repeated_parameter_is_an_invalid_request() {
    let app = app().await;

    let response = app
        .send(post_form(
            "/oauth2/token",
            &[
                ("grant_type", "authorization_code"),
                ("grant_type", "refresh_token"),
            ],
        ))
        .await;

    assert_error(response, StatusCode::BAD_REQUEST, "invalid_request").await;
}

#[tokio::test]
async fn client_credentials_give_a_confidential_client_an_access_token_only() {
    let app = app().await;
    add_client(
        &app,
        "service",
        "client_secret_basic",
        &["client_credentials"],
    )
    .await;

    let response = app
        .send(post_form_with_auth(
            "/oauth2/token",
            &basic("service", CLIENT_SECRET),
            &[
                ("grant_type", "client_credentials"),
                ("scope", "urn:mas:graphql:*"),
            ],
        ))
        .await;

    let body = tokens(response).await;
    assert!(body.get("refresh_token").is_none(), "{body}");
    assert!(body.get("id_token").is_none(), "{body}");
    assert_eq!(body["scope"], "urn:mas:graphql:*");
    let introspection = introspect(&app, body["access_token"].as_str().expect("token")).await;
    assert_eq!(introspection["active"], true);
    assert_eq!(introspection["client_id"], "service");
    assert!(introspection.get("username").is_none());
    assert!(introspection.get("sub").is_none());
}

#[tokio::test]
async fn client_credentials_are_refused_to_a_public_client() {
    let app = app().await;
    add_client(&app, "app", "none", &["client_credentials"]).await;

    let response = app
        .send(post_form(
            "/oauth2/token",
            &[("grant_type", "client_credentials"), ("client_id", "app")],
        ))
        .await;

    assert_error(response, StatusCode::BAD_REQUEST, "unauthorized_client").await;
}

#[tokio::test]
async fn client_credentials_cannot_ask_for_matrix_access() {
    let app = app().await;
    add_client(
        &app,
        "service",
        "client_secret_basic",
        &["client_credentials"],
    )
    .await;

    let response = app
        .send(post_form_with_auth(
            "/oauth2/token",
            &basic("service", CLIENT_SECRET),
            &[
                ("grant_type", "client_credentials"),
                ("scope", "urn:matrix:client:api:*"),
            ],
        ))
        .await;

    assert_error(response, StatusCode::BAD_REQUEST, "invalid_scope").await;
}

#[tokio::test]
async fn only_an_admin_client_may_ask_for_the_admin_scope() {
    let app = crate::common::app_with(|config| {
        config.policy.data = serde_json::json!({ "admin_clients": ["admin-service"] });
    })
    .await;
    add_client(
        &app,
        "service",
        "client_secret_basic",
        &["client_credentials"],
    )
    .await;
    add_client(
        &app,
        "admin-service",
        "client_secret_basic",
        &["client_credentials"],
    )
    .await;
    let ask = |client_id: &'static str| {
        post_form_with_auth(
            "/oauth2/token",
            &basic(client_id, CLIENT_SECRET),
            &[
                ("grant_type", "client_credentials"),
                ("scope", "urn:mas:admin"),
            ],
        )
    };

    assert_error(
        app.send(ask("service")).await,
        StatusCode::BAD_REQUEST,
        "invalid_scope",
    )
    .await;
    let body = tokens(app.send(ask("admin-service")).await).await;
    assert_eq!(body["scope"], "urn:mas:admin");
}

#[tokio::test]
async fn an_error_body_is_never_anything_but_oauth_json() {
    let app = app().await;

    let response = app
        .send(
            Request::post("/oauth2/token")
                .header(header::CONTENT_TYPE, "text/plain")
                .body(axum::body::Body::from("grant_type=authorization_code"))
                .expect("request"),
        )
        .await;

    assert_error(response, StatusCode::BAD_REQUEST, "invalid_request").await;
}
