//! Generated keys are written in MAS's formats and load back as the same key.

use portcullis_keys::{GenerateError, KeyType, PrivateKey};
use rand::SeedableRng as _;
use rand_chacha::ChaCha20Rng;

fn rng() -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(42)
}

/// Writes `key` as PEM, checks the label, loads it back and checks it is the same key.
fn assert_round_trips(key: &PrivateKey, expected_label: &str) {
    let pem = key.to_pem().expect("a generated key always encodes");
    assert!(
        pem.starts_with(&format!("-----BEGIN {expected_label}-----\n")),
        "unexpected PEM: {}",
        pem.lines().next().unwrap_or_default()
    );
    assert!(pem.ends_with(&format!("-----END {expected_label}-----\n")));
    let loaded = PrivateKey::load(pem.as_bytes(), None).expect("our own PEM loads");
    assert_eq!(loaded.key_type(), key.key_type());
    assert_eq!(loaded.jwk_thumbprint(), key.jwk_thumbprint());
}

#[test]
fn a_generated_rsa_key_round_trips_through_pkcs1_pem() {
    // The only RSA generation in the suite: it is slow.
    let key = PrivateKey::generate_rsa(&mut rng(), 2048).expect("2048 bits is allowed");
    assert_eq!(key.key_type(), KeyType::Rsa);
    assert_round_trips(&key, "RSA PRIVATE KEY");
}

#[test]
fn generating_an_rsa_key_under_2048_bits_is_refused() {
    assert!(matches!(
        PrivateKey::generate_rsa(&mut rng(), 1024),
        Err(GenerateError::RsaKeyTooSmall { bits: 1024 })
    ));
}

#[test]
fn a_generated_p256_key_round_trips_through_sec1_pem() {
    let key = PrivateKey::generate_ec_p256(&mut rng());
    assert_eq!(key.key_type(), KeyType::EcP256);
    assert_round_trips(&key, "EC PRIVATE KEY");
}

#[test]
fn a_generated_p384_key_round_trips_through_sec1_pem() {
    let key = PrivateKey::generate_ec_p384(&mut rng());
    assert_eq!(key.key_type(), KeyType::EcP384);
    assert_round_trips(&key, "EC PRIVATE KEY");
}

#[test]
fn a_generated_k256_key_round_trips_through_sec1_pem() {
    // SEC1 without the curve would read back as P-256; this proves the curve is written.
    let key = PrivateKey::generate_ec_k256(&mut rng());
    assert_eq!(key.key_type(), KeyType::EcK256);
    assert_round_trips(&key, "EC PRIVATE KEY");
}

#[test]
fn a_generated_ed25519_key_round_trips_through_pkcs8_pem() {
    let key = PrivateKey::generate_ed25519(&mut rng());
    assert_eq!(key.key_type(), KeyType::Ed25519);
    assert_round_trips(&key, "PRIVATE KEY");
}

#[test]
fn generation_is_reproducible_from_a_seeded_rng() {
    let first = PrivateKey::generate_ec_p256(&mut rng());
    let second = PrivateKey::generate_ec_p256(&mut rng());
    assert_eq!(first.jwk_thumbprint(), second.jwk_thumbprint());
}

#[test]
fn debug_output_shows_only_the_type_and_thumbprint() {
    let key = PrivateKey::generate_ed25519(&mut rng());
    assert_eq!(
        format!("{key:?}"),
        format!(
            "PrivateKey {{ key_type: Ed25519, thumbprint: {:?}, .. }}",
            key.jwk_thumbprint()
        )
    );
}
