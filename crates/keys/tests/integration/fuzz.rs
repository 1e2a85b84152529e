//! Property-based fuzzing of JWTs from outside (client assertions, upstream ID tokens): parsing
//! and verifying any string, including well-formed segments around any JSON and any signature,
//! answers `Ok` or `Err` and never panics.

use base64ct::{Base64UrlUnpadded, Encoding as _};
use portcullis_keys::{UnverifiedJws, verify_jwt};
use proptest::prelude::*;

/// The number of cases: `default`, or `PROPTEST_CASES` when set (to fuzz longer on demand).
fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|cases| cases.parse().ok())
        .unwrap_or(default)
}

/// A key set with one RSA, one EC and one symmetric-looking key, as a client may publish.
const JWKS: &str = r#"{"keys":[
  {"kty":"RSA","kid":"r","alg":"RS256","n":"sXch","e":"AQAB"},
  {"kty":"EC","kid":"e","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"},
  {"kty":"oct","kid":"o","k":"c2VjcmV0"}
]}"#;

fn segment() -> impl Strategy<Value = String> {
    prop_oneof![
        "[A-Za-z0-9_-]{0,60}",
        any::<Vec<u8>>().prop_map(|bytes| Base64UrlUnpadded::encode_string(&bytes)),
        "\\{\"alg\":\"(RS256|ES256|HS256|none|EdDSA|PS512|ES256K)\"(,\"kid\":\"[reo]\")?(,\"typ\":\"JWT\")?\\}"
            .prop_map(|json| Base64UrlUnpadded::encode_string(json.as_bytes())),
        "\\{(\"(iss|sub|aud|exp|iat|nbf|jti)\":(\"[a-z]{0,5}\"|[0-9]{1,12}|null|\\[\\]),?){0,6}\\}"
            .prop_map(|json| Base64UrlUnpadded::encode_string(json.as_bytes())),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(4000)))]

    #[test]
    fn any_string_is_parsed_or_refused(token in any::<String>()) {
        let _ = UnverifiedJws::parse(&token);
        let _ = verify_jwt(JWKS, &token);
    }

    #[test]
    fn any_three_segments_are_parsed_or_refused(
        parts in prop::collection::vec(segment(), 1..5)
    ) {
        let token = parts.join(".");
        if let Ok(jws) = UnverifiedJws::parse(&token) {
            let _ = jws.alg();
            let _ = jws.verify_with_jwks(JWKS);
        }
        let _ = verify_jwt(JWKS, &token);
        let _ = verify_jwt(&parts[0], &token);
    }
}
