//! JWS signature algorithms (RFC 7518 §3, RFC 8037 §3.1, RFC 8812 §3.2).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A JWS signature algorithm that one of our private keys can produce.
///
/// Only asymmetric algorithms are listed: the keys here sign tokens that anyone holding the
/// published JWKS can verify. `none` is deliberately absent (RFC 7518 §3.6 makes it an
/// unsecured JWS, which must never be accepted or produced here).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum JwsAlgorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    Rs256,
    /// RSASSA-PKCS1-v1_5 with SHA-384.
    Rs384,
    /// RSASSA-PKCS1-v1_5 with SHA-512.
    Rs512,
    /// RSASSA-PSS with SHA-256 and MGF1 with SHA-256.
    Ps256,
    /// RSASSA-PSS with SHA-384 and MGF1 with SHA-384.
    Ps384,
    /// RSASSA-PSS with SHA-512 and MGF1 with SHA-512.
    Ps512,
    /// ECDSA on P-256 with SHA-256.
    Es256,
    /// ECDSA on P-384 with SHA-384.
    Es384,
    /// ECDSA on secp256k1 with SHA-256 (RFC 8812).
    Es256K,
    /// EdDSA; with our keys always Ed25519 (RFC 8037).
    EdDsa,
}

impl JwsAlgorithm {
    /// Every supported algorithm, in the order they are advertised.
    pub const ALL: &'static [JwsAlgorithm] = &[
        Self::Rs256,
        Self::Rs384,
        Self::Rs512,
        Self::Ps256,
        Self::Ps384,
        Self::Ps512,
        Self::Es256,
        Self::Es384,
        Self::Es256K,
        Self::EdDsa,
    ];

    /// The algorithm's name in the JOSE registry, as it appears in a JWS `alg` header.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Rs256 => "RS256",
            Self::Rs384 => "RS384",
            Self::Rs512 => "RS512",
            Self::Ps256 => "PS256",
            Self::Ps384 => "PS384",
            Self::Ps512 => "PS512",
            Self::Es256 => "ES256",
            Self::Es384 => "ES384",
            Self::Es256K => "ES256K",
            Self::EdDsa => "EdDSA",
        }
    }
}

impl fmt::Display for JwsAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error returned when parsing an algorithm name that is not supported.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unsupported JWS algorithm \"{name}\" (supported: RS256, RS384, RS512, PS256, PS384, PS512, \
     ES256, ES384, ES256K, EdDSA)"
)]
pub struct UnknownAlgorithm {
    name: String,
}

impl FromStr for JwsAlgorithm {
    type Err = UnknownAlgorithm;

    /// Parses a JOSE algorithm name. Names are case-sensitive (RFC 7515 §4.1.1).
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .iter()
            .copied()
            .find(|alg| alg.as_str() == name)
            .ok_or_else(|| UnknownAlgorithm {
                name: name.to_owned(),
            })
    }
}

impl Serialize for JwsAlgorithm {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for JwsAlgorithm {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        name.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_algorithm_parses_back_from_its_name() {
        for alg in JwsAlgorithm::ALL {
            assert_eq!(alg.as_str().parse::<JwsAlgorithm>(), Ok(*alg));
        }
    }

    #[test]
    fn algorithm_names_are_case_sensitive() {
        assert!("rs256".parse::<JwsAlgorithm>().is_err());
    }

    #[test]
    fn none_is_not_an_algorithm() {
        let error = "none"
            .parse::<JwsAlgorithm>()
            .expect_err("none must be refused");
        assert!(error.to_string().contains("\"none\""));
    }

    #[test]
    fn algorithms_serialise_as_their_jose_name() {
        let json = serde_json::to_string(&[JwsAlgorithm::Es256K, JwsAlgorithm::EdDsa])
            .expect("serialising an array of strings cannot fail");
        assert_eq!(json, r#"["ES256K","EdDSA"]"#);
    }

    #[test]
    fn algorithms_deserialise_from_their_jose_name() {
        let alg: JwsAlgorithm =
            serde_json::from_str(r#""PS384""#).expect("PS384 is a supported algorithm");
        assert_eq!(alg, JwsAlgorithm::Ps384);
    }
}
