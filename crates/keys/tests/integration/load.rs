//! Loading keys in every supported type and format, and refusing everything else clearly.

use portcullis_keys::{KeyType, LoadError, PrivateKey};
use serde_json::Value;

use crate::{PASSWORD, fixture, public_jwk};

/// One test per key type × format: it loads with the right type and publishes the right
/// `kty`/`crv`.
macro_rules! loads_as {
    ($test:ident, $file:literal, $key_type:expr, $kty:literal, $crv:expr) => {
        #[test]
        fn $test() {
            let key = PrivateKey::load(fixture!($file), Some(PASSWORD))
                .expect(concat!($file, " must load"));
            assert_eq!(key.key_type(), $key_type);
            let jwk = public_jwk(key);
            assert_eq!(jwk["kty"], $kty);
            assert_eq!(jwk.get("crv").and_then(Value::as_str), $crv);
        }
    };
}

loads_as!(
    rsa_pkcs1_pem_loads_as_rsa,
    "rsa.pkcs1.pem",
    KeyType::Rsa,
    "RSA",
    None
);
loads_as!(
    rsa_pkcs1_der_loads_as_rsa,
    "rsa.pkcs1.der",
    KeyType::Rsa,
    "RSA",
    None
);
loads_as!(
    rsa_pkcs8_pem_loads_as_rsa,
    "rsa.pkcs8.pem",
    KeyType::Rsa,
    "RSA",
    None
);
loads_as!(
    rsa_pkcs8_der_loads_as_rsa,
    "rsa.pkcs8.der",
    KeyType::Rsa,
    "RSA",
    None
);
loads_as!(
    encrypted_rsa_pkcs8_pem_loads_as_rsa,
    "rsa.pkcs8.encrypted.pem",
    KeyType::Rsa,
    "RSA",
    None
);
loads_as!(
    encrypted_rsa_pkcs8_der_loads_as_rsa,
    "rsa.pkcs8.encrypted.der",
    KeyType::Rsa,
    "RSA",
    None
);

loads_as!(
    p256_sec1_pem_loads_as_p256,
    "p256.sec1.pem",
    KeyType::EcP256,
    "EC",
    Some("P-256")
);
loads_as!(
    p256_sec1_der_loads_as_p256,
    "p256.sec1.der",
    KeyType::EcP256,
    "EC",
    Some("P-256")
);
loads_as!(
    p256_pkcs8_pem_loads_as_p256,
    "p256.pkcs8.pem",
    KeyType::EcP256,
    "EC",
    Some("P-256")
);
loads_as!(
    p256_pkcs8_der_loads_as_p256,
    "p256.pkcs8.der",
    KeyType::EcP256,
    "EC",
    Some("P-256")
);
loads_as!(
    encrypted_p256_pkcs8_pem_loads_as_p256,
    "p256.pkcs8.encrypted.pem",
    KeyType::EcP256,
    "EC",
    Some("P-256")
);
loads_as!(
    encrypted_p256_pkcs8_der_loads_as_p256,
    "p256.pkcs8.encrypted.der",
    KeyType::EcP256,
    "EC",
    Some("P-256")
);

loads_as!(
    p384_sec1_pem_loads_as_p384,
    "p384.sec1.pem",
    KeyType::EcP384,
    "EC",
    Some("P-384")
);
loads_as!(
    p384_sec1_der_loads_as_p384,
    "p384.sec1.der",
    KeyType::EcP384,
    "EC",
    Some("P-384")
);
loads_as!(
    p384_pkcs8_pem_loads_as_p384,
    "p384.pkcs8.pem",
    KeyType::EcP384,
    "EC",
    Some("P-384")
);
loads_as!(
    p384_pkcs8_der_loads_as_p384,
    "p384.pkcs8.der",
    KeyType::EcP384,
    "EC",
    Some("P-384")
);
loads_as!(
    encrypted_p384_pkcs8_pem_loads_as_p384,
    "p384.pkcs8.encrypted.pem",
    KeyType::EcP384,
    "EC",
    Some("P-384")
);
loads_as!(
    encrypted_p384_pkcs8_der_loads_as_p384,
    "p384.pkcs8.encrypted.der",
    KeyType::EcP384,
    "EC",
    Some("P-384")
);

loads_as!(
    k256_sec1_pem_loads_as_k256,
    "k256.sec1.pem",
    KeyType::EcK256,
    "EC",
    Some("secp256k1")
);
loads_as!(
    k256_sec1_der_loads_as_k256,
    "k256.sec1.der",
    KeyType::EcK256,
    "EC",
    Some("secp256k1")
);
loads_as!(
    k256_pkcs8_pem_loads_as_k256,
    "k256.pkcs8.pem",
    KeyType::EcK256,
    "EC",
    Some("secp256k1")
);
loads_as!(
    k256_pkcs8_der_loads_as_k256,
    "k256.pkcs8.der",
    KeyType::EcK256,
    "EC",
    Some("secp256k1")
);
loads_as!(
    encrypted_k256_pkcs8_pem_loads_as_k256,
    "k256.pkcs8.encrypted.pem",
    KeyType::EcK256,
    "EC",
    Some("secp256k1")
);
loads_as!(
    encrypted_k256_pkcs8_der_loads_as_k256,
    "k256.pkcs8.encrypted.der",
    KeyType::EcK256,
    "EC",
    Some("secp256k1")
);

loads_as!(
    ed25519_pkcs8_pem_loads_as_ed25519,
    "ed25519.pkcs8.pem",
    KeyType::Ed25519,
    "OKP",
    Some("Ed25519")
);
loads_as!(
    ed25519_pkcs8_der_loads_as_ed25519,
    "ed25519.pkcs8.der",
    KeyType::Ed25519,
    "OKP",
    Some("Ed25519")
);
loads_as!(
    encrypted_ed25519_pkcs8_pem_loads_as_ed25519,
    "ed25519.pkcs8.encrypted.pem",
    KeyType::Ed25519,
    "OKP",
    Some("Ed25519")
);
loads_as!(
    encrypted_ed25519_pkcs8_der_loads_as_ed25519,
    "ed25519.pkcs8.encrypted.der",
    KeyType::Ed25519,
    "OKP",
    Some("Ed25519")
);

fn load_error(bytes: &[u8], password: Option<&[u8]>) -> LoadError {
    PrivateKey::load(bytes, password).expect_err("the input must be refused")
}

fn thumbprint(bytes: &[u8]) -> String {
    PrivateKey::load(bytes, Some(PASSWORD))
        .expect("the fixture is a valid key")
        .jwk_thumbprint()
}

#[test]
fn every_format_of_the_rsa_fixture_is_the_same_key() {
    let expected = thumbprint(fixture!("rsa.pkcs8.pem"));
    for bytes in [
        fixture!("rsa.pkcs1.pem"),
        fixture!("rsa.pkcs1.der"),
        fixture!("rsa.pkcs8.der"),
        fixture!("rsa.pkcs8.encrypted.pem"),
        fixture!("rsa.pkcs8.encrypted.der"),
    ] {
        assert_eq!(thumbprint(bytes), expected);
    }
}

#[test]
fn every_format_of_the_p256_fixture_is_the_same_key() {
    let expected = thumbprint(fixture!("p256.pkcs8.pem"));
    for bytes in [
        fixture!("p256.sec1.pem"),
        fixture!("p256.sec1.der"),
        fixture!("p256.pkcs8.der"),
        fixture!("p256.pkcs8.encrypted.pem"),
        fixture!("p256.pkcs8.encrypted.der"),
    ] {
        assert_eq!(thumbprint(bytes), expected);
    }
}

#[test]
fn key_types_display_as_operators_know_them() {
    let names: Vec<String> = [
        KeyType::Rsa,
        KeyType::EcP256,
        KeyType::EcP384,
        KeyType::EcK256,
        KeyType::Ed25519,
    ]
    .iter()
    .map(ToString::to_string)
    .collect();
    assert_eq!(
        names,
        ["RSA", "EC P-256", "EC P-384", "EC K-256", "Ed25519"]
    );
}

#[test]
fn pem_after_leading_whitespace_loads() {
    let mut text = b"\n\n   \t".to_vec();
    text.extend_from_slice(fixture!("p256.sec1.pem"));
    let key = PrivateKey::load(&text, None).expect("leading whitespace is skipped");
    assert_eq!(key.key_type(), KeyType::EcP256);
}

#[test]
fn pem_with_crlf_line_endings_loads() {
    let text = String::from_utf8(fixture!("p256.pkcs8.pem").to_vec())
        .expect("PEM is ASCII")
        .replace('\n', "\r\n");
    let key = PrivateKey::load(text.as_bytes(), None).expect("CRLF is valid PEM");
    assert_eq!(key.key_type(), KeyType::EcP256);
}

#[test]
fn an_ec_parameters_block_before_the_key_is_skipped() {
    // What `openssl ecparam -genkey -name prime256v1` prints: the curve OID, then the key.
    let mut text =
        b"-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n".to_vec();
    text.extend_from_slice(fixture!("p256.sec1.pem"));
    let key = PrivateKey::load(&text, None).expect("the parameters block is skipped");
    assert_eq!(key.key_type(), KeyType::EcP256);
}

#[test]
fn a_password_for_an_unencrypted_key_is_ignored() {
    let key = PrivateKey::load(fixture!("ed25519.pkcs8.pem"), Some(b"unused"))
        .expect("an unneeded password does no harm");
    assert_eq!(key.key_type(), KeyType::Ed25519);
}

#[test]
fn rsa_keys_sign_with_the_six_rsa_algorithms() {
    let key = PrivateKey::load(fixture!("rsa.pkcs1.pem"), None).expect("the fixture is valid");
    let names: Vec<&str> = key
        .signing_algorithms()
        .iter()
        .map(|alg| alg.as_str())
        .collect();
    assert_eq!(
        names,
        ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512"]
    );
}

#[test]
fn each_other_key_type_signs_with_exactly_its_algorithm() {
    let cases: [(&[u8], &str); 4] = [
        (fixture!("p256.sec1.pem"), "ES256"),
        (fixture!("p384.sec1.pem"), "ES384"),
        (fixture!("k256.sec1.pem"), "ES256K"),
        (fixture!("ed25519.pkcs8.pem"), "EdDSA"),
    ];
    for (bytes, expected) in cases {
        let key = PrivateKey::load(bytes, None).expect("the fixture is valid");
        let names: Vec<&str> = key
            .signing_algorithms()
            .iter()
            .map(|alg| alg.as_str())
            .collect();
        assert_eq!(names, [expected]);
    }
}

#[test]
fn empty_input_is_refused_as_empty() {
    assert!(matches!(load_error(b"", None), LoadError::Empty));
}

#[test]
fn whitespace_only_input_is_refused_as_empty() {
    assert!(matches!(load_error(b" \n\t\n", None), LoadError::Empty));
}

#[test]
fn garbage_is_refused_with_the_expected_formats_named() {
    let error = load_error(b"this is not a key", None);
    assert!(matches!(error, LoadError::UnrecognisedFormat));
    assert_eq!(
        error.to_string(),
        "not a PEM or DER private key (expected PKCS#1, PKCS#8 or SEC1)"
    );
}

#[test]
fn base64_of_random_bytes_is_refused() {
    // The output of `openssl rand -base64 64`, which operators paste where a key belongs.
    let pasted = b"6YC4zTkJR8dxUarPMLKN0GkWX353s79bm73WmEjr+KpHwsouOA3VK0+A6XSo9nPX\n\
                   D9/7cWhE0N0NV5yzj5ntlA==\n";
    assert!(matches!(
        load_error(pasted, None),
        LoadError::UnrecognisedFormat
    ));
}

#[test]
fn truncated_der_is_refused() {
    let der = fixture!("rsa.pkcs8.der");
    assert!(matches!(
        load_error(&der[..der.len() / 2], None),
        LoadError::UnrecognisedFormat
    ));
}

#[test]
fn truncated_pem_is_refused_as_malformed_pem() {
    let pem = fixture!("p384.pkcs8.pem");
    assert!(matches!(
        load_error(&pem[..pem.len() / 2], None),
        LoadError::MalformedPem(_)
    ));
}

#[test]
fn pem_with_a_corrupted_body_is_refused() {
    let text = String::from_utf8(fixture!("p256.sec1.pem").to_vec())
        .expect("PEM is ASCII")
        .replacen("MHcCAQEE", "MHcCAQAA", 1);
    assert!(matches!(
        load_error(text.as_bytes(), None),
        LoadError::Malformed { .. }
    ));
}

#[test]
fn encrypted_pem_without_password_asks_for_one() {
    let error = load_error(fixture!("rsa.pkcs8.encrypted.pem"), None);
    assert!(matches!(error, LoadError::PasswordRequired));
    assert_eq!(
        error.to_string(),
        "the key is encrypted but no password was given"
    );
}

#[test]
fn encrypted_der_without_password_asks_for_one() {
    assert!(matches!(
        load_error(fixture!("ed25519.pkcs8.encrypted.der"), None),
        LoadError::PasswordRequired
    ));
}

#[test]
fn encrypted_pkcs8_key_with_wrong_password_is_refused() {
    let error = load_error(fixture!("rsa.pkcs8.encrypted.pem"), Some(b"hunter3"));
    assert!(matches!(error, LoadError::WrongPassword));
    assert_eq!(error.to_string(), "wrong password or corrupt encrypted key");
}

#[test]
fn encrypted_der_key_with_wrong_password_is_refused() {
    assert!(matches!(
        load_error(fixture!("p384.pkcs8.encrypted.der"), Some(b"")),
        LoadError::WrongPassword
    ));
}

#[test]
fn a_public_key_is_refused_with_its_label() {
    let error = load_error(fixture!("rsa.public.pem"), None);
    assert!(matches!(&error, LoadError::UnsupportedPemLabel { label } if label == "PUBLIC KEY"));
    assert!(error.to_string().contains("\"PUBLIC KEY\""));
}

#[test]
fn legacy_openssl_encryption_is_refused_with_a_conversion_hint() {
    let error = load_error(fixture!("rsa.pkcs1.legacy-encrypted.pem"), Some(PASSWORD));
    assert!(matches!(error, LoadError::LegacyEncryptedPem));
    assert!(error.to_string().contains("openssl pkcs8 -topk8"));
}

#[test]
fn an_ed448_key_is_refused_by_name() {
    let error = load_error(fixture!("ed448.pkcs8.pem"), None);
    assert!(matches!(&error, LoadError::UnsupportedKeyType { found } if found == "Ed448"));
    assert_eq!(
        error.to_string(),
        "unsupported key type/curve Ed448 (supported: RSA, P-256, P-384, K-256, Ed25519)"
    );
}

#[test]
fn a_p521_key_is_refused_by_name() {
    assert!(matches!(
        load_error(fixture!("p521.pkcs8.pem"), None),
        LoadError::UnsupportedKeyType { found } if found == "EC P-521"
    ));
}

#[test]
fn an_rsa_key_under_2048_bits_is_refused() {
    assert!(matches!(
        load_error(fixture!("rsa1024.pkcs8.pem"), None),
        LoadError::RsaKeyTooSmall { bits: 1024 }
    ));
}
