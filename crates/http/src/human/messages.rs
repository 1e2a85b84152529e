//! What the refusals of other crates say to a person, in the language of the request.
//!
//! The model, password and email crates name what is wrong as closed sets of cases (their
//! `Display` forms are English, for logs and the command line); pages say each case through
//! the translation catalogs instead.

use portcullis_email::{AddressProblem, InvalidAddress};
use portcullis_model::LocalpartError;
use portcullis_passwords::{Suggestion, Warning, WeakPassword};
use portcullis_services::registration::{DisplayNameProblem, MAX_DISPLAY_NAME_CHARS};

use crate::pages::tr;

/// Why a username cannot be used, as a sentence.
#[must_use]
pub fn username_error(error: &LocalpartError) -> String {
    match error {
        LocalpartError::Empty => tr("username.error.empty", &[]),
        LocalpartError::MissingServer { input, server_name } => {
            let example = format!("@{}:{server_name}", input.trim_start_matches('@'));
            tr(
                "username.error.missing_server",
                &[("input", input), ("example", &example)],
            )
        }
        LocalpartError::OtherServer {
            input,
            found,
            expected,
        } => tr(
            "username.error.other_server",
            &[("input", input), ("found", found), ("expected", expected)],
        ),
        LocalpartError::InvalidCharacters { localpart, invalid } => {
            let mut message = tr(
                "username.error.invalid_characters",
                &[
                    ("username", localpart),
                    ("characters", &characters(invalid)),
                ],
            );
            if let Some(lowered) = error.lowercase_suggestion() {
                message.push(' ');
                message.push_str(&tr(
                    "username.error.uppercase_hint",
                    &[("suggestion", &lowered)],
                ));
            }
            message
        }
        LocalpartError::AllNumeric { localpart } => {
            tr("username.error.all_numeric", &[("username", localpart)])
        }
        LocalpartError::TooLong { max_localpart, .. } => tr(
            "username.error.too_long",
            &[("max", &max_localpart.to_string())],
        ),
    }
}

/// The characters a username may not have, quoted and listed: "‘A’, ‘!’ and a space".
fn characters(chars: &[char]) -> String {
    let quoted: Vec<String> = chars
        .iter()
        .map(|c| match c {
            ' ' => tr("username.char.space", &[]),
            c if c.is_control() || c.is_whitespace() => tr(
                "username.char.quoted",
                &[("char", &c.escape_unicode().to_string())],
            ),
            c => tr("username.char.quoted", &[("char", &c.to_string())]),
        })
        .collect();
    match quoted.as_slice() {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => tr("list.and", &[("rest", &rest.join(", ")), ("last", last)]),
    }
}

/// Why an address is not valid, as the end of the sentence "This email address is not
/// valid: …".
#[must_use]
pub fn address_problem(error: &InvalidAddress) -> String {
    match error.problem {
        AddressProblem::Empty => tr("email.problem.empty", &[]),
        AddressProblem::TooLong => tr("email.problem.too_long", &[]),
        AddressProblem::NotBare => tr("email.problem.not_bare", &[]),
        AddressProblem::MissingParts => tr("email.problem.missing_parts", &[]),
        AddressProblem::InvalidUser => tr("email.problem.invalid_user", &[]),
        AddressProblem::InvalidDomain => tr("email.problem.invalid_domain", &[]),
    }
}

/// Why a display name cannot be used, in the reader's language.
#[must_use]
pub fn display_name_problem(problem: DisplayNameProblem) -> String {
    match problem {
        DisplayNameProblem::TooLong => tr(
            "display_name.error.too_long",
            &[("max", &MAX_DISPLAY_NAME_CHARS.to_string())],
        ),
        DisplayNameProblem::Control => tr("display_name.error.control", &[]),
    }
}

/// Why a new password is refused and how to choose a better one: the verdict, the warning
/// when there is one, then the suggestions.
#[must_use]
pub fn weak_password(weak: &WeakPassword) -> String {
    let mut sentences = vec![tr("password.weak", &[])];
    sentences.extend(weak.warning.map(warning));
    sentences.extend(weak.suggestions.iter().copied().map(suggestion));
    sentences.join(" ")
}

fn warning(warning: Warning) -> String {
    match warning {
        Warning::StraightRowsOfKeysAreEasyToGuess => tr("password.warning.straight_rows", &[]),
        Warning::ShortKeyboardPatternsAreEasyToGuess => {
            tr("password.warning.short_keyboard_patterns", &[])
        }
        Warning::RepeatsLikeAaaAreEasyToGuess => tr("password.warning.repeats", &[]),
        Warning::RepeatsLikeAbcAbcAreOnlySlightlyHarderToGuess => {
            tr("password.warning.repeated_groups", &[])
        }
        Warning::ThisIsATop10Password => tr("password.warning.top_10", &[]),
        Warning::ThisIsATop100Password => tr("password.warning.top_100", &[]),
        Warning::ThisIsACommonPassword => tr("password.warning.common", &[]),
        Warning::ThisIsSimilarToACommonlyUsedPassword => {
            tr("password.warning.similar_to_common", &[])
        }
        Warning::SequencesLikeAbcAreEasyToGuess => tr("password.warning.sequences", &[]),
        Warning::RecentYearsAreEasyToGuess => tr("password.warning.recent_years", &[]),
        Warning::AWordByItselfIsEasyToGuess => tr("password.warning.single_word", &[]),
        Warning::DatesAreOftenEasyToGuess => tr("password.warning.dates", &[]),
        Warning::NamesAndSurnamesByThemselvesAreEasyToGuess => tr("password.warning.names", &[]),
        Warning::CommonNamesAndSurnamesAreEasyToGuess => tr("password.warning.common_names", &[]),
    }
}

fn suggestion(suggestion: Suggestion) -> String {
    match suggestion {
        Suggestion::UseAFewWordsAvoidCommonPhrases => tr("password.suggestion.few_words", &[]),
        Suggestion::NoNeedForSymbolsDigitsOrUppercaseLetters => {
            tr("password.suggestion.no_need_for_symbols", &[])
        }
        Suggestion::AddAnotherWordOrTwo => tr("password.suggestion.another_word", &[]),
        Suggestion::CapitalizationDoesntHelpVeryMuch => tr("password.suggestion.capitals", &[]),
        Suggestion::AllUppercaseIsAlmostAsEasyToGuessAsAllLowercase => {
            tr("password.suggestion.all_capitals", &[])
        }
        Suggestion::ReversedWordsArentMuchHarderToGuess => {
            tr("password.suggestion.reversed_words", &[])
        }
        Suggestion::PredictableSubstitutionsDontHelpVeryMuch => {
            tr("password.suggestion.substitutions", &[])
        }
        Suggestion::UseALongerKeyboardPatternWithMoreTurns => {
            tr("password.suggestion.longer_keyboard_pattern", &[])
        }
        Suggestion::AvoidRepeatedWordsAndCharacters => tr("password.suggestion.repeats", &[]),
        Suggestion::AvoidSequences => tr("password.suggestion.sequences", &[]),
        Suggestion::AvoidRecentYears => tr("password.suggestion.recent_years", &[]),
        Suggestion::AvoidYearsThatAreAssociatedWithYou => tr("password.suggestion.your_years", &[]),
        Suggestion::AvoidDatesAndYearsThatAreAssociatedWithYou => {
            tr("password.suggestion.your_dates", &[])
        }
    }
}

#[cfg(test)]
mod tests {
    use portcullis_templates::Locale;

    use super::*;

    fn in_locale(locale: Locale, message: impl FnOnce() -> String) -> String {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime")
            .block_on(crate::pages::with_locale(locale, async move { message() }))
    }

    fn username_error_of(locale: Locale, input: &str) -> String {
        let error = portcullis_model::Localpart::parse(input, "example.com").expect_err(input);
        in_locale(locale, || username_error(&error))
    }

    #[test]
    fn every_username_rule_is_explained_in_french() {
        for input in [
            "",
            "@bob",
            "@bob:other.org",
            "Bob!",
            "12345",
            &"a".repeat(300),
        ] {
            let english = username_error_of(Locale::En, input);
            let french = username_error_of(Locale::Fr, input);
            assert_ne!(english, french, "{input:?} is explained in French");
            assert!(!french.contains("username."), "no raw key in {french:?}");
        }
    }

    #[test]
    fn bad_characters_are_listed_and_uppercase_gets_a_hint() {
        let message = username_error_of(Locale::En, "Bob Smith");

        assert!(message.contains("‘B’, a space and ‘S’"), "{message}");
        assert!(
            !message.contains("Did you mean"),
            "lowercased it still has a space"
        );

        let message = username_error_of(Locale::Fr, "Bob");
        assert!(message.contains("« B »"), "{message}");
        assert!(
            message.ends_with("Vouliez-vous dire « bob » ?"),
            "{message}"
        );
    }

    #[test]
    fn a_too_long_username_says_how_long_it_may_be() {
        let message = username_error_of(Locale::En, &"a".repeat(300));

        // 255 bytes, minus "@" and ":example.com".
        assert!(message.contains("at most 242 characters"), "{message}");
    }

    #[test]
    fn address_problems_are_explained_in_french() {
        for input in [
            "",
            "alice",
            "Alice <alice@example.com>",
            "alice@exa_mple..com",
        ] {
            let error = portcullis_email::parse_address(input).expect_err(input);
            let english = in_locale(Locale::En, || address_problem(&error));
            let french = in_locale(Locale::Fr, || address_problem(&error));
            assert_ne!(english, french, "{input:?}");
        }
    }

    #[test]
    fn a_weak_password_gets_its_verdict_warning_and_advice_in_french() {
        let weak = portcullis_passwords::check_complexity("password1", &[], 3).expect_err("weak");

        let french = in_locale(Locale::Fr, || weak_password(&weak));

        assert!(
            french.starts_with("Ce mot de passe est trop facile à deviner."),
            "{french}"
        );
        assert!(
            french.contains("C’est un mot de passe très courant."),
            "{french}"
        );
        assert!(!french.contains("password."), "no raw key in {french:?}");
    }

    #[test]
    fn every_warning_and_suggestion_has_a_sentence() {
        // Every case zxcvbn has, so that a new one in an update shows up here as a raw key.
        let warnings = [
            Warning::StraightRowsOfKeysAreEasyToGuess,
            Warning::ShortKeyboardPatternsAreEasyToGuess,
            Warning::RepeatsLikeAaaAreEasyToGuess,
            Warning::RepeatsLikeAbcAbcAreOnlySlightlyHarderToGuess,
            Warning::ThisIsATop10Password,
            Warning::ThisIsATop100Password,
            Warning::ThisIsACommonPassword,
            Warning::ThisIsSimilarToACommonlyUsedPassword,
            Warning::SequencesLikeAbcAreEasyToGuess,
            Warning::RecentYearsAreEasyToGuess,
            Warning::AWordByItselfIsEasyToGuess,
            Warning::DatesAreOftenEasyToGuess,
            Warning::NamesAndSurnamesByThemselvesAreEasyToGuess,
            Warning::CommonNamesAndSurnamesAreEasyToGuess,
        ];
        let suggestions = [
            Suggestion::UseAFewWordsAvoidCommonPhrases,
            Suggestion::NoNeedForSymbolsDigitsOrUppercaseLetters,
            Suggestion::AddAnotherWordOrTwo,
            Suggestion::CapitalizationDoesntHelpVeryMuch,
            Suggestion::AllUppercaseIsAlmostAsEasyToGuessAsAllLowercase,
            Suggestion::ReversedWordsArentMuchHarderToGuess,
            Suggestion::PredictableSubstitutionsDontHelpVeryMuch,
            Suggestion::UseALongerKeyboardPatternWithMoreTurns,
            Suggestion::AvoidRepeatedWordsAndCharacters,
            Suggestion::AvoidSequences,
            Suggestion::AvoidRecentYears,
            Suggestion::AvoidYearsThatAreAssociatedWithYou,
            Suggestion::AvoidDatesAndYearsThatAreAssociatedWithYou,
        ];
        for &locale in Locale::ALL {
            let sentences: Vec<String> = in_locale(locale, || {
                let mut all: Vec<String> = warnings.into_iter().map(warning).collect();
                all.extend(suggestions.into_iter().map(suggestion));
                all.join("\n")
            })
            .lines()
            .map(str::to_owned)
            .collect();
            for sentence in &sentences {
                assert!(
                    !sentence.starts_with("password."),
                    "{sentence} is a raw key"
                );
                assert!(
                    sentence.ends_with(['.', '?', '。', '？']),
                    "{sentence} is a sentence"
                );
            }
            let distinct: std::collections::BTreeSet<_> = sentences.iter().collect();
            assert_eq!(
                distinct.len(),
                sentences.len(),
                "each case has its own sentence"
            );
        }
    }
}
