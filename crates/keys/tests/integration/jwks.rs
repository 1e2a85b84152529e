//! The published JWKS: public members only, stable kids, the right metadata.

use base64ct::{Base64UrlUnpadded, Encoding as _};
use portcullis_keys::{JwsAlgorithm, Keystore, KeystoreError, PrivateKey};
use rand::SeedableRng as _;
use serde_json::Value;

use crate::{fixture, fixture_keys, fixture_keystore, load_fixture};

/// RFC 7518 §6.2.2 and §6.3.2 private members, plus `k` of symmetric keys (§6.4.1).
const PRIVATE_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

fn jwks_json(keystore: &Keystore) -> Value {
    serde_json::to_value(keystore.public_jwks()).expect("a JWKS always serialises")
}

fn published_keys(keystore: &Keystore) -> Vec<Value> {
    jwks_json(keystore)["keys"]
        .as_array()
        .expect("a JWKS has a keys array")
        .clone()
}

#[test]
fn the_jwks_never_contains_a_private_member() {
    for jwk in published_keys(&fixture_keystore()) {
        for member in PRIVATE_MEMBERS {
            assert!(jwk.get(member).is_none(), "{member} published in {jwk}");
        }
    }
}

#[test]
fn the_jwks_is_an_object_with_only_a_keys_array() {
    let json = jwks_json(&fixture_keystore());
    let object = json.as_object().expect("a JWKS is an object");
    assert_eq!(object.keys().collect::<Vec<_>>(), ["keys"]);
    assert_eq!(json["keys"].as_array().map(Vec::len), Some(5));
}

#[test]
fn every_published_key_is_for_signatures() {
    for jwk in published_keys(&fixture_keystore()) {
        assert_eq!(jwk["use"], "sig");
    }
}

#[test]
fn alg_is_published_only_for_keys_with_a_single_algorithm() {
    let algs: Vec<Option<String>> = published_keys(&fixture_keystore())
        .iter()
        .map(|jwk| jwk.get("alg").and_then(Value::as_str).map(str::to_owned))
        .collect();
    let expected = [
        None,
        Some("ES256"),
        Some("ES384"),
        Some("ES256K"),
        Some("EdDSA"),
    ];
    assert_eq!(algs, expected.map(|alg| alg.map(str::to_owned)));
}

#[test]
fn a_missing_kid_is_the_rfc_7638_thumbprint() {
    let keystore = fixture_keystore();
    for (jwk, key) in published_keys(&keystore).iter().zip(fixture_keys()) {
        assert_eq!(jwk["kid"], key.jwk_thumbprint());
    }
}

#[test]
fn a_derived_kid_survives_a_restart() {
    // A restart reloads the same key file into a fresh keystore.
    let first = published_keys(&fixture_keystore());
    let second = published_keys(&fixture_keystore());
    assert_eq!(first, second);
}

#[test]
fn a_configured_kid_is_published_as_given() {
    let key = load_fixture(fixture!("p256.sec1.pem"));
    let keystore =
        Keystore::new(vec![(Some("2024-signing".to_owned()), key)]).expect("one key cannot clash");
    assert_eq!(published_keys(&keystore)[0]["kid"], "2024-signing");
}

#[test]
fn two_keys_with_the_same_kid_are_refused() {
    let error = Keystore::new(vec![
        (
            Some("main".to_owned()),
            load_fixture(fixture!("p256.sec1.pem")),
        ),
        (
            Some("main".to_owned()),
            load_fixture(fixture!("p384.sec1.pem")),
        ),
    ])
    .expect_err("a kid must identify one key");
    assert_eq!(
        error,
        KeystoreError::DuplicateKid {
            kid: "main".to_owned()
        }
    );
}

#[test]
fn the_same_key_listed_twice_without_kid_is_refused() {
    let result = Keystore::new(vec![
        (None, load_fixture(fixture!("p256.sec1.pem"))),
        (None, load_fixture(fixture!("p256.pkcs8.der"))),
    ]);
    assert!(matches!(result, Err(KeystoreError::DuplicateKid { .. })));
}

#[test]
fn an_empty_kid_is_refused() {
    let result = Keystore::new(vec![(
        Some(String::new()),
        load_fixture(fixture!("p256.sec1.pem")),
    )]);
    assert!(matches!(result, Err(KeystoreError::EmptyKid)));
}

#[test]
fn rsa_keys_publish_modulus_and_exponent() {
    let jwk = &published_keys(&fixture_keystore())[0];
    assert_eq!(jwk["kty"], "RSA");
    assert_eq!(jwk["e"], "AQAB");
    let n = Base64UrlUnpadded::decode_vec(jwk["n"].as_str().expect("n is a string"))
        .expect("n is base64url");
    // RFC 7518 §6.3.1.1: minimal big-endian, so a 2048-bit modulus is exactly 256 bytes.
    assert_eq!(n.len(), 256);
}

#[test]
fn ec_coordinates_keep_the_full_field_size() {
    // RFC 7518 §6.2.1.2: x and y are as long as the field, leading zeros included.
    let keys = published_keys(&fixture_keystore());
    for (jwk, size) in [(&keys[1], 32), (&keys[2], 48), (&keys[3], 32)] {
        for coordinate in ["x", "y"] {
            let bytes = Base64UrlUnpadded::decode_vec(jwk[coordinate].as_str().expect("string"))
                .expect("coordinates are base64url");
            assert_eq!(bytes.len(), size, "{coordinate} of {jwk}");
        }
    }
}

#[test]
fn ed25519_keys_publish_an_okp_with_a_32_byte_x() {
    let jwk = &published_keys(&fixture_keystore())[4];
    assert_eq!(jwk["kty"], "OKP");
    assert_eq!(jwk["crv"], "Ed25519");
    let x = Base64UrlUnpadded::decode_vec(jwk["x"].as_str().expect("x is a string"))
        .expect("x is base64url");
    assert_eq!(x.len(), 32);
    assert!(jwk.get("y").is_none());
}

#[test]
fn the_keystore_advertises_the_union_of_its_algorithms() {
    let names: Vec<&str> = fixture_keystore()
        .signing_algorithms()
        .iter()
        .map(|alg| alg.as_str())
        .collect();
    assert_eq!(
        names,
        [
            "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES256K",
            "EdDSA"
        ]
    );
}

#[test]
fn an_algorithm_is_advertised_once_even_with_two_keys() {
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(3);
    let keystore = Keystore::new(vec![
        (None, PrivateKey::generate_ec_p256(&mut rng)),
        (None, PrivateKey::generate_ec_p256(&mut rng)),
    ])
    .expect("two generated keys are distinct");
    assert_eq!(keystore.signing_algorithms(), [JwsAlgorithm::Es256]);
}

#[test]
fn the_first_configured_key_for_an_algorithm_is_found() {
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(4);
    let keystore = Keystore::new(vec![
        (
            Some("ed".to_owned()),
            PrivateKey::generate_ed25519(&mut rng),
        ),
        (
            Some("first".to_owned()),
            PrivateKey::generate_ec_p256(&mut rng),
        ),
        (
            Some("second".to_owned()),
            PrivateKey::generate_ec_p256(&mut rng),
        ),
    ])
    .expect("the kids are distinct");
    let (kid, key) = keystore
        .find_for_algorithm(JwsAlgorithm::Es256)
        .expect("two keys support ES256");
    assert_eq!(kid, "first");
    assert_eq!(key.signing_algorithms(), [JwsAlgorithm::Es256]);
}

#[test]
fn no_key_is_found_for_an_algorithm_nobody_supports() {
    let keystore = Keystore::new(vec![(None, load_fixture(fixture!("ed25519.pkcs8.pem")))])
        .expect("one key cannot clash");
    assert!(keystore.find_for_algorithm(JwsAlgorithm::Rs256).is_none());
}

#[test]
fn the_ed25519_jwk_holds_the_public_key_openssl_derives() {
    // `openssl pkey -in ed25519.pkcs8.pem -pubout -outform DER | tail -c 32`, base64url.
    let jwk = crate::public_jwk(load_fixture(fixture!("ed25519.pkcs8.pem")));
    assert_eq!(jwk["x"], "S69Qgnx-01C7reMYXfMKvGajYEFfiCtHhAVm6GuX_Ew");
}

#[test]
fn the_p256_jwk_holds_the_public_point_openssl_derives() {
    // The last 64 bytes of `openssl pkey -in p256.pkcs8.pem -pubout -outform DER`, halved.
    let jwk = crate::public_jwk(load_fixture(fixture!("p256.pkcs8.pem")));
    assert_eq!(jwk["x"], "Dh-cNFw0OD0OIKtbb9k41alOcJ4LHKUmEevS9fEAscE");
    assert_eq!(jwk["y"], "qcK4uEhSqIFFhtCIb0_xPwItWNExJVS9DsBwjuRaghk");
}

#[test]
fn the_keystore_and_encrypter_can_be_shared_between_request_handlers() {
    fn assert_send_sync<T: Send + Sync + 'static>() {}
    assert_send_sync::<Keystore>();
    assert_send_sync::<portcullis_keys::Encrypter>();
}
