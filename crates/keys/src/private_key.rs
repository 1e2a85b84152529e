//! Asymmetric private keys: what they are, how they are generated, written and used to sign.
//!
//! Loading lives in [`load`](self::load), since recognising every format an operator may
//! paste is most of the work.

mod load;

use std::fmt;

use base64ct::{Base64UrlUnpadded, Encoding as _};
use ed25519_dalek::Signer as _;
use p256::elliptic_curve::sec1::ToEncodedPoint as _;
use p256::elliptic_curve::{self, AffinePoint, CurveArithmetic, FieldBytesSize};
use pkcs8::der::pem::LineEnding;
use pkcs8::der::{SecretDocument, pem::PemLabel as _};
use pkcs8::{AssociatedOid, EncodePrivateKey as _};
use rand::{CryptoRng, RngCore};
use rsa::traits::PublicKeyParts as _;
use rsa::{Pkcs1v15Sign, Pss, RsaPrivateKey};
use sha2::{Digest as _, Sha256, Sha384, Sha512};
use zeroize::{Zeroize as _, Zeroizing};

pub use self::load::{KeyFormat, LoadError};
use crate::JwsAlgorithm;
use crate::jwk::JwkParameters;
use crate::jws::SignError;

/// RFC 7518 §3.3 and §3.5: "A key of size 2048 bits or larger MUST be used".
pub(crate) const MIN_RSA_BITS: usize = 2048;

/// The kind of a private key: its algorithm family and, for elliptic curves, its curve.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyType {
    /// An RSA key.
    Rsa,
    /// An ECDSA key on NIST P-256 (secp256r1).
    EcP256,
    /// An ECDSA key on NIST P-384 (secp384r1).
    EcP384,
    /// An ECDSA key on secp256k1.
    EcK256,
    /// An EdDSA key on Curve25519.
    Ed25519,
}

impl KeyType {
    /// The JWS algorithms a key of this type can sign with.
    #[must_use]
    pub const fn signing_algorithms(self) -> &'static [JwsAlgorithm] {
        match self {
            Self::Rsa => &[
                JwsAlgorithm::Rs256,
                JwsAlgorithm::Rs384,
                JwsAlgorithm::Rs512,
                JwsAlgorithm::Ps256,
                JwsAlgorithm::Ps384,
                JwsAlgorithm::Ps512,
            ],
            Self::EcP256 => &[JwsAlgorithm::Es256],
            Self::EcP384 => &[JwsAlgorithm::Es384],
            Self::EcK256 => &[JwsAlgorithm::Es256K],
            Self::Ed25519 => &[JwsAlgorithm::EdDsa],
        }
    }
}

impl fmt::Display for KeyType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Rsa => "RSA",
            Self::EcP256 => "EC P-256",
            Self::EcP384 => "EC P-384",
            Self::EcK256 => "EC K-256",
            Self::Ed25519 => "Ed25519",
        })
    }
}

/// A private signing key.
///
/// The key material is wiped from memory when the value is dropped (the underlying RustCrypto
/// types zeroize on drop), and [`Debug`](fmt::Debug) shows only the key type and its public
/// thumbprint.
#[derive(Clone)]
pub struct PrivateKey {
    inner: Inner,
}

#[derive(Clone)]
enum Inner {
    // Boxed: an RSA key with its CRT values is much larger than the other variants.
    Rsa(Box<RsaPrivateKey>),
    EcP256(p256::SecretKey),
    EcP384(p384::SecretKey),
    EcK256(k256::SecretKey),
    Ed25519(ed25519_dalek::SigningKey),
}

/// The error returned when a key cannot be generated.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GenerateError {
    /// The requested RSA size is below what JOSE allows.
    #[error("an RSA key of {bits} bits is too small; at least 2048 are required (RFC 7518 §3.3)")]
    RsaKeyTooSmall {
        /// The requested size.
        bits: usize,
    },
    /// The RSA implementation failed to produce a key.
    #[error("RSA key generation failed")]
    Rsa(#[source] rsa::Error),
}

/// The error returned when a key cannot be written as PEM.
#[derive(Debug, thiserror::Error)]
#[error("the {key_type} private key could not be encoded as PEM")]
pub struct ToPemError {
    key_type: KeyType,
    #[source]
    source: Box<dyn std::error::Error + Send + Sync>,
}

impl PrivateKey {
    /// Generates a new RSA key of `bits` bits (at least 2048; MAS uses 4096).
    ///
    /// # Errors
    ///
    /// Fails when `bits` is below 2048 or the RSA implementation refuses the size.
    pub fn generate_rsa(
        rng: &mut (impl CryptoRng + RngCore),
        bits: usize,
    ) -> Result<Self, GenerateError> {
        if bits < MIN_RSA_BITS {
            return Err(GenerateError::RsaKeyTooSmall { bits });
        }
        let key = RsaPrivateKey::new(rng, bits).map_err(GenerateError::Rsa)?;
        Ok(Self::from_inner(Inner::Rsa(Box::new(key))))
    }

    /// Generates a new ECDSA key on P-256.
    pub fn generate_ec_p256(rng: &mut (impl CryptoRng + RngCore)) -> Self {
        Self::from_inner(Inner::EcP256(p256::SecretKey::random(rng)))
    }

    /// Generates a new ECDSA key on P-384.
    pub fn generate_ec_p384(rng: &mut (impl CryptoRng + RngCore)) -> Self {
        Self::from_inner(Inner::EcP384(p384::SecretKey::random(rng)))
    }

    /// Generates a new ECDSA key on secp256k1.
    pub fn generate_ec_k256(rng: &mut (impl CryptoRng + RngCore)) -> Self {
        Self::from_inner(Inner::EcK256(k256::SecretKey::random(rng)))
    }

    /// Generates a new Ed25519 key.
    pub fn generate_ed25519(rng: &mut (impl CryptoRng + RngCore)) -> Self {
        Self::from_inner(Inner::Ed25519(ed25519_dalek::SigningKey::generate(rng)))
    }

    const fn from_inner(inner: Inner) -> Self {
        Self { inner }
    }

    /// The type of this key.
    #[must_use]
    pub const fn key_type(&self) -> KeyType {
        match &self.inner {
            Inner::Rsa(_) => KeyType::Rsa,
            Inner::EcP256(_) => KeyType::EcP256,
            Inner::EcP384(_) => KeyType::EcP384,
            Inner::EcK256(_) => KeyType::EcK256,
            Inner::Ed25519(_) => KeyType::Ed25519,
        }
    }

    /// The JWS algorithms this key can sign with.
    #[must_use]
    pub const fn signing_algorithms(&self) -> &'static [JwsAlgorithm] {
        self.key_type().signing_algorithms()
    }

    /// The RFC 7638 JWK thumbprint of the public key (SHA-256, base64url without padding).
    ///
    /// It depends only on the public key, so it is a stable key id across restarts.
    #[must_use]
    pub fn jwk_thumbprint(&self) -> String {
        self.public_jwk_parameters().thumbprint()
    }

    /// Writes the key as PEM, in the format MAS itself writes: RSA as PKCS#1
    /// (`RSA PRIVATE KEY`), elliptic curve keys as SEC1 (`EC PRIVATE KEY`, naming the curve),
    /// Ed25519 as PKCS#8 (`PRIVATE KEY`), which has no other standard format.
    ///
    /// # Errors
    ///
    /// Fails only if the DER encoder does; a valid key always encodes.
    pub fn to_pem(&self) -> Result<Zeroizing<String>, ToPemError> {
        let key_type = self.key_type();
        let wrap =
            |source: Box<dyn std::error::Error + Send + Sync>| ToPemError { key_type, source };
        match &self.inner {
            Inner::Rsa(key) => {
                rsa::pkcs1::EncodeRsaPrivateKey::to_pkcs1_pem(key.as_ref(), LineEnding::LF)
                    .map_err(|e| wrap(e.into()))
            }
            Inner::EcP256(key) => sec1_pem(key).map_err(|e| wrap(e.into())),
            Inner::EcP384(key) => sec1_pem(key).map_err(|e| wrap(e.into())),
            Inner::EcK256(key) => sec1_pem(key).map_err(|e| wrap(e.into())),
            Inner::Ed25519(key) => {
                // PKCS#8 v1, without the optional public key: OpenSSL 3.0 cannot read the
                // v2 form (RFC 5958) that ed25519-dalek writes by default.
                let mut keypair = ed25519_dalek::pkcs8::KeypairBytes {
                    secret_key: key.to_bytes(),
                    public_key: None,
                };
                let pem = keypair.to_pkcs8_pem(LineEnding::LF);
                // KeypairBytes only wipes itself when a feature we do not enable is on.
                keypair.secret_key.zeroize();
                pem.map_err(|e| wrap(e.into()))
            }
        }
        .map(ensure_final_newline)
    }

    /// The public half of the key as JWK parameters (RFC 7518 §6, RFC 8037 §2).
    pub(crate) fn public_jwk_parameters(&self) -> JwkParameters {
        match &self.inner {
            Inner::Rsa(key) => JwkParameters::Rsa {
                // RFC 7518 §6.3.1: unsigned big-endian, minimal length; to_bytes_be is minimal.
                n: Base64UrlUnpadded::encode_string(&key.n().to_bytes_be()),
                e: Base64UrlUnpadded::encode_string(&key.e().to_bytes_be()),
            },
            Inner::EcP256(key) => ec_parameters("P-256", key),
            Inner::EcP384(key) => ec_parameters("P-384", key),
            // RFC 8812 §3.1 registers "secp256k1" as the JOSE curve name.
            Inner::EcK256(key) => ec_parameters("secp256k1", key),
            Inner::Ed25519(key) => JwkParameters::Okp {
                crv: "Ed25519",
                x: Base64UrlUnpadded::encode_string(key.verifying_key().as_bytes()),
            },
        }
    }

    /// Signs `message` with `alg`, returning the signature in its JWS form.
    pub(crate) fn sign(&self, alg: JwsAlgorithm, message: &[u8]) -> Result<Vec<u8>, SignError> {
        use JwsAlgorithm as A;
        let failed =
            |source: Box<dyn std::error::Error + Send + Sync>| SignError::Failed { alg, source };
        match (&self.inner, alg) {
            (Inner::Rsa(key), A::Rs256) => rsa_sign(
                key,
                alg,
                Pkcs1v15Sign::new::<Sha256>(),
                &Sha256::digest(message),
            ),
            (Inner::Rsa(key), A::Rs384) => rsa_sign(
                key,
                alg,
                Pkcs1v15Sign::new::<Sha384>(),
                &Sha384::digest(message),
            ),
            (Inner::Rsa(key), A::Rs512) => rsa_sign(
                key,
                alg,
                Pkcs1v15Sign::new::<Sha512>(),
                &Sha512::digest(message),
            ),
            // RFC 7518 §3.5: the salt is as long as the hash output, which Pss::new uses.
            (Inner::Rsa(key), A::Ps256) => {
                rsa_sign(key, alg, Pss::new::<Sha256>(), &Sha256::digest(message))
            }
            (Inner::Rsa(key), A::Ps384) => {
                rsa_sign(key, alg, Pss::new::<Sha384>(), &Sha384::digest(message))
            }
            (Inner::Rsa(key), A::Ps512) => {
                rsa_sign(key, alg, Pss::new::<Sha512>(), &Sha512::digest(message))
            }
            // RFC 7518 §3.4: the JWS signature is the fixed-size R || S, not the DER form.
            (Inner::EcP256(key), A::Es256) => {
                let signer = p256::ecdsa::SigningKey::from(key);
                let signature: p256::ecdsa::Signature =
                    p256::ecdsa::signature::Signer::try_sign(&signer, message)
                        .map_err(|e| failed(e.into()))?;
                Ok(signature.to_bytes().to_vec())
            }
            (Inner::EcP384(key), A::Es384) => {
                let signer = p384::ecdsa::SigningKey::from(key);
                let signature: p384::ecdsa::Signature =
                    p384::ecdsa::signature::Signer::try_sign(&signer, message)
                        .map_err(|e| failed(e.into()))?;
                Ok(signature.to_bytes().to_vec())
            }
            // RFC 8812 §3.2: ES256K hashes with SHA-256; k256 also emits the low-S form.
            (Inner::EcK256(key), A::Es256K) => {
                let signer = k256::ecdsa::SigningKey::from(key);
                let signature: k256::ecdsa::Signature =
                    k256::ecdsa::signature::Signer::try_sign(&signer, message)
                        .map_err(|e| failed(e.into()))?;
                Ok(signature.to_bytes().to_vec())
            }
            (Inner::Ed25519(key), A::EdDsa) => Ok(key.sign(message).to_bytes().to_vec()),
            _ => Err(SignError::AlgorithmNotSupportedByKey {
                alg,
                key_type: self.key_type(),
            }),
        }
    }
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the private parameters: this may end up in logs.
        f.debug_struct("PrivateKey")
            .field("key_type", &self.key_type())
            .field("thumbprint", &self.jwk_thumbprint())
            .finish_non_exhaustive()
    }
}

/// Signs an already hashed message. Going through `sign_with_rng` makes the RSA private
/// operation blinded, which protects it against timing side channels.
fn rsa_sign(
    key: &RsaPrivateKey,
    alg: JwsAlgorithm,
    scheme: impl rsa::traits::SignatureScheme,
    digest: &[u8],
) -> Result<Vec<u8>, SignError> {
    key.sign_with_rng(&mut rand::rngs::OsRng, scheme, digest)
        .map_err(|source| SignError::Failed {
            alg,
            source: source.into(),
        })
}

/// Text files end with a newline; some encoders stop right after the `-----END` line.
fn ensure_final_newline(pem: Zeroizing<String>) -> Zeroizing<String> {
    if pem.ends_with('\n') {
        return pem;
    }
    // A fresh buffer rather than `push`, which could reallocate and leave a copy unzeroized.
    let mut terminated = Zeroizing::new(String::with_capacity(pem.len() + 1));
    terminated.push_str(&pem);
    terminated.push('\n');
    terminated
}

fn ec_parameters<C>(crv: &'static str, key: &elliptic_curve::SecretKey<C>) -> JwkParameters
where
    C: CurveArithmetic,
    AffinePoint<C>:
        elliptic_curve::sec1::FromEncodedPoint<C> + elliptic_curve::sec1::ToEncodedPoint<C>,
    FieldBytesSize<C>: elliptic_curve::sec1::ModulusSize,
{
    let point = key.public_key().to_encoded_point(false);
    // RFC 7518 §6.2.1.2: coordinates keep the full field size, leading zeros included; the
    // uncompressed SEC1 point always carries both, so these cannot be missing.
    let x = point
        .x()
        .expect("an uncompressed point has an x coordinate");
    let y = point.y().expect("an uncompressed point has a y coordinate");
    JwkParameters::Ec {
        crv,
        x: Base64UrlUnpadded::encode_string(x),
        y: Base64UrlUnpadded::encode_string(y),
    }
}

/// Writes a SEC1 `ECPrivateKey` that names its curve. RustCrypto's own `to_sec1_pem` leaves
/// the curve out, which makes P-256 and secp256k1 keys indistinguishable to every reader.
fn sec1_pem<C>(key: &elliptic_curve::SecretKey<C>) -> Result<Zeroizing<String>, pkcs8::der::Error>
where
    C: CurveArithmetic + AssociatedOid,
    AffinePoint<C>:
        elliptic_curve::sec1::FromEncodedPoint<C> + elliptic_curve::sec1::ToEncodedPoint<C>,
    FieldBytesSize<C>: elliptic_curve::sec1::ModulusSize,
{
    let private_key = Zeroizing::new(key.to_bytes());
    let public_key = key.public_key().to_encoded_point(false);
    let ec_private_key = sec1::EcPrivateKey {
        private_key: &private_key,
        parameters: Some(sec1::EcParameters::NamedCurve(C::OID)),
        public_key: Some(public_key.as_bytes()),
    };
    SecretDocument::encode_msg(&ec_private_key)?
        .to_pem(sec1::EcPrivateKey::PEM_LABEL, LineEnding::LF)
}
