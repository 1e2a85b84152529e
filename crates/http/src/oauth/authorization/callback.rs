//! Sending the browser back to the client: a redirect, or the form_post page.

use std::collections::BTreeMap;

use axum::{
    http::{HeaderValue, StatusCode, header},
    response::{Html, IntoResponse, Redirect, Response},
};
use base64ct::{Base64, Encoding as _};
use portcullis_oauth::{
    errors::ClientError,
    requests::{
        AuthorizationErrorResponse, AuthorizationRedirect, AuthorizationResponse, ResponseMode,
    },
};
use portcullis_templates::pages::FormPostPage;
use rand::RngCore as _;
use url::Url;

use crate::AppState;

/// Where the response goes and how, fixed once the client and its redirect URI are trusted.
#[derive(Debug, Clone)]
pub struct Callback {
    pub redirect_uri: Url,
    pub mode: ResponseMode,
    pub state: Option<String>,
}

impl Callback {
    /// A successful response with `code` and, for the hybrid and implicit flows, `id_token`.
    pub fn success(
        &self,
        app: &AppState,
        code: Option<String>,
        id_token: Option<String>,
    ) -> Response {
        let response = AuthorizationResponse {
            code,
            id_token,
            state: self.state.clone(),
            iss: app.urls().issuer().to_string(),
        };
        respond(app, response.redirect(&self.redirect_uri, self.mode))
    }

    /// An error response (RFC 6749 §4.1.2.1), with `iss` as RFC 9207 asks.
    pub fn error(&self, app: &AppState, error: ClientError) -> Response {
        let response = AuthorizationErrorResponse {
            error,
            state: self.state.clone(),
            iss: app.urls().issuer().to_string(),
        };
        respond(app, response.redirect(&self.redirect_uri, self.mode))
    }
}

fn respond(app: &AppState, redirect: AuthorizationRedirect) -> Response {
    match redirect {
        AuthorizationRedirect::Redirect(url) => Redirect::to(url.as_str()).into_response(),
        AuthorizationRedirect::FormPost { action, fields } => form_post(app, &action, fields),
    }
}

/// OAuth 2.0 Form Post Response Mode: a page that posts the response to the client at once.
/// Its one inline script runs under a per-response CSP nonce, and the form may only be sent
/// to the client's own redirect URI.
fn form_post(app: &AppState, action: &Url, fields: Vec<(String, String)>) -> Response {
    let mut nonce = [0_u8; 16];
    app.rng().fill_bytes(&mut nonce);
    let nonce = Base64::encode_string(&nonce);
    let page = FormPostPage {
        redirect_uri: action.to_string(),
        params: fields.into_iter().collect::<BTreeMap<_, _>>(),
        csp_nonce: nonce.clone(),
    };
    match app.templates().render_page(&app.site(), &page) {
        Ok(html) => {
            let origin = action.origin().ascii_serialization();
            let csp = format!(
                "default-src 'none'; script-src 'nonce-{nonce}'; style-src 'self'; form-action {origin}; frame-ancestors 'none'; base-uri 'none'"
            );
            let mut response = (StatusCode::OK, Html(html)).into_response();
            let headers = response.headers_mut();
            headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            if let Ok(value) = HeaderValue::from_str(&csp) {
                headers.insert(header::CONTENT_SECURITY_POLICY, value);
            }
            response
        }
        Err(error) => app.internal_error_page(&error),
    }
}
