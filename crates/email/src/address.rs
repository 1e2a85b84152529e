//! Email address validation, shared by sending and by forms that collect addresses.

pub use lettre::Address;

use lettre::address::AddressError;

use crate::{AddressProblem, InvalidAddress};

/// The longest address SMTP can carry in a `RCPT TO` path (RFC 5321 §4.5.3.1.3).
pub const MAX_ADDRESS_LENGTH: usize = 254;

/// Parses a bare address (`user@example.com`, surrounding whitespace ignored).
///
/// Display names (`Name <user@example.com>`) are refused: this is for what a person types as
/// their address. The domain is not looked up.
///
/// # Errors
/// When `input` is not a single valid address.
pub fn parse_address(input: &str) -> Result<Address, InvalidAddress> {
    let invalid = |problem: AddressProblem| InvalidAddress {
        input: input.to_owned(),
        problem,
    };
    let trimmed = input.trim();
    if trimmed.is_empty() {
        return Err(invalid(AddressProblem::Empty));
    }
    if trimmed.len() > MAX_ADDRESS_LENGTH {
        return Err(invalid(AddressProblem::TooLong));
    }
    if trimmed.contains(['<', '>', ',', ';']) || trimmed.chars().any(char::is_whitespace) {
        return Err(invalid(AddressProblem::NotBare));
    }
    trimmed.parse::<Address>().map_err(|error| {
        invalid(match error {
            AddressError::InvalidUser => AddressProblem::InvalidUser,
            AddressError::InvalidDomain => AddressProblem::InvalidDomain,
            // Angle brackets were refused above; whatever else lettre finds wrong is a
            // missing part (`alice@`, `@example.com`, `alice`).
            _ => AddressProblem::MissingParts,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plain_address_is_accepted_and_trimmed() {
        let address = parse_address("  alice@example.com\n").expect("valid");
        assert_eq!(address.to_string(), "alice@example.com");
        assert_eq!(address.user(), "alice");
        assert_eq!(address.domain(), "example.com");
    }

    #[test]
    fn malformed_addresses_are_refused() {
        for input in [
            "",
            "alice",
            "alice@",
            "@example.com",
            "alice@@example.com",
            "Alice <alice@example.com>",
            "alice@example.com, bob@example.com",
            "ali ce@example.com",
            "alice@exa mple.com",
            "alice@example.com\r\nBcc: eve@example.com",
        ] {
            assert!(parse_address(input).is_err(), "{input:?} was accepted");
        }
    }

    #[test]
    fn overlong_addresses_are_refused() {
        let input = format!("{}@example.com", "a".repeat(250));
        let error = parse_address(&input).expect_err("too long");
        assert_eq!(error.problem, AddressProblem::TooLong);
    }

    #[test]
    fn each_problem_is_named() {
        let problem = |input: &str| parse_address(input).expect_err(input).problem;
        assert_eq!(problem("  "), AddressProblem::Empty);
        assert_eq!(
            problem("Alice <alice@example.com>"),
            AddressProblem::NotBare
        );
        assert_eq!(problem("alice"), AddressProblem::MissingParts);
        assert_eq!(
            problem("alice@exa_mple..com"),
            AddressProblem::InvalidDomain
        );
        assert_eq!(problem("al(ice@example.com"), AddressProblem::InvalidUser);
    }
}
