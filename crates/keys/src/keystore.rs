//! The set of configured signing keys, each with its key id.

use crate::jwk::{PublicJwk, PublicJwkSet};
use crate::jws::{self, SignError};
use crate::{JwsAlgorithm, PrivateKey};

/// The error returned when the configured keys cannot form a keystore.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeystoreError {
    /// Two keys share a kid, so a verifier could not tell which one signed a token.
    #[error(
        "two signing keys have the key id \"{kid}\"; give each key its own kid (a key listed \
         twice without a kid also gets the same derived kid twice)"
    )]
    DuplicateKid {
        /// The repeated kid.
        kid: String,
    },
    /// A key was given an empty kid.
    #[error("a signing key has an empty kid; remove `kid` to derive one from the key")]
    EmptyKid,
}

/// The signing keys, in configuration order, with their public JWKS computed once.
#[derive(Debug, Clone)]
pub struct Keystore {
    entries: Vec<Entry>,
    jwks: PublicJwkSet,
}

#[derive(Debug, Clone)]
struct Entry {
    kid: String,
    key: PrivateKey,
}

impl Keystore {
    /// Builds a keystore from `(kid, key)` pairs.
    ///
    /// A key without a kid gets its RFC 7638 thumbprint, which depends only on the public key,
    /// so the kid stays the same across restarts and relying parties keep their cached JWKS.
    ///
    /// # Errors
    ///
    /// Fails when a kid is empty or two keys end up with the same kid.
    pub fn new(keys: Vec<(Option<String>, PrivateKey)>) -> Result<Self, KeystoreError> {
        let mut entries: Vec<Entry> = Vec::with_capacity(keys.len());
        for (kid, key) in keys {
            let kid = match kid {
                Some(kid) if kid.is_empty() => return Err(KeystoreError::EmptyKid),
                Some(kid) => kid,
                None => key.jwk_thumbprint(),
            };
            if entries.iter().any(|entry| entry.kid == kid) {
                return Err(KeystoreError::DuplicateKid { kid });
            }
            entries.push(Entry { kid, key });
        }
        let jwks = PublicJwkSet::new(
            entries
                .iter()
                .map(|entry| {
                    PublicJwk::new(
                        entry.key.public_jwk_parameters(),
                        entry.kid.clone(),
                        entry.key.signing_algorithms(),
                    )
                })
                .collect(),
        );
        Ok(Self { entries, jwks })
    }

    /// The public JWK Set to publish at the `jwks_uri`; never contains private members.
    #[must_use]
    pub const fn public_jwks(&self) -> &PublicJwkSet {
        &self.jwks
    }

    /// Every algorithm at least one key can sign with, without duplicates, in the order of
    /// [`JwsAlgorithm::ALL`] (for `id_token_signing_alg_values_supported` and friends).
    #[must_use]
    pub fn signing_algorithms(&self) -> Vec<JwsAlgorithm> {
        JwsAlgorithm::ALL
            .iter()
            .copied()
            .filter(|alg| self.find_for_algorithm(*alg).is_some())
            .collect()
    }

    /// The first configured key that can sign with `alg`, with its kid.
    #[must_use]
    pub fn find_for_algorithm(&self, alg: JwsAlgorithm) -> Option<(&str, &PrivateKey)> {
        self.entries
            .iter()
            .find(|entry| entry.key.signing_algorithms().contains(&alg))
            .map(|entry| (entry.kid.as_str(), &entry.key))
    }

    /// Signs `claims` as a compact JWS (RFC 7515 §7.1) with the first key that supports
    /// `alg`. The header is `{"alg","kid","typ":"JWT"}`.
    ///
    /// # Errors
    ///
    /// Fails when no key supports `alg`, when `claims` is not a JSON object (RFC 7519 §7.2
    /// requires a JWT's claims set to be one), or when the signature cannot be computed.
    pub fn sign_jwt(
        &self,
        alg: JwsAlgorithm,
        claims: &serde_json::Value,
    ) -> Result<String, SignError> {
        let (kid, key) = self
            .find_for_algorithm(alg)
            .ok_or(SignError::NoKeyForAlgorithm { alg })?;
        jws::sign_compact(key, kid, alg, claims)
    }
}
