//! Reading what a Matrix client sends: JSON bodies, judged the way the client-server
//! specification names the failures (`M_NOT_JSON`, `M_BAD_JSON`), and the access token, from
//! `Authorization: Bearer` or the deprecated `access_token` query parameter.

use axum::http::HeaderMap;
use serde::de::DeserializeOwned;

use super::error::MatrixError;
use crate::requester::bearer;

/// `body` as a `T`: `M_NOT_JSON` if it is not JSON at all, `M_BAD_JSON` if it is JSON of the
/// wrong shape.
///
/// # Errors
/// As above.
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, MatrixError> {
    let value: serde_json::Value =
        serde_json::from_slice(body).map_err(|_| MatrixError::not_json())?;
    serde_json::from_value(value).map_err(|error| MatrixError::bad_json(error.to_string()))
}

/// [`parse_json`] for a body that may be left out: an empty body is `T::default()`.
///
/// # Errors
/// As [`parse_json`].
pub fn parse_optional_json<T: DeserializeOwned + Default>(body: &[u8]) -> Result<T, MatrixError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        Ok(T::default())
    } else {
        parse_json(body)
    }
}

/// The access token of a request: `Authorization: Bearer <token>`, else the `access_token`
/// query parameter (deprecated in the specification, still sent by old bots).
///
/// # Errors
/// `M_MISSING_TOKEN` when there is neither.
pub fn access_token(headers: &HeaderMap, query: Option<&str>) -> Result<String, MatrixError> {
    if let Some(token) = bearer(headers).filter(|token| !token.is_empty()) {
        return Ok(token.to_owned());
    }
    query
        .into_iter()
        .flat_map(|query| url::form_urlencoded::parse(query.as_bytes()))
        .find(|(key, value)| key == "access_token" && !value.is_empty())
        .map(|(_, value)| value.into_owned())
        .ok_or_else(MatrixError::missing_token)
}

#[cfg(test)]
mod tests {
    use axum::http::{HeaderValue, header};
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Default, Deserialize, PartialEq)]
    struct Sample {
        flag: bool,
    }

    #[test]
    fn a_body_that_is_not_json_is_m_not_json() {
        let error = parse_json::<Sample>(b"flag=true").expect_err("not JSON");
        assert_eq!(error.errcode, "M_NOT_JSON");
    }

    #[test]
    fn json_of_the_wrong_shape_is_m_bad_json() {
        let error = parse_json::<Sample>(br#"{"flag": "yes"}"#).expect_err("wrong shape");
        assert_eq!(error.errcode, "M_BAD_JSON");
    }

    #[test]
    fn an_empty_optional_body_is_the_default() {
        assert_eq!(parse_optional_json::<Sample>(b""), Ok(Sample::default()));
        assert_eq!(
            parse_optional_json::<Sample>(br#"{"flag": true}"#),
            Ok(Sample { flag: true })
        );
    }

    #[test]
    fn the_token_comes_from_the_header_or_the_query() {
        let mut headers = HeaderMap::new();
        assert_eq!(
            access_token(&headers, Some("access_token=syt_abc&x=1")).as_deref(),
            Ok("syt_abc")
        );
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer mct_header"),
        );
        assert_eq!(
            access_token(&headers, Some("access_token=syt_abc")).as_deref(),
            Ok("mct_header")
        );
    }

    #[test]
    fn no_token_is_m_missing_token() {
        let error = access_token(&HeaderMap::new(), Some("x=1")).expect_err("no token");
        assert_eq!(error.errcode, "M_MISSING_TOKEN");
    }
}
