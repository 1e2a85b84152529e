//! What a request says about who sent it, beside its address (`client_ip`): its software and
//! its bearer credentials.

use axum::http::{HeaderMap, header};

/// The `User-Agent` of the request, when it is printable text.
#[must_use]
pub fn user_agent(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::USER_AGENT)
        .and_then(|value| value.to_str().ok())
}

/// The credentials of `Authorization: Bearer <credentials>`, if that is the scheme.
#[must_use]
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, credentials) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| credentials.trim())
}

/// Who is asking, as the policy is told: the client's address (`client_ip`) and software.
#[derive(Debug, Clone)]
pub struct PolicyRequester(pub portcullis_policy::Requester);

impl axum::extract::FromRequestParts<crate::AppState> for PolicyRequester {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &crate::AppState,
    ) -> Result<Self, Self::Rejection> {
        let crate::client_ip::ClientIp(ip) =
            crate::client_ip::ClientIp::from_request_parts(parts, state).await?;
        Ok(Self(crate::AppState::requester(
            ip,
            user_agent(&parts.headers),
        )))
    }
}
