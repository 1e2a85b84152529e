//! Proof Key for Code Exchange (RFC 7636).
//!
//! The client sends a `code_challenge` with the authorization request and the matching
//! `code_verifier` with the token request; an intercepted code is then useless without the
//! verifier. RFC 9700 §2.1.1 and §4.8.2 add that a token request must not carry a verifier when
//! no challenge was sent (otherwise an attacker could strip PKCE from the authorization request).

use std::{fmt, str::FromStr};

use base64ct::{Base64UrlUnpadded, Encoding as _};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;

use crate::errors::{ErrorCode, ToClientError};

/// How the challenge is derived from the verifier (RFC 7636 §4.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum CodeChallengeMethod {
    /// The challenge is the verifier. The default when the method is omitted (RFC 7636 §4.3).
    #[default]
    #[serde(rename = "plain")]
    Plain,
    /// The challenge is `BASE64URL-NOPAD(SHA256(ASCII(verifier)))`.
    #[serde(rename = "S256")]
    S256,
}

impl CodeChallengeMethod {
    /// The method as on the wire.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Plain => "plain",
            Self::S256 => "S256",
        }
    }
}

impl FromStr for CodeChallengeMethod {
    type Err = PkceError;

    /// Case-sensitive, as the names are registered (RFC 7636 §6.2).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "plain" => Ok(Self::Plain),
            "S256" => Ok(Self::S256),
            _ => Err(PkceError::UnsupportedMethod),
        }
    }
}

impl fmt::Display for CodeChallengeMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// RFC 7636 §4.1: 43 to 128 characters of `[A-Za-z0-9-._~]`.
fn is_verifier_shaped(value: &str) -> bool {
    (43..=128).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
}

/// A code challenge as received in an authorization request, checked against its method.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CodeChallenge(String);

impl CodeChallenge {
    /// Check a challenge for `method`: a `plain` challenge is a verifier (RFC 7636 §4.1); an
    /// `S256` challenge is the base64url of a SHA-256, so exactly 43 base64url characters.
    ///
    /// # Errors
    /// [`PkceError::MalformedChallenge`].
    pub fn parse(method: CodeChallengeMethod, challenge: &str) -> Result<Self, PkceError> {
        let valid = match method {
            CodeChallengeMethod::Plain => is_verifier_shaped(challenge),
            CodeChallengeMethod::S256 => {
                challenge.len() == 43
                    && Base64UrlUnpadded::decode_vec(challenge).is_ok_and(|d| d.len() == 32)
            }
        };
        if valid {
            Ok(Self(challenge.to_owned()))
        } else {
            Err(PkceError::MalformedChallenge)
        }
    }

    /// The challenge as on the wire.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The PKCE parameters of an authorization request, kept with the grant until the code is
/// exchanged.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Pkce {
    /// The method.
    pub method: CodeChallengeMethod,
    /// The challenge.
    pub challenge: CodeChallenge,
}

impl Pkce {
    /// Parse the `code_challenge` and `code_challenge_method` parameters of an authorization
    /// request. Both absent is no PKCE; a method without a challenge is an error.
    ///
    /// # Errors
    /// [`PkceError`] for an unknown method, a method without challenge or a malformed challenge.
    pub fn from_parameters(
        challenge: Option<&str>,
        method: Option<&str>,
    ) -> Result<Option<Self>, PkceError> {
        let method = method.map(str::parse).transpose()?;
        match (challenge, method) {
            (None, None) => Ok(None),
            (None, Some(_)) => Err(PkceError::MethodWithoutChallenge),
            (Some(challenge), method) => {
                let method = method.unwrap_or_default();
                Ok(Some(Self {
                    method,
                    challenge: CodeChallenge::parse(method, challenge)?,
                }))
            }
        }
    }

    /// Check `verifier` against this challenge; see [`verify`].
    ///
    /// # Errors
    /// See [`verify`].
    pub fn verify(&self, verifier: &str) -> Result<(), PkceError> {
        verify(self.method, &self.challenge, verifier)
    }
}

/// Check a code verifier against a challenge (RFC 7636 §4.6), in constant time.
///
/// # Errors
/// [`PkceError::MalformedVerifier`] when the verifier breaks RFC 7636 §4.1;
/// [`PkceError::Mismatch`] when it does not produce the challenge.
pub fn verify(
    method: CodeChallengeMethod,
    challenge: &CodeChallenge,
    verifier: &str,
) -> Result<(), PkceError> {
    if !is_verifier_shaped(verifier) {
        return Err(PkceError::MalformedVerifier);
    }
    let computed = match method {
        CodeChallengeMethod::Plain => verifier.to_owned(),
        CodeChallengeMethod::S256 => Base64UrlUnpadded::encode_string(&Sha256::digest(verifier)),
    };
    if bool::from(computed.as_bytes().ct_eq(challenge.as_str().as_bytes())) {
        Ok(())
    } else {
        Err(PkceError::Mismatch)
    }
}

/// The PKCE rule at the token endpoint: a verifier is required if and only if the authorization
/// request had a challenge, and then it must match.
///
/// # Errors
/// [`PkceError::MissingVerifier`], [`PkceError::UnexpectedVerifier`], or the errors of
/// [`verify`].
pub fn check_token_request(stored: Option<&Pkce>, verifier: Option<&str>) -> Result<(), PkceError> {
    match (stored, verifier) {
        (None, None) => Ok(()),
        (None, Some(_)) => Err(PkceError::UnexpectedVerifier),
        (Some(_), None) => Err(PkceError::MissingVerifier),
        (Some(pkce), Some(verifier)) => pkce.verify(verifier),
    }
}

impl Serialize for CodeChallenge {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

/// Deserialised without knowing the method, so only the common rule (RFC 7636 §4.2:
/// `43*128unreserved`) is checked.
impl<'de> Deserialize<'de> for CodeChallenge {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        Self::parse(CodeChallengeMethod::Plain, &raw).map_err(serde::de::Error::custom)
    }
}

/// A PKCE failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PkceError {
    /// `code_challenge_method` is neither `plain` nor `S256`.
    #[error("code_challenge_method must be plain or S256")]
    UnsupportedMethod,
    /// `code_challenge_method` without `code_challenge`.
    #[error("code_challenge_method requires code_challenge")]
    MethodWithoutChallenge,
    /// The challenge does not have the shape its method produces.
    #[error("code_challenge is malformed")]
    MalformedChallenge,
    /// The verifier is not 43 to 128 characters of `[A-Za-z0-9-._~]`.
    #[error("code_verifier must be 43 to 128 characters of A-Z a-z 0-9 - . _ ~")]
    MalformedVerifier,
    /// The verifier does not match the challenge.
    #[error("code_verifier does not match the code challenge")]
    Mismatch,
    /// The authorization request had a challenge but the token request has no verifier.
    #[error("code_verifier is required")]
    MissingVerifier,
    /// The token request has a verifier but the authorization request had no challenge.
    #[error("code_verifier was sent but the authorization request had no code challenge")]
    UnexpectedVerifier,
}

/// Authorization-request problems (method, challenge) are `invalid_request` (RFC 7636 §4.4.1);
/// token-request problems are `invalid_grant` (RFC 7636 §4.6), except a malformed verifier,
/// which is a malformed parameter and so `invalid_request` (RFC 6749 §5.2).
impl ToClientError for PkceError {
    fn error_code(&self) -> ErrorCode {
        match self {
            Self::UnsupportedMethod
            | Self::MethodWithoutChallenge
            | Self::MalformedChallenge
            | Self::MalformedVerifier => ErrorCode::InvalidRequest,
            Self::Mismatch | Self::MissingVerifier | Self::UnexpectedVerifier => {
                ErrorCode::InvalidGrant
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 7636 Appendix B.
    const RFC_VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const RFC_CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    fn s256(challenge: &str) -> CodeChallenge {
        CodeChallenge::parse(CodeChallengeMethod::S256, challenge).expect("valid challenge")
    }

    fn plain(challenge: &str) -> CodeChallenge {
        CodeChallenge::parse(CodeChallengeMethod::Plain, challenge).expect("valid challenge")
    }

    #[test]
    fn the_rfc_7636_appendix_b_verifier_matches_its_s256_challenge() {
        assert_eq!(
            verify(
                CodeChallengeMethod::S256,
                &s256(RFC_CHALLENGE),
                RFC_VERIFIER
            ),
            Ok(())
        );
    }

    #[test]
    fn a_different_verifier_does_not_match_an_s256_challenge() {
        let other = "eBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        assert_eq!(
            verify(CodeChallengeMethod::S256, &s256(RFC_CHALLENGE), other),
            Err(PkceError::Mismatch)
        );
    }

    #[test]
    fn sending_the_s256_challenge_as_the_verifier_does_not_match() {
        assert_eq!(
            verify(
                CodeChallengeMethod::S256,
                &s256(RFC_CHALLENGE),
                RFC_CHALLENGE
            ),
            Err(PkceError::Mismatch)
        );
    }

    #[test]
    fn a_plain_verifier_matches_an_identical_challenge() {
        assert_eq!(
            verify(
                CodeChallengeMethod::Plain,
                &plain(RFC_VERIFIER),
                RFC_VERIFIER
            ),
            Ok(())
        );
    }

    #[test]
    fn a_plain_verifier_that_differs_does_not_match() {
        let other = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXK";
        assert_eq!(
            verify(CodeChallengeMethod::Plain, &plain(RFC_VERIFIER), other),
            Err(PkceError::Mismatch)
        );
    }

    #[test]
    fn a_verifier_of_42_characters_is_malformed() {
        let short = &RFC_VERIFIER[..42];
        assert_eq!(
            verify(CodeChallengeMethod::Plain, &plain(RFC_VERIFIER), short),
            Err(PkceError::MalformedVerifier)
        );
    }

    #[test]
    fn a_verifier_of_129_characters_is_malformed() {
        let long = "a".repeat(129);
        assert_eq!(
            verify(CodeChallengeMethod::S256, &s256(RFC_CHALLENGE), &long),
            Err(PkceError::MalformedVerifier)
        );
    }

    #[test]
    fn a_verifier_of_128_characters_is_accepted_when_it_matches() {
        let long = "a".repeat(128);
        assert_eq!(
            verify(CodeChallengeMethod::Plain, &plain(&long), &long),
            Ok(())
        );
    }

    #[test]
    fn a_verifier_with_a_plus_sign_is_malformed() {
        let verifier = format!("{}+", &RFC_VERIFIER[..42]);
        assert_eq!(
            verify(CodeChallengeMethod::S256, &s256(RFC_CHALLENGE), &verifier),
            Err(PkceError::MalformedVerifier)
        );
    }

    #[test]
    fn a_plain_challenge_of_42_characters_is_malformed() {
        assert_eq!(
            CodeChallenge::parse(CodeChallengeMethod::Plain, &RFC_VERIFIER[..42]),
            Err(PkceError::MalformedChallenge)
        );
    }

    #[test]
    fn an_s256_challenge_with_a_tilde_is_malformed() {
        let challenge = format!("{}~", &RFC_CHALLENGE[..42]);
        assert_eq!(
            CodeChallenge::parse(CodeChallengeMethod::S256, &challenge),
            Err(PkceError::MalformedChallenge)
        );
    }

    #[test]
    fn an_s256_challenge_longer_than_a_sha256_is_malformed() {
        let challenge = format!("{RFC_CHALLENGE}A");
        assert_eq!(
            CodeChallenge::parse(CodeChallengeMethod::S256, &challenge),
            Err(PkceError::MalformedChallenge)
        );
    }

    #[test]
    fn the_method_defaults_to_plain() {
        let pkce = Pkce::from_parameters(Some(RFC_VERIFIER), None)
            .expect("valid")
            .expect("present");
        assert_eq!(pkce.method, CodeChallengeMethod::Plain);
    }

    #[test]
    fn no_challenge_and_no_method_is_no_pkce() {
        assert_eq!(Pkce::from_parameters(None, None), Ok(None));
    }

    #[test]
    fn a_method_without_a_challenge_is_refused() {
        assert_eq!(
            Pkce::from_parameters(None, Some("S256")),
            Err(PkceError::MethodWithoutChallenge)
        );
    }

    #[test]
    fn an_unknown_method_is_refused() {
        assert_eq!(
            Pkce::from_parameters(Some(RFC_CHALLENGE), Some("S512")),
            Err(PkceError::UnsupportedMethod)
        );
    }

    #[test]
    fn the_method_name_is_case_sensitive() {
        assert_eq!(
            "s256".parse::<CodeChallengeMethod>(),
            Err(PkceError::UnsupportedMethod)
        );
    }

    #[test]
    fn methods_serialise_to_their_registered_names() {
        assert_eq!(
            serde_json::to_string(&[CodeChallengeMethod::Plain, CodeChallengeMethod::S256])
                .expect("serialisable"),
            r#"["plain","S256"]"#
        );
    }

    #[test]
    fn a_token_request_without_pkce_on_either_side_passes() {
        assert_eq!(check_token_request(None, None), Ok(()));
    }

    #[test]
    fn a_verifier_without_a_stored_challenge_is_refused() {
        assert_eq!(
            check_token_request(None, Some(RFC_VERIFIER)),
            Err(PkceError::UnexpectedVerifier)
        );
    }

    #[test]
    fn a_stored_challenge_without_a_verifier_is_refused() {
        let pkce = Pkce::from_parameters(Some(RFC_CHALLENGE), Some("S256"))
            .expect("valid")
            .expect("present");
        assert_eq!(
            check_token_request(Some(&pkce), None),
            Err(PkceError::MissingVerifier)
        );
    }

    #[test]
    fn a_stored_challenge_with_the_right_verifier_passes() {
        let pkce = Pkce::from_parameters(Some(RFC_CHALLENGE), Some("S256"))
            .expect("valid")
            .expect("present");
        assert_eq!(check_token_request(Some(&pkce), Some(RFC_VERIFIER)), Ok(()));
    }

    #[test]
    fn a_mismatch_is_invalid_grant() {
        assert_eq!(PkceError::Mismatch.error_code(), ErrorCode::InvalidGrant);
    }

    #[test]
    fn an_unknown_method_is_invalid_request() {
        assert_eq!(
            PkceError::UnsupportedMethod.error_code(),
            ErrorCode::InvalidRequest
        );
    }
}
