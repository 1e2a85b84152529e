//! The format of the opaque secrets the server hands out.
//!
//! Access and refresh tokens use the format of the Matrix Authentication Service, so tokens issued
//! by MAS keep working after a migration and clients see the prefixes they already know:
//! `<prefix>_<30 alphanumerics>_<checksum>`, where the checksum is the CRC-32/ISO-HDLC (the zlib
//! CRC-32) of `<prefix>_<random>` written in base 62 (`0-9A-Za-z`) with its least-significant
//! digit first, then left-padded with `0` to six characters.
//!
//! The checksum lets [`TokenType::check`] reject a mistyped or forged token before any database
//! lookup. Tokens minted by Synapse before the migration (`syt_…`, `syr_…` and macaroons) carry no
//! checksum we can verify; [`TokenKind::detect`] recognises them so they can be looked up anyway.
//!
//! Also here: authorization codes (RFC 6749 §10.10: unguessable) and the user code of the device
//! authorization grant (RFC 8628 §6.1: short, case-insensitive, free of ambiguous characters).

use std::fmt;

use base64ct::{Base64UrlUnpadded, Encoding as _};
use crc::{CRC_32_ISO_HDLC, Crc};
use rand::{
    Rng, RngCore,
    distributions::{Alphanumeric, DistString as _},
};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Length of the random part of a token.
const RANDOM_LENGTH: usize = 30;
/// Length of the encoded checksum of a token.
const CHECKSUM_LENGTH: usize = 6;
/// The base-62 alphabet of the checksum.
const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const CRC32: Crc<u32> = Crc::<u32>::new(&CRC_32_ISO_HDLC);

/// The kinds of token this server issues, told apart by their prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenType {
    /// An OAuth 2.0 access token (`mat_`).
    AccessToken,
    /// An OAuth 2.0 refresh token (`mar_`).
    RefreshToken,
    /// An access token of a compatibility (`/_matrix/client/*/login`) session (`mct_`).
    CompatAccessToken,
    /// A refresh token of a compatibility session (`mcr_`).
    CompatRefreshToken,
    /// A personal access token (`mpt_`).
    PersonalAccessToken,
}

impl TokenType {
    const ALL: [Self; 5] = [
        Self::AccessToken,
        Self::RefreshToken,
        Self::CompatAccessToken,
        Self::CompatRefreshToken,
        Self::PersonalAccessToken,
    ];

    /// The three-letter prefix of tokens of this type.
    #[must_use]
    pub const fn prefix(self) -> &'static str {
        match self {
            Self::AccessToken => "mat",
            Self::RefreshToken => "mar",
            Self::CompatAccessToken => "mct",
            Self::CompatRefreshToken => "mcr",
            Self::PersonalAccessToken => "mpt",
        }
    }

    fn from_prefix(prefix: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.prefix() == prefix)
    }

    /// A fresh token of this type: 30 random alphanumerics between the prefix and the checksum.
    pub fn generate<R: RngCore + ?Sized>(self, rng: &mut R) -> String {
        let random = Alphanumeric.sample_string(rng, RANDOM_LENGTH);
        let body = format!("{}_{random}", self.prefix());
        let checksum = checksum(&body);
        format!("{body}_{checksum}")
    }

    /// The type of a token in this server's format, after checking its shape, character set,
    /// lengths and checksum.
    ///
    /// Legacy Synapse tokens are not accepted here; see [`TokenKind::detect`].
    ///
    /// # Errors
    /// A [`TokenFormatError`] saying which part of the token is wrong. It never contains the token.
    pub fn check(token: &str) -> Result<Self, TokenFormatError> {
        let mut parts = token.split('_');
        let (Some(prefix), Some(random), Some(checksum_part), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(TokenFormatError::WrongShape);
        };
        let token_type = Self::from_prefix(prefix).ok_or(TokenFormatError::UnknownPrefix)?;
        if random.len() != RANDOM_LENGTH || !random.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(TokenFormatError::MalformedRandomPart);
        }
        if checksum_part.len() != CHECKSUM_LENGTH
            || !checksum_part.bytes().all(|b| BASE62.contains(&b))
        {
            return Err(TokenFormatError::MalformedChecksum);
        }
        // The prefix and random part are ASCII, so this is exactly `<prefix>_<random>`.
        let body = &token[..prefix.len() + 1 + random.len()];
        if checksum(body) != checksum_part {
            return Err(TokenFormatError::ChecksumMismatch);
        }
        Ok(token_type)
    }
}

impl fmt::Display for TokenType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.prefix())
    }
}

/// Why a string is not a token in this server's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenFormatError {
    /// Not three parts separated by `_`.
    #[error("a token has three parts separated by underscores")]
    WrongShape,
    /// The prefix is not one of `mat`, `mar`, `mct`, `mcr`, `mpt`.
    #[error("unknown token prefix")]
    UnknownPrefix,
    /// The middle part is not 30 ASCII alphanumerics.
    #[error("the random part of a token is 30 alphanumerics")]
    MalformedRandomPart,
    /// The last part is not 6 base-62 characters.
    #[error("the checksum of a token is 6 base-62 characters")]
    MalformedChecksum,
    /// The checksum does not match the rest of the token.
    #[error("the checksum of the token does not match")]
    ChecksumMismatch,
}

/// The CRC-32 of `body` in base 62, least-significant digit first, left-padded to six characters.
///
/// The digit order is unusual but it is MAS's, and tokens must stay interchangeable with it.
fn checksum(body: &str) -> String {
    let mut value = CRC32.checksum(body.as_bytes());
    let mut digits = Vec::with_capacity(CHECKSUM_LENGTH);
    while value > 0 {
        digits.push(char::from(BASE62[(value % 62) as usize]));
        value /= 62;
    }
    // 62^6 > 2^32, so there are never more than six digits.
    let padding = CHECKSUM_LENGTH - digits.len();
    std::iter::repeat_n('0', padding).chain(digits).collect()
}

/// Which store a presented bearer token belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenKind {
    /// A token in this server's format, checksum verified.
    Ours(TokenType),
    /// An access token issued by Synapse before the migration: `syt_…` or a macaroon. Treated as
    /// a compatibility access token.
    LegacySynapseAccess,
    /// A refresh token issued by Synapse before the migration (`syr_…`). Treated as a
    /// compatibility refresh token.
    LegacySynapseRefresh,
}

impl TokenKind {
    /// Recognise a presented token. Legacy Synapse tokens are recognised by their shape only: they
    /// have no checksum we can verify, so the database has the last word on them.
    ///
    /// # Errors
    /// The [`TokenFormatError`] of [`TokenType::check`] when the token is neither legacy nor ours.
    pub fn detect(token: &str) -> Result<Self, TokenFormatError> {
        if let Some(rest) = token.strip_prefix("syt_") {
            if is_b64token(rest) {
                return Ok(Self::LegacySynapseAccess);
            }
        } else if let Some(rest) = token.strip_prefix("syr_") {
            if is_b64token(rest) {
                return Ok(Self::LegacySynapseRefresh);
            }
        } else if is_likely_macaroon(token) {
            return Ok(Self::LegacySynapseAccess);
        }
        TokenType::check(token).map(Self::Ours)
    }

    /// The type this token is handled as: legacy Synapse tokens are compatibility tokens.
    #[must_use]
    pub const fn token_type(self) -> TokenType {
        match self {
            Self::Ours(token_type) => token_type,
            Self::LegacySynapseAccess => TokenType::CompatAccessToken,
            Self::LegacySynapseRefresh => TokenType::CompatRefreshToken,
        }
    }
}

/// RFC 6750 §2.1 `b64token`: the characters a bearer token may have at all.
fn is_b64token(value: &str) -> bool {
    let body = value.trim_end_matches('=');
    !body.is_empty()
        && body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b))
}

/// Synapse macaroons are base64url of a binary format whose first packet is a four-hex-digit
/// length followed by `location `.
fn is_likely_macaroon(token: &str) -> bool {
    let Ok(decoded) = Base64UrlUnpadded::decode_vec(token.trim_end_matches('=')) else {
        return false;
    };
    decoded.get(4..13) == Some(b"location ".as_slice())
}

/// A random string of `length` ASCII alphanumerics, for authorization codes (32 characters,
/// about 190 bits) and similar single-use secrets.
pub fn generate_code<R: RngCore + ?Sized>(rng: &mut R, length: usize) -> String {
    Alphanumeric.sample_string(rng, length)
}

/// The alphabet of user codes: upper-case consonants and digits, without the characters that
/// are easily confused when read aloud or copied (0/O, 1/I/L) and without vowels, so no word can
/// appear. 27 symbols, 8 characters: about 38 bits (RFC 8628 §6.1 considers 34.5 enough with
/// rate-limiting).
const USER_CODE_ALPHABET: &[u8; 27] = b"BCDFGHJKMNPQRSTVWXZ23456789";
const USER_CODE_LENGTH: usize = 8;

/// The code a user types on a second device to approve a device authorization grant
/// (RFC 8628 §3.2 `user_code`).
///
/// Held normalised (eight upper-case characters, no separator); displayed as `XXXX-XXXX`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UserCode(String);

impl UserCode {
    /// A fresh random user code.
    pub fn generate<R: RngCore + ?Sized>(rng: &mut R) -> Self {
        let code = (0..USER_CODE_LENGTH)
            .map(|_| char::from(USER_CODE_ALPHABET[rng.gen_range(0..USER_CODE_ALPHABET.len())]))
            .collect();
        Self(code)
    }

    /// Parse what a user typed: case does not matter and spaces and dashes are ignored
    /// (RFC 8628 §6.1).
    ///
    /// # Errors
    /// [`UserCodeError`] when, once normalised, the input is not eight characters of the alphabet.
    pub fn parse(input: &str) -> Result<Self, UserCodeError> {
        let mut code = String::with_capacity(USER_CODE_LENGTH);
        for c in input.chars() {
            if c == '-' || c.is_whitespace() {
                continue;
            }
            let c = c.to_ascii_uppercase();
            if !c.is_ascii() || !USER_CODE_ALPHABET.contains(&(c as u8)) {
                return Err(UserCodeError::InvalidCharacter);
            }
            if code.len() == USER_CODE_LENGTH {
                return Err(UserCodeError::WrongLength);
            }
            code.push(c);
        }
        if code.len() != USER_CODE_LENGTH {
            return Err(UserCodeError::WrongLength);
        }
        Ok(Self(code))
    }

    /// The normalised code, as stored: eight characters, no separator.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The display form, `XXXX-XXXX`.
impl fmt::Display for UserCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (first, second) = self.0.split_at(USER_CODE_LENGTH / 2);
        write!(f, "{first}-{second}")
    }
}

/// Serialised in its display form, which is what the device shows to the user.
impl Serialize for UserCode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for UserCode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        Self::parse(&raw).map_err(serde::de::Error::custom)
    }
}

/// Why some input is not a user code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum UserCodeError {
    /// Not eight characters once spaces and dashes are removed.
    #[error("a code has 8 characters")]
    WrongLength,
    /// A character outside the alphabet.
    #[error("the code contains a character that is never part of a code")]
    InvalidCharacter,
}

#[cfg(test)]
mod tests {
    use rand::{SeedableRng as _, rngs::StdRng};

    use super::*;

    fn rng() -> StdRng {
        StdRng::seed_from_u64(42)
    }

    /// A valid token of `token_type` with a fixed random part.
    fn fixed_token(prefix: &str) -> String {
        let body = format!("{prefix}_0123456789abcdefghijABCDEFGHIJ");
        let checksum = checksum(&body);
        format!("{body}_{checksum}")
    }

    // CRC-32/ISO-HDLC of "123456789" is its catalogue check value 0xCBF43926 = 3421780262.
    // Base 62, least-significant digit first:
    //   3421780262 = 55190004 * 62 + 14 -> 'E'
    //     55190004 =   890161 * 62 + 22 -> 'M'
    //       890161 =    14357 * 62 + 27 -> 'R'
    //        14357 =      231 * 62 + 35 -> 'Z'
    //          231 =        3 * 62 + 45 -> 'j'
    //            3 =        0 * 62 +  3 -> '3'
    // giving "EMRZj3" (six digits, no padding).
    #[test]
    fn checksum_of_the_crc_check_string_is_its_base62_digits_least_significant_first() {
        assert_eq!(checksum("123456789"), "EMRZj3");
    }

    // CRC-32 of "mat_aaaaaaaaaaaaaaaaaaaaaaaaaaaa00" is 320187320 (below 62^5, so five digits):
    //   320187320 = 5164311 * 62 + 38 -> 'c'
    //     5164311 =   83295 * 62 + 21 -> 'L'
    //       83295 =    1343 * 62 + 29 -> 'T'
    //        1343 =      21 * 62 + 41 -> 'f'
    //          21 =       0 * 62 + 21 -> 'L'
    // "cLTfL", left-padded with one '0': "0cLTfL".
    #[test]
    fn a_short_checksum_is_padded_with_zeros_on_the_left() {
        assert_eq!(checksum("mat_aaaaaaaaaaaaaaaaaaaaaaaaaaaa00"), "0cLTfL");
    }

    #[test]
    fn a_hand_computed_access_token_is_accepted() {
        assert_eq!(
            TokenType::check("mat_aaaaaaaaaaaaaaaaaaaaaaaaaaaa00_0cLTfL"),
            Ok(TokenType::AccessToken)
        );
    }

    // Computed independently with zlib's crc32.
    #[test]
    fn tokens_computed_by_an_independent_crc_implementation_are_accepted() {
        let cases = [
            (
                "mar_0123456789abcdefghijABCDEFGHIJ_wBcFB1",
                TokenType::RefreshToken,
            ),
            (
                "mct_0123456789abcdefghijABCDEFGHIJ_jUFkp1",
                TokenType::CompatAccessToken,
            ),
            (
                "mcr_0123456789abcdefghijABCDEFGHIJ_0cmVWp",
                TokenType::CompatRefreshToken,
            ),
            (
                "mpt_0123456789abcdefghijABCDEFGHIJ_iDeDE4",
                TokenType::PersonalAccessToken,
            ),
        ];
        for (token, expected) in cases {
            assert_eq!(TokenType::check(token), Ok(expected), "{token}");
        }
    }

    #[test]
    fn generated_tokens_of_every_type_pass_their_own_check() {
        let mut rng = rng();
        for token_type in TokenType::ALL {
            let token = token_type.generate(&mut rng);
            assert_eq!(TokenType::check(&token), Ok(token_type), "{token}");
        }
    }

    #[test]
    fn a_generated_token_has_the_prefix_thirty_alphanumerics_and_six_checksum_characters() {
        let token = TokenType::AccessToken.generate(&mut rng());
        let parts: Vec<&str> = token.split('_').collect();
        assert_eq!(parts.len(), 3);
        assert_eq!(parts[0], "mat");
        assert_eq!(parts[1].len(), 30);
        assert!(parts[1].bytes().all(|b| b.is_ascii_alphanumeric()));
        assert_eq!(parts[2].len(), 6);
    }

    #[test]
    fn two_generated_tokens_differ() {
        let mut rng = rng();
        assert_ne!(
            TokenType::AccessToken.generate(&mut rng),
            TokenType::AccessToken.generate(&mut rng)
        );
    }

    #[test]
    fn a_token_with_one_changed_random_character_fails_the_checksum() {
        let token = fixed_token("mat").replacen("0123", "1123", 1);
        assert_eq!(
            TokenType::check(&token),
            Err(TokenFormatError::ChecksumMismatch)
        );
    }

    #[test]
    fn a_token_whose_prefix_was_swapped_fails_the_checksum() {
        let token = fixed_token("mat").replacen("mat", "mar", 1);
        assert_eq!(
            TokenType::check(&token),
            Err(TokenFormatError::ChecksumMismatch)
        );
    }

    #[test]
    fn a_token_with_a_changed_checksum_is_refused() {
        let mut token = fixed_token("mat");
        let last = token.pop();
        token.push(if last == Some('a') { 'b' } else { 'a' });
        assert_eq!(
            TokenType::check(&token),
            Err(TokenFormatError::ChecksumMismatch)
        );
    }

    #[test]
    fn an_unknown_prefix_is_refused() {
        assert_eq!(
            TokenType::check(&fixed_token("mxt")),
            Err(TokenFormatError::UnknownPrefix)
        );
    }

    #[test]
    fn an_upper_case_prefix_is_refused() {
        assert_eq!(
            TokenType::check(&fixed_token("MAT")),
            Err(TokenFormatError::UnknownPrefix)
        );
    }

    #[test]
    fn an_empty_string_is_not_a_token() {
        assert_eq!(TokenType::check(""), Err(TokenFormatError::WrongShape));
    }

    #[test]
    fn a_token_with_only_two_parts_is_refused() {
        assert_eq!(
            TokenType::check("mat_0123456789abcdefghijABCDEFGHIJ"),
            Err(TokenFormatError::WrongShape)
        );
    }

    #[test]
    fn a_token_with_four_parts_is_refused() {
        let token = format!("{}_x", fixed_token("mat"));
        assert_eq!(TokenType::check(&token), Err(TokenFormatError::WrongShape));
    }

    #[test]
    fn a_random_part_of_29_characters_is_refused() {
        assert_eq!(
            TokenType::check("mat_0123456789abcdefghijABCDEFGHI_000000"),
            Err(TokenFormatError::MalformedRandomPart)
        );
    }

    #[test]
    fn a_random_part_of_31_characters_is_refused() {
        assert_eq!(
            TokenType::check("mat_0123456789abcdefghijABCDEFGHIJK_000000"),
            Err(TokenFormatError::MalformedRandomPart)
        );
    }

    #[test]
    fn a_random_part_with_a_dash_is_refused() {
        assert_eq!(
            TokenType::check("mat_0123456789abcdefghijABCDEFGHI-_000000"),
            Err(TokenFormatError::MalformedRandomPart)
        );
    }

    #[test]
    fn a_random_part_with_non_ascii_characters_is_refused_without_panicking() {
        assert_eq!(
            TokenType::check("mat_0123456789abcdefghijABCDEFGé_000000"),
            Err(TokenFormatError::MalformedRandomPart)
        );
    }

    #[test]
    fn a_checksum_of_five_characters_is_refused() {
        assert_eq!(
            TokenType::check("mat_aaaaaaaaaaaaaaaaaaaaaaaaaaaa00_cLTfL"),
            Err(TokenFormatError::MalformedChecksum)
        );
    }

    #[test]
    fn a_checksum_with_a_non_base62_character_is_refused() {
        assert_eq!(
            TokenType::check("mat_aaaaaaaaaaaaaaaaaaaaaaaaaaaa00_0cLT+L"),
            Err(TokenFormatError::MalformedChecksum)
        );
    }

    #[test]
    fn a_token_with_surrounding_whitespace_is_refused() {
        let token = format!(" {} ", fixed_token("mat"));
        assert!(TokenType::check(&token).is_err());
    }

    #[test]
    fn a_synapse_access_token_is_a_legacy_access_token() {
        assert_eq!(
            TokenKind::detect("syt_YWxpY2U_GsTbFmPtZbRwJnEhBqdX_0fY3Ja"),
            Ok(TokenKind::LegacySynapseAccess)
        );
    }

    #[test]
    fn a_synapse_refresh_token_is_a_legacy_refresh_token() {
        assert_eq!(
            TokenKind::detect("syr_YWxpY2U_HvNhWqKdBcLsPjMzRtYx_1aBcDe"),
            Ok(TokenKind::LegacySynapseRefresh)
        );
    }

    #[test]
    fn a_synapse_macaroon_is_a_legacy_access_token() {
        // base64url of "0019location example.com\n0020identifier test\n"
        assert_eq!(
            TokenKind::detect("MDAxOWxvY2F0aW9uIGV4YW1wbGUuY29tCjAwMjBpZGVudGlmaWVyIHRlc3QK"),
            Ok(TokenKind::LegacySynapseAccess)
        );
    }

    #[test]
    fn base64_that_does_not_start_with_a_location_packet_is_not_a_macaroon() {
        // base64url of "0019identifier example\n"
        assert!(TokenKind::detect("MDAxOWlkZW50aWZpZXIgZXhhbXBsZQo").is_err());
    }

    #[test]
    fn legacy_tokens_map_to_compatibility_token_types() {
        assert_eq!(
            TokenKind::LegacySynapseAccess.token_type(),
            TokenType::CompatAccessToken
        );
        assert_eq!(
            TokenKind::LegacySynapseRefresh.token_type(),
            TokenType::CompatRefreshToken
        );
    }

    #[test]
    fn a_bare_synapse_prefix_is_not_a_token() {
        assert!(TokenKind::detect("syt_").is_err());
    }

    #[test]
    fn a_synapse_token_with_a_space_is_not_a_token() {
        assert!(TokenKind::detect("syt_abc def").is_err());
    }

    #[test]
    fn detect_reports_our_tokens_with_their_type() {
        assert_eq!(
            TokenKind::detect("mat_aaaaaaaaaaaaaaaaaaaaaaaaaaaa00_0cLTfL"),
            Ok(TokenKind::Ours(TokenType::AccessToken))
        );
    }

    #[test]
    fn detect_refuses_our_tokens_with_a_bad_checksum() {
        assert_eq!(
            TokenKind::detect("mat_aaaaaaaaaaaaaaaaaaaaaaaaaaaa00_0cLTfM"),
            Err(TokenFormatError::ChecksumMismatch)
        );
    }

    #[test]
    fn generated_codes_have_the_requested_length_of_alphanumerics() {
        let code = generate_code(&mut rng(), 32);
        assert_eq!(code.len(), 32);
        assert!(code.bytes().all(|b| b.is_ascii_alphanumeric()));
    }

    #[test]
    fn a_generated_user_code_parses_back_to_itself() {
        let code = UserCode::generate(&mut rng());
        assert_eq!(UserCode::parse(code.as_str()), Ok(code));
    }

    #[test]
    fn a_generated_user_code_has_eight_characters_of_the_unambiguous_alphabet() {
        let mut rng = rng();
        for _ in 0..100 {
            let code = UserCode::generate(&mut rng);
            assert_eq!(code.as_str().len(), 8);
            assert!(
                code.as_str()
                    .bytes()
                    .all(|b| USER_CODE_ALPHABET.contains(&b))
            );
        }
    }

    #[test]
    fn the_user_code_alphabet_has_no_ambiguous_characters_or_vowels() {
        for c in b"0O1ILAEIOUY" {
            assert!(!USER_CODE_ALPHABET.contains(c), "{}", char::from(*c));
        }
    }

    #[test]
    fn a_user_code_is_displayed_in_two_groups_of_four() {
        let code = UserCode::parse("BCDFGHJK").expect("valid code");
        assert_eq!(code.to_string(), "BCDF-GHJK");
    }

    #[test]
    fn a_user_code_is_parsed_regardless_of_case_spaces_and_dashes() {
        let code = UserCode::parse(" bcdf - ghjk ").expect("valid code");
        assert_eq!(code.as_str(), "BCDFGHJK");
    }

    #[test]
    fn a_user_code_of_seven_characters_is_refused() {
        assert_eq!(UserCode::parse("BCDF-GHJ"), Err(UserCodeError::WrongLength));
    }

    #[test]
    fn a_user_code_of_nine_characters_is_refused() {
        assert_eq!(
            UserCode::parse("BCDF-GHJKM"),
            Err(UserCodeError::WrongLength)
        );
    }

    #[test]
    fn an_empty_user_code_is_refused() {
        assert_eq!(UserCode::parse(" - "), Err(UserCodeError::WrongLength));
    }

    #[test]
    fn a_user_code_with_an_ambiguous_character_is_refused() {
        assert_eq!(
            UserCode::parse("BCDF-GHJ0"),
            Err(UserCodeError::InvalidCharacter)
        );
    }

    #[test]
    fn a_user_code_with_a_non_ascii_character_is_refused() {
        assert_eq!(
            UserCode::parse("BCDF-GHJÉ"),
            Err(UserCodeError::InvalidCharacter)
        );
    }

    #[test]
    fn a_user_code_serialises_in_its_display_form() {
        let code = UserCode::parse("BCDFGHJK").expect("valid code");
        assert_eq!(
            serde_json::to_string(&code).expect("serialisable"),
            "\"BCDF-GHJK\""
        );
    }
}
