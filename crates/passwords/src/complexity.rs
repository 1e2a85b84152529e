//! Password strength, estimated with zxcvbn: a score from 0 (guessed in under a thousand
//! tries) to 4 (over ten billion), and advice for the user when a password falls short.

use std::fmt;

pub use zxcvbn::feedback::{Suggestion, Warning};

/// Characters looked at when estimating strength. zxcvbn's work grows quickly with length, and
/// the check runs before any rate limit can help; past this length a password is long enough
/// that its start decides.
const ESTIMATED_CHARS: usize = 256;

/// A password weaker than required, with what to tell the user.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub struct WeakPassword {
    /// zxcvbn's score, from 0 to 4.
    pub score: u8,
    /// The score that was required.
    pub minimum: u8,
    /// What is wrong, when zxcvbn can tell ("This is a top-10 common password."). A closed
    /// set, so that pages can say it in the reader's language; `Display` is English.
    pub warning: Option<Warning>,
    /// How to do better; never empty.
    pub suggestions: Vec<Suggestion>,
}

impl fmt::Display for WeakPassword {
    /// One paragraph for the user: the verdict, the warning if any, then the suggestions.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("This password is too easy to guess.")?;
        let warning = self.warning.iter().map(ToString::to_string);
        for sentence in warning.chain(self.suggestions.iter().map(ToString::to_string)) {
            write!(f, " {sentence}")?;
            if !sentence.ends_with('.') {
                f.write_str(".")?;
            }
        }
        Ok(())
    }
}

/// Checks that `password` scores at least `minimum` (MAS's `minimum_complexity`, 3 by
/// default). `user_inputs` are words the password should not lean on, such as the username
/// and email address: zxcvbn treats them as the first words an attacker would try.
///
/// # Errors
/// [`WeakPassword`], with feedback, when the score is below `minimum`.
pub fn check_complexity(
    password: &str,
    user_inputs: &[&str],
    minimum: u8,
) -> Result<(), WeakPassword> {
    let estimated = match password.char_indices().nth(ESTIMATED_CHARS) {
        Some((end, _)) => &password[..end],
        None => password,
    };
    let entropy = zxcvbn::zxcvbn(estimated, user_inputs);
    let score = u8::from(entropy.score());
    if score >= minimum {
        return Ok(());
    }

    let warning = entropy
        .feedback()
        .and_then(zxcvbn::feedback::Feedback::warning);
    let mut suggestions: Vec<Suggestion> = entropy
        .feedback()
        .map(|feedback| feedback.suggestions().to_vec())
        .unwrap_or_default();
    // zxcvbn only gives feedback to the weakest passwords (score 2 or less); a stricter
    // minimum still deserves advice.
    if suggestions.is_empty() {
        suggestions.push(Suggestion::AddAnotherWordOrTwo);
    }
    Err(WeakPassword {
        score,
        minimum,
        warning,
        suggestions,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// MAS's default `minimum_complexity`.
    const DEFAULT_MINIMUM: u8 = 3;

    #[test]
    fn a_common_password_is_too_weak() {
        let result = check_complexity("password1", &[], DEFAULT_MINIMUM);

        let weak = result.expect_err("a top-100 password");
        assert_eq!(weak.score, 0);
        assert!(weak.warning.is_some());
    }

    #[test]
    fn a_long_passphrase_is_strong_enough() {
        let result = check_complexity("correct horse battery staple", &[], DEFAULT_MINIMUM);

        assert!(result.is_ok());
    }

    #[test]
    fn a_password_strong_alone_is_weak_when_it_is_the_username() {
        let password = "Zqxvbnrtlkwp";
        check_complexity(password, &[], DEFAULT_MINIMUM).expect("random letters are strong");

        let result = check_complexity(password, &["zqxvbnrtlkwp"], DEFAULT_MINIMUM);

        assert!(result.is_err());
    }

    #[test]
    fn a_minimum_of_zero_accepts_anything() {
        let result = check_complexity("", &[], 0);

        assert!(result.is_ok());
    }

    #[test]
    fn feedback_is_given_even_when_zxcvbn_has_none() {
        // Scores 3: zxcvbn gives no feedback above 2, but the minimum here is 4.
        let weak = check_complexity("tr0ub4dour&3x", &[], 4);

        let weak = weak.expect_err("scores below 4");
        assert!(!weak.suggestions.is_empty());
    }

    #[test]
    fn the_message_for_the_user_starts_with_the_verdict_and_ends_with_a_full_stop() {
        let weak = check_complexity("password1", &[], DEFAULT_MINIMUM).expect_err("weak");

        let message = weak.to_string();

        assert!(message.starts_with("This password is too easy to guess."));
        assert!(message.ends_with('.'));
    }

    #[test]
    fn a_very_long_password_is_estimated_on_its_start() {
        let password = "correct horse battery staple ".repeat(1000);

        let result = check_complexity(&password, &[], DEFAULT_MINIMUM);

        assert!(result.is_ok());
    }
}
