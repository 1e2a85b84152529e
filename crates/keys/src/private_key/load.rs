//! Recognising and parsing private keys in every format an operator is likely to have.
//!
//! PEM input says what it holds in its label; DER input does not, so each DER structure is
//! tried in turn. The ASN.1 shapes of the four structures differ from their second element
//! on, so at most one of them can parse a given input.

use std::fmt;

use p256::elliptic_curve;
use pkcs8::der::pem;
use pkcs8::{AssociatedOid as _, EncryptedPrivateKeyInfo, ObjectIdentifier, PrivateKeyInfo};
use rsa::RsaPrivateKey;
use rsa::pkcs1::DecodeRsaPrivateKey as _;
use rsa::traits::PublicKeyParts as _;
use zeroize::Zeroizing;

use super::{Inner, MIN_RSA_BITS, PrivateKey};

/// RFC 8017 Appendix C: `rsaEncryption`.
const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
/// RFC 5480 §2.1.1: `id-ecPublicKey`, whose parameters name the curve.
const EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
/// RFC 8410 §3: `id-Ed25519`.
const ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");

/// Algorithms and curves we refuse, named so the operator learns what they actually have.
const KNOWN_UNSUPPORTED: &[(ObjectIdentifier, &str)] = &[
    (ObjectIdentifier::new_unwrap("1.3.101.110"), "X25519"),
    (ObjectIdentifier::new_unwrap("1.3.101.111"), "X448"),
    (ObjectIdentifier::new_unwrap("1.3.101.113"), "Ed448"),
    (
        ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.10"),
        "RSASSA-PSS-restricted RSA",
    ),
    (ObjectIdentifier::new_unwrap("1.2.840.10040.4.1"), "DSA"),
    (ObjectIdentifier::new_unwrap("1.3.132.0.35"), "EC P-521"),
    (
        ObjectIdentifier::new_unwrap("1.3.36.3.3.2.8.1.1.7"),
        "EC brainpoolP256r1",
    ),
    (
        ObjectIdentifier::new_unwrap("1.3.36.3.3.2.8.1.1.11"),
        "EC brainpoolP384r1",
    ),
];

const PEM_BEGIN: &[u8] = b"-----BEGIN ";
const PEM_DASHES: &[u8] = b"-----";

/// A private key encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyFormat {
    /// RFC 8017 `RSAPrivateKey` (PEM label `RSA PRIVATE KEY`).
    Pkcs1,
    /// RFC 5208/5958 `PrivateKeyInfo` (PEM label `PRIVATE KEY`).
    Pkcs8,
    /// RFC 5208 `EncryptedPrivateKeyInfo` (PEM label `ENCRYPTED PRIVATE KEY`).
    EncryptedPkcs8,
    /// RFC 5915 `ECPrivateKey` (PEM label `EC PRIVATE KEY`).
    Sec1,
}

impl fmt::Display for KeyFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Pkcs1 => "PKCS#1",
            Self::Pkcs8 => "PKCS#8",
            Self::EncryptedPkcs8 => "encrypted PKCS#8",
            Self::Sec1 => "SEC1",
        })
    }
}

/// The error returned when a private key cannot be loaded.
///
/// Messages are written for the operator who configured the key.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// The input is empty or only whitespace.
    #[error("the key is empty")]
    Empty,
    /// The input is neither PEM nor a DER structure we know.
    #[error("not a PEM or DER private key (expected PKCS#1, PKCS#8 or SEC1)")]
    UnrecognisedFormat,
    /// The input starts like PEM but is not well-formed PEM.
    #[error("the PEM text is malformed")]
    MalformedPem(#[source] pkcs8::der::Error),
    /// The PEM block holds something other than a private key.
    #[error(
        "the PEM block is labelled \"{label}\", which is not a supported private key (expected \
         RSA PRIVATE KEY, PRIVATE KEY, ENCRYPTED PRIVATE KEY or EC PRIVATE KEY)"
    )]
    UnsupportedPemLabel {
        /// The label found after `-----BEGIN `.
        label: String,
    },
    /// The PEM uses OpenSSL's pre-PKCS#8 encryption (`Proc-Type: 4,ENCRYPTED`).
    #[error(
        "the key uses OpenSSL's legacy PEM encryption, which is not supported; convert it with \
         `openssl pkcs8 -topk8 -v2 aes-256-cbc -in OLD -out NEW`"
    )]
    LegacyEncryptedPem,
    /// The key is encrypted and no password was configured.
    #[error("the key is encrypted but no password was given")]
    PasswordRequired,
    /// Decryption failed: the password is wrong or the data is damaged.
    #[error("wrong password or corrupt encrypted key")]
    WrongPassword,
    /// The key is encrypted with a scheme we cannot decrypt (PBES1, DES, ...).
    #[error(
        "the key is encrypted with an unsupported scheme; re-encrypt it with \
         `openssl pkcs8 -topk8 -v2 aes-256-cbc`"
    )]
    UnsupportedEncryption,
    /// The key is of an algorithm or on a curve we do not support.
    #[error("unsupported key type/curve {found} (supported: RSA, P-256, P-384, K-256, Ed25519)")]
    UnsupportedKeyType {
        /// What was found, by name when we know it, by OID otherwise.
        found: String,
    },
    /// The structure was recognised but its content is invalid.
    #[error("the {format} key is malformed")]
    Malformed {
        /// The format that was being parsed.
        format: KeyFormat,
        /// What the parser reported.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A SEC1 key that does not say which curve it is on, where the size leaves it ambiguous.
    #[error(
        "the SEC1 key does not name its curve and it cannot be inferred; re-export it with \
         `openssl ec -param_enc named_curve`"
    )]
    UnknownCurve,
    /// The RSA key is too short for JOSE.
    #[error("the RSA key has {bits} bits; at least 2048 are required (RFC 7518 §3.3)")]
    RsaKeyTooSmall {
        /// The modulus size found.
        bits: usize,
    },
}

impl LoadError {
    fn malformed<E>(format: KeyFormat) -> impl FnOnce(E) -> Self
    where
        E: std::error::Error + Send + Sync + 'static,
    {
        move |source| Self::Malformed {
            format,
            source: Box::new(source),
        }
    }
}

impl PrivateKey {
    /// Loads a private key from PEM or DER.
    ///
    /// Accepted: RSA as PKCS#1 or PKCS#8; P-256, P-384 and secp256k1 as SEC1 or PKCS#8;
    /// Ed25519 as PKCS#8; any PKCS#8 key encrypted with PBES2 (what `openssl pkcs8 -topk8`
    /// writes). Input starting with `-----BEGIN` (after optional whitespace) is read as PEM,
    /// anything else as DER. A `password` is only used when the key is encrypted and is
    /// ignored otherwise.
    ///
    /// # Errors
    ///
    /// A [`LoadError`] saying what was wrong: unrecognised input, an unsupported key type,
    /// a missing or wrong password, or a key too weak to use.
    pub fn load(bytes: &[u8], password: Option<&[u8]>) -> Result<Self, LoadError> {
        let text = skip_leading_whitespace(bytes);
        if text.is_empty() {
            return Err(LoadError::Empty);
        }
        if text.starts_with(b"-----BEGIN") {
            from_pem(text, password)
        } else {
            from_der(bytes, password)
        }
    }
}

fn skip_leading_whitespace(bytes: &[u8]) -> &[u8] {
    // Editors on some platforms prepend a UTF-8 byte order mark to text files.
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let start = bytes
        .iter()
        .position(|byte| !byte.is_ascii_whitespace())
        .unwrap_or(bytes.len());
    &bytes[start..]
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

/// Reads the first private key block of a PEM document. `openssl ecparam -genkey` writes an
/// `EC PARAMETERS` block before the key, so that one is skipped.
fn from_pem(text: &[u8], password: Option<&[u8]>) -> Result<PrivateKey, LoadError> {
    let mut rest = text;
    let mut skipped_label = None;
    while let Some(begin) = find(rest, PEM_BEGIN) {
        let block = &rest[begin..];
        let after_begin = &block[PEM_BEGIN.len()..];
        let Some(label_len) = find(after_begin, PEM_DASHES) else {
            break;
        };
        let label = String::from_utf8_lossy(&after_begin[..label_len]).into_owned();
        let end_marker = format!("-----END {label}-----");
        let block = match find(block, end_marker.as_bytes()) {
            Some(end) => &block[..end + end_marker.len()],
            // Let the PEM decoder explain what is missing.
            None => block,
        };
        if label == "EC PARAMETERS" {
            rest = &rest[begin + block.len()..];
            skipped_label = Some(label);
            continue;
        }
        return from_pem_block(block, password);
    }
    Err(match skipped_label {
        Some(label) => LoadError::UnsupportedPemLabel { label },
        None => LoadError::MalformedPem(pkcs8::der::Error::from(
            pem::Error::PreEncapsulationBoundary,
        )),
    })
}

fn from_pem_block(block: &[u8], password: Option<&[u8]>) -> Result<PrivateKey, LoadError> {
    // RFC 1421 headers only appear in OpenSSL's legacy encrypted format; RFC 7468 forbids them.
    if find(block, b"Proc-Type:").is_some() {
        return Err(LoadError::LegacyEncryptedPem);
    }
    let (label, der) = pem::decode_vec(block).map_err(|e| LoadError::MalformedPem(e.into()))?;
    let der = Zeroizing::new(der);
    match label {
        "RSA PRIVATE KEY" => from_pkcs1(&der),
        "PRIVATE KEY" => {
            let info = PrivateKeyInfo::try_from(der.as_slice())
                .map_err(LoadError::malformed(KeyFormat::Pkcs8))?;
            from_pkcs8(info, KeyFormat::Pkcs8)
        }
        "ENCRYPTED PRIVATE KEY" => {
            let info = EncryptedPrivateKeyInfo::try_from(der.as_slice())
                .map_err(LoadError::malformed(KeyFormat::EncryptedPkcs8))?;
            from_encrypted_pkcs8(&info, password)
        }
        "EC PRIVATE KEY" => {
            let key = sec1::EcPrivateKey::try_from(der.as_slice())
                .map_err(LoadError::malformed(KeyFormat::Sec1))?;
            from_sec1(key, None, KeyFormat::Sec1)
        }
        other => Err(LoadError::UnsupportedPemLabel {
            label: other.to_owned(),
        }),
    }
}

fn from_der(der: &[u8], password: Option<&[u8]>) -> Result<PrivateKey, LoadError> {
    if let Ok(info) = EncryptedPrivateKeyInfo::try_from(der) {
        return from_encrypted_pkcs8(&info, password);
    }
    if let Ok(info) = PrivateKeyInfo::try_from(der) {
        return from_pkcs8(info, KeyFormat::Pkcs8);
    }
    if rsa::pkcs1::RsaPrivateKey::try_from(der).is_ok() {
        return from_pkcs1(der);
    }
    if let Ok(key) = sec1::EcPrivateKey::try_from(der) {
        return from_sec1(key, None, KeyFormat::Sec1);
    }
    Err(LoadError::UnrecognisedFormat)
}

fn from_pkcs1(der: &[u8]) -> Result<PrivateKey, LoadError> {
    let key = RsaPrivateKey::from_pkcs1_der(der).map_err(LoadError::malformed(KeyFormat::Pkcs1))?;
    from_rsa(key)
}

fn from_rsa(key: RsaPrivateKey) -> Result<PrivateKey, LoadError> {
    let bits = key.n().bits();
    if bits < MIN_RSA_BITS {
        return Err(LoadError::RsaKeyTooSmall { bits });
    }
    Ok(PrivateKey::from_inner(Inner::Rsa(Box::new(key))))
}

fn from_encrypted_pkcs8(
    info: &EncryptedPrivateKeyInfo<'_>,
    password: Option<&[u8]>,
) -> Result<PrivateKey, LoadError> {
    use pkcs8::pkcs5;

    let password = password.ok_or(LoadError::PasswordRequired)?;
    let document = info.decrypt(password).map_err(|error| match error {
        pkcs8::Error::EncryptedPrivateKey(
            pkcs5::Error::UnsupportedAlgorithm { .. } | pkcs5::Error::NoPbes1CryptSupport,
        ) => LoadError::UnsupportedEncryption,
        _ => LoadError::WrongPassword,
    })?;
    // CBC padding lets roughly one wrong password in 256 "decrypt"; the garbage it yields is
    // then not a valid PrivateKeyInfo, which is the same mistake as far as the operator knows.
    let inner =
        PrivateKeyInfo::try_from(document.as_bytes()).map_err(|_| LoadError::WrongPassword)?;
    from_pkcs8(inner, KeyFormat::EncryptedPkcs8)
}

fn from_pkcs8(info: PrivateKeyInfo<'_>, format: KeyFormat) -> Result<PrivateKey, LoadError> {
    let algorithm = info.algorithm.oid;
    if algorithm == RSA_ENCRYPTION {
        let key = RsaPrivateKey::try_from(info).map_err(LoadError::malformed(format))?;
        from_rsa(key)
    } else if algorithm == EC_PUBLIC_KEY {
        let curve = info
            .algorithm
            .parameters_oid()
            .map_err(|_| LoadError::UnsupportedKeyType {
                found: "EC key with explicit (unnamed) curve parameters".to_owned(),
            })?;
        let key =
            sec1::EcPrivateKey::try_from(info.private_key).map_err(LoadError::malformed(format))?;
        from_sec1(key, Some(curve), format)
    } else if algorithm == ED25519 {
        let key =
            ed25519_dalek::SigningKey::try_from(info).map_err(LoadError::malformed(format))?;
        Ok(PrivateKey::from_inner(Inner::Ed25519(key)))
    } else {
        Err(unsupported(algorithm))
    }
}

/// Builds an EC key from a SEC1 structure. The curve comes from the PKCS#8 wrapper when there
/// is one, from the SEC1 parameters otherwise, and failing both is inferred from the key.
fn from_sec1(
    key: sec1::EcPrivateKey<'_>,
    curve: Option<ObjectIdentifier>,
    format: KeyFormat,
) -> Result<PrivateKey, LoadError> {
    let named = curve.or_else(|| key.parameters.and_then(sec1::EcParameters::named_curve));
    let Some(curve) = named.or_else(|| infer_curve(&key)) else {
        return Err(LoadError::UnknownCurve);
    };
    let inner = if curve == p256::NistP256::OID {
        Inner::EcP256(ec_secret(key, format)?)
    } else if curve == p384::NistP384::OID {
        Inner::EcP384(ec_secret(key, format)?)
    } else if curve == k256::Secp256k1::OID {
        Inner::EcK256(ec_secret(key, format)?)
    } else {
        return Err(unsupported(curve));
    };
    Ok(PrivateKey::from_inner(inner))
}

fn ec_secret<C>(
    key: sec1::EcPrivateKey<'_>,
    format: KeyFormat,
) -> Result<elliptic_curve::SecretKey<C>, LoadError>
where
    C: elliptic_curve::Curve + elliptic_curve::sec1::ValidatePublicKey,
    elliptic_curve::FieldBytesSize<C>: elliptic_curve::sec1::ModulusSize,
{
    // This also checks that the embedded public key, when present, belongs to the secret.
    elliptic_curve::SecretKey::try_from(key).map_err(LoadError::malformed(format))
}

/// A SEC1 key without curve parameters: 48 bytes can only be P-384; 32 bytes fit both P-256
/// and secp256k1, which only the embedded public key can tell apart.
fn infer_curve(key: &sec1::EcPrivateKey<'_>) -> Option<ObjectIdentifier> {
    match key.private_key.len() {
        48 => Some(p384::NistP384::OID),
        32 if key.public_key.is_some() => {
            if p256::SecretKey::try_from(key.clone()).is_ok() {
                Some(p256::NistP256::OID)
            } else if k256::SecretKey::try_from(key.clone()).is_ok() {
                Some(k256::Secp256k1::OID)
            } else {
                None
            }
        }
        _ => None,
    }
}

fn unsupported(oid: ObjectIdentifier) -> LoadError {
    let found = KNOWN_UNSUPPORTED
        .iter()
        .find(|(known, _)| *known == oid)
        .map_or_else(|| format!("with OID {oid}"), |(_, name)| (*name).to_owned());
    LoadError::UnsupportedKeyType { found }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng as _;

    use super::*;
    use crate::KeyType;

    fn rng() -> rand_chacha::ChaCha20Rng {
        rand_chacha::ChaCha20Rng::seed_from_u64(5)
    }

    #[test]
    fn sec1_without_curve_is_inferred_as_p256_from_its_public_key() {
        // RustCrypto's own SEC1 writer leaves the curve parameters out.
        let der = p256::SecretKey::random(&mut rng())
            .to_sec1_der()
            .expect("a fresh key encodes");
        let key = PrivateKey::load(&der, None).expect("the curve can be inferred");
        assert_eq!(key.key_type(), KeyType::EcP256);
    }

    #[test]
    fn sec1_without_curve_is_inferred_as_k256_from_its_public_key() {
        let der = k256::SecretKey::random(&mut rng())
            .to_sec1_der()
            .expect("a fresh key encodes");
        let key = PrivateKey::load(&der, None).expect("the curve can be inferred");
        assert_eq!(key.key_type(), KeyType::EcK256);
    }

    #[test]
    fn sec1_without_curve_or_public_key_is_refused_as_ambiguous() {
        let secret = p256::SecretKey::random(&mut rng()).to_bytes();
        let der = pkcs8::der::Encode::to_der(&sec1::EcPrivateKey {
            private_key: &secret,
            parameters: None,
            public_key: None,
        })
        .expect("a SEC1 structure encodes");
        assert!(matches!(
            PrivateKey::load(&der, None),
            Err(LoadError::UnknownCurve)
        ));
    }
}
