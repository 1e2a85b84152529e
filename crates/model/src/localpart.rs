//! The localpart of a Matrix user ID: the `bob` of `@bob:example.com`, which is also the
//! username of a local account.
//!
//! The rules are MAS's registration policy (`register` entrypoint), which follow the Matrix
//! specification's user identifier grammar (client-server API, "User Identifiers"): only
//! lowercase ASCII letters, digits and `.=_/+-`; not digits alone (Synapse reserves numeric
//! localparts for guests); and the whole `@localpart:server_name` at most 255 bytes.

use std::fmt;

/// The longest a full Matrix user ID may be, in bytes (Matrix specification, "User
/// Identifiers").
pub const MAX_MXID_LENGTH: usize = 255;

/// A localpart that satisfies every rule; only [`Localpart::parse`] makes one.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Localpart(String);

/// Why a string is not an acceptable localpart, worded for the person who typed it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LocalpartError {
    /// Nothing, or only an `@` and a server.
    #[error("the username is empty")]
    Empty,

    /// Starts with `@` but has no `:server_name`.
    #[error("{input:?} is neither a username nor a full Matrix ID (a full ID looks like @{localpart}:{server_name})", localpart = .input.trim_start_matches('@'))]
    MissingServer {
        /// What was given.
        input: String,
        /// The server this service is for, to show the expected form.
        server_name: String,
    },

    /// A full Matrix ID of another homeserver.
    #[error("{input} belongs to the server {found:?}, not to {expected:?}")]
    OtherServer {
        /// What was given.
        input: String,
        /// The server named in it.
        found: String,
        /// The server this service is for.
        expected: String,
    },

    /// Characters outside `a-z 0-9 . = _ / + -`.
    #[error("the username {localpart:?} contains {}; only lowercase letters a-z, digits 0-9 and the characters . = _ / + - are allowed{}", describe_chars(.invalid), uppercase_hint(.localpart))]
    InvalidCharacters {
        /// The localpart given.
        localpart: String,
        /// The offending characters, each once, in order of appearance.
        invalid: Vec<char>,
    },

    /// Digits only.
    #[error(
        "the username {localpart:?} is made of digits only, which Matrix homeservers reserve for guest accounts; add at least one letter or symbol"
    )]
    AllNumeric {
        /// The localpart given.
        localpart: String,
    },

    /// `@localpart:server_name` would be longer than [`MAX_MXID_LENGTH`].
    #[error(
        "the username is too long: the full Matrix ID would be {mxid_length} bytes, more than the {MAX_MXID_LENGTH} allowed; the username can have at most {max_localpart} characters on this server"
    )]
    TooLong {
        /// Length of `@localpart:server_name`, in bytes.
        mxid_length: usize,
        /// The longest localpart this server name leaves room for.
        max_localpart: usize,
    },
}

fn describe_chars(chars: &[char]) -> String {
    let quoted: Vec<String> = chars
        .iter()
        .map(|c| match c {
            ' ' => "a space".to_owned(),
            c if c.is_control() || c.is_whitespace() => format!("'{}'", c.escape_unicode()),
            c => format!("'{c}'"),
        })
        .collect();
    match quoted.as_slice() {
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
        [] => "nothing wrong".to_owned(),
    }
}

fn uppercase_hint(localpart: &str) -> String {
    lowercase_suggestion(localpart)
        .map(|lowered| format!(" (did you mean {lowered:?}?)"))
        .unwrap_or_default()
}

/// The lowercase form of `localpart`, when lowercasing is all it needs.
fn lowercase_suggestion(localpart: &str) -> Option<String> {
    let lowered = localpart.to_lowercase();
    (lowered != localpart && is_allowed_text(&lowered)).then_some(lowered)
}

fn is_allowed_char(c: char) -> bool {
    matches!(c, 'a'..='z' | '0'..='9' | '.' | '=' | '_' | '/' | '+' | '-')
}

fn is_allowed_text(text: &str) -> bool {
    text.chars().all(is_allowed_char)
}

impl LocalpartError {
    /// For a username refused only for its capitals, its lowercase form ("did you mean...").
    #[must_use]
    pub fn lowercase_suggestion(&self) -> Option<String> {
        match self {
            Self::InvalidCharacters { localpart, .. } => lowercase_suggestion(localpart),
            _ => None,
        }
    }
}

impl Localpart {
    /// Reads a username given either bare (`bob`) or as the full Matrix ID of a user of this
    /// server (`@bob:example.com`), and checks every rule. Nothing is lowercased: `Bob` is
    /// refused with a hint, rather than silently becoming someone else's `bob`.
    ///
    /// # Errors
    /// The first rule broken, in this order: the server, emptiness, the characters, digits
    /// only, the length.
    pub fn parse(input: &str, server_name: &str) -> Result<Self, LocalpartError> {
        let localpart = Self::strip_server(input, server_name)?;
        if localpart.is_empty() {
            return Err(LocalpartError::Empty);
        }

        let mut invalid: Vec<char> = Vec::new();
        for c in localpart.chars() {
            if !is_allowed_char(c) && !invalid.contains(&c) {
                invalid.push(c);
            }
        }
        if !invalid.is_empty() {
            return Err(LocalpartError::InvalidCharacters {
                localpart: localpart.to_owned(),
                invalid,
            });
        }

        if localpart.chars().all(|c| c.is_ascii_digit()) {
            return Err(LocalpartError::AllNumeric {
                localpart: localpart.to_owned(),
            });
        }

        let length = mxid_length(localpart, server_name);
        if length > MAX_MXID_LENGTH {
            return Err(LocalpartError::TooLong {
                mxid_length: length,
                max_localpart: MAX_MXID_LENGTH.saturating_sub(mxid_length("", server_name)),
            });
        }

        Ok(Self(localpart.to_owned()))
    }

    /// The localpart of `input`, given bare or as `@localpart:server_name`, without checking
    /// the rules. This is for finding existing accounts, whose names may predate the rules
    /// (imported from Synapse, for instance); new names go through [`Localpart::parse`].
    ///
    /// # Errors
    /// [`LocalpartError::MissingServer`] for an `@` without a server,
    /// [`LocalpartError::OtherServer`] for a Matrix ID of another server.
    pub fn strip_server<'a>(input: &'a str, server_name: &str) -> Result<&'a str, LocalpartError> {
        let Some(mxid) = input.strip_prefix('@') else {
            return Ok(input);
        };
        // The server name may hold a port (`example.com:8448`), so the localpart ends at the
        // first colon, not the last; localparts cannot contain colons.
        let Some((localpart, server)) = mxid.split_once(':') else {
            return Err(LocalpartError::MissingServer {
                input: input.to_owned(),
                server_name: server_name.to_owned(),
            });
        };
        if server != server_name {
            return Err(LocalpartError::OtherServer {
                input: input.to_owned(),
                found: server.to_owned(),
                expected: server_name.to_owned(),
            });
        }
        Ok(localpart)
    }

    /// The localpart itself.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The full Matrix user ID on `server_name`: `@localpart:server_name`.
    #[must_use]
    pub fn mxid(&self, server_name: &str) -> String {
        format!("@{}:{server_name}", self.0)
    }
}

fn mxid_length(localpart: &str, server_name: &str) -> usize {
    // '@' and ':'
    localpart.len() + server_name.len() + 2
}

impl fmt::Display for Localpart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for Localpart {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl From<Localpart> for String {
    fn from(localpart: Localpart) -> Self {
        localpart.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SERVER: &str = "example.com";

    fn parse(input: &str) -> Result<Localpart, LocalpartError> {
        Localpart::parse(input, SERVER)
    }

    #[test]
    fn a_bare_localpart_is_accepted_as_is() {
        let localpart = parse("bob").expect("valid");
        assert_eq!(localpart.as_str(), "bob");
    }

    #[test]
    fn a_full_mxid_of_this_server_gives_its_localpart() {
        let localpart = parse("@bob:example.com").expect("valid");
        assert_eq!(localpart.as_str(), "bob");
    }

    #[test]
    fn the_mxid_is_at_localpart_colon_server_name() {
        let localpart = parse("bob").expect("valid");
        assert_eq!(localpart.mxid(SERVER), "@bob:example.com");
    }

    #[test]
    fn a_server_name_with_a_port_is_matched_whole() {
        let localpart = Localpart::parse("@bob:example.com:8448", "example.com:8448");
        assert_eq!(localpart.map(String::from), Ok("bob".to_owned()));
    }

    #[test]
    fn an_mxid_of_another_server_is_refused_naming_both_servers() {
        let error = parse("@bob:elsewhere.org").expect_err("other server");
        assert_eq!(
            error,
            LocalpartError::OtherServer {
                input: "@bob:elsewhere.org".to_owned(),
                found: "elsewhere.org".to_owned(),
                expected: SERVER.to_owned(),
            }
        );
        let message = error.to_string();
        assert!(message.contains("elsewhere.org"), "{message}");
        assert!(message.contains("example.com"), "{message}");
    }

    #[test]
    fn an_at_sign_without_a_server_is_refused_with_the_expected_form() {
        let error = parse("@bob").expect_err("no server");
        assert!(matches!(error, LocalpartError::MissingServer { .. }));
        assert!(error.to_string().contains("@bob:example.com"), "{error}");
    }

    #[test]
    fn an_empty_username_is_refused() {
        assert_eq!(parse(""), Err(LocalpartError::Empty));
    }

    #[test]
    fn an_mxid_with_an_empty_localpart_is_refused_as_empty() {
        assert_eq!(parse("@:example.com"), Err(LocalpartError::Empty));
    }

    #[test]
    fn every_allowed_character_is_accepted() {
        let localpart = parse("a-z.0=9_/+-").expect("valid");
        assert_eq!(localpart.as_str(), "a-z.0=9_/+-");
    }

    #[test]
    fn uppercase_letters_are_refused_with_the_lowercase_suggestion() {
        let error = parse("Bob").expect_err("uppercase");
        assert_eq!(
            error,
            LocalpartError::InvalidCharacters {
                localpart: "Bob".to_owned(),
                invalid: vec!['B'],
            }
        );
        assert!(
            error.to_string().contains("did you mean \"bob\""),
            "{error}"
        );
    }

    #[test]
    fn other_characters_are_refused_and_each_is_named_once() {
        let error = parse("bob smith!!").expect_err("invalid characters");
        assert_eq!(
            error,
            LocalpartError::InvalidCharacters {
                localpart: "bob smith!!".to_owned(),
                invalid: vec![' ', '!'],
            }
        );
        let message = error.to_string();
        assert!(message.contains("a space and '!'"), "{message}");
        assert!(!message.contains("did you mean"), "{message}");
    }

    #[test]
    fn non_ascii_letters_are_refused() {
        let error = parse("élodie").expect_err("non-ASCII");
        assert!(
            matches!(error, LocalpartError::InvalidCharacters { ref invalid, .. } if invalid == &['é']),
            "{error:?}"
        );
    }

    #[test]
    fn a_colon_in_a_bare_localpart_is_refused() {
        let error = parse("bob:example.com").expect_err("colon");
        assert!(
            matches!(error, LocalpartError::InvalidCharacters { ref invalid, .. } if invalid == &[':']),
            "{error:?}"
        );
    }

    #[test]
    fn an_all_numeric_username_is_refused() {
        let error = parse("12345").expect_err("digits only");
        assert_eq!(
            error,
            LocalpartError::AllNumeric {
                localpart: "12345".to_owned()
            }
        );
        assert!(error.to_string().contains("digits only"), "{error}");
    }

    #[test]
    fn digits_with_one_other_character_are_accepted() {
        assert!(parse("12345a").is_ok());
        assert!(parse("_12345").is_ok());
    }

    #[test]
    fn a_username_whose_mxid_is_exactly_255_bytes_is_accepted() {
        // '@' + localpart + ':' + "example.com" = 255
        let longest = "a".repeat(MAX_MXID_LENGTH - SERVER.len() - 2);
        assert!(parse(&longest).is_ok());
    }

    #[test]
    fn a_username_whose_mxid_is_256_bytes_is_refused_with_the_limit() {
        let too_long = "a".repeat(MAX_MXID_LENGTH - SERVER.len() - 1);
        let error = parse(&too_long).expect_err("too long");
        assert_eq!(
            error,
            LocalpartError::TooLong {
                mxid_length: 256,
                max_localpart: 242,
            }
        );
        assert!(error.to_string().contains("at most 242"), "{error}");
    }

    #[test]
    fn strip_server_keeps_names_that_break_the_rules() {
        assert_eq!(
            Localpart::strip_server("@Bob:example.com", SERVER),
            Ok("Bob")
        );
        assert_eq!(Localpart::strip_server("12345", SERVER), Ok("12345"));
    }

    #[test]
    fn strip_server_still_refuses_another_server() {
        assert!(matches!(
            Localpart::strip_server("@bob:elsewhere.org", SERVER),
            Err(LocalpartError::OtherServer { .. })
        ));
    }
}
