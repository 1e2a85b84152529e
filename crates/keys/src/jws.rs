//! Compact JWS (RFC 7515) signing with our keys, and verification against a public JWKS.

use base64ct::{Base64UrlUnpadded, Encoding as _};
use hmac::{Hmac, Mac};
use rsa::{BigUint, Pkcs1v15Sign, Pss, RsaPublicKey};
use serde_json::{Map, Value};
use sha2::{Digest as _, Sha256, Sha384, Sha512};

use crate::private_key::MIN_RSA_BITS;
use crate::{JwsAlgorithm, KeyType, PrivateKey};

/// The error returned when a token cannot be signed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SignError {
    /// No configured key can sign with the requested algorithm.
    #[error("no signing key supports {alg}")]
    NoKeyForAlgorithm {
        /// The requested algorithm.
        alg: JwsAlgorithm,
    },
    /// A key was asked for an algorithm of another key type.
    #[error("an {key_type} key cannot sign with {alg}")]
    AlgorithmNotSupportedByKey {
        /// The requested algorithm.
        alg: JwsAlgorithm,
        /// The key's type.
        key_type: KeyType,
    },
    /// RFC 7519 §7.2: the claims of a JWT must be a JSON object.
    #[error("JWT claims must be a JSON object")]
    ClaimsNotAnObject,
    /// The signature primitive failed.
    #[error("computing the {alg} signature failed")]
    Failed {
        /// The algorithm in use.
        alg: JwsAlgorithm,
        /// What the primitive reported.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

/// The error returned when a token does not verify.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// The JWKS is not a JSON object with a `keys` array.
    #[error("the JWKS is not a JSON object with a \"keys\" array")]
    InvalidJwks,
    /// The token is not a well-formed compact JWS.
    #[error("the token is not a compact JWS: {0}")]
    Malformed(&'static str),
    /// The header's `alg` is missing, `none`, symmetric or unknown.
    #[error("the token's algorithm \"{0}\" is not accepted")]
    UnsupportedAlgorithm(String),
    /// RFC 7515 §4.1.11: a `crit` header we cannot honour means the token must be rejected.
    #[error("the token has critical header parameters, which are not supported")]
    CriticalHeader,
    /// No key in the JWKS matches the token's `kid` and `alg`.
    #[error("no key in the JWKS matches the token's kid and algorithm")]
    NoMatchingKey,
    /// A matching key exists but the signature is wrong.
    #[error("the token's signature is invalid")]
    BadSignature,
}

/// Builds `base64url(header).base64url(claims).base64url(signature)`.
pub(crate) fn sign_compact(
    key: &PrivateKey,
    kid: &str,
    alg: JwsAlgorithm,
    claims: &Value,
) -> Result<String, SignError> {
    if !claims.is_object() {
        return Err(SignError::ClaimsNotAnObject);
    }
    let header = serde_json::json!({ "alg": alg, "kid": kid, "typ": "JWT" });
    let mut token = encode_json(&header);
    token.push('.');
    token.push_str(&encode_json(claims));
    let signature = key.sign(alg, token.as_bytes())?;
    token.push('.');
    token.push_str(&Base64UrlUnpadded::encode_string(&signature));
    Ok(token)
}

fn encode_json(value: &Value) -> String {
    let json = serde_json::to_vec(value)
        .expect("a serde_json::Value has string keys and finite numbers, so it always serialises");
    Base64UrlUnpadded::encode_string(&json)
}

/// A compact JWS (RFC 7515 §7.1) taken apart, whose signature is not checked yet: the caller
/// may need a claim (the `sub` of a client assertion) to know which key to check it with. The
/// claims must not be trusted before [`verify_with_jwks`](Self::verify_with_jwks) or
/// [`verify_with_secret`](Self::verify_with_secret) succeeds.
#[derive(Debug, Clone)]
pub struct UnverifiedJws<'a> {
    header: Map<String, Value>,
    claims: Map<String, Value>,
    signing_input: &'a str,
    signature: Vec<u8>,
}

impl<'a> UnverifiedJws<'a> {
    /// Splits `token` into its header, claims (a JSON object, as in a JWT) and signature.
    ///
    /// # Errors
    /// [`VerifyError::Malformed`] for anything but three base64url parts whose first two are
    /// JSON objects; [`VerifyError::CriticalHeader`] for a `crit` header, which RFC 7515
    /// §4.1.11 says must be refused when not understood.
    pub fn parse(token: &'a str) -> Result<Self, VerifyError> {
        let mut parts = token.split('.');
        let (Some(header_b64), Some(payload_b64), Some(signature_b64), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(VerifyError::Malformed("expected three dot-separated parts"));
        };
        let Some(Value::Object(header)) = decode_json(header_b64) else {
            return Err(VerifyError::Malformed(
                "the header is not base64url JSON object",
            ));
        };
        if header.contains_key("crit") {
            return Err(VerifyError::CriticalHeader);
        }
        let Some(Value::Object(claims)) = decode_json(payload_b64) else {
            return Err(VerifyError::Malformed(
                "the payload is not a base64url JSON object",
            ));
        };
        let signature = Base64UrlUnpadded::decode_vec(signature_b64)
            .map_err(|_| VerifyError::Malformed("the signature is not base64url"))?;
        Ok(Self {
            header,
            claims,
            signing_input: &token[..header_b64.len() + 1 + payload_b64.len()],
            signature,
        })
    }

    /// The header's `alg`, if it has one.
    #[must_use]
    pub fn alg(&self) -> Option<&str> {
        self.header.get("alg").and_then(Value::as_str)
    }

    /// The claims, not verified yet.
    #[must_use]
    pub fn claims(&self) -> &Map<String, Value> {
        &self.claims
    }

    /// The claims, once verified.
    #[must_use]
    pub fn into_claims(self) -> Map<String, Value> {
        self.claims
    }

    /// Checks the signature against a JWK Set given as JSON.
    ///
    /// The key is chosen by the header's `kid` when there is one, and must suit the header's
    /// `alg` (its `kty`/`crv`, and its own `alg` when set), so a token cannot pick a weaker
    /// algorithm than the key was published for. `none` and symmetric algorithms are refused.
    ///
    /// # Errors
    /// A [`VerifyError`] saying whether the JWKS, the token or the signature is at fault.
    pub fn verify_with_jwks(&self, jwks_json: &str) -> Result<(), VerifyError> {
        let jwks: Value = serde_json::from_str(jwks_json).map_err(|_| VerifyError::InvalidJwks)?;
        let keys = jwks
            .get("keys")
            .and_then(Value::as_array)
            .ok_or(VerifyError::InvalidJwks)?;
        let alg_name = self
            .alg()
            .ok_or(VerifyError::Malformed("the header has no alg"))?;
        let alg: JwsAlgorithm = alg_name
            .parse()
            .map_err(|_| VerifyError::UnsupportedAlgorithm(alg_name.to_owned()))?;
        let kid = self.header.get("kid").and_then(Value::as_str);
        let candidates: Vec<&Value> = signing_keys(keys, alg)
            .filter(|jwk| kid.is_none_or(|kid| member(jwk, "kid") == Some(kid)))
            .collect();
        if candidates.is_empty() {
            return Err(VerifyError::NoMatchingKey);
        }
        let message = self.signing_input.as_bytes();
        if candidates
            .iter()
            .any(|jwk| verifies(jwk, alg, message, &self.signature))
        {
            Ok(())
        } else {
            Err(VerifyError::BadSignature)
        }
    }

    /// Checks an HMAC signature (`HS256`, `HS384`, `HS512`, RFC 7518 §3.2) made with a shared
    /// secret, in constant time.
    ///
    /// # Errors
    /// [`VerifyError::UnsupportedAlgorithm`] for any other `alg`, [`VerifyError::BadSignature`]
    /// for a wrong signature.
    pub fn verify_with_secret(&self, secret: &[u8]) -> Result<(), VerifyError> {
        fn check<M: Mac + hmac::digest::KeyInit>(
            key: &[u8],
            input: &[u8],
            signature: &[u8],
        ) -> bool {
            <M as Mac>::new_from_slice(key).is_ok_and(|mut mac| {
                mac.update(input);
                mac.verify_slice(signature).is_ok()
            })
        }
        let (input, signature) = (self.signing_input.as_bytes(), self.signature.as_slice());
        let verified = match self.alg() {
            Some("HS256") => check::<Hmac<Sha256>>(secret, input, signature),
            Some("HS384") => check::<Hmac<Sha384>>(secret, input, signature),
            Some("HS512") => check::<Hmac<Sha512>>(secret, input, signature),
            other => {
                return Err(VerifyError::UnsupportedAlgorithm(
                    other.unwrap_or_default().to_owned(),
                ));
            }
        };
        if verified {
            Ok(())
        } else {
            Err(VerifyError::BadSignature)
        }
    }
}

/// Verifies a compact JWS against a JWK Set given as JSON and returns its claims.
///
/// Only the signature is checked: the caller validates `iss`, `aud`, `exp` and the rest. See
/// [`UnverifiedJws::verify_with_jwks`] for how the key is chosen.
///
/// # Errors
///
/// A [`VerifyError`] saying whether the JWKS, the token or the signature is at fault.
pub fn verify_jwt(jwks_json: &str, token: &str) -> Result<Value, VerifyError> {
    let jws = UnverifiedJws::parse(token)?;
    jws.verify_with_jwks(jwks_json)?;
    Ok(Value::Object(jws.into_claims()))
}

fn decode_json(part: &str) -> Option<Value> {
    let bytes = Base64UrlUnpadded::decode_vec(part).ok()?;
    serde_json::from_slice(&bytes).ok()
}

fn member<'a>(jwk: &'a Value, name: &str) -> Option<&'a str> {
    jwk.get(name).and_then(Value::as_str)
}

fn decoded_member(jwk: &Value, name: &str) -> Option<Vec<u8>> {
    Base64UrlUnpadded::decode_vec(member(jwk, name)?).ok()
}

/// Whether a JWK's type and curve are the ones `alg` is defined for (RFC 7518 §3, RFC 8037
/// §3.1, RFC 8812 §3.2).
/// How many keys of the JWK Set `jwks_json` could verify a signature made with `alg` (signing
/// keys of the right type and curve, with that `alg` or none).
///
/// # Errors
/// [`VerifyError::InvalidJwks`] when it is not a JWK Set.
pub fn keys_for(jwks_json: &str, alg: JwsAlgorithm) -> Result<usize, VerifyError> {
    let jwks: Value = serde_json::from_str(jwks_json).map_err(|_| VerifyError::InvalidJwks)?;
    let keys = jwks
        .get("keys")
        .and_then(Value::as_array)
        .ok_or(VerifyError::InvalidJwks)?;
    Ok(signing_keys(keys, alg).count())
}

/// The signing keys of a set that suit `alg`.
fn signing_keys(keys: &[Value], alg: JwsAlgorithm) -> impl Iterator<Item = &Value> {
    keys.iter()
        .filter(|jwk| member(jwk, "use").is_none_or(|key_use| key_use == "sig"))
        .filter(move |jwk| member(jwk, "alg").is_none_or(|key_alg| key_alg == alg.as_str()))
        .filter(move |jwk| suits(jwk, alg))
}

fn suits(jwk: &Value, alg: JwsAlgorithm) -> bool {
    use JwsAlgorithm as A;
    let (kty, crv) = (member(jwk, "kty"), member(jwk, "crv"));
    match alg {
        A::Rs256 | A::Rs384 | A::Rs512 | A::Ps256 | A::Ps384 | A::Ps512 => kty == Some("RSA"),
        A::Es256 => kty == Some("EC") && crv == Some("P-256"),
        A::Es384 => kty == Some("EC") && crv == Some("P-384"),
        A::Es256K => kty == Some("EC") && crv == Some("secp256k1"),
        A::EdDsa => kty == Some("OKP") && crv == Some("Ed25519"),
    }
}

/// ECDSA verification with the fixed-size `R || S` signature of RFC 7518 §3.4; the curve
/// crates share an API but no trait that covers all of it, hence a macro.
macro_rules! ecdsa_verifies {
    ($curve:ident, $jwk:expr, $message:expr, $signature:expr) => {{
        use $curve::ecdsa::signature::Verifier as _;
        let size = <$curve::FieldBytes>::default().len();
        match (decoded_member($jwk, "x"), decoded_member($jwk, "y")) {
            (Some(x), Some(y)) if x.len() == size && y.len() == size => {
                let point = $curve::EncodedPoint::from_affine_coordinates(
                    $curve::FieldBytes::from_slice(&x),
                    $curve::FieldBytes::from_slice(&y),
                    false,
                );
                match (
                    $curve::ecdsa::VerifyingKey::from_encoded_point(&point),
                    $curve::ecdsa::Signature::from_slice($signature),
                ) {
                    (Ok(key), Ok(signature)) => key.verify($message, &signature).is_ok(),
                    _ => false,
                }
            }
            _ => false,
        }
    }};
}

/// Checks one signature with one JWK already known to suit `alg`. Unusable key material
/// counts as a failed verification.
fn verifies(jwk: &Value, alg: JwsAlgorithm, message: &[u8], signature: &[u8]) -> bool {
    use JwsAlgorithm as A;
    match alg {
        A::Rs256 => rsa_verifies(
            jwk,
            Pkcs1v15Sign::new::<Sha256>(),
            &Sha256::digest(message),
            signature,
        ),
        A::Rs384 => rsa_verifies(
            jwk,
            Pkcs1v15Sign::new::<Sha384>(),
            &Sha384::digest(message),
            signature,
        ),
        A::Rs512 => rsa_verifies(
            jwk,
            Pkcs1v15Sign::new::<Sha512>(),
            &Sha512::digest(message),
            signature,
        ),
        A::Ps256 => rsa_verifies(
            jwk,
            Pss::new::<Sha256>(),
            &Sha256::digest(message),
            signature,
        ),
        A::Ps384 => rsa_verifies(
            jwk,
            Pss::new::<Sha384>(),
            &Sha384::digest(message),
            signature,
        ),
        A::Ps512 => rsa_verifies(
            jwk,
            Pss::new::<Sha512>(),
            &Sha512::digest(message),
            signature,
        ),
        A::Es256 => ecdsa_verifies!(p256, jwk, message, signature),
        A::Es384 => ecdsa_verifies!(p384, jwk, message, signature),
        A::Es256K => ecdsa_verifies!(k256, jwk, message, signature),
        A::EdDsa => ed25519_verifies(jwk, message, signature),
    }
}

fn rsa_verifies(
    jwk: &Value,
    scheme: impl rsa::traits::SignatureScheme,
    digest: &[u8],
    signature: &[u8],
) -> bool {
    let (Some(n), Some(e)) = (decoded_member(jwk, "n"), decoded_member(jwk, "e")) else {
        return false;
    };
    let n = BigUint::from_bytes_be(&n);
    if n.bits() < MIN_RSA_BITS {
        return false;
    }
    RsaPublicKey::new(n, BigUint::from_bytes_be(&e))
        .is_ok_and(|key| key.verify(scheme, digest, signature).is_ok())
}

fn ed25519_verifies(jwk: &Value, message: &[u8], signature: &[u8]) -> bool {
    let Some(x) = decoded_member(jwk, "x") else {
        return false;
    };
    let (Ok(x), Ok(signature)) = (
        <[u8; 32]>::try_from(x.as_slice()),
        ed25519_dalek::Signature::from_slice(signature),
    ) else {
        return false;
    };
    // verify_strict refuses small-order keys and non-canonical signatures (RFC 8032 §5.1.7).
    ed25519_dalek::VerifyingKey::from_bytes(&x)
        .is_ok_and(|key| key.verify_strict(message, &signature).is_ok())
}
