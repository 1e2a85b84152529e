//! Turning the `tls` section of a listener into a rustls server configuration.

use std::{fmt, sync::Arc};

use pkcs8::{EncryptedPrivateKeyInfo, PrivateKeyInfo, der::Decode};
use rustls::{ServerConfig, crypto::ring};
use rustls_pki_types::{
    CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer,
    pem::{self, PemObject},
};

/// The certificate and key of a TLS listener, as the operator supplied them.
#[derive(Clone)]
pub struct TlsSettings {
    /// The certificate chain in PEM, the end-entity certificate first.
    pub certificate_chain_pem: Vec<u8>,
    /// The private key, PEM or DER: PKCS#1 (RSA), SEC1 (EC), PKCS#8, or PKCS#8 encrypted
    /// with a password.
    pub key: Vec<u8>,
    /// The password of an encrypted PKCS#8 key.
    pub password: Option<Vec<u8>>,
}

// Hand-written so that key material and passwords never end up in logs.
impl fmt::Debug for TlsSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsSettings")
            .field("certificate_chain_pem", &"[..]")
            .field("key", &"[redacted]")
            .field("password", &self.password.as_ref().map(|_| "[redacted]"))
            .finish()
    }
}

/// Why a TLS configuration could not be built.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// The certificate chain holds no PEM `CERTIFICATE` block.
    #[error("the certificate chain contains no PEM certificate")]
    NoCertificate,

    /// The certificate chain is not valid PEM, or a certificate in it is not valid X.509.
    #[error("bad certificate: {0}")]
    BadCertificate(String),

    /// The key is in none of the supported formats.
    #[error("bad private key: {0}")]
    BadKey(String),

    /// The key is encrypted and no password was given.
    #[error("the private key is encrypted and no password was given")]
    PasswordRequired,

    /// Decrypting the key with the given password failed.
    #[error("cannot decrypt the private key: wrong password")]
    WrongPassword,

    /// The key is fine but is not the one the end-entity certificate was issued for.
    #[error("the private key does not match the certificate")]
    KeyMismatch,

    /// rustls refused the configuration for another reason.
    #[error("invalid TLS configuration: {0}")]
    Rustls(rustls::Error),
}

const ENCRYPTED_PKCS8_LABEL: &str = "ENCRYPTED PRIVATE KEY";

/// Builds the rustls configuration of a TLS listener: ring provider, safe default protocol
/// versions, no client authentication, ALPN offering HTTP/2 then HTTP/1.1.
///
/// # Errors
///
/// Any [`TlsError`]: unreadable certificate or key, missing or wrong password, or a key that
/// does not match the certificate.
pub fn rustls_server_config(settings: &TlsSettings) -> Result<Arc<ServerConfig>, TlsError> {
    let chain = parse_certificate_chain(&settings.certificate_chain_pem)?;
    let key = parse_private_key(&settings.key, settings.password.as_deref())?;

    let mut config = ServerConfig::builder_with_provider(Arc::new(ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(TlsError::Rustls)?
        .with_no_client_auth()
        // rustls checks here that the key matches the end-entity certificate.
        .with_single_cert(chain, key)
        .map_err(classify_rustls_error)?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

fn parse_certificate_chain(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let chain = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| TlsError::BadCertificate(error.to_string()))?;
    if chain.is_empty() {
        return Err(TlsError::NoCertificate);
    }
    Ok(chain)
}

fn parse_private_key(
    key: &[u8],
    password: Option<&[u8]>,
) -> Result<PrivateKeyDer<'static>, TlsError> {
    if let Some(block) = pem_block(key, ENCRYPTED_PKCS8_LABEL) {
        let (_label, der) = pkcs8::der::pem::decode_vec(block)
            .map_err(|error| TlsError::BadKey(error.to_string()))?;
        return decrypt_pkcs8(&der, password);
    }

    if is_pem(key) {
        // OpenSSL's legacy encryption puts headers inside a plain-looking block; without this
        // check it would surface as an obscure base64 error.
        if contains(key, b"Proc-Type: 4,ENCRYPTED") {
            return Err(TlsError::BadKey(
                "legacy OpenSSL PEM encryption is not supported; convert the key to encrypted \
                 PKCS#8 (openssl pkcs8 -topk8)"
                    .to_owned(),
            ));
        }
        return PrivateKeyDer::from_pem_slice(key).map_err(|error| match error {
            pem::Error::NoItemsFound => TlsError::BadKey(
                "no PEM private key block (PRIVATE KEY, RSA PRIVATE KEY, EC PRIVATE KEY or \
                 ENCRYPTED PRIVATE KEY)"
                    .to_owned(),
            ),
            other => TlsError::BadKey(other.to_string()),
        });
    }

    if EncryptedPrivateKeyInfo::from_der(key).is_ok() {
        return decrypt_pkcs8(key, password);
    }
    PrivateKeyDer::try_from(key)
        .map(|key| key.clone_key())
        .map_err(|error| TlsError::BadKey(error.to_owned()))
}

fn decrypt_pkcs8(der: &[u8], password: Option<&[u8]>) -> Result<PrivateKeyDer<'static>, TlsError> {
    let encrypted = EncryptedPrivateKeyInfo::from_der(der)
        .map_err(|error| TlsError::BadKey(format!("invalid encrypted PKCS#8: {error}")))?;
    let password = password.ok_or(TlsError::PasswordRequired)?;
    let decrypted = encrypted
        .decrypt(password)
        .map_err(|_| TlsError::WrongPassword)?;
    // CBC padding catches most wrong passwords, but about one in 256 still "decrypts" to
    // garbage; checking that the plaintext is a key tells the two failures apart.
    if PrivateKeyInfo::from_der(decrypted.as_bytes()).is_err() {
        return Err(TlsError::WrongPassword);
    }
    Ok(PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
        decrypted.as_bytes().to_vec(),
    )))
}

fn classify_rustls_error(error: rustls::Error) -> TlsError {
    match error {
        rustls::Error::InconsistentKeys(rustls::InconsistentKeys::KeyMismatch) => {
            TlsError::KeyMismatch
        }
        rustls::Error::InvalidCertificate(reason) => {
            TlsError::BadCertificate(format!("{reason:?}"))
        }
        // The ring provider reports keys it cannot load as a general error.
        rustls::Error::General(message) => TlsError::BadKey(message),
        other => TlsError::Rustls(other),
    }
}

fn is_pem(bytes: &[u8]) -> bool {
    contains(bytes, b"-----BEGIN ")
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    find(haystack, needle).is_some()
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

/// The first PEM block with this label, markers included, so that a key file holding other
/// blocks too (such as `EC PARAMETERS`) still works.
fn pem_block<'a>(bytes: &'a [u8], label: &str) -> Option<&'a [u8]> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = find(bytes, begin.as_bytes())?;
    let end_start = start + find(&bytes[start..], end.as_bytes())?;
    Some(&bytes[start..end_start + end.len()])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_block_is_found_among_other_blocks() {
        let text = b"-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n\
                     -----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n";

        let block = pem_block(text, ENCRYPTED_PKCS8_LABEL).expect("the block is present");

        assert!(block.starts_with(b"-----BEGIN ENCRYPTED PRIVATE KEY-----"));
        assert!(block.ends_with(b"-----END ENCRYPTED PRIVATE KEY-----"));
    }

    #[test]
    fn a_key_that_is_neither_pem_nor_der_is_a_bad_key() {
        let error = parse_private_key(b"not a key", None).expect_err("garbage is refused");

        assert!(matches!(error, TlsError::BadKey(_)), "{error:?}");
    }
}
