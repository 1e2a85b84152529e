//! Enrolling a TOTP authenticator, signing in with its codes, and the recovery codes.

use chrono::TimeDelta;
use portcullis_keys::{Encrypter, EncryptionKey};
use portcullis_services::second_factor::{self, RECOVERY_CODES, Refused, code_at, step_at};
use rand::SeedableRng as _;

use crate::common::{add_user, start, world};

fn encrypter() -> Encrypter {
    Encrypter::new(EncryptionKey::from_hex(&"cd".repeat(32)).expect("a valid key"))
}

#[tokio::test]
async fn an_authenticator_is_enrolled_with_a_first_code_and_its_codes_work_once() {
    let world = world().await;
    let encrypter = encrypter();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(21);
    let mut tx = world.tx().await;
    let alice = add_user(&mut tx, "alice").await;

    let enrolment = second_factor::start_enrolment(
        &mut *tx,
        &encrypter,
        &alice,
        ("Example", "@alice:example.com"),
        &mut rng,
        start(),
    )
    .await
    .expect("storage works")
    .expect("started");
    assert!(
        enrolment
            .uri
            .contains(&format!("secret={}", enrolment.secret))
    );
    let secret = data_encoding::BASE32_NOPAD
        .decode(enrolment.secret.as_bytes())
        .expect("base32");
    // The app computes its codes from the secret; nothing else is needed.
    let now = start();
    let code = |at: chrono::DateTime<chrono::Utc>| code_at(&secret, step_at(at));

    // Not a second factor until confirmed.
    assert_eq!(
        second_factor::verify(&mut *tx, &encrypter, &alice, &code(now), now)
            .await
            .expect("storage works"),
        Err(Refused::NoAuthenticator)
    );
    let wrong = if code(now) == "000000" {
        "111111"
    } else {
        "000000"
    };
    assert_eq!(
        second_factor::confirm_enrolment(&mut *tx, &encrypter, &alice, wrong, &mut rng, now)
            .await
            .expect("storage works"),
        Err(Refused::Wrong)
    );
    let recovery =
        second_factor::confirm_enrolment(&mut *tx, &encrypter, &alice, &code(now), &mut rng, now)
            .await
            .expect("storage works")
            .expect("confirmed");
    assert_eq!(recovery.len(), RECOVERY_CODES);

    // The confirming code is spent; the next step's code works once.
    assert_eq!(
        second_factor::verify(&mut *tx, &encrypter, &alice, &code(now), now)
            .await
            .expect("storage works"),
        Err(Refused::Replayed)
    );
    let later = now + TimeDelta::seconds(30);
    assert_eq!(
        second_factor::verify(&mut *tx, &encrypter, &alice, &code(later), later)
            .await
            .expect("storage works"),
        Ok(())
    );
    assert_eq!(
        second_factor::verify(&mut *tx, &encrypter, &alice, &code(later), later)
            .await
            .expect("storage works"),
        Err(Refused::Replayed)
    );
    // A second enrolment is refused while this one stands.
    let again = second_factor::start_enrolment(
        &mut *tx,
        &encrypter,
        &alice,
        ("Example", "@alice:example.com"),
        &mut rng,
        later,
    )
    .await
    .expect("storage works");
    assert_eq!(again, None);
    tx.commit().await.expect("committed");
}

#[tokio::test]
async fn recovery_codes_work_once_each_however_they_are_typed_and_removal_ends_everything() {
    let world = world().await;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(22);
    let mut tx = world.tx().await;
    let alice = add_user(&mut tx, "alice").await;
    let codes = second_factor::new_recovery_codes(&mut *tx, &alice, &mut rng, start())
        .await
        .expect("storage works");
    assert_eq!(codes.len(), RECOVERY_CODES);
    assert!(
        codes
            .iter()
            .all(|code| code.len() == 14 && code.matches('-').count() == 2),
        "{codes:?}"
    );
    let distinct: std::collections::BTreeSet<_> = codes.iter().collect();
    assert_eq!(distinct.len(), RECOVERY_CODES);

    let typed = codes[3].to_uppercase().replace('-', " ");
    assert!(
        second_factor::use_recovery_code(&mut *tx, &alice, &typed, start())
            .await
            .expect("storage works")
    );
    assert!(
        !second_factor::use_recovery_code(&mut *tx, &alice, &codes[3], start())
            .await
            .expect("storage works"),
        "used once"
    );
    assert!(
        !second_factor::use_recovery_code(&mut *tx, &alice, "", start())
            .await
            .expect("storage works")
    );
    assert!(
        second_factor::remove_all(&mut *tx, &alice)
            .await
            .expect("storage works")
    );
    assert!(
        !second_factor::use_recovery_code(&mut *tx, &alice, &codes[4], start())
            .await
            .expect("storage works"),
        "removed"
    );
    tx.commit().await.expect("committed");
}
