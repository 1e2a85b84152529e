//! The `at_hash` and `c_hash` claims of ID tokens (OpenID Connect Core §3.3.2.11, §3.1.3.6).
//!
//! Each is the base64url (no padding) of the left-most half of the hash of the ASCII value, with
//! the hash function of the ID token's signing algorithm. The algorithm is named here by its hash
//! only, so this crate needs nothing from the keys crate.

use base64ct::{Base64UrlUnpadded, Encoding as _};
use sha2::{Digest as _, Sha256, Sha384, Sha512};

/// The hash function of a JWS algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HashAlg {
    /// `*256` algorithms (HS256, RS256, PS256, ES256, ES256K).
    Sha256,
    /// `*384` algorithms.
    Sha384,
    /// `*512` algorithms, and EdDSA (Ed25519), per the OpenID Connect Core errata.
    Sha512,
}

impl HashAlg {
    /// The hash function of the JWS algorithm named `alg`, if it is one this server knows.
    #[must_use]
    pub fn for_jws_alg(alg: &str) -> Option<Self> {
        match alg {
            "HS256" | "RS256" | "PS256" | "ES256" | "ES256K" => Some(Self::Sha256),
            "HS384" | "RS384" | "PS384" | "ES384" => Some(Self::Sha384),
            "HS512" | "RS512" | "PS512" | "ES512" | "EdDSA" => Some(Self::Sha512),
            _ => None,
        }
    }
}

/// The `at_hash` of an access token or the `c_hash` of a code.
#[must_use]
pub fn half_hash(alg: HashAlg, value: &str) -> String {
    let digest: Vec<u8> = match alg {
        HashAlg::Sha256 => Sha256::digest(value).to_vec(),
        HashAlg::Sha384 => Sha384::digest(value).to_vec(),
        HashAlg::Sha512 => Sha512::digest(value).to_vec(),
    };
    Base64UrlUnpadded::encode_string(&digest[..digest.len() / 2])
}

#[cfg(test)]
mod tests {
    use super::*;

    // OpenID Connect Core, Appendix A.4 (`code id_token token` example).
    #[test]
    fn the_at_hash_of_the_oidc_core_example_access_token_matches() {
        assert_eq!(
            half_hash(
                HashAlg::Sha256,
                "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"
            ),
            "77QmUPtjPfzWtF2AnpK9RQ"
        );
    }

    #[test]
    fn the_c_hash_of_the_oidc_core_example_code_matches() {
        assert_eq!(
            half_hash(
                HashAlg::Sha256,
                "Qcb0Orv1zh30vL1MPRsbm-diHiMwcLyZvn1arpZv-Jxf_11jnpEX3Tgfvk"
            ),
            "LDktKdoQak3Pk0cnXxCltA"
        );
    }

    // Computed independently with Python's hashlib.
    #[test]
    fn the_sha384_half_hash_is_24_bytes_of_the_digest() {
        assert_eq!(
            half_hash(HashAlg::Sha384, "abc"),
            "ywB1P0WjXou1oD1pmsZQBycsMqsO3tFj"
        );
    }

    #[test]
    fn the_sha512_half_hash_is_32_bytes_of_the_digest() {
        assert_eq!(
            half_hash(HashAlg::Sha512, "abc"),
            "3a81oZNherrMQXNJriBBMRLm-k6JqX6iCp7u5ktV05o"
        );
    }

    #[test]
    fn eddsa_uses_sha512() {
        assert_eq!(HashAlg::for_jws_alg("EdDSA"), Some(HashAlg::Sha512));
    }

    #[test]
    fn rs256_uses_sha256() {
        assert_eq!(HashAlg::for_jws_alg("RS256"), Some(HashAlg::Sha256));
    }

    #[test]
    fn es384_uses_sha384() {
        assert_eq!(HashAlg::for_jws_alg("ES384"), Some(HashAlg::Sha384));
    }

    #[test]
    fn the_none_algorithm_has_no_hash() {
        assert_eq!(HashAlg::for_jws_alg("none"), None);
    }
}
