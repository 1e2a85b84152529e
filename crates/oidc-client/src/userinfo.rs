//! The userinfo endpoint (OpenID Connect Core §5.3): the claims about the user, as JSON or as
//! a JWT signed by the provider (`userinfo_signed_response_alg`).

use portcullis_config::sections::upstream_oauth2::ProviderConfig;
use serde_json::{Map, Value};

use crate::{
    fetch::{self, FetchError},
    id_token::{ProviderKeys, TokenValidationError, verify_signature},
    metadata::Metadata,
};

/// Why the claims could not be read.
#[derive(Debug, thiserror::Error)]
pub enum UserinfoError {
    #[error("the provider has no userinfo endpoint")]
    NoEndpoint,
    #[error(transparent)]
    Fetch(#[from] FetchError),
    #[error("the userinfo answer is not a JSON object")]
    NotJson,
    #[error("the signed userinfo answer is refused: {0}")]
    Signed(#[from] TokenValidationError),
    #[error(
        "the userinfo answer is about `{found}`, not about `{expected}`, the ID token's subject"
    )]
    OtherSubject { expected: String, found: String },
}

/// The user's claims, with `access_token`. When the ID token named a subject, the answer must
/// be about the same one (§5.3.2: otherwise it must not be used).
///
/// # Errors
/// See [`UserinfoError`].
pub async fn fetch(
    provider: &ProviderConfig,
    metadata: &Metadata,
    access_token: &str,
    id_token_subject: Option<&str>,
    keys: ProviderKeys<'_>,
) -> Result<Map<String, Value>, UserinfoError> {
    let endpoint = metadata
        .userinfo_endpoint
        .clone()
        .ok_or(UserinfoError::NoEndpoint)?;
    let request = fetch::client()
        .get(endpoint)
        .bearer_auth(access_token)
        .header(
            reqwest::header::ACCEPT,
            if provider.userinfo_signed_response_alg.is_some() {
                "application/jwt"
            } else {
                "application/json"
            },
        );
    let (_, body) = fetch::send(request).await?;
    let claims = match provider.userinfo_signed_response_alg {
        Some(alg) => {
            let token = String::from_utf8(body).map_err(|_| UserinfoError::NotJson)?;
            verify_signature(token.trim(), alg, keys).await?
        }
        None => match serde_json::from_slice(&body) {
            Ok(Value::Object(claims)) => claims,
            _ => return Err(UserinfoError::NotJson),
        },
    };
    if let Some(expected) = id_token_subject {
        let found = claims
            .get("sub")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if found != expected {
            return Err(UserinfoError::OtherSubject {
                expected: expected.to_owned(),
                found: found.to_owned(),
            });
        }
    }
    Ok(claims)
}
