//! The authorization code flow as a browser goes through it: /authorize, /login, /consent,
//! and back to the client; and every way it must refuse.

use crate::common::{
    TestApp, app,
    browser::{Browser, Page},
};
use axum::http::StatusCode;
use portcullis_model::{AuthorizationGrantStage, OAuthClient};

const REDIRECT: &str = "https://app.example.com/callback";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

pub(crate) async fn add_user(app: &TestApp, username: &str, password: &str, admin: bool) {
    crate::common::add_user_with_password(app, username, password, admin).await;
}

pub(crate) async fn add_client(app: &TestApp, client_id: &str, auth_method: &str) -> OAuthClient {
    let client = OAuthClient {
        id: ulid::Ulid::new(),
        client_id: client_id.to_owned(),
        is_static: true,
        client_auth_method: auth_method.parse().expect("valid"),
        encrypted_client_secret: (auth_method != "none")
            .then(|| app.state.encrypter().encrypt(b"client-secret")),
        redirect_uris: vec![REDIRECT.parse().expect("valid")],
        client_name: Some("Test App".to_owned()),
        grant_types: vec![
            "authorization_code".parse().expect("valid"),
            "refresh_token".parse().expect("valid"),
        ],
        created_at: app.state.now(),
        ..OAuthClient::default()
    };
    let mut repo = app.database.transaction().await.expect("tx");
    let client = repo
        .oauth_clients()
        .upsert_static(&client)
        .await
        .expect("client stored");
    repo.commit().await.expect("commit");
    client
}

pub(crate) fn authorize_uri(client_id: &str, extra: &str) -> String {
    format!(
        "/authorize?response_type=code&client_id={client_id}&redirect_uri={}&scope=openid%20urn%3Amatrix%3Aclient%3Aapi%3A*&state=xyz&code_challenge={CHALLENGE}&code_challenge_method=S256{extra}",
        url::form_urlencoded::byte_serialize(REDIRECT.as_bytes()).collect::<String>()
    )
}

/// Signs in on the login page the flow led to, and returns the page after the login POST.
pub(crate) async fn sign_in(
    browser: &mut Browser<'_>,
    login: &Page,
    username: &str,
    password: &str,
) -> Page {
    assert_eq!(login.status, StatusCode::SEE_OTHER, "{}", login.body);
    let login_path = login.location_path();
    assert!(login_path.starts_with("/login"), "{login_path}");
    let form = browser.get(&login_path).await;
    assert_eq!(form.status, StatusCode::OK);
    let csrf = form.field("csrf").expect("a csrf field");
    browser
        .post(
            &login_path,
            &[
                ("csrf", &csrf),
                ("username", username),
                ("password", password),
            ],
        )
        .await
}

/// Approves on the consent page at `consent` (a redirect to it) and returns the answer.
async fn allow(browser: &mut Browser<'_>, consent: &Page) -> Page {
    let path = consent.location_path();
    assert!(path.starts_with("/consent/"), "{path}");
    let page = browser.get(&path).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let csrf = page.field("csrf").expect("a csrf field");
    browser
        .post(&path, &[("csrf", &csrf), ("action", "allow")])
        .await
}

pub(crate) fn query_of(location: &str) -> std::collections::HashMap<String, String> {
    let url: url::Url = location.parse().expect("an absolute redirect");
    url.query_pairs().into_owned().collect()
}

#[tokio::test]
async fn a_signed_out_user_signs_in_consents_and_the_client_gets_a_code() {
    let app = app().await;
    add_user(&app, "alice", "correct horse battery staple", false).await;
    add_client(&app, "public-app", "none").await;
    let mut browser = Browser::new(&app);

    let start = browser.get(&authorize_uri("public-app", "")).await;
    let after_login = sign_in(
        &mut browser,
        &start,
        "alice",
        "correct horse battery staple",
    )
    .await;
    assert_eq!(
        after_login.status,
        StatusCode::SEE_OTHER,
        "{}",
        after_login.body
    );
    let done = allow(&mut browser, &after_login).await;

    assert_eq!(done.status, StatusCode::SEE_OTHER);
    let location = done.location.clone().expect("a redirect to the client");
    assert!(location.starts_with(REDIRECT), "{location}");
    let params = query_of(&location);
    assert_eq!(params.get("code").map(String::len), Some(32));
    assert_eq!(params.get("state").map(String::as_str), Some("xyz"));
    assert_eq!(
        params.get("iss").map(String::as_str),
        Some("https://example.com/"),
        "RFC 9207"
    );
}

#[tokio::test]
async fn a_wrong_password_shows_the_form_again_without_saying_which_part_was_wrong() {
    let app = app().await;
    add_user(&app, "alice", "correct horse battery staple", false).await;
    add_client(&app, "public-app", "none").await;
    let mut browser = Browser::new(&app);
    let start = browser.get(&authorize_uri("public-app", "")).await;

    let wrong_password = sign_in(&mut browser, &start, "alice", "wrong").await;
    let unknown_user = sign_in(&mut browser, &start, "mallory", "wrong").await;

    assert_eq!(wrong_password.status, StatusCode::UNAUTHORIZED);
    assert_eq!(unknown_user.status, StatusCode::UNAUTHORIZED);
    assert!(wrong_password.body.contains("Wrong username or password"));
    assert!(unknown_user.body.contains("Wrong username or password"));
}

#[tokio::test]
async fn a_login_without_the_csrf_token_is_refused() {
    let app = app().await;
    add_user(&app, "alice", "correct horse battery staple", false).await;
    let mut browser = Browser::new(&app);
    let page = browser
        .post(
            "/login",
            &[
                ("csrf", "forged"),
                ("username", "alice"),
                ("password", "correct horse battery staple"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(
        page.headers
            .get("set-cookie")
            .is_none_or(|c| !c.to_str().unwrap_or_default().starts_with("session="))
    );
}

#[tokio::test]
async fn an_unregistered_redirect_uri_shows_a_page_and_never_redirects() {
    let app = app().await;
    add_client(&app, "public-app", "none").await;
    let mut browser = Browser::new(&app);
    let uri = format!(
        "/authorize?response_type=code&client_id=public-app&redirect_uri=https%3A%2F%2Fevil.example%2Fcb&scope=openid&code_challenge={CHALLENGE}&code_challenge_method=S256"
    );
    let page = browser.get(&uri).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert_eq!(page.location, None);
    assert_eq!(
        page.headers
            .get("x-frame-options")
            .map(|v| v.to_str().unwrap_or_default()),
        Some("DENY")
    );
}

#[tokio::test]
async fn an_unknown_client_shows_a_page() {
    let app = app().await;
    let mut browser = Browser::new(&app);
    let page = browser.get(&authorize_uri("nobody", "")).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert_eq!(page.location, None);
}

#[tokio::test]
async fn a_public_client_without_pkce_gets_an_error_with_the_issuer() {
    let app = app().await;
    add_client(&app, "public-app", "none").await;
    let mut browser = Browser::new(&app);
    let uri = format!(
        "/authorize?response_type=code&client_id=public-app&redirect_uri={}&scope=openid&state=s1",
        url::form_urlencoded::byte_serialize(REDIRECT.as_bytes()).collect::<String>()
    );
    let page = browser.get(&uri).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    let params = query_of(page.location.as_deref().expect("redirect"));
    assert_eq!(
        params.get("error").map(String::as_str),
        Some("invalid_request")
    );
    assert_eq!(params.get("state").map(String::as_str), Some("s1"));
    assert_eq!(
        params.get("iss").map(String::as_str),
        Some("https://example.com/")
    );
}

#[tokio::test]
async fn request_objects_are_refused_as_not_supported() {
    let app = app().await;
    add_client(&app, "public-app", "none").await;
    let mut browser = Browser::new(&app);
    for (parameter, error) in [
        ("request", "request_not_supported"),
        ("request_uri", "request_uri_not_supported"),
        ("registration", "registration_not_supported"),
    ] {
        let page = browser
            .get(&authorize_uri("public-app", &format!("&{parameter}=x")))
            .await;
        let params = query_of(page.location.as_deref().expect("redirect"));
        assert_eq!(params.get("error").map(String::as_str), Some(error));
    }
}

#[tokio::test]
async fn prompt_none_without_a_session_answers_login_required() {
    let app = app().await;
    add_client(&app, "public-app", "none").await;
    let mut browser = Browser::new(&app);
    let page = browser
        .get(&authorize_uri("public-app", "&prompt=none"))
        .await;
    let params = query_of(page.location.as_deref().expect("redirect"));
    assert_eq!(
        params.get("error").map(String::as_str),
        Some("login_required")
    );
}

#[tokio::test]
async fn the_user_can_refuse_and_the_client_hears_access_denied() {
    let app = app().await;
    add_user(&app, "alice", "correct horse battery staple", false).await;
    add_client(&app, "public-app", "none").await;
    let mut browser = Browser::new(&app);
    let start = browser.get(&authorize_uri("public-app", "")).await;
    let consent = sign_in(
        &mut browser,
        &start,
        "alice",
        "correct horse battery staple",
    )
    .await;
    let path = consent.location_path();
    let page = browser.get(&path).await;
    let csrf = page.field("csrf").expect("csrf");

    let done = browser
        .post(&path, &[("csrf", &csrf), ("action", "deny")])
        .await;

    let params = query_of(done.location.as_deref().expect("redirect"));
    assert_eq!(
        params.get("error").map(String::as_str),
        Some("access_denied")
    );
    let id: ulid::Ulid = path
        .trim_start_matches("/consent/")
        .parse()
        .expect("a grant id");
    let mut repo = app.database.transaction().await.expect("tx");
    let grant = repo
        .oauth_authorization_grants()
        .find(id)
        .await
        .expect("ok")
        .expect("grant");
    assert!(matches!(
        grant.stage,
        AuthorizationGrantStage::Cancelled { .. }
    ));
}

#[tokio::test]
async fn a_confidential_client_is_not_asked_twice_for_the_same_scope() {
    let app = app().await;
    add_user(&app, "alice", "correct horse battery staple", false).await;
    add_client(&app, "web-app", "client_secret_basic").await;
    let mut browser = Browser::new(&app);
    let start = browser.get(&authorize_uri("web-app", "")).await;
    let consent = sign_in(
        &mut browser,
        &start,
        "alice",
        "correct horse battery staple",
    )
    .await;
    let first = allow(&mut browser, &consent).await;
    assert!(query_of(first.location.as_deref().expect("redirect")).contains_key("code"));

    // Signed in, same scope: straight to the consent URL, which answers at once.
    let again = browser.get(&authorize_uri("web-app", "")).await;
    let consent_path = again.location_path();
    assert!(consent_path.starts_with("/consent/"), "{consent_path}");
    let answer = browser.get(&consent_path).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER);
    assert!(query_of(answer.location.as_deref().expect("redirect")).contains_key("code"));

    // prompt=none now succeeds silently too.
    let silent = browser.get(&authorize_uri("web-app", "&prompt=none")).await;
    assert!(
        query_of(silent.location.as_deref().expect("redirect")).contains_key("code"),
        "{:?}",
        silent.location
    );
}

#[tokio::test]
async fn a_public_client_is_asked_every_time() {
    let app = app().await;
    add_user(&app, "alice", "correct horse battery staple", false).await;
    add_client(&app, "public-app", "none").await;
    let mut browser = Browser::new(&app);
    let start = browser.get(&authorize_uri("public-app", "")).await;
    let consent = sign_in(
        &mut browser,
        &start,
        "alice",
        "correct horse battery staple",
    )
    .await;
    allow(&mut browser, &consent).await;

    let again = browser.get(&authorize_uri("public-app", "")).await;
    let page = browser.get(&again.location_path()).await;
    assert_eq!(
        page.status,
        StatusCode::OK,
        "the consent page is shown again"
    );
    let silent = browser
        .get(&authorize_uri("public-app", "&prompt=none"))
        .await;
    let params = query_of(silent.location.as_deref().expect("redirect"));
    assert_eq!(
        params.get("error").map(String::as_str),
        Some("consent_required")
    );
}

#[tokio::test]
async fn prompt_login_asks_for_the_password_again_even_when_signed_in() {
    let app = app().await;
    add_user(&app, "alice", "correct horse battery staple", false).await;
    add_client(&app, "public-app", "none").await;
    let mut browser = Browser::new(&app);
    let start = browser.get(&authorize_uri("public-app", "")).await;
    let consent = sign_in(
        &mut browser,
        &start,
        "alice",
        "correct horse battery staple",
    )
    .await;
    allow(&mut browser, &consent).await;

    app.clock.advance(chrono::TimeDelta::minutes(10));
    let again = browser
        .get(&authorize_uri("public-app", "&prompt=login"))
        .await;
    assert!(
        again.location_path().starts_with("/login"),
        "{:?}",
        again.location
    );
    // Skipping the login and going to the consent page directly does not work either.
    let grant_id = query_of(&format!("https://x{}", again.location_path()))
        .get("id")
        .cloned()
        .expect("grant id");
    let sneaky = browser.get(&format!("/consent/{grant_id}")).await;
    assert!(
        sneaky.location_path().starts_with("/login"),
        "{:?}",
        sneaky.location
    );
}

#[tokio::test]
async fn an_admin_scope_for_a_user_who_is_not_an_admin_is_denied_to_the_client() {
    let app = app().await;
    add_user(&app, "alice", "correct horse battery staple", false).await;
    add_client(&app, "public-app", "none").await;
    let mut browser = Browser::new(&app);
    let uri = authorize_uri("public-app", "")
        .replace("scope=openid", "scope=openid%20urn%3Asynapse%3Aadmin%3A*");
    let start = browser.get(&uri).await;
    let consent = sign_in(
        &mut browser,
        &start,
        "alice",
        "correct horse battery staple",
    )
    .await;
    let page = browser.get(&consent.location_path()).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let params = query_of(page.location.as_deref().expect("redirect"));
    assert_eq!(
        params.get("error").map(String::as_str),
        Some("access_denied")
    );
}

#[tokio::test]
async fn a_login_hint_fills_in_the_username() {
    let app = app().await;
    add_client(&app, "public-app", "none").await;
    let mut browser = Browser::new(&app);
    let start = browser
        .get(&authorize_uri(
            "public-app",
            "&login_hint=mxid%3A%40bob%3Aexample.com",
        ))
        .await;
    let form = browser.get(&start.location_path()).await;
    assert!(form.body.contains("value=\"bob\""), "{}", form.body);
}

async fn add_implicit_client(app: &TestApp) {
    let client = OAuthClient {
        id: ulid::Ulid::new(),
        client_id: "hybrid-app".to_owned(),
        is_static: true,
        client_auth_method: "client_secret_basic".parse().expect("valid"),
        encrypted_client_secret: Some(app.state.encrypter().encrypt(b"client-secret")),
        redirect_uris: vec![REDIRECT.parse().expect("valid")],
        grant_types: vec![
            "authorization_code".parse().expect("valid"),
            "implicit".parse().expect("valid"),
        ],
        created_at: app.state.now(),
        ..OAuthClient::default()
    };
    let mut repo = app.database.transaction().await.expect("tx");
    repo.oauth_clients()
        .upsert_static(&client)
        .await
        .expect("client stored");
    repo.commit().await.expect("commit");
}

#[tokio::test]
async fn a_client_allowed_the_implicit_grant_gets_a_code_and_an_id_token_in_the_fragment() {
    let app = app().await;
    add_user(&app, "alice", "correct horse battery staple", false).await;
    add_implicit_client(&app).await;
    let mut browser = Browser::new(&app);
    let uri = authorize_uri("hybrid-app", "&nonce=n-0S6")
        .replace("response_type=code", "response_type=code%20id_token");
    let start = browser.get(&uri).await;
    let consent = sign_in(
        &mut browser,
        &start,
        "alice",
        "correct horse battery staple",
    )
    .await;
    let done = allow(&mut browser, &consent).await;

    let location: url::Url = done
        .location
        .as_deref()
        .expect("redirect")
        .parse()
        .expect("URL");
    assert_eq!(
        location.query(),
        None,
        "hybrid responses go in the fragment"
    );
    let params: std::collections::HashMap<String, String> =
        url::form_urlencoded::parse(location.fragment().expect("a fragment").as_bytes())
            .into_owned()
            .collect();
    let code = params.get("code").expect("a code");
    let id_token = params.get("id_token").expect("an ID token");
    let jwks = serde_json::to_string(app.state.keystore().public_jwks()).expect("JWKS");
    let claims = portcullis_keys::verify_jwt(&jwks, id_token).expect("signed with our key");
    assert_eq!(claims["nonce"], "n-0S6");
    assert_eq!(claims["aud"], "hybrid-app");
    assert_eq!(
        claims["c_hash"],
        portcullis_oauth::id_token::half_hash(portcullis_oauth::id_token::HashAlg::Sha256, code)
    );
}

#[tokio::test]
async fn an_id_token_response_is_refused_to_a_client_without_the_implicit_grant() {
    let app = app().await;
    add_client(&app, "web-app", "client_secret_basic").await;
    let mut browser = Browser::new(&app);
    let uri = authorize_uri("web-app", "&nonce=n")
        .replace("response_type=code", "response_type=code%20id_token");
    let page = browser.get(&uri).await;
    let location: url::Url = page
        .location
        .as_deref()
        .expect("redirect")
        .parse()
        .expect("URL");
    let params: std::collections::HashMap<String, String> =
        url::form_urlencoded::parse(location.fragment().unwrap_or_default().as_bytes())
            .into_owned()
            .collect();
    assert_eq!(
        params.get("error").map(String::as_str),
        Some("unauthorized_client"),
        "{location}"
    );
}

#[tokio::test]
async fn an_upstream_providers_parameter_templates_read_the_clients_authorization_request() {
    let app = app().await;
    add_client(&app, "public-app", "none").await;
    // A provider configured by hand (no discovery to fetch), with templated parameters.
    let mut repo = app.database.transaction().await.expect("tx");
    repo.upstream_providers()
        .upsert(&portcullis_model::UpstreamProvider {
            id: "corp".to_owned(),
            issuer: None,
            human_name: Some("Corp".to_owned()),
            brand_name: None,
            encrypted_client_secret: None,
            config: serde_json::json!({
                "id": "corp",
                "discovery_mode": "disabled",
                "authorization_endpoint": "https://id.corp.example/authorize",
                "token_endpoint": "https://id.corp.example/token",
                "client_id": "portcullis",
                "token_endpoint_auth_method": "none",
                "scope": "profile",
                "forward_login_hint": true,
                "additional_authorization_parameters": {
                    "ui_locales": "{{ params.ui_locales }}",
                    "acr_values": "{{ params.acr_values }}",
                    "audience": "{{ params.client_id | upper }}",
                    "prompt": "{% if logged_out %}login{% endif %}",
                },
            }),
            created_at: app.state.now(),
            disabled_at: None,
        })
        .await
        .expect("stored");
    repo.commit().await.expect("commit");

    let mut browser = Browser::new(&app);
    let to_login = browser
        .get(&authorize_uri(
            "public-app",
            "&ui_locales=fr&login_hint=mxid%3A%40alice%3Aexample.com",
        ))
        .await;
    assert_eq!(to_login.status, StatusCode::SEE_OTHER, "{}", to_login.body);
    let login_path = to_login.location_path();
    assert!(
        login_path.starts_with("/login?kind=continue_authorization_grant"),
        "{login_path}"
    );
    let start = browser
        .get(&login_path.replacen("/login", "/upstream/authorize/corp", 1))
        .await;
    assert_eq!(start.status, StatusCode::SEE_OTHER, "{}", start.body);
    let to_provider: url::Url = start
        .location
        .as_deref()
        .expect("a location")
        .parse()
        .expect("a URL");
    assert_eq!(to_provider.host_str(), Some("id.corp.example"));
    let query: std::collections::HashMap<String, String> =
        to_provider.query_pairs().into_owned().collect();
    assert_eq!(query.get("ui_locales").map(String::as_str), Some("fr"));
    assert_eq!(
        query.get("audience").map(String::as_str),
        Some("PUBLIC-APP")
    );
    assert_eq!(
        query.get("login_hint").map(String::as_str),
        Some("mxid:@alice:example.com")
    );
    assert!(
        !query.contains_key("acr_values"),
        "a template that renders nothing adds nothing: {to_provider}"
    );
    assert!(!query.contains_key("prompt"), "{to_provider}");

    // Just signed out here: `logged_out` lets the provider be asked to sign in again.
    let login_page = browser.get("/login").await;
    let csrf = login_page.field("csrf").expect("a csrf field");
    let out = browser.post("/logout", &[("csrf", &csrf)]).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER, "{}", out.body);
    let again = browser.get("/upstream/authorize/corp").await;
    assert_eq!(again.status, StatusCode::SEE_OTHER, "{}", again.body);
    let location = again.location.as_deref().expect("a location");
    assert!(location.contains("prompt=login"), "{location}");
}
