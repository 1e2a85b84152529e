//! The symmetric `secrets.encryption` key and the encrypter built on it.
//!
//! The same 32-byte secret protects database fields and cookies, so it is never used raw for
//! more than one job: [`Encrypter::encrypt`] uses it for XChaCha20-Poly1305, and every other
//! purpose gets its own sub-key from [`Encrypter::derive_key`].

use std::fmt;

use base64ct::{Base64, Encoding as _};
use chacha20poly1305::aead::{Aead as _, KeyInit as _};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use rand::{CryptoRng, RngCore};
use sha2::Sha256;
use zeroize::Zeroizing;

const KEY_LEN: usize = 32;
const HEX_LEN: usize = KEY_LEN * 2;
/// XChaCha20's 192-bit nonce is large enough to pick at random for every message without a
/// realistic risk of reuse, unlike the 96-bit nonce of plain ChaCha20-Poly1305.
const NONCE_LEN: usize = 24;
/// RFC 8439 §2.8: Poly1305 appends a 16-byte tag.
const TAG_LEN: usize = 16;

/// The error returned when the configured encryption secret is not 32 bytes of hex.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EncryptionKeyError {
    /// The secret has the wrong length.
    #[error(
        "expected 64 hexadecimal characters (32 bytes), found {found} characters; generate one \
         with `openssl rand -hex 32`"
    )]
    WrongLength {
        /// How many characters were found, after trimming surrounding whitespace.
        found: usize,
    },
    /// The secret has the right length but a character outside `0-9a-fA-F`.
    #[error(
        "contains a character that is not hexadecimal (character {position} of 64); generate \
         one with `openssl rand -hex 32`"
    )]
    NotHexadecimal {
        /// The 1-based position of the first offending character.
        position: usize,
    },
}

/// The 32-byte symmetric secret (`secrets.encryption`). Zeroized on drop; its
/// [`Debug`](fmt::Debug) output never shows it.
#[derive(Clone)]
pub struct EncryptionKey {
    bytes: Zeroizing<[u8; KEY_LEN]>,
}

impl EncryptionKey {
    /// Parses 64 hexadecimal characters (either case). Surrounding whitespace is ignored,
    /// since key files usually end with a newline.
    ///
    /// # Errors
    ///
    /// Says how many characters were found when the length is wrong, or where the first
    /// non-hexadecimal character is.
    pub fn from_hex(text: &str) -> Result<Self, EncryptionKeyError> {
        let text = text.trim();
        let found = text.chars().count();
        if found != HEX_LEN {
            return Err(EncryptionKeyError::WrongLength { found });
        }
        if let Some(index) = text.chars().position(|c| !c.is_ascii_hexdigit()) {
            return Err(EncryptionKeyError::NotHexadecimal {
                position: index + 1,
            });
        }
        // Every character is now an ASCII hex digit, so bytes and characters coincide.
        let mut bytes = Zeroizing::new([0_u8; KEY_LEN]);
        for (byte, pair) in bytes.iter_mut().zip(text.as_bytes().chunks_exact(2)) {
            *byte = (hex_value(pair[0]) << 4) | hex_value(pair[1]);
        }
        Ok(Self { bytes })
    }

    /// Generates a new random key.
    pub fn generate(rng: &mut (impl CryptoRng + RngCore)) -> Self {
        let mut bytes = Zeroizing::new([0_u8; KEY_LEN]);
        rng.fill_bytes(bytes.as_mut());
        Self { bytes }
    }

    /// The key as 64 lowercase hexadecimal characters, the form the configuration uses.
    #[must_use]
    pub fn to_hex(&self) -> Zeroizing<String> {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut text = Zeroizing::new(String::with_capacity(HEX_LEN));
        for byte in self.bytes.iter() {
            text.push(char::from(DIGITS[usize::from(byte >> 4)]));
            text.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
        }
        text
    }
}

/// The value of one ASCII hex digit; callers have checked `digit.is_ascii_hexdigit()`.
const fn hex_value(digit: u8) -> u8 {
    match digit {
        b'0'..=b'9' => digit - b'0',
        b'a'..=b'f' => digit - b'a' + 10,
        _ => digit - b'A' + 10,
    }
}

impl fmt::Debug for EncryptionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("EncryptionKey(<redacted>)")
    }
}

/// The error returned when a value cannot be decrypted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecryptError {
    /// The stored value is not base64.
    #[error("the encrypted value is not valid base64")]
    NotBase64,
    /// The stored value cannot even hold a nonce and a tag.
    #[error("the encrypted value is too short to hold a nonce and an authentication tag")]
    TooShort,
    /// The authentication tag does not match.
    #[error(
        "the encrypted value was tampered with, or was encrypted with a different key \
         (was `secrets.encryption` changed?)"
    )]
    Tampered,
}

/// Authenticated encryption of small secrets (client secrets, upstream provider secrets,
/// cookie payloads) with the configured [`EncryptionKey`].
#[derive(Clone)]
pub struct Encrypter {
    key: EncryptionKey,
}

impl Encrypter {
    /// Builds an encrypter from the configured key.
    #[must_use]
    pub const fn new(key: EncryptionKey) -> Self {
        Self { key }
    }

    /// Encrypts with XChaCha20-Poly1305 under a fresh random 24-byte nonce, and returns
    /// `base64(nonce || ciphertext || tag)` (standard alphabet, padded).
    #[must_use]
    pub fn encrypt(&self, plaintext: &[u8]) -> String {
        let mut nonce = [0_u8; NONCE_LEN];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let ciphertext = self
            .cipher()
            .encrypt(XNonce::from_slice(&nonce), plaintext)
            .expect("XChaCha20-Poly1305 only refuses plaintexts of more than 256 GiB");
        let mut message = Vec::with_capacity(NONCE_LEN + ciphertext.len());
        message.extend_from_slice(&nonce);
        message.extend_from_slice(&ciphertext);
        Base64::encode_string(&message)
    }

    /// Decrypts a value produced by [`encrypt`](Self::encrypt), checking its integrity.
    ///
    /// # Errors
    ///
    /// Fails when the value is not base64, is too short, or does not authenticate (it was
    /// altered, or encrypted under another key).
    pub fn decrypt(&self, encrypted: &str) -> Result<Vec<u8>, DecryptError> {
        let message = Base64::decode_vec(encrypted).map_err(|_| DecryptError::NotBase64)?;
        if message.len() < NONCE_LEN + TAG_LEN {
            return Err(DecryptError::TooShort);
        }
        let (nonce, ciphertext) = message.split_at(NONCE_LEN);
        self.cipher()
            .decrypt(XNonce::from_slice(nonce), ciphertext)
            .map_err(|_| DecryptError::Tampered)
    }

    /// Derives a 32-byte sub-key for `purpose` as HMAC-SHA256(key, purpose).
    ///
    /// Each use of the secret beyond [`encrypt`](Self::encrypt) (cookie encryption, at-rest
    /// secrets of another scheme, ...) must take its own sub-key with a distinct, fixed
    /// purpose label, such as `"cookies"`. HMAC is a PRF, so sub-keys for different labels
    /// are independent: a weakness in how one is used reveals nothing about the others or
    /// the main key. Labels must never change, or what they protected becomes unreadable.
    #[must_use]
    pub fn derive_key(&self, purpose: &str) -> Zeroizing<[u8; 32]> {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(self.key.bytes.as_ref())
            .expect("HMAC accepts keys of any length");
        mac.update(purpose.as_bytes());
        Zeroizing::new(mac.finalize().into_bytes().into())
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        // The cipher zeroizes its copy of the key on drop.
        XChaCha20Poly1305::new(self.key.bytes.as_ref().into())
    }
}

impl fmt::Debug for Encrypter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Encrypter").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY_HEX: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

    fn encrypter() -> Encrypter {
        Encrypter::new(EncryptionKey::from_hex(KEY_HEX).expect("the test key is valid hex"))
    }

    #[test]
    fn a_key_with_a_trailing_newline_is_accepted() {
        let key = EncryptionKey::from_hex(&format!("{KEY_HEX}\n"))
            .expect("surrounding whitespace is ignored");
        assert_eq!(*key.to_hex(), KEY_HEX);
    }

    #[test]
    fn an_uppercase_key_is_accepted() {
        let key = EncryptionKey::from_hex(&KEY_HEX.to_uppercase()).expect("hex is case-blind");
        assert_eq!(*key.to_hex(), KEY_HEX);
    }

    #[test]
    fn a_key_of_128_characters_is_refused_with_its_length() {
        let error = EncryptionKey::from_hex(&KEY_HEX.repeat(2)).expect_err("too long");
        assert_eq!(error, EncryptionKeyError::WrongLength { found: 128 });
        assert!(error.to_string().contains("found 128 characters"));
        assert!(error.to_string().contains("openssl rand -hex 32"));
    }

    #[test]
    fn a_base64_key_is_refused_with_its_length() {
        // What `openssl rand -base64 32` prints: a common mistake.
        let error = EncryptionKey::from_hex("q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=")
            .expect_err("base64 is not hex");
        assert_eq!(error, EncryptionKeyError::WrongLength { found: 44 });
    }

    #[test]
    fn a_key_with_a_non_hexadecimal_character_is_refused() {
        let text = format!("{}g", &KEY_HEX[..63]);
        let error = EncryptionKey::from_hex(&text).expect_err("g is not hex");
        assert_eq!(error, EncryptionKeyError::NotHexadecimal { position: 64 });
        assert!(error.to_string().contains("not hexadecimal"));
    }

    #[test]
    fn a_generated_key_round_trips_through_hex() {
        let mut rng = <rand_chacha::ChaCha20Rng as rand::SeedableRng>::seed_from_u64(7);
        let key = EncryptionKey::generate(&mut rng);
        let parsed = EncryptionKey::from_hex(&key.to_hex()).expect("to_hex writes valid hex");
        assert_eq!(*parsed.bytes, *key.bytes);
    }

    #[test]
    fn debug_output_never_shows_the_key() {
        let key = EncryptionKey::from_hex(KEY_HEX).expect("the test key is valid hex");
        let debug = format!("{key:?} {:?}", Encrypter::new(key.clone()));
        assert!(!debug.contains("0102"));
        assert!(!debug.contains("[0, 1, 2"));
    }

    #[test]
    fn encrypted_data_decrypts_to_the_plaintext() {
        let encrypter = encrypter();
        let encrypted = encrypter.encrypt(b"client secret");
        assert_eq!(
            encrypter
                .decrypt(&encrypted)
                .expect("it was just encrypted"),
            b"client secret"
        );
    }

    #[test]
    fn encrypting_twice_gives_different_ciphertexts() {
        let encrypter = encrypter();
        assert_ne!(encrypter.encrypt(b"same"), encrypter.encrypt(b"same"));
    }

    #[test]
    fn a_flipped_bit_anywhere_is_detected() {
        let encrypter = encrypter();
        let message =
            Base64::decode_vec(&encrypter.encrypt(b"secret")).expect("encrypt writes base64");
        for index in 0..message.len() {
            let mut tampered = message.clone();
            tampered[index] ^= 0x01;
            assert_eq!(
                encrypter.decrypt(&Base64::encode_string(&tampered)),
                Err(DecryptError::Tampered),
                "flipping a bit of byte {index} went unnoticed"
            );
        }
    }

    #[test]
    fn data_encrypted_under_another_key_is_refused() {
        let mut rng = <rand_chacha::ChaCha20Rng as rand::SeedableRng>::seed_from_u64(1);
        let other = Encrypter::new(EncryptionKey::generate(&mut rng));
        let encrypted = other.encrypt(b"secret");
        assert_eq!(encrypter().decrypt(&encrypted), Err(DecryptError::Tampered));
    }

    #[test]
    fn a_value_too_short_for_nonce_and_tag_is_refused() {
        let short = Base64::encode_string(&[0_u8; NONCE_LEN + TAG_LEN - 1]);
        assert_eq!(encrypter().decrypt(&short), Err(DecryptError::TooShort));
    }

    #[test]
    fn a_value_that_is_not_base64_is_refused() {
        assert_eq!(
            encrypter().decrypt("not base64!"),
            Err(DecryptError::NotBase64)
        );
    }

    #[test]
    fn derived_keys_are_hmac_sha256_of_the_purpose() {
        // Expected values computed independently with
        // `printf cookies | openssl dgst -sha256 -mac HMAC -macopt hexkey:<KEY_HEX>`.
        let encrypter = encrypter();
        let hex = |bytes: &[u8]| bytes.iter().map(|b| format!("{b:02x}")).collect::<String>();
        assert_eq!(
            hex(encrypter.derive_key("cookies").as_ref()),
            "10b30fb90f962f11495d9cee0e858f38317ec6862d52eb9c172b453f5def519d"
        );
        assert_eq!(
            hex(encrypter.derive_key("at-rest").as_ref()),
            "20375bcafccfed4015d48a8ea13980ddb00c4381cd069d24bb5e8abb1127ec39"
        );
    }
}
