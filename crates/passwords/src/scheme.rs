//! One versioned hashing scheme: its algorithm, its pepper and whether it normalises input.
//!
//! Everything here is blocking and CPU-heavy; the manager runs it on the bounded pool.
//!
//! How the pepper is mixed in, per algorithm (the same as MAS, so that its databases, and
//! Synapse's through them, keep verifying):
//! - argon2id: as argon2's own secret input (the "K" parameter of RFC 9106), which is what the
//!   algorithm provides for a pepper;
//! - bcrypt and PBKDF2: appended to the password bytes before hashing. This is what Synapse
//!   does with its `password_config.pepper`, so a Synapse pepper moved into a scheme's
//!   `secret` keeps every migrated hash valid. bcrypt reads at most 72 bytes, so a pepper
//!   after a very long password is partly ignored, exactly as in Synapse.

use argon2::Argon2;
use password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use pbkdf2::Pbkdf2;
use portcullis_config::sections::passwords::{HashingAlgorithm, HashingScheme};
use rand::{Rng, rngs::OsRng};
use unicode_normalization::UnicodeNormalization;
use zeroize::Zeroizing;

use crate::{PasswordConfigError, PasswordError, argon2_memory};

/// bcrypt's cost when the configuration gives none, as in MAS and Synapse.
pub(crate) const DEFAULT_BCRYPT_COST: u32 = 12;

/// The costs bcrypt accepts: 2⁴ to 2³¹ rounds.
const BCRYPT_COSTS: std::ops::RangeInclusive<u32> = 4..=31;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Algorithm {
    Argon2id,
    Bcrypt { cost: u32 },
    Pbkdf2,
}

/// A scheme ready to hash and verify.
pub(crate) struct Scheme {
    pub(crate) version: u16,
    algorithm: Algorithm,
    pepper: Option<Zeroizing<Vec<u8>>>,
    unicode_normalization: bool,
}

impl Scheme {
    /// Builds a scheme from its configuration, reading the pepper file if it has one.
    pub(crate) fn from_config(config: &HashingScheme) -> Result<Self, PasswordConfigError> {
        let version = config.version;
        let algorithm = match config.algorithm {
            HashingAlgorithm::Argon2id => Algorithm::Argon2id,
            HashingAlgorithm::Pbkdf2 => Algorithm::Pbkdf2,
            HashingAlgorithm::Bcrypt => {
                let cost = config.cost.unwrap_or(DEFAULT_BCRYPT_COST);
                if !BCRYPT_COSTS.contains(&cost) {
                    return Err(PasswordConfigError::BcryptCost { version, cost });
                }
                Algorithm::Bcrypt { cost }
            }
        };
        // The pepper is taken byte for byte, file included, as MAS does: trimming a trailing
        // newline here would silently invalidate every hash made with the file as it is.
        let pepper = config
            .secret()
            .map(|source| source.read())
            .transpose()
            .map_err(|source| PasswordConfigError::Pepper { version, source })?
            .map(Zeroizing::new);
        let scheme = Self {
            version,
            algorithm,
            pepper,
            unicode_normalization: config.unicode_normalization,
        };
        if algorithm == Algorithm::Argon2id {
            // Fail at start-up, not at the first login, if argon2 refuses the pepper.
            scheme
                .argon2()
                .map_err(|error| PasswordConfigError::Argon2Pepper {
                    version,
                    reason: error.to_string(),
                })?;
        }
        Ok(scheme)
    }

    #[cfg(test)]
    pub(crate) fn new(
        version: u16,
        algorithm: Algorithm,
        pepper: Option<&[u8]>,
        unicode_normalization: bool,
    ) -> Self {
        Self {
            version,
            algorithm,
            pepper: pepper.map(|pepper| Zeroizing::new(pepper.to_vec())),
            unicode_normalization,
        }
    }

    /// Hashes a password into a PHC string (argon2id, PBKDF2) or a `$2b$` string (bcrypt).
    pub(crate) fn hash(&self, password: &str) -> Result<String, PasswordError> {
        let input = self.input(password);
        match self.algorithm {
            Algorithm::Argon2id => {
                argon2_memory::hash(&input, argon2::Params::default(), self.secret())
            }
            Algorithm::Bcrypt { cost } => {
                let salt: [u8; 16] = OsRng.r#gen();
                let hashed =
                    bcrypt::hash_with_salt(&*input, cost, salt).map_err(PasswordError::internal)?;
                // `$2b$` is what Synapse and current bcrypt libraries write.
                Ok(hashed.format_for_version(bcrypt::Version::TwoB))
            }
            Algorithm::Pbkdf2 => {
                let salt = SaltString::generate(&mut OsRng);
                let hashed = Pbkdf2
                    .hash_password(&input, &salt)
                    .map_err(PasswordError::internal)?;
                Ok(hashed.to_string())
            }
        }
    }

    /// Checks a password against a hash made by this scheme. The libraries compare the
    /// digests in constant time.
    pub(crate) fn verify(&self, hashed: &str, password: &str) -> Result<(), PasswordError> {
        let input = self.input(password);
        match self.algorithm {
            Algorithm::Argon2id => {
                let hashed = PasswordHash::new(hashed).map_err(PasswordError::malformed)?;
                argon2_memory::verify(&input, &hashed, self.secret())
            }
            Algorithm::Pbkdf2 => {
                let hashed = PasswordHash::new(hashed).map_err(PasswordError::malformed)?;
                verify_phc(&Pbkdf2, &input, &hashed)
            }
            Algorithm::Bcrypt { .. } => match bcrypt::verify(&*input, hashed) {
                Ok(true) => Ok(()),
                Ok(false) => Err(PasswordError::Mismatch),
                Err(error) => Err(PasswordError::malformed(error)),
            },
        }
    }

    /// The bytes actually hashed: normalised if asked, peppered if not argon2.
    fn input(&self, password: &str) -> Zeroizing<Vec<u8>> {
        let mut input = if self.unicode_normalization {
            // NFKC, so that the same password typed on different keyboards or input methods
            // (composed or decomposed accents, full-width forms) gives the same bytes.
            let normalized: Zeroizing<String> = Zeroizing::new(password.nfkc().collect());
            Zeroizing::new(normalized.as_bytes().to_vec())
        } else {
            Zeroizing::new(password.as_bytes().to_vec())
        };
        if self.algorithm != Algorithm::Argon2id
            && let Some(pepper) = &self.pepper
        {
            input.extend_from_slice(pepper);
        }
        input
    }

    /// The pepper, as argon2's secret input.
    fn secret(&self) -> Option<&[u8]> {
        self.pepper.as_deref().map(Vec::as_slice)
    }

    /// argon2id with the crate's default parameters (OWASP's recommendation: 19 MiB, two
    /// passes, one lane) and the pepper as secret.
    fn argon2(&self) -> Result<Argon2<'_>, argon2::Error> {
        let (algorithm, version, params) = (
            argon2::Algorithm::Argon2id,
            argon2::Version::V0x13,
            argon2::Params::default(),
        );
        match &self.pepper {
            Some(pepper) => Argon2::new_with_secret(pepper, algorithm, version, params),
            None => Ok(Argon2::new(algorithm, version, params)),
        }
    }
}

/// Verifies a PHC string, telling a wrong password apart from an unusable hash.
fn verify_phc(
    verifier: &impl PasswordVerifier,
    input: &[u8],
    hashed: &PasswordHash<'_>,
) -> Result<(), PasswordError> {
    // The library reports a hash without salt or digest as a wrong password; it is a broken
    // hash, which nobody's password could ever match.
    if hashed.salt.is_none() || hashed.hash.is_none() {
        return Err(PasswordError::malformed("no salt or no digest"));
    }
    match verifier.verify_password(input, hashed) {
        Ok(()) => Ok(()),
        Err(password_hash::Error::Password) => Err(PasswordError::Mismatch),
        Err(error) => Err(PasswordError::malformed(error)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// bcrypt's cheapest cost, so that tests stay fast; the format is the same.
    const FAST_BCRYPT: Algorithm = Algorithm::Bcrypt { cost: 4 };

    fn scheme(algorithm: Algorithm) -> Scheme {
        Scheme::new(1, algorithm, None, false)
    }

    #[test]
    fn argon2id_hashes_verify() {
        let scheme = scheme(Algorithm::Argon2id);

        let hashed = scheme.hash("hunter2").expect("hashing works");

        assert!(hashed.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        scheme.verify(&hashed, "hunter2").expect("same password");
    }

    #[test]
    fn bcrypt_hashes_verify() {
        let scheme = scheme(FAST_BCRYPT);

        let hashed = scheme.hash("hunter2").expect("hashing works");

        assert!(hashed.starts_with("$2b$04$"));
        scheme.verify(&hashed, "hunter2").expect("same password");
    }

    #[test]
    fn pbkdf2_hashes_verify() {
        let scheme = scheme(Algorithm::Pbkdf2);

        let hashed = scheme.hash("hunter2").expect("hashing works");

        assert!(hashed.starts_with("$pbkdf2-sha256$i=600000,l=32$"));
        scheme.verify(&hashed, "hunter2").expect("same password");
    }

    #[test]
    fn bcrypt_hash_from_python_bcrypt_verifies() {
        // bcrypt.hashpw(b"correct horse battery staple", bcrypt.gensalt(rounds=4))
        let hashed = "$2b$04$V9Ql1xukiNYXjHNHvatcSehmEXZCWnqAaLB60E1cDOrSbx51rUOYa";

        let result = scheme(FAST_BCRYPT).verify(hashed, "correct horse battery staple");

        assert!(result.is_ok());
    }

    #[test]
    fn bcrypt_hash_peppered_the_synapse_way_verifies_with_the_pepper_as_secret() {
        // Synapse hashes `password + pepper`:
        // bcrypt.hashpw(b"hunter2" + b"synapse-pepper", bcrypt.gensalt(rounds=4))
        let hashed = "$2b$04$ZWpHS3NY88Gm/WiR4.dVdeYAhgLN6ze0CgqlI3d47cP4xyalsg4oy";
        let scheme = Scheme::new(1, FAST_BCRYPT, Some(b"synapse-pepper"), false);

        let result = scheme.verify(hashed, "hunter2");

        assert!(result.is_ok());
    }

    #[test]
    fn pbkdf2_phc_string_from_python_hashlib_verifies() {
        // hashlib.pbkdf2_hmac("sha256", b"hunter2", salt, 1000, 32), encoded as a PHC string
        let hashed = "$pbkdf2-sha256$i=1000,l=32$eSlPeUOryraAySSicoSFgw$IjghzcLOIsPs6GCVIyOuNtnQkM8+Q8bHLRMReQ6ilWI";

        let result = scheme(Algorithm::Pbkdf2).verify(hashed, "hunter2");

        assert!(result.is_ok());
    }

    #[test]
    fn argon2id_hash_from_python_argon2_cffi_verifies() {
        // argon2.PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash("hunter2")
        let hashed = "$argon2id$v=19$m=1024,t=1,p=1$f/Apx/vOiNwtyTSAWs+91A$oo1YCWcX8EtrvxnqCIbSrElB3KT13E2Cg/g43YQcJyk";

        let result = scheme(Algorithm::Argon2id).verify(hashed, "hunter2");

        assert!(result.is_ok());
    }

    #[test]
    fn a_wrong_password_is_a_mismatch_with_bcrypt() {
        let hashed = "$2b$04$V9Ql1xukiNYXjHNHvatcSehmEXZCWnqAaLB60E1cDOrSbx51rUOYa";

        let result = scheme(FAST_BCRYPT).verify(hashed, "correct horse battery stapler");

        assert!(matches!(result, Err(PasswordError::Mismatch)));
    }

    #[test]
    fn a_wrong_password_is_a_mismatch_with_argon2id() {
        let hashed = "$argon2id$v=19$m=1024,t=1,p=1$f/Apx/vOiNwtyTSAWs+91A$oo1YCWcX8EtrvxnqCIbSrElB3KT13E2Cg/g43YQcJyk";

        let result = scheme(Algorithm::Argon2id).verify(hashed, "hunter3");

        assert!(matches!(result, Err(PasswordError::Mismatch)));
    }

    #[test]
    fn a_wrong_password_is_a_mismatch_with_pbkdf2() {
        let hashed = "$pbkdf2-sha256$i=1000,l=32$eSlPeUOryraAySSicoSFgw$IjghzcLOIsPs6GCVIyOuNtnQkM8+Q8bHLRMReQ6ilWI";

        let result = scheme(Algorithm::Pbkdf2).verify(hashed, "hunter3");

        assert!(matches!(result, Err(PasswordError::Mismatch)));
    }

    #[test]
    fn a_garbled_hash_is_malformed_not_a_mismatch() {
        let result = scheme(Algorithm::Argon2id).verify("$argon2id$nonsense", "hunter2");

        assert!(matches!(result, Err(PasswordError::MalformedHash(_))));
    }

    #[test]
    fn a_hash_of_another_algorithm_is_malformed_not_a_mismatch() {
        let bcrypt_hash = "$2b$04$V9Ql1xukiNYXjHNHvatcSehmEXZCWnqAaLB60E1cDOrSbx51rUOYa";

        let result = scheme(Algorithm::Pbkdf2).verify(bcrypt_hash, "hunter2");

        assert!(matches!(result, Err(PasswordError::MalformedHash(_))));
    }

    #[test]
    fn a_pepper_changes_the_bcrypt_hash_and_is_required_to_verify() {
        let peppered = Scheme::new(1, FAST_BCRYPT, Some(b"pepper"), false);
        let hashed = peppered.hash("hunter2").expect("hashing works");

        let without_pepper = scheme(FAST_BCRYPT).verify(&hashed, "hunter2");
        let other_pepper =
            Scheme::new(1, FAST_BCRYPT, Some(b"paprika"), false).verify(&hashed, "hunter2");

        assert!(matches!(without_pepper, Err(PasswordError::Mismatch)));
        assert!(matches!(other_pepper, Err(PasswordError::Mismatch)));
        peppered.verify(&hashed, "hunter2").expect("same pepper");
    }

    #[test]
    fn a_pepper_is_required_to_verify_an_argon2id_hash() {
        let peppered = Scheme::new(1, Algorithm::Argon2id, Some(b"pepper"), false);
        let hashed = peppered.hash("hunter2").expect("hashing works");

        let without_pepper = scheme(Algorithm::Argon2id).verify(&hashed, "hunter2");

        assert!(matches!(without_pepper, Err(PasswordError::Mismatch)));
        peppered.verify(&hashed, "hunter2").expect("same pepper");
    }

    #[test]
    fn a_peppered_pbkdf2_scheme_refuses_a_hash_made_without_the_pepper() {
        // Same PHC string as the python one above, which was made without a pepper.
        let hashed = "$pbkdf2-sha256$i=1000,l=32$eSlPeUOryraAySSicoSFgw$IjghzcLOIsPs6GCVIyOuNtnQkM8+Q8bHLRMReQ6ilWI";
        let peppered = Scheme::new(1, Algorithm::Pbkdf2, Some(b"pepper"), false);

        let result = peppered.verify(hashed, "hunter2");

        assert!(matches!(result, Err(PasswordError::Mismatch)));
    }

    #[test]
    fn normalisation_makes_composed_and_decomposed_accents_equal() {
        let scheme = Scheme::new(1, FAST_BCRYPT, None, true);
        let hashed = scheme.hash("caf\u{e9}").expect("hashing works");

        let result = scheme.verify(&hashed, "cafe\u{301}");

        assert!(result.is_ok());
    }

    #[test]
    fn without_normalisation_composed_and_decomposed_accents_differ() {
        let scheme = scheme(FAST_BCRYPT);
        let hashed = scheme.hash("caf\u{e9}").expect("hashing works");

        let result = scheme.verify(&hashed, "cafe\u{301}");

        assert!(matches!(result, Err(PasswordError::Mismatch)));
    }
}
