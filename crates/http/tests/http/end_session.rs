//! RP-initiated logout at `/oauth2/logout`, and the home page.

use crate::common::{TestApp, app, browser::Browser};
use axum::http::StatusCode;
use portcullis_keys::JwsAlgorithm;
use portcullis_model::OAuthClient;
use serde_json::json;

const AFTER_LOGOUT: &str = "https://app.example.com/signed-out";

async fn setup(app: &TestApp) {
    crate::common::add_user_with_password(app, "alice", "correct horse battery staple", false)
        .await;
    let now = app.state.now();
    let mut repo = app.database.transaction().await.expect("tx");
    let client = OAuthClient {
        id: ulid::Ulid::new(),
        client_id: "web-app".to_owned(),
        is_static: true,
        client_auth_method: "none".parse().expect("valid"),
        client_name: Some("Web App".to_owned()),
        post_logout_redirect_uris: vec![AFTER_LOGOUT.parse().expect("valid")],
        created_at: now,
        ..OAuthClient::default()
    };
    repo.oauth_clients()
        .upsert_static(&client)
        .await
        .expect("client");
    repo.commit().await.expect("commit");
}

async fn sign_in(browser: &mut Browser<'_>) {
    let form = browser.get("/login").await;
    let csrf = form.field("csrf").expect("csrf");
    let done = browser
        .post(
            "/login",
            &[
                ("csrf", &csrf),
                ("username", "alice"),
                ("password", "correct horse battery staple"),
            ],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
}

fn logout_uri(extra: &str) -> String {
    format!(
        "/oauth2/logout?client_id=web-app&post_logout_redirect_uri={}&state=bye{extra}",
        url::form_urlencoded::byte_serialize(AFTER_LOGOUT.as_bytes()).collect::<String>()
    )
}

#[tokio::test]
async fn the_user_confirms_and_goes_back_to_the_application_signed_out() {
    let app = app().await;
    setup(&app).await;
    let mut browser = Browser::new(&app);
    sign_in(&mut browser).await;
    assert!(browser.get("/").await.body.contains("alice"), "signed in");

    let confirm = browser.get(&logout_uri("")).await;
    assert_eq!(confirm.status, StatusCode::OK, "{}", confirm.body);
    assert!(confirm.body.contains("Web App"));
    let csrf = confirm.field("csrf").expect("csrf");
    let done = browser
        .post(&logout_uri(""), &[("csrf", &csrf), ("action", "logout")])
        .await;

    assert_eq!(done.status, StatusCode::SEE_OTHER);
    assert_eq!(
        done.location.as_deref(),
        Some(&*format!("{AFTER_LOGOUT}?state=bye"))
    );
    assert!(!browser.get("/").await.body.contains("alice"), "signed out");
}

#[tokio::test]
async fn an_unregistered_return_address_is_refused_with_a_page() {
    let app = app().await;
    setup(&app).await;
    let mut browser = Browser::new(&app);
    let page = browser.get("/oauth2/logout?client_id=web-app&post_logout_redirect_uri=https%3A%2F%2Fevil.example%2F").await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert_eq!(page.location, None);
}

#[tokio::test]
async fn an_id_token_hint_we_did_not_sign_is_refused() {
    let app = app().await;
    setup(&app).await;
    let mut browser = Browser::new(&app);
    let page = browser
        .get(&logout_uri(
            "&id_token_hint=eyJhbGciOiJub25lIn0.eyJhdWQiOiJ3ZWItYXBwIn0.",
        ))
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn our_id_token_names_the_client_whose_address_is_used() {
    let app = app().await;
    setup(&app).await;
    let hint = app
        .state
        .keystore()
        .sign_jwt(
            JwsAlgorithm::Rs256,
            &json!({"iss": "https://example.com/", "aud": "web-app", "sub": "x"}),
        )
        .expect("signs");
    let mut browser = Browser::new(&app);
    let uri = format!(
        "/oauth2/logout?id_token_hint={hint}&post_logout_redirect_uri={}",
        url::form_urlencoded::byte_serialize(AFTER_LOGOUT.as_bytes()).collect::<String>()
    );
    // Nobody is signed in here: straight back to the registered address.
    let page = browser.get(&uri).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.location.as_deref(), Some(AFTER_LOGOUT));
}

#[tokio::test]
async fn the_home_page_offers_to_sign_in() {
    let app = app().await;
    let mut browser = Browser::new(&app);
    let page = browser.get("/").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("/login"));
}
