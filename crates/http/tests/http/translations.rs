//! Pages follow the visitor's `Accept-Language`.

use crate::common::{app, app_with, body_text, browser::Browser};
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
    let (_, _, html) = login_page(Some("ja-JP, ko;q=0.5")).await;

    assert!(html.contains("<html lang=\"en\""), "{html}");
    assert!(html.contains(">Password<"), "{html}");
}

#[tokio::test]
async fn the_login_page_is_served_in_each_language_of_mas() {
    // A browser's usual tag for each language, and a word of its sign-in page.
    let cases = [
        ("cs-CZ", "cs"),
        ("da-DK", "da"),
        ("de-AT", "de"),
        ("et-EE", "et"),
        ("fi-FI", "fi"),
        ("fr-BE", "fr"),
        ("hu-HU", "hu"),
        ("nb", "nb-NO"),
        ("nl-BE", "nl"),
        ("pl-PL", "pl"),
        ("pt-PT", "pt"),
        ("pt-BR", "pt-BR"),
        ("ru-RU", "ru"),
        ("sk-SK", "sk"),
        ("sv-SE", "sv"),
        ("uk-UA", "uk"),
        ("uz-UZ", "uz"),
        ("zh-CN", "zh-Hans"),
    ];
    for (accept, tag) in cases {
        let (status, _, html) = login_page(Some(accept)).await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            html.contains(&format!("<html lang=\"{tag}\"")),
            "{accept}: {html}"
        );
        let locale = Locale::from_tag(tag).expect("a supported language");
        let password = portcullis_templates::translate(locale, "login.password", &[]);
        assert_ne!(
            password,
            portcullis_templates::translate(Locale::En, "login.password", &[]),
            "{tag}"
        );
        assert!(html.contains(&password), "{accept}: {password} in {html}");
        assert!(!html.contains(">Password<"), "{accept}: {html}");
    }
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

#[tokio::test]
async fn an_invalid_recovery_link_is_explained_in_french() {
    let app = app_with(|config| config.account.password_recovery_enabled = true).await;
    let mut browser = Browser::new(&app);
    browser.set_language("fr");

    let page = browser.get("/recover/complete?ticket=not-a-ticket").await;

    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert!(page.body.contains("<html lang=\"fr\""), "{}", page.body);
    assert!(
        page.body.contains("Ce lien n’est pas valide"),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("Vérifiez qu’il a été copié en entier"),
        "{}",
        page.body
    );
    assert!(
        !page.body.contains("This link is not valid"),
        "{}",
        page.body
    );
}

#[tokio::test]
async fn a_refused_sign_out_form_is_explained_in_french() {
    let app = app().await;
    let mut browser = Browser::new(&app);
    browser.set_language("fr-FR");

    // No CSRF cookie: the form did not come from this browser.
    let page = browser.post("/logout", &[("csrf", "forged")]).await;

    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(page.body.contains("Déconnexion refusée"), "{}", page.body);
    assert!(
        page.body
            .contains("votre navigateur n’a pas renvoyé son cookie"),
        "{}",
        page.body
    );
}

#[tokio::test]
async fn a_disabled_feature_is_explained_in_french() {
    let app = app_with(|config| config.account.password_recovery_enabled = false).await;
    let mut browser = Browser::new(&app);
    browser.set_language("fr");

    let page = browser.get("/recover").await;

    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert!(
        page.body
            .contains("La récupération du mot de passe n’est pas disponible"),
        "{}",
        page.body
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

/// The calls that put words in front of a visitor (an error page, a form's refusal) take
/// their words from the catalogs: a string literal that reads as an English sentence inside
/// one of them was not translated.
#[test]
fn no_error_page_or_form_refusal_is_written_in_english_in_rust() {
    const CALLS: &[&str] = &[
        "error_page(",
        "Refusal::new(",
        "ReauthFailure::form(",
        "disabled(",
        "shown(",
    ];
    fn scan(dir: &std::path::Path, found: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).expect("readable") {
            let path = entry.expect("readable").path();
            if path.is_dir() {
                scan(&path, found);
                continue;
            }
            let source = std::fs::read_to_string(&path).expect("readable");
            for call in CALLS {
                let mut rest = source.as_str();
                while let Some(at) = rest.find(call) {
                    rest = &rest[at + call.len()..];
                    let arguments = arguments_of(rest);
                    if let Some(literal) = english_literal(arguments) {
                        found.push(format!("{}: {call}... \"{literal}\"", path.display()));
                    }
                }
            }
        }
    }
    /// The text up to the parenthesis that closes the call.
    fn arguments_of(text: &str) -> &str {
        let mut depth = 0_usize;
        for (at, c) in text.char_indices() {
            match c {
                '(' => depth += 1,
                ')' if depth == 0 => return &text[..at],
                ')' => depth -= 1,
                _ => {}
            }
        }
        text
    }
    /// A string literal that starts with a capital and has a space: a sentence.
    fn english_literal(arguments: &str) -> Option<&str> {
        arguments.split('"').skip(1).step_by(2).find(|literal| {
            literal.starts_with(|c: char| c.is_ascii_uppercase()) && literal.contains(' ')
        })
    }
    let mut found = Vec::new();
    scan(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut found,
    );
    assert!(found.is_empty(), "untranslated: {found:#?}");
}

#[tokio::test]
async fn a_form_that_cannot_be_read_gets_a_page_in_the_visitors_language() {
    let app = app().await;
    for (language, expected) in [
        ("en", "This form could not be read"),
        ("fr", "Ce formulaire n’a pas pu être lu"),
    ] {
        // No csrf field, as a hand-made or truncated request would send.
        let request = Request::post("/login")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ACCEPT_LANGUAGE, language)
            .body(Body::from("username=alice&password=x"))
            .expect("valid request");
        let response = app.send(request).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        let content_type = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        assert!(content_type.starts_with("text/html"), "{content_type}");
        let html = body_text(response).await;
        assert!(html.contains(expected), "{html}");
        assert!(!html.contains("Failed to deserialize"), "{html}");
    }
}
