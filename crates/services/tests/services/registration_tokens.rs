//! Issuing registration tokens: given or generated, and the refusals the CLI and the Admin
//! API both show.

use chrono::Duration;
use portcullis_services::registration_tokens::{self, GENERATED_LENGTH, NewToken, Problem};
use rand::SeedableRng as _;

use crate::common::{start, world};

#[tokio::test]
async fn a_generated_token_is_random_letters_and_digits_and_can_be_consumed() {
    let world = world().await;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    let mut tx = world.tx().await;
    let new = NewToken {
        usage_limit: Some(1),
        ..NewToken::default()
    };
    let (stored, token) = registration_tokens::issue(&mut *tx, &mut rng, &new, start())
        .await
        .expect("storage works")
        .expect("issued");
    let (_, other) = registration_tokens::issue(&mut *tx, &mut rng, &new, start())
        .await
        .expect("storage works")
        .expect("issued");
    assert_eq!(token.len(), GENERATED_LENGTH);
    assert!(token.chars().all(|c| c.is_ascii_alphanumeric()), "{token}");
    assert_ne!(token, other);
    assert_eq!(stored.usage_limit, Some(1));

    let consumed = tx
        .registration_tokens()
        .consume(&token, start())
        .await
        .expect("storage works");
    assert_eq!(consumed.map(|t| t.id), Some(stored.id));
}

#[tokio::test]
async fn refusals_name_what_is_wrong() {
    let world = world().await;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    let mut tx = world.tx().await;
    let cases = [
        (
            NewToken {
                token: Some("  "),
                ..NewToken::default()
            },
            Problem::Empty,
        ),
        (
            NewToken {
                usage_limit: Some(0),
                ..NewToken::default()
            },
            Problem::ZeroUsageLimit,
        ),
        (
            NewToken {
                expires_at: Some(start() - Duration::seconds(1)),
                ..NewToken::default()
            },
            Problem::ExpiresInThePast,
        ),
    ];
    for (new, problem) in cases {
        let refused = registration_tokens::issue(&mut *tx, &mut rng, &new, start())
            .await
            .expect("storage works");
        assert_eq!(refused.err(), Some(problem), "{new:?}");
    }

    let given = NewToken {
        token: Some(" welcome "),
        ..NewToken::default()
    };
    let (_, token) = registration_tokens::issue(&mut *tx, &mut rng, &given, start())
        .await
        .expect("storage works")
        .expect("issued");
    assert_eq!(token, "welcome");
    let again = registration_tokens::issue(&mut *tx, &mut rng, &given, start())
        .await
        .expect("storage works");
    assert_eq!(again.err(), Some(Problem::Exists));
}
