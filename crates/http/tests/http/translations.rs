//! Pages follow the visitor's `Accept-Language`.

use crate::common::{app, body_text};
use axum::{
    body::Body,
    http::{Request, StatusCode, header},
};
use portcullis_templates::Locale;

async fn login_page(accept_language: Option<&str>) -> (StatusCode, Option<String>, String) {
    let app = app().await;
    let mut request = Request::get("/login");
    if let Some(value) = accept_language {
        request = request.header(header::ACCEPT_LANGUAGE, value);
    }
    let response = app
        .send(request.body(Body::empty()).expect("valid request"))
        .await;
    let status = response.status();
    let vary = response
        .headers()
        .get_all(header::VARY)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .map(str::to_ascii_lowercase)
        .reduce(|a, b| format!("{a}, {b}"));
    (status, vary, body_text(response).await)
}

#[tokio::test]
async fn the_login_page_is_in_french_for_a_french_browser() {
    let (status, vary, html) = login_page(Some("fr-CA;q=0.9, en;q=0.8")).await;

    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("<html lang=\"fr\""), "{html}");
    assert!(html.contains("Mot de passe"), "{html}");
    assert!(html.contains("Se connecter"), "{html}");
    assert!(!html.contains(">Password<"), "{html}");
    assert!(vary.is_some_and(|vary| vary.contains("accept-language")));
}

#[tokio::test]
async fn the_login_page_is_in_english_by_default() {
    let (status, vary, html) = login_page(None).await;

    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("<html lang=\"en\""), "{html}");
    assert!(html.contains(">Password<"), "{html}");
    assert!(!html.contains("Mot de passe"), "{html}");
    assert!(vary.is_some_and(|vary| vary.contains("accept-language")));
}

#[tokio::test]
async fn an_unsupported_language_gives_english() {
    let (_, _, html) = login_page(Some("de-DE, ja;q=0.5")).await;

    assert!(html.contains("<html lang=\"en\""), "{html}");
    assert!(html.contains(">Password<"), "{html}");
}

#[tokio::test]
async fn a_wrong_password_is_reported_in_french() {
    let app = app().await;
    let form = app
        .send(
            Request::get("/login")
                .body(Body::empty())
                .expect("valid request"),
        )
        .await;
    let cookies = form
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok()?.split(';').next().map(str::to_owned))
        .collect::<Vec<_>>()
        .join("; ");
    let html = body_text(form).await;
    let csrf = html
        .split(r#"name="csrf" value=""#)
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a CSRF field")
        .to_owned();
    let body = format!("csrf={csrf}&username=nobody&password=wrong");
    let request = Request::post("/login")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::COOKIE, cookies)
        .header(header::ACCEPT_LANGUAGE, "fr")
        .body(Body::from(body))
        .expect("valid request");

    let response = app.send(request).await;

    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let html = body_text(response).await;
    assert!(html.contains("<html lang=\"fr\""), "{html}");
    assert!(
        html.contains("Nom d’utilisateur ou mot de passe incorrect."),
        "{html}"
    );
}

/// Every `tr("key"` in the handlers names a key of the English catalog.
#[test]
fn every_key_translated_in_rust_exists() {
    fn scan(dir: &std::path::Path, missing: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).expect("readable") {
            let path = entry.expect("readable").path();
            if path.is_dir() {
                scan(&path, missing);
                continue;
            }
            let source = std::fs::read_to_string(&path).expect("readable");
            let mut rest = source.as_str();
            while let Some(at) = rest.find("tr(\"") {
                rest = &rest[at + 4..];
                let key = &rest[..rest.find('"').unwrap_or(0)];
                let english = portcullis_templates::translate(Locale::En, key, &[]);
                if english == key {
                    missing.push(format!("{}: {key}", path.display()));
                }
            }
        }
    }
    let mut missing = Vec::new();
    scan(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut missing,
    );
    assert!(missing.is_empty(), "keys missing from en.json: {missing:?}");
}
