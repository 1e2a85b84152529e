//! Everything about private key material in Portcullis; nothing else in the project touches
//! it.
//!
//! - [`PrivateKey`]: loading signing keys from PEM or DER (PKCS#1, PKCS#8, encrypted PKCS#8,
//!   SEC1), generating new ones and writing them back as PEM.
//! - [`Keystore`]: the configured signing keys with their key ids, the public JWKS they
//!   publish, and compact JWS signing; [`verify_jwt`] checks a token against a JWKS.
//! - [`EncryptionKey`] and [`Encrypter`]: the symmetric `secrets.encryption` key, authenticated
//!   encryption of stored secrets, and sub-keys derived for other purposes.
//!
//! All secret material is zeroized on drop and never appears in `Debug` output.

mod algorithm;
mod encrypter;
mod jwk;
mod jws;
mod keystore;
mod private_key;

pub use self::algorithm::{JwsAlgorithm, UnknownAlgorithm};
pub use self::encrypter::{DecryptError, Encrypter, EncryptionKey, EncryptionKeyError};
pub use self::jwk::{PublicJwk, PublicJwkSet};
pub use self::jws::{SignError, UnverifiedJws, VerifyError, keys_for, verify_jwt};
pub use self::keystore::{Keystore, KeystoreError};
pub use self::private_key::{GenerateError, KeyFormat, KeyType, LoadError, PrivateKey, ToPemError};
