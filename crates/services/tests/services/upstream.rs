//! A completed upstream sign-in: the linked user signed in or re-authenticated, a new account
//! registered from the claims, linked to an existing user as `on_conflict` allows, or to the
//! user signed in.

use portcullis_config::sections::upstream_oauth2::OnConflict;
use portcullis_model::{
    AuthenticationKind, BrowserSession, Localpart, UpstreamAnswer, UpstreamAuthorizationSession,
    UpstreamProvider, User,
};
use portcullis_services::{
    registration::{Checked, Circumstances, Conflict},
    sessions::start_browser_session,
    upstream_links::{self, Unlinked},
    upstream_logout,
    upstream_registration::{self, Existing},
    upstream_sign_in::{self, Continued},
    ways_in::Counted,
};
use portcullis_storage::{BoxRepository, NewUpstreamAuthorizationSession, UpstreamLinkFilter};
use serde_json::json;

use crate::common::{World, add_user, start, world};

const PROVIDER: &str = "01JPQ0C4ETQD0000000000P0C1";

async fn add_provider(tx: &mut BoxRepository) {
    tx.upstream_providers()
        .upsert(&UpstreamProvider {
            id: PROVIDER.to_owned(),
            issuer: Some("https://id.example.com".to_owned()),
            human_name: Some("Pocket ID".to_owned()),
            brand_name: None,
            encrypted_client_secret: None,
            config: json!({}),
            created_at: start(),
            disabled_at: None,
        })
        .await
        .expect("the provider is stored");
}

/// A sign-in of `subject` the provider answered, as the callback leaves it.
async fn answered(world: &World, subject: &str, state: &str) -> UpstreamAuthorizationSession {
    let mut tx = world.tx().await;
    if tx
        .upstream_providers()
        .find(PROVIDER)
        .await
        .expect("storage works")
        .is_none()
    {
        add_provider(&mut tx).await;
    }
    let attempt = tx
        .upstream_authorization_sessions()
        .add(
            &NewUpstreamAuthorizationSession {
                provider_id: PROVIDER.to_owned(),
                state: state.to_owned(),
                nonce: None,
                code_verifier: None,
                post_auth_action: None,
            },
            start(),
        )
        .await
        .expect("the attempt is stored");
    let link = match tx
        .upstream_links()
        .find_by_subject(PROVIDER, subject)
        .await
        .expect("storage works")
    {
        Some(link) => link,
        None => tx
            .upstream_links()
            .add(PROVIDER, subject, Some("alice@id.example.com"), start())
            .await
            .expect("the link is stored"),
    };
    let answer = UpstreamAnswer {
        link_id: link.id,
        id_token: None,
        id_token_claims: Some(json!({ "sub": subject, "preferred_username": "alice" })),
        userinfo_claims: None,
        extra_callback_parameters: None,
    };
    let completed = tx
        .upstream_authorization_sessions()
        .complete(attempt.id, &answer, start())
        .await
        .expect("storage works")
        .expect("completed");
    tx.commit().await.expect("commit");
    completed
}

fn checked(username: &str) -> Checked {
    Checked {
        localpart: Localpart::parse(username, "example.com").expect("a valid username"),
        display_name: Some("Alice Liddell".to_owned()),
        token: None,
        email: Some("alice@example.com".to_owned()),
    }
}

fn circumstances() -> Circumstances<'static> {
    Circumstances {
        terms_uri: None,
        user_agent: Some("Firefox"),
        now: start(),
        second_factor_first: false,
    }
}

async fn signed_in(world: &World, user: &User) -> BrowserSession {
    let mut tx = world.tx().await;
    let session =
        start_browser_session(&mut *tx, user, AuthenticationKind::Password, None, start())
            .await
            .expect("a session");
    tx.commit().await.expect("commit");
    session
}

async fn links_of(world: &World, user: &User) -> Vec<String> {
    let mut tx = world.tx().await;
    let filter = UpstreamLinkFilter {
        user: Some(user.id),
        ..UpstreamLinkFilter::default()
    };
    tx.upstream_links()
        .list_page(&filter, portcullis_storage::Pagination::first(10))
        .await
        .expect("storage works")
        .edges
        .into_iter()
        .map(|link| link.subject)
        .collect()
}

#[tokio::test]
async fn registering_makes_the_account_links_it_and_uses_the_attempt_once() {
    let world = world().await;
    let attempt = answered(&world, "alice-sub", "s1").await;

    let mut tx = world.tx().await;
    let (user, session) =
        upstream_registration::register(&mut *tx, &attempt, &checked("alice"), circumstances())
            .await
            .expect("storage works")
            .expect("registered");
    tx.commit().await.expect("commit");
    let session = session.expect("signed in: no second factor required");
    assert_eq!(user.username, "alice");
    assert_eq!(links_of(&world, &user).await, ["alice-sub"]);

    let mut tx = world.tx().await;
    let emails = tx
        .user_emails()
        .list_for_user(&user)
        .await
        .expect("storage works");
    assert_eq!(
        emails
            .iter()
            .map(|email| email.email.as_str())
            .collect::<Vec<_>>(),
        ["alice@example.com"]
    );
    let used = tx
        .upstream_authorization_sessions()
        .find(attempt.id)
        .await
        .expect("storage works")
        .expect("found");
    assert_eq!(used.user_session_id, Some(session.id));
    assert!(used.consumed_at.is_some());
    let authenticated = tx
        .browser_sessions()
        .last_authentication(&session)
        .await
        .expect("storage works");
    assert_eq!(authenticated, Some(start()));
    drop(tx);
    // Provisioned on the homeserver with the display name, as any new account.
    let jobs = world.take_jobs().await;
    assert_eq!(jobs.len(), 1, "{jobs:?}");
    assert!(
        jobs[0].payload.to_string().contains("Alice Liddell"),
        "{jobs:?}"
    );

    // The same attempt registers nobody else.
    let mut tx = world.tx().await;
    let again =
        upstream_registration::register(&mut *tx, &attempt, &checked("alice2"), circumstances())
            .await
            .expect("storage works");
    assert_eq!(again.err(), Some(Conflict::AlreadyFinished));
    tx.rollback().await.expect("rollback");
    let mut tx = world.tx().await;
    assert!(
        tx.users()
            .find_by_username("alice2")
            .await
            .expect("storage works")
            .is_none()
    );
}

#[tokio::test]
async fn a_username_taken_meanwhile_makes_nothing() {
    let world = world().await;
    let attempt = answered(&world, "alice-sub", "s1").await;
    let mut tx = world.tx().await;
    add_user(&mut tx, "alice").await;
    tx.commit().await.expect("commit");

    let mut tx = world.tx().await;
    let registered =
        upstream_registration::register(&mut *tx, &attempt, &checked("alice"), circumstances())
            .await
            .expect("storage works");
    assert_eq!(registered.err(), Some(Conflict::UsernameTaken));
}

#[tokio::test]
async fn on_conflict_decides_whether_an_existing_user_is_linked() {
    let world = world().await;
    let mut tx = world.tx().await;
    let alice = add_user(&mut tx, "alice").await;
    tx.commit().await.expect("commit");
    let localpart = Localpart::parse("alice", "example.com").expect("valid");
    let existing = |on_conflict| {
        let world = &world;
        let localpart = &localpart;
        async move {
            let mut tx = world.tx().await;
            upstream_registration::existing_user(&mut *tx, PROVIDER, localpart, on_conflict)
                .await
                .expect("storage works")
        }
    };
    assert_eq!(existing(OnConflict::Fail).await, Existing::Taken);
    assert_eq!(
        existing(OnConflict::Set).await,
        Existing::Linkable(alice.clone())
    );

    // `add` links a first account; then `set` refuses a second, `replace` swaps it.
    let first = answered(&world, "first-sub", "s1").await;
    link_existing(&world, &first, &alice, OnConflict::Add)
        .await
        .expect("linked");
    assert_eq!(links_of(&world, &alice).await, ["first-sub"]);
    assert_eq!(existing(OnConflict::Set).await, Existing::LinkedAlready);

    let second = answered(&world, "second-sub", "s2").await;
    let refused = link_existing(&world, &second, &alice, OnConflict::Set).await;
    assert_eq!(refused.err(), Some(Existing::LinkedAlready));
    let user = link_existing(&world, &second, &alice, OnConflict::Replace)
        .await
        .expect("linked");
    assert_eq!(user.id, alice.id);
    assert_eq!(links_of(&world, &alice).await, ["second-sub"]);

    // A locked user is linked to nothing.
    let mut tx = world.tx().await;
    let alice = tx.users().lock(alice, start()).await.expect("locked");
    tx.commit().await.expect("commit");
    assert_eq!(existing(OnConflict::Add).await, Existing::Unusable);
    let third = answered(&world, "third-sub", "s3").await;
    let refused = link_existing(&world, &third, &alice, OnConflict::Add).await;
    assert_eq!(refused.err(), Some(Existing::Unusable));
}

/// `upstream_registration::link_existing` in a unit of work of its own, committed when it
/// links (the user), rolled back when it refuses.
async fn link_existing(
    world: &World,
    attempt: &UpstreamAuthorizationSession,
    user: &User,
    on_conflict: OnConflict,
) -> Result<User, Existing> {
    let mut tx = world.tx().await;
    let linked = upstream_registration::link_existing(
        &mut *tx,
        attempt,
        user,
        (
            on_conflict,
            portcullis_config::SecondFactorRequirement::Nobody,
        ),
        None,
        start(),
    )
    .await
    .expect("storage works");
    match linked {
        Ok((user, _session)) => {
            tx.commit().await.expect("commit");
            Ok(user)
        }
        Err(refused) => {
            tx.rollback().await.expect("rollback");
            Err(refused)
        }
    }
}

#[tokio::test]
async fn a_signed_in_user_links_the_account_then_signs_in_and_reauthenticates_with_it() {
    let world = world().await;
    let mut tx = world.tx().await;
    let alice = add_user(&mut tx, "alice").await;
    let bob = add_user(&mut tx, "bob").await;
    tx.commit().await.expect("commit");
    let alice_session = signed_in(&world, &alice).await;

    // Signed in, an account linked to nobody: offered, then linked.
    let attempt = answered(&world, "alice-sub", "s1").await;
    let mut tx = world.tx().await;
    let continued = upstream_sign_in::continue_sign_in(
        &mut *tx,
        &attempt,
        Some((&alice, &alice_session)),
        portcullis_config::SecondFactorRequirement::Nobody,
        None,
        start(),
    )
    .await
    .expect("storage works");
    assert!(matches!(continued, Continued::Unlinked(_)), "{continued:?}");
    let later = start() + chrono::TimeDelta::minutes(10);
    assert!(
        upstream_registration::link_signed_in(&mut *tx, &attempt, &alice, &alice_session, later)
            .await
            .expect("storage works")
    );
    tx.commit().await.expect("commit");
    assert_eq!(links_of(&world, &alice).await, ["alice-sub"]);
    let mut tx = world.tx().await;
    assert_eq!(
        tx.browser_sessions()
            .last_authentication(&alice_session)
            .await
            .expect("storage works"),
        Some(later),
        "linking proves who the user is"
    );
    // Used once.
    assert!(
        !upstream_registration::link_signed_in(&mut *tx, &attempt, &alice, &alice_session, later)
            .await
            .expect("storage works")
    );
    drop(tx);

    // Signed in as alice again: a re-authentication.
    let again = answered(&world, "alice-sub", "s2").await;
    let much_later = later + chrono::TimeDelta::minutes(10);
    let mut tx = world.tx().await;
    let continued = upstream_sign_in::continue_sign_in(
        &mut *tx,
        &again,
        Some((&alice, &alice_session)),
        portcullis_config::SecondFactorRequirement::Nobody,
        None,
        much_later,
    )
    .await
    .expect("storage works");
    assert!(
        matches!(continued, Continued::Reauthenticated),
        "{continued:?}"
    );
    tx.commit().await.expect("commit");
    let mut tx = world.tx().await;
    assert_eq!(
        tx.browser_sessions()
            .last_authentication(&alice_session)
            .await
            .expect("storage works"),
        Some(much_later)
    );
    drop(tx);

    // Signed in as bob: nothing happens.
    let bob_session = signed_in(&world, &bob).await;
    let third = answered(&world, "alice-sub", "s3").await;
    let mut tx = world.tx().await;
    let continued = upstream_sign_in::continue_sign_in(
        &mut *tx,
        &third,
        Some((&bob, &bob_session)),
        portcullis_config::SecondFactorRequirement::Nobody,
        None,
        much_later,
    )
    .await
    .expect("storage works");
    assert!(matches!(continued, Continued::OtherUser), "{continued:?}");
    drop(tx);

    // Nobody signed in: alice, in a new session.
    let mut tx = world.tx().await;
    let continued = upstream_sign_in::continue_sign_in(
        &mut *tx,
        &third,
        None,
        portcullis_config::SecondFactorRequirement::Nobody,
        Some("Firefox"),
        much_later,
    )
    .await
    .expect("storage works");
    let Continued::SignedIn { user, session } = continued else {
        panic!("signed in: {continued:?}");
    };
    assert_eq!(user.id, alice.id);
    assert_ne!(session.id, alice_session.id);
}

#[tokio::test]
async fn unlinking_keeps_a_way_in() {
    let world = world().await;
    let mut tx = world.tx().await;
    let alice = add_user(&mut tx, "alice").await;
    let bob = add_user(&mut tx, "bob").await;
    // Two providers, as `config sync` stores them (the second one usable).
    for id in [PROVIDER, "01JPQ0C4ETQD0000000000P0C2"] {
        store_provider(&mut tx, id).await;
    }
    let first = tx
        .upstream_links()
        .add(PROVIDER, "alice-1", None, start())
        .await
        .expect("added");
    let first = tx
        .upstream_links()
        .associate(first, &alice)
        .await
        .expect("linked");
    tx.commit().await.expect("commit");

    // Alice has no password: her only account at a provider stays.
    let mut tx = world.tx().await;
    let unlinked = upstream_links::unlink(&mut *tx, &alice, first.id, COUNTED)
        .await
        .expect("storage works");
    assert_eq!(unlinked, Unlinked::LastWayIn);
    // Bob cannot unlink alice's.
    let unlinked = upstream_links::unlink(&mut *tx, &bob, first.id, COUNTED)
        .await
        .expect("storage works");
    assert_eq!(unlinked, Unlinked::NotFound);

    // With a second account at an enabled provider, the first goes.
    let second = tx
        .upstream_links()
        .add("01JPQ0C4ETQD0000000000P0C2", "alice-2", None, start())
        .await
        .expect("added");
    let second = tx
        .upstream_links()
        .associate(second, &alice)
        .await
        .expect("linked");
    let unlinked = upstream_links::unlink(&mut *tx, &alice, first.id, COUNTED)
        .await
        .expect("storage works");
    assert_eq!(unlinked, Unlinked::Removed);
    tx.commit().await.expect("commit");
    assert_eq!(links_of(&world, &alice).await, ["alice-2"]);

    // A password counts, unless passwords are switched off.
    let mut tx = world.tx().await;
    let hashed = portcullis_services::account::HashedPassword {
        version: 1,
        hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA".to_owned(),
    };
    portcullis_services::account::set_password(&mut *tx, &alice, &hashed, start())
        .await
        .expect("password set");
    let no_passwords = Counted {
        passwords: false,
        ..COUNTED
    };
    let unlinked = upstream_links::unlink(&mut *tx, &alice, second.id, no_passwords)
        .await
        .expect("storage works");
    assert_eq!(unlinked, Unlinked::LastWayIn);
    let unlinked = upstream_links::unlink(&mut *tx, &alice, second.id, COUNTED)
        .await
        .expect("storage works");
    assert_eq!(unlinked, Unlinked::Removed);
    tx.commit().await.expect("commit");
}

#[tokio::test]
async fn a_passkey_that_signs_in_alone_is_a_way_in_too() {
    let world = world().await;
    let mut tx = world.tx().await;
    let alice = add_user(&mut tx, "alice").await;
    store_provider(&mut tx, PROVIDER).await;
    let link = tx
        .upstream_links()
        .add(PROVIDER, "alice-1", None, start())
        .await
        .expect("added");
    let link = tx
        .upstream_links()
        .associate(link, &alice)
        .await
        .expect("linked");
    tx.user_passkeys()
        .add(
            &alice,
            portcullis_storage::NewPasskey {
                credential_id: "Y3JlZGVudGlhbA".to_owned(),
                name: "Laptop".to_owned(),
                user_handle: "aGFuZGxl".to_owned(),
                static_state: "c3RhdGlj".to_owned(),
                dynamic_state: "ZHluYW1pYw".to_owned(),
            },
            start(),
        )
        .await
        .expect("stored")
        .expect("a new credential");

    // Where a passkey does not sign in alone, the link is Alice's last way in.
    let passkeys_are_second_factors = Counted {
        passkey_sign_in: false,
        ..COUNTED
    };
    let unlinked = upstream_links::unlink(&mut *tx, &alice, link.id, passkeys_are_second_factors)
        .await
        .expect("storage works");
    assert_eq!(unlinked, Unlinked::LastWayIn);
    let unlinked = upstream_links::unlink(&mut *tx, &alice, link.id, COUNTED)
        .await
        .expect("storage works");
    assert_eq!(unlinked, Unlinked::Removed);
    tx.commit().await.expect("commit");
}

/// Stores the provider `id`, as `config sync` does.
async fn store_provider(tx: &mut BoxRepository, id: &str) {
    tx.upstream_providers()
        .upsert(&UpstreamProvider {
            id: id.to_owned(),
            issuer: Some("https://id.example.com".to_owned()),
            human_name: None,
            brand_name: None,
            encrypted_client_secret: None,
            config: json!({
                "id": id,
                "client_id": "portcullis",
                "token_endpoint_auth_method": "none",
            }),
            created_at: start(),
            disabled_at: None,
        })
        .await
        .expect("stored");
}

/// Passwords and passkeys both sign in here.
const COUNTED: Counted = Counted {
    passwords: true,
    passkey_sign_in: true,
};

/// A provider configured by hand (no discovery), signing with the client secret, whose
/// back-channel logouts do `on_backchannel_logout`.
fn hand_configured(on_backchannel_logout: &str) -> upstream_sign_in::Provider {
    upstream_sign_in::Provider {
        config: serde_json::from_value(json!({
            "id": PROVIDER,
            "issuer": "https://id.example.com",
            "discovery_mode": "disabled",
            "authorization_endpoint": "https://id.example.com/authorize",
            "token_endpoint": "https://id.example.com/token",
            "client_id": "portcullis",
            "token_endpoint_auth_method": "client_secret_post",
            "id_token_signed_response_alg": "HS256",
            "on_backchannel_logout": on_backchannel_logout,
        }))
        .expect("a provider"),
        client_secret: Some(zeroize::Zeroizing::new("a shared secret".to_owned())),
    }
}

fn logout_token(changes: serde_json::Value) -> String {
    let mut claims = json!({
        "iss": "https://id.example.com",
        "aud": "portcullis",
        "iat": start().timestamp(),
        "exp": start().timestamp() + 120,
        "jti": "j1",
        "sub": "alice-sub",
        "sid": "s1",
        "events": { "http://schemas.openid.net/event/backchannel-logout": {} },
    });
    for (name, value) in changes.as_object().expect("test data") {
        if value.is_null() {
            claims.as_object_mut().expect("test data").remove(name);
        } else {
            claims[name] = value.clone();
        }
    }
    portcullis_oidc_client::token::sign_with_secret(
        portcullis_config::sections::upstream_oauth2::JwsAlgorithm::Hs256,
        b"a shared secret",
        &claims,
    )
    .expect("signed")
}

#[tokio::test]
async fn a_back_channel_logout_ends_what_the_provider_says_and_nothing_on_a_bad_token() {
    let world = world().await;
    let mut tx = world.tx().await;
    let alice = add_user(&mut tx, "alice").await;
    tx.commit().await.expect("commit");
    // Alice signed in with the provider (sid s1), then a client and a Matrix login API
    // client signed in from that browser session.
    let attempt = answered(&world, "alice-sub", "s1").await;
    let mut tx = world.tx().await;
    tx.upstream_links()
        .claim(attempt.link_id.expect("answered"), &alice)
        .await
        .expect("storage works")
        .expect("linked");
    let continued = upstream_sign_in::continue_sign_in(
        &mut *tx,
        &attempt,
        None,
        portcullis_config::SecondFactorRequirement::Nobody,
        None,
        start(),
    )
    .await
    .expect("storage works");
    let Continued::SignedIn { session, .. } = continued else {
        panic!("signed in: {continued:?}");
    };
    // `answered` stores the claims without a sid: the sign-in is found by its sub.
    let client = crate::common::add_client(&mut tx).await;
    let oauth = tx
        .oauth_sessions()
        .add(
            &portcullis_storage::NewOAuthSession {
                client_id: client.id,
                user_id: Some(alice.id),
                user_session_id: Some(session.id),
                scope: "openid urn:matrix:client:device:PHONEDEVICE"
                    .parse()
                    .expect("a scope"),
                user_agent: None,
                human_name: None,
            },
            start(),
        )
        .await
        .expect("oauth session");
    let compat = tx
        .compat_sessions()
        .add(
            &portcullis_storage::NewCompatSession {
                user_id: alice.id,
                device_id: "LAPTOP".to_owned(),
                human_name: None,
                user_session_id: Some(session.id),
                is_synapse_admin: false,
                user_agent: None,
            },
            start(),
        )
        .await
        .expect("compat session");
    tx.commit().await.expect("commit");
    world.take_jobs().await;

    let client_state = upstream_sign_in::UpstreamClient::default();
    let logout = |provider: upstream_sign_in::Provider, token: String| {
        let world = &world;
        let client_state = &client_state;
        async move {
            upstream_logout::backchannel_logout(
                &world.database,
                client_state,
                &provider,
                &token,
                start(),
            )
            .await
        }
    };

    // Refused tokens change nothing.
    for bad in [
        logout_token(json!({"nonce": "n"})),
        logout_token(json!({"iss": "https://evil.example.com"})),
        logout_token(json!({"exp": start().timestamp() - 3600})),
        logout_token(json!({"events": {}})),
        "not.a.jwt".to_owned(),
    ] {
        assert!(logout(hand_configured("logout_all"), bad).await.is_err());
    }
    // `do_nothing` validates and does nothing.
    let ended = logout(
        hand_configured("do_nothing"),
        logout_token(json!({"sid": null})),
    )
    .await
    .expect("valid");
    assert_eq!((ended.browser_sessions, ended.client_sessions), (0, 0));
    let mut tx = world.tx().await;
    assert!(
        tx.browser_sessions()
            .find(session.id)
            .await
            .expect("read")
            .expect("found")
            .is_active()
    );
    drop(tx);

    // `logout_all`: the browser session and both client sessions end, their devices go.
    let ended = logout(
        hand_configured("logout_all"),
        logout_token(json!({"sid": null})),
    )
    .await
    .expect("valid");
    assert_eq!((ended.browser_sessions, ended.client_sessions), (1, 2));
    let mut tx = world.tx().await;
    assert!(
        !tx.browser_sessions()
            .find(session.id)
            .await
            .expect("read")
            .expect("found")
            .is_active()
    );
    assert!(
        !tx.oauth_sessions()
            .find(oauth.id)
            .await
            .expect("read")
            .expect("found")
            .is_active()
    );
    assert!(
        !tx.compat_sessions()
            .find(compat.id)
            .await
            .expect("read")
            .expect("found")
            .is_active()
    );
    drop(tx);
    let jobs = world.take_jobs().await;
    let payloads: String = jobs.iter().map(|job| job.payload.to_string()).collect();
    assert!(
        payloads.contains("PHONEDEVICE") && payloads.contains("LAPTOP"),
        "{payloads}"
    );

    // Again: nothing left to end.
    let ended = logout(
        hand_configured("logout_all"),
        logout_token(json!({"sid": null})),
    )
    .await
    .expect("valid");
    assert_eq!((ended.browser_sessions, ended.client_sessions), (0, 0));
}

#[tokio::test]
async fn a_user_with_a_second_factor_is_asked_for_it_after_the_provider_unless_it_vouches() {
    use portcullis_config::SecondFactorRequirement;
    use portcullis_services::second_factor;

    let world = world().await;
    let mut tx = world.tx().await;
    let alice = add_user(&mut tx, "alice").await;
    add_authenticator_app(&mut tx, &alice).await;
    tx.commit().await.expect("commit");
    let attempt = answered(&world, "alice-sub", "s1").await;
    let mut tx = world.tx().await;
    tx.upstream_links()
        .claim(attempt.link_id.expect("answered"), &alice)
        .await
        .expect("storage works")
        .expect("linked");

    let nobody = SecondFactorRequirement::Nobody;
    let continued =
        upstream_sign_in::continue_sign_in(&mut *tx, &attempt, None, nobody, None, start())
            .await
            .expect("storage works");
    let Continued::SecondFactor(user) = continued else {
        panic!("a second step: {continued:?}");
    };
    assert_eq!(user.id, alice.id);
    let unused = tx
        .upstream_authorization_sessions()
        .find(attempt.id)
        .await
        .expect("storage works")
        .expect("the attempt");
    assert_eq!(
        unused.consumed_at, None,
        "nothing recorded before the second step"
    );

    // A provider that says its user proved several factors is taken at its word.
    let mut vouched = attempt.clone();
    vouched.id_token_claims = Some(json!({ "sub": "alice-sub", "amr": ["pwd", "mfa"] }));
    assert!(upstream_sign_in::vouches_for_second_factor(&vouched));
    let mut single = attempt.clone();
    single.id_token_claims = Some(json!({ "sub": "alice-sub", "amr": ["pwd"] }));
    assert!(!upstream_sign_in::vouches_for_second_factor(&single));
    let continued =
        upstream_sign_in::continue_sign_in(&mut *tx, &vouched, None, nobody, None, start())
            .await
            .expect("storage works");
    assert!(
        matches!(continued, Continued::SignedIn { .. }),
        "{continued:?}"
    );
    tx.rollback().await.expect("rollback");

    // After the second step, the session consumes the attempt, once.
    let mut tx = world.tx().await;
    let session = second_factor::start_browser_session(
        &mut *tx,
        &alice,
        (AuthenticationKind::Upstream, AuthenticationKind::Totp),
        None,
        start(),
    )
    .await
    .expect("storage works");
    assert!(
        upstream_sign_in::consume_after_second_factor(&mut *tx, attempt.id, &session, start())
            .await
            .expect("storage works")
    );
    assert!(
        !upstream_sign_in::consume_after_second_factor(&mut *tx, attempt.id, &session, start())
            .await
            .expect("storage works"),
        "an attempt signs in once"
    );
    tx.commit().await.expect("commit");

    // Without an authenticator app, a requirement asks for one all the same.
    let bob_attempt = answered(&world, "bob-sub", "s2").await;
    let mut tx = world.tx().await;
    let bob = add_user(&mut tx, "bob").await;
    tx.upstream_links()
        .claim(bob_attempt.link_id.expect("answered"), &bob)
        .await
        .expect("storage works")
        .expect("linked");
    let everyone = SecondFactorRequirement::Everyone;
    let continued =
        upstream_sign_in::continue_sign_in(&mut *tx, &bob_attempt, None, everyone, None, start())
            .await
            .expect("storage works");
    assert!(
        matches!(continued, Continued::SecondFactor(_)),
        "{continued:?}"
    );
}

/// Gives `user` a confirmed authenticator app, in `tx`.
async fn add_authenticator_app(tx: &mut BoxRepository, user: &User) {
    use portcullis_services::second_factor;

    let encrypter = portcullis_keys::Encrypter::new(
        portcullis_keys::EncryptionKey::from_hex(&"cd".repeat(32)).expect("a valid key"),
    );
    let enrolment = second_factor::start_enrolment(
        &mut **tx,
        &encrypter,
        user,
        ("Example", "@alice:example.com"),
        &mut rand::rngs::OsRng,
        start(),
    )
    .await
    .expect("storage works")
    .expect("no authenticator app yet");
    let secret = data_encoding::BASE32_NOPAD
        .decode(enrolment.secret.as_bytes())
        .expect("base32");
    let code = second_factor::code_at(&secret, second_factor::step_at(start()));
    second_factor::confirm_enrolment(
        &mut **tx,
        &encrypter,
        user,
        &code,
        &mut rand::rngs::OsRng,
        start(),
    )
    .await
    .expect("storage works")
    .expect("confirmed");
}

#[tokio::test]
async fn linking_a_user_with_a_second_factor_starts_no_session_and_leaves_the_attempt() {
    let world = world().await;
    let mut tx = world.tx().await;
    let alice = add_user(&mut tx, "alice").await;
    add_authenticator_app(&mut tx, &alice).await;
    tx.commit().await.expect("commit");

    let attempt = answered(&world, "alice-sub", "s1").await;
    let mut tx = world.tx().await;
    let linked = upstream_registration::link_existing(
        &mut *tx,
        &attempt,
        &alice,
        (
            OnConflict::Add,
            portcullis_config::SecondFactorRequirement::Nobody,
        ),
        None,
        start(),
    )
    .await
    .expect("storage works")
    .expect("linked");
    tx.commit().await.expect("commit");
    assert_eq!(linked.0.id, alice.id);
    assert!(linked.1.is_none(), "no session before the second step");
    assert_eq!(links_of(&world, &alice).await, ["alice-sub"]);
    let mut tx = world.tx().await;
    let stored = tx
        .upstream_authorization_sessions()
        .find(attempt.id)
        .await
        .expect("storage works")
        .expect("there");
    tx.rollback().await.expect("rollback");
    assert_eq!(
        stored.consumed_at, None,
        "left for the session after the second step"
    );

    // A new account under `required: everyone` is made without a session too.
    let second = answered(&world, "bob-sub", "s2").await;
    let mut tx = world.tx().await;
    let registered = upstream_registration::register(
        &mut *tx,
        &second,
        &checked("bob"),
        Circumstances {
            second_factor_first: true,
            ..circumstances()
        },
    )
    .await
    .expect("storage works")
    .expect("registered");
    tx.commit().await.expect("commit");
    assert!(registered.1.is_none());
    assert_eq!(links_of(&world, &registered.0).await, ["bob-sub"]);
}
