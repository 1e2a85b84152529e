//! Refusing the requests that need the password-hashing pool when it has no room, before they
//! cost anything.
//!
//! A sign-in, a registration with a password: each waits for a hashing worker. During a storm
//! of them, those the pool would not admit (every worker busy, and the jobs already waiting
//! enough to fill its bounded wait) are answered at once with 503 and `Retry-After`: before
//! their body is read, before any cookie is opened, any template rendered or the database
//! asked, so that refusing costs a few microseconds and a storm of refusals does not eat the
//! capacity the refusal protects. The pool still decides for those let through.
//!
//! The extractors go first in a handler's arguments: axum runs extractors in order.

use std::marker::PhantomData;

use axum::{
    body::Bytes,
    extract::FromRequestParts,
    http::{HeaderValue, StatusCode, header, request::Parts},
    response::{IntoResponse, Response},
};
use portcullis_templates::Locale;

use crate::{
    AppState,
    compat::error::MatrixError,
    pages::{current_locale, protective_headers, tr, with_locale_now},
};

/// How a refused request is answered.
pub trait BusyAnswer {
    /// The answer: 503 with `Retry-After`.
    fn busy(state: &AppState) -> Response;
}

/// A page's `POST`: the busy page, in the visitor's language ([`busy_page`]).
#[derive(Debug, Clone, Copy)]
pub struct Page;

impl BusyAnswer for Page {
    fn busy(state: &AppState) -> Response {
        busy_page(state)
    }
}

/// A Matrix login: a 503 Matrix error. A login by token, which does not hash, is refused too:
/// its body is not read to tell them apart.
#[derive(Debug, Clone, Copy)]
pub struct Matrix;

impl BusyAnswer for Matrix {
    fn busy(state: &AppState) -> Response {
        MatrixError::busy(state.passwords().retry_after()).into_response()
    }
}

/// A request that hashes a password: refused as `A` answers when hashing is saturated.
#[derive(Debug, Clone, Copy)]
pub struct HashingRoom<A = Page>(PhantomData<A>);

impl<A: BusyAnswer> FromRequestParts<AppState> for HashingRoom<A> {
    type Rejection = Response;

    async fn from_request_parts(
        _parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if saturated(state) {
            return Err(A::busy(state));
        }
        Ok(Self(PhantomData))
    }
}

/// Whether a job would be refused: passwords enabled and no room (with passwords disabled, the
/// handler says so itself).
fn saturated(state: &AppState) -> bool {
    let passwords = state.passwords();
    passwords.is_enabled() && !passwords.has_room()
}

/// The busy page of each language, rendered the first time it is needed in that language.
#[derive(Debug)]
pub(crate) struct BusyPages(Vec<std::sync::OnceLock<Bytes>>);

impl Default for BusyPages {
    fn default() -> Self {
        Self(
            Locale::ALL
                .iter()
                .map(|_| std::sync::OnceLock::new())
                .collect(),
        )
    }
}

impl BusyPages {
    /// The page in `locale`.
    fn page(&self, state: &AppState, locale: Locale) -> Bytes {
        let index = Locale::ALL
            .iter()
            .position(|known| *known == locale)
            .unwrap_or_default();
        self.0
            .get(index)
            .map(|page| page.get_or_init(|| render(state, locale)).clone())
            .unwrap_or_default()
    }
}

/// The busy page in `locale`.
fn render(state: &AppState, locale: Locale) -> Bytes {
    let html = with_locale_now(locale, || {
        let page = portcullis_templates::pages::ErrorPage {
            title: tr("form.error.busy_title", &[]),
            message: tr("login.error.busy", &[]),
            details: None,
        };
        state
            .templates()
            .render_page(&state.site(), &page)
            .unwrap_or_else(|error| {
                tracing::error!(%error, "cannot render the busy page");
                page.message
            })
    });
    Bytes::from(html)
}

/// 503 with `Retry-After`, in the language of the request, from the page rendered once.
pub(crate) fn busy_page(state: &AppState) -> Response {
    let html = state.busy_pages().page(state, current_locale());
    let mut response = (
        StatusCode::SERVICE_UNAVAILABLE,
        protective_headers(),
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        html,
    )
        .into_response();
    response.headers_mut().insert(
        header::RETRY_AFTER,
        HeaderValue::from(state.passwords().retry_after().as_secs()),
    );
    response
}
