//! The form body of a page's `POST`: a form that cannot be read (a field missing, a value of
//! the wrong kind, not a form at all) gets a page in the visitor's language saying so, never
//! axum's plain-text rejection.

use axum::{
    extract::{FromRequest, Request},
    http::StatusCode,
    response::Response,
};
use serde::de::DeserializeOwned;

use crate::{AppState, pages::tr};

/// `axum::Form`, answering a bad body with a readable page (400).
#[derive(Debug, Clone, Copy, Default)]
pub struct Form<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for Form<T> {
    type Rejection = Response;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        match axum::Form::<T>::from_request(request, state).await {
            Ok(axum::Form(value)) => Ok(Self(value)),
            Err(rejection) => {
                tracing::info!(%rejection, "a page's form could not be read");
                Err(state.error_page(
                    StatusCode::BAD_REQUEST,
                    tr("error.form_title", &[]),
                    tr("error.form_message", &[]),
                ))
            }
        }
    }
}
