//! The authorization request sent to the provider (RFC 6749 §4.1.1, OpenID Connect Core
//! §3.1.2.1), with what the callback must check kept aside: `state` binds the answer to this
//! request and browser, `nonce` binds the ID token to it, the PKCE verifier proves the code's
//! requester (RFC 7636).

use base64ct::{Base64UrlUnpadded, Encoding as _};
use portcullis_config::sections::upstream_oauth2::{PkceMethod, ProviderConfig, ResponseMode};
use rand::{
    RngCore,
    distributions::{Alphanumeric, DistString as _},
};
use sha2::{Digest as _, Sha256};
use url::Url;

use crate::metadata::Metadata;

/// A request to send the browser with, and the secrets the callback checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationRequest {
    /// The provider's authorization endpoint with every parameter.
    pub url: Url,
    pub state: String,
    /// Sent when the scope asks for an ID token (`openid`).
    pub nonce: Option<String>,
    /// Kept for the token request when PKCE is used.
    pub code_verifier: Option<String>,
}

/// Whether PKCE is used with this provider: always, never, or (`auto`) when its discovery
/// document announces S256.
#[must_use]
pub fn uses_pkce(provider: &ProviderConfig, metadata: &Metadata) -> bool {
    match provider.pkce_method {
        PkceMethod::Always => true,
        PkceMethod::Never => false,
        PkceMethod::Auto => metadata.supports_pkce(),
    }
}

/// Builds the request; `extra` holds the additional parameters already rendered from their
/// templates (empty values left out by the caller), which cannot replace the ones set here.
pub fn build(
    provider: &ProviderConfig,
    metadata: &Metadata,
    redirect_uri: &Url,
    extra: &[(String, String)],
    rng: &mut (dyn RngCore + Send),
) -> AuthorizationRequest {
    let state = Alphanumeric.sample_string(rng, 32);
    let openid = provider.scope.split(' ').any(|token| token == "openid");
    let nonce = openid.then(|| Alphanumeric.sample_string(rng, 32));
    // RFC 7636 §4.1: 43 to 128 characters; 64 letters and digits carry 380 bits.
    let code_verifier = uses_pkce(provider, metadata).then(|| Alphanumeric.sample_string(rng, 64));

    let mut url = metadata.authorization_endpoint.clone();
    let ours = [
        "response_type",
        "client_id",
        "redirect_uri",
        "scope",
        "state",
        "nonce",
        "code_challenge",
        "code_challenge_method",
        "response_mode",
    ];
    {
        let mut query = url.query_pairs_mut();
        query
            .append_pair("response_type", "code")
            .append_pair("client_id", &provider.client_id)
            .append_pair("redirect_uri", redirect_uri.as_str())
            .append_pair("scope", &provider.scope)
            .append_pair("state", &state);
        if let Some(nonce) = &nonce {
            query.append_pair("nonce", nonce);
        }
        if let Some(verifier) = &code_verifier {
            query
                .append_pair("code_challenge", &challenge(verifier))
                .append_pair("code_challenge_method", "S256");
        }
        if provider.response_mode == Some(ResponseMode::FormPost) {
            query.append_pair("response_mode", "form_post");
        }
        for (name, value) in extra {
            if !ours.contains(&name.as_str()) {
                query.append_pair(name, value);
            }
        }
    }
    AuthorizationRequest {
        url,
        state,
        nonce,
        code_verifier,
    }
}

/// The S256 challenge of a verifier: base64url(SHA-256(verifier)).
#[must_use]
pub fn challenge(verifier: &str) -> String {
    Base64UrlUnpadded::encode_string(&Sha256::digest(verifier.as_bytes()))
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng as _;

    use super::*;

    fn provider(extra: &str) -> ProviderConfig {
        serde_yaml_ng::from_str(&format!(
            "id: pocketid\nissuer: https://id.example.com\nclient_id: portcullis\n\
             token_endpoint_auth_method: none\n{extra}"
        ))
        .expect("a provider")
    }

    fn metadata(pkce: bool) -> Metadata {
        Metadata {
            issuer: Some("https://id.example.com".into()),
            authorization_endpoint: Url::parse("https://id.example.com/auth?tenant=1")
                .expect("test data"),
            token_endpoint: Url::parse("https://id.example.com/token").expect("test data"),
            jwks_uri: None,
            userinfo_endpoint: None,
            code_challenge_methods_supported: if pkce { vec!["S256".into()] } else { vec![] },
        }
    }

    fn params(request: &AuthorizationRequest) -> Vec<(String, String)> {
        request.url.query_pairs().into_owned().collect()
    }

    fn get<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
        params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    #[test]
    fn the_request_carries_state_nonce_and_the_pkce_challenge() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        let redirect =
            Url::parse("https://auth.example.com/upstream/callback/pocketid").expect("test data");
        let request = build(&provider(""), &metadata(true), &redirect, &[], &mut rng);
        let params = params(&request);
        assert_eq!(
            get(&params, "tenant"),
            Some("1"),
            "the endpoint's own query is kept"
        );
        assert_eq!(get(&params, "response_type"), Some("code"));
        assert_eq!(get(&params, "client_id"), Some("portcullis"));
        assert_eq!(get(&params, "redirect_uri"), Some(redirect.as_str()));
        assert_eq!(get(&params, "scope"), Some("openid"));
        assert_eq!(get(&params, "state"), Some(request.state.as_str()));
        assert_eq!(get(&params, "nonce"), request.nonce.as_deref());
        let verifier = request
            .code_verifier
            .as_deref()
            .expect("PKCE, as discovered");
        assert_eq!(
            get(&params, "code_challenge"),
            Some(challenge(verifier).as_str())
        );
        assert_eq!(get(&params, "code_challenge_method"), Some("S256"));
        assert_eq!(get(&params, "response_mode"), None);
        assert_ne!(request.state, request.nonce.clone().expect("test data"));
    }

    #[test]
    fn pkce_follows_the_method_and_form_post_and_extra_parameters_are_sent() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(2);
        let redirect = Url::parse("https://auth.example.com/cb").expect("test data");
        let never = build(
            &provider("pkce_method: never\n"),
            &metadata(true),
            &redirect,
            &[],
            &mut rng,
        );
        assert_eq!(never.code_verifier, None);
        let auto = build(&provider(""), &metadata(false), &redirect, &[], &mut rng);
        assert_eq!(auto.code_verifier, None, "auto, and not announced");
        let extra = [
            ("prompt".to_owned(), "login".to_owned()),
            ("state".to_owned(), "forged".to_owned()),
        ];
        let always = build(
            &provider("pkce_method: always\nresponse_mode: form_post\nscope: profile\n"),
            &metadata(false),
            &redirect,
            &extra,
            &mut rng,
        );
        let params = params(&always);
        assert!(always.code_verifier.is_some());
        assert_eq!(always.nonce, None, "no ID token without openid");
        assert_eq!(get(&params, "response_mode"), Some("form_post"));
        assert_eq!(get(&params, "prompt"), Some("login"));
        assert_eq!(params.iter().filter(|(n, _)| n == "state").count(), 1);
    }

    #[test]
    fn the_challenge_of_rfc_7636_appendix_b() {
        assert_eq!(
            challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }
}
