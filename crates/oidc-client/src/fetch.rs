//! Requests to a provider: bounded in time and size, never following a redirect (an endpoint
//! that redirects elsewhere is not the endpoint that was configured or discovered).

use std::time::Duration;

use serde_json::Value;

/// How long a provider has to answer.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// The largest answer read from a provider: discovery documents, key sets, token and userinfo
/// answers are a few kilobytes.
pub const MAX_SIZE: usize = 256 * 1024;

/// Why a request to a provider failed.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("cannot reach {url}: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("{url} answered HTTP {status}{}", detail.as_deref().map(|d| format!(": {d}")).unwrap_or_default())]
    Status {
        url: String,
        status: u16,
        /// The OAuth 2.0 error of the answer, if it has one (`error: error_description`).
        detail: Option<String>,
    },
    #[error("the answer of {url} is larger than {MAX_SIZE} bytes")]
    TooLarge { url: String },
    #[error("the answer of {url} is not {expected}")]
    Unexpected { url: String, expected: &'static str },
}

/// The HTTP client for providers: a timeout, no redirects, our user agent.
#[must_use]
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("portcullis/", env!("CARGO_PKG_VERSION")))
        .build()
        .unwrap_or_default()
}

/// Sends `request` and reads the answer's body, at most [`MAX_SIZE`] bytes; returns the URL
/// asked (for messages) and the body. An answer that is not a success is an error carrying its
/// OAuth 2.0 `error`, if any.
///
/// # Errors
/// See [`FetchError`].
pub async fn send(request: reqwest::RequestBuilder) -> Result<(String, Vec<u8>), FetchError> {
    let (client, request) = request.build_split();
    let request = request.map_err(|error| FetchError::Unreachable {
        url: error.url().map(ToString::to_string).unwrap_or_default(),
        reason: error.to_string(),
    })?;
    let url = request.url().to_string();
    let mut response = client
        .execute(request)
        .await
        .map_err(|error| FetchError::Unreachable {
            url: url.clone(),
            reason: error.without_url().to_string(),
        })?;
    let status = response.status();
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|error| FetchError::Unreachable {
            url: url.clone(),
            reason: error.without_url().to_string(),
        })?
    {
        if body.len() + chunk.len() > MAX_SIZE {
            return Err(FetchError::TooLarge { url });
        }
        body.extend_from_slice(&chunk);
    }
    if !status.is_success() {
        return Err(FetchError::Status {
            url,
            status: status.as_u16(),
            detail: oauth_error(&body),
        });
    }
    Ok((url, body))
}

/// Sends `request` and parses the answer as a JSON object.
///
/// # Errors
/// See [`FetchError`].
pub async fn json_object(
    request: reqwest::RequestBuilder,
) -> Result<serde_json::Map<String, Value>, FetchError> {
    let (url, body) = send(request).await?;
    match serde_json::from_slice(&body) {
        Ok(Value::Object(object)) => Ok(object),
        _ => Err(FetchError::Unexpected {
            url,
            expected: "a JSON object",
        }),
    }
}

/// `error: error_description` of an OAuth 2.0 error answer (RFC 6749 §5.2).
fn oauth_error(body: &[u8]) -> Option<String> {
    let value: Value = serde_json::from_slice(body).ok()?;
    let error = value.get("error")?.as_str()?;
    Some(
        match value.get("error_description").and_then(Value::as_str) {
            Some(description) => format!("{error}: {description}"),
            None => error.to_owned(),
        },
    )
}
