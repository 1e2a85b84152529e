//! Public JSON Web Keys (RFC 7517) and key sets, as published at `/oauth2/keys.json`.

use base64ct::{Base64UrlUnpadded, Encoding as _};
use serde::Serialize;
use sha2::{Digest as _, Sha256};

use crate::JwsAlgorithm;

/// The public key members of a JWK. There is deliberately no way to hold a private member
/// (`d`, `p`, `q`, `dp`, `dq`, `qi`) here, so none can be published by mistake.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kty")]
pub(crate) enum JwkParameters {
    /// RFC 7518 §6.3.1.
    #[serde(rename = "RSA")]
    Rsa { n: String, e: String },
    /// RFC 7518 §6.2.1; `crv` is `P-256`, `P-384` or `secp256k1` (RFC 8812 §3.1).
    #[serde(rename = "EC")]
    Ec {
        crv: &'static str,
        x: String,
        y: String,
    },
    /// RFC 8037 §2 octet key pair; `crv` is `Ed25519`.
    #[serde(rename = "OKP")]
    Okp { crv: &'static str, x: String },
}

impl JwkParameters {
    /// The RFC 7638 thumbprint: SHA-256 over the required members only, in lexicographic
    /// order, without whitespace (§3.2), base64url-encoded without padding.
    pub(crate) fn thumbprint(&self) -> String {
        // Every value is base64url or a fixed curve name, so none needs JSON escaping.
        let canonical = match self {
            Self::Rsa { n, e } => format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#),
            Self::Ec { crv, x, y } => {
                format!(r#"{{"crv":"{crv}","kty":"EC","x":"{x}","y":"{y}"}}"#)
            }
            // RFC 8037 §2: the required members of an OKP key are crv, kty and x.
            Self::Okp { crv, x } => format!(r#"{{"crv":"{crv}","kty":"OKP","x":"{x}"}}"#),
        };
        Base64UrlUnpadded::encode_string(&Sha256::digest(canonical.as_bytes()))
    }
}

/// The public half of one signing key, as published in the JWKS.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PublicJwk {
    #[serde(flatten)]
    parameters: JwkParameters,
    kid: String,
    /// RFC 7517 §4.2: these keys only ever verify signatures.
    #[serde(rename = "use")]
    public_key_use: &'static str,
    /// Only set when the key allows exactly one algorithm; an RSA key serves six, and a
    /// verifier must then take the algorithm from the JWS header (RFC 7517 §4.4).
    #[serde(skip_serializing_if = "Option::is_none")]
    alg: Option<JwsAlgorithm>,
}

impl PublicJwk {
    pub(crate) fn new(parameters: JwkParameters, kid: String, algorithms: &[JwsAlgorithm]) -> Self {
        let alg = match algorithms {
            [only] => Some(*only),
            _ => None,
        };
        Self {
            parameters,
            kid,
            public_key_use: "sig",
            alg,
        }
    }

    /// The key id.
    #[must_use]
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The single algorithm this key is restricted to, if it is restricted to one.
    #[must_use]
    pub const fn alg(&self) -> Option<JwsAlgorithm> {
        self.alg
    }
}

/// A JWK Set (RFC 7517 §5) of public keys: serialises to `{"keys":[...]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PublicJwkSet {
    keys: Vec<PublicJwk>,
}

impl PublicJwkSet {
    pub(crate) const fn new(keys: Vec<PublicJwk>) -> Self {
        Self { keys }
    }

    /// The keys, in configuration order.
    #[must_use]
    pub fn keys(&self) -> &[PublicJwk] {
        &self.keys
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rsa_thumbprint_matches_the_rfc_7638_example() {
        // RFC 7638 §3.1.
        let parameters = JwkParameters::Rsa {
            n: "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw".to_owned(),
            e: "AQAB".to_owned(),
        };
        assert_eq!(
            parameters.thumbprint(),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
    }

    #[test]
    fn ed25519_thumbprint_matches_the_rfc_8037_example() {
        // RFC 8037 Appendix A.3.
        let parameters = JwkParameters::Okp {
            crv: "Ed25519",
            x: "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo".to_owned(),
        };
        assert_eq!(
            parameters.thumbprint(),
            "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
        );
    }

    #[test]
    fn a_single_algorithm_key_publishes_its_alg() {
        let jwk = PublicJwk::new(
            JwkParameters::Okp {
                crv: "Ed25519",
                x: "AA".to_owned(),
            },
            "k".to_owned(),
            &[JwsAlgorithm::EdDsa],
        );
        let json = serde_json::to_value(&jwk).expect("a JWK always serialises");
        assert_eq!(json["alg"], "EdDSA");
    }

    #[test]
    fn a_multi_algorithm_key_publishes_no_alg() {
        let jwk = PublicJwk::new(
            JwkParameters::Rsa {
                n: "AA".to_owned(),
                e: "AQAB".to_owned(),
            },
            "k".to_owned(),
            &[JwsAlgorithm::Rs256, JwsAlgorithm::Ps256],
        );
        let json = serde_json::to_value(&jwk).expect("a JWK always serialises");
        assert!(json.get("alg").is_none());
    }
}
