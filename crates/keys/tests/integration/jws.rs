//! Tokens signed by the keystore verify with the published JWKS alone, and nothing else does.

use base64ct::{Base64UrlUnpadded, Encoding as _};
use portcullis_keys::{JwsAlgorithm, Keystore, SignError, UnverifiedJws, VerifyError, verify_jwt};
use serde_json::{Value, json};

use crate::{fixture, fixture_keystore, load_fixture, published_jwks};

fn claims() -> Value {
    json!({ "iss": "https://auth.example.com/", "sub": "01HZX", "aud": "client", "exp": 1_900_000_000 })
}

fn decode_part(token: &str, index: usize) -> Vec<u8> {
    let part = token
        .split('.')
        .nth(index)
        .expect("a compact JWS has three parts");
    Base64UrlUnpadded::decode_vec(part).expect("every part is base64url")
}

/// Signs with `alg`, then verifies using only the published JWKS text.
fn assert_round_trip(alg: JwsAlgorithm) {
    let keystore = fixture_keystore();
    let token = keystore
        .sign_jwt(alg, &claims())
        .expect("the keystore supports every algorithm");
    let verified = verify_jwt(&published_jwks(&keystore), &token).expect("our own token verifies");
    assert_eq!(verified, claims());
}

macro_rules! round_trip {
    ($test:ident, $alg:expr) => {
        #[test]
        fn $test() {
            assert_round_trip($alg);
        }
    };
}

round_trip!(
    an_rs256_token_verifies_with_the_published_jwks,
    JwsAlgorithm::Rs256
);
round_trip!(
    an_rs384_token_verifies_with_the_published_jwks,
    JwsAlgorithm::Rs384
);
round_trip!(
    an_rs512_token_verifies_with_the_published_jwks,
    JwsAlgorithm::Rs512
);
round_trip!(
    a_ps256_token_verifies_with_the_published_jwks,
    JwsAlgorithm::Ps256
);
round_trip!(
    a_ps384_token_verifies_with_the_published_jwks,
    JwsAlgorithm::Ps384
);
round_trip!(
    a_ps512_token_verifies_with_the_published_jwks,
    JwsAlgorithm::Ps512
);
round_trip!(
    an_es256_token_verifies_with_the_published_jwks,
    JwsAlgorithm::Es256
);
round_trip!(
    an_es384_token_verifies_with_the_published_jwks,
    JwsAlgorithm::Es384
);
round_trip!(
    an_es256k_token_verifies_with_the_published_jwks,
    JwsAlgorithm::Es256K
);
round_trip!(
    an_eddsa_token_verifies_with_the_published_jwks,
    JwsAlgorithm::EdDsa
);

#[test]
fn the_header_names_alg_kid_and_type() {
    let keystore = fixture_keystore();
    let token = keystore
        .sign_jwt(JwsAlgorithm::Es384, &claims())
        .expect("P-384 key present");
    let header: Value =
        serde_json::from_slice(&decode_part(&token, 0)).expect("the header is JSON");
    let (kid, _) = keystore
        .find_for_algorithm(JwsAlgorithm::Es384)
        .expect("P-384 key present");
    assert_eq!(header, json!({ "alg": "ES384", "kid": kid, "typ": "JWT" }));
}

#[test]
fn ecdsa_signatures_are_raw_r_and_s_not_der() {
    // RFC 7518 §3.4: 64 bytes for P-256 and secp256k1, 96 for P-384; DER would be longer
    // and vary in length.
    let keystore = fixture_keystore();
    for (alg, length) in [
        (JwsAlgorithm::Es256, 64),
        (JwsAlgorithm::Es256K, 64),
        (JwsAlgorithm::Es384, 96),
    ] {
        let token = keystore
            .sign_jwt(alg, &claims())
            .expect("the key is present");
        assert_eq!(decode_part(&token, 2).len(), length, "{alg}");
    }
}

#[test]
fn a_token_with_an_altered_payload_is_refused() {
    let keystore = fixture_keystore();
    let token = keystore
        .sign_jwt(JwsAlgorithm::Rs256, &claims())
        .expect("RSA key present");
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    parts[1] = Base64UrlUnpadded::encode_string(br#"{"sub":"admin"}"#);
    let forged = parts.join(".");
    assert!(matches!(
        verify_jwt(&published_jwks(&keystore), &forged),
        Err(VerifyError::BadSignature)
    ));
}

#[test]
fn a_pkcs1_signature_relabelled_as_pss_is_refused() {
    let keystore = fixture_keystore();
    let token = keystore
        .sign_jwt(JwsAlgorithm::Rs256, &claims())
        .expect("RSA key present");
    let (kid, _) = keystore
        .find_for_algorithm(JwsAlgorithm::Rs256)
        .expect("RSA key present");
    let header = json!({ "alg": "PS256", "kid": kid, "typ": "JWT" });
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    parts[0] = Base64UrlUnpadded::encode_string(header.to_string().as_bytes());
    assert!(matches!(
        verify_jwt(&published_jwks(&keystore), &parts.join(".")),
        Err(VerifyError::BadSignature)
    ));
}

#[test]
fn a_token_claiming_an_algorithm_its_key_is_not_for_is_refused() {
    let keystore = fixture_keystore();
    let token = keystore
        .sign_jwt(JwsAlgorithm::EdDsa, &claims())
        .expect("Ed25519 key present");
    let (kid, _) = keystore
        .find_for_algorithm(JwsAlgorithm::EdDsa)
        .expect("Ed25519 key present");
    let header = json!({ "alg": "ES256", "kid": kid });
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    parts[0] = Base64UrlUnpadded::encode_string(header.to_string().as_bytes());
    assert!(matches!(
        verify_jwt(&published_jwks(&keystore), &parts.join(".")),
        Err(VerifyError::NoMatchingKey)
    ));
}

#[test]
fn an_unsigned_token_is_refused() {
    let header = Base64UrlUnpadded::encode_string(br#"{"alg":"none"}"#);
    let payload = Base64UrlUnpadded::encode_string(claims().to_string().as_bytes());
    let token = format!("{header}.{payload}.");
    assert!(matches!(
        verify_jwt(&published_jwks(&fixture_keystore()), &token),
        Err(VerifyError::UnsupportedAlgorithm(alg)) if alg == "none"
    ));
}

#[test]
fn a_token_with_critical_headers_is_refused() {
    let keystore = fixture_keystore();
    let token = keystore
        .sign_jwt(JwsAlgorithm::Es256, &claims())
        .expect("P-256 key present");
    let header = json!({ "alg": "ES256", "crit": ["exp"], "exp": 0 });
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    parts[0] = Base64UrlUnpadded::encode_string(header.to_string().as_bytes());
    assert!(matches!(
        verify_jwt(&published_jwks(&keystore), &parts.join(".")),
        Err(VerifyError::CriticalHeader)
    ));
}

#[test]
fn a_token_signed_by_a_key_outside_the_jwks_is_refused() {
    let signer = Keystore::new(vec![(
        Some("k".to_owned()),
        load_fixture(fixture!("p256.sec1.pem")),
    )])
    .expect("one key cannot clash");
    // Another P-256 key published under the same kid.
    let mut rng = <rand_chacha::ChaCha20Rng as rand::SeedableRng>::seed_from_u64(9);
    let other = Keystore::new(vec![(
        Some("k".to_owned()),
        portcullis_keys::PrivateKey::generate_ec_p256(&mut rng),
    )])
    .expect("one key cannot clash");
    let token = signer
        .sign_jwt(JwsAlgorithm::Es256, &claims())
        .expect("P-256 key present");
    assert!(matches!(
        verify_jwt(&published_jwks(&other), &token),
        Err(VerifyError::BadSignature)
    ));
}

#[test]
fn a_token_with_an_unknown_kid_is_refused() {
    let keystore = fixture_keystore();
    let token = keystore
        .sign_jwt(JwsAlgorithm::Es256, &claims())
        .expect("P-256 key present");
    let only_ed25519 = Keystore::new(vec![(None, load_fixture(fixture!("ed25519.pkcs8.pem")))])
        .expect("one key cannot clash");
    assert!(matches!(
        verify_jwt(&published_jwks(&only_ed25519), &token),
        Err(VerifyError::NoMatchingKey)
    ));
}

#[test]
fn a_token_with_two_parts_is_refused_as_malformed() {
    assert!(matches!(
        verify_jwt(&published_jwks(&fixture_keystore()), "abc.def"),
        Err(VerifyError::Malformed(_))
    ));
}

#[test]
fn claims_that_are_not_an_object_are_refused() {
    assert!(matches!(
        fixture_keystore().sign_jwt(JwsAlgorithm::Es256, &json!(["not", "an", "object"])),
        Err(SignError::ClaimsNotAnObject)
    ));
}

#[test]
fn signing_with_an_algorithm_no_key_supports_is_refused() {
    let keystore = Keystore::new(vec![(None, load_fixture(fixture!("ed25519.pkcs8.pem")))])
        .expect("one key cannot clash");
    assert!(matches!(
        keystore.sign_jwt(JwsAlgorithm::Rs256, &claims()),
        Err(SignError::NoKeyForAlgorithm {
            alg: JwsAlgorithm::Rs256
        })
    ));
}

/// An HS256 token over `claims()` signed with `secret`, as a client signs a `client_secret_jwt`
/// assertion.
fn hs256(secret: &[u8], header: &Value) -> String {
    use hmac::{Hmac, Mac as _};
    let input = format!(
        "{}.{}",
        Base64UrlUnpadded::encode_string(header.to_string().as_bytes()),
        Base64UrlUnpadded::encode_string(claims().to_string().as_bytes())
    );
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret).expect("any key length");
    mac.update(input.as_bytes());
    let signature = Base64UrlUnpadded::encode_string(&mac.finalize().into_bytes());
    format!("{input}.{signature}")
}

#[test]
fn an_hmac_token_verifies_with_its_secret_only() {
    let token = hs256(b"the client secret", &json!({ "alg": "HS256" }));
    let jws = UnverifiedJws::parse(&token).expect("well formed");
    assert_eq!(jws.alg(), Some("HS256"));
    assert_eq!(Value::Object(jws.claims().clone()), claims());
    assert!(jws.verify_with_secret(b"the client secret").is_ok());
    assert!(matches!(
        jws.verify_with_secret(b"another secret"),
        Err(VerifyError::BadSignature)
    ));
    // A symmetric token never verifies against public keys.
    assert!(matches!(
        jws.verify_with_jwks(&published_jwks(&fixture_keystore())),
        Err(VerifyError::UnsupportedAlgorithm(alg)) if alg == "HS256"
    ));
}

#[test]
fn a_secret_cannot_verify_an_asymmetric_or_unsigned_token() {
    let keystore = fixture_keystore();
    let token = keystore
        .sign_jwt(JwsAlgorithm::Es256, &claims())
        .expect("P-256 key present");
    let jws = UnverifiedJws::parse(&token).expect("well formed");
    assert!(matches!(
        jws.verify_with_secret(b"secret"),
        Err(VerifyError::UnsupportedAlgorithm(alg)) if alg == "ES256"
    ));
    let unsigned = hs256(b"secret", &json!({ "alg": "none" }));
    let jws = UnverifiedJws::parse(&unsigned).expect("well formed");
    assert!(matches!(
        jws.verify_with_secret(b"secret"),
        Err(VerifyError::UnsupportedAlgorithm(alg)) if alg == "none"
    ));
}

#[test]
fn claims_that_are_not_an_object_are_malformed() {
    let header = Base64UrlUnpadded::encode_string(br#"{"alg":"HS256"}"#);
    let payload = Base64UrlUnpadded::encode_string(b"[1,2]");
    let token = format!("{header}.{payload}.c2ln");
    assert!(matches!(
        UnverifiedJws::parse(&token),
        Err(VerifyError::Malformed(_))
    ));
}
