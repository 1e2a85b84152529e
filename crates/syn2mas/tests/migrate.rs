//! The migration over rows as Synapse holds them, into a fresh database of each backend.

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use portcullis_storage::{BoxRepository, UserFilter};
use portcullis_storage_sql::{Backend, Database, testing};
use portcullis_syn2mas::{
    MigrateOptions, migrate,
    migrate::{MigrateError, NoProgress},
    synapse_database::{
        SynapseAccessToken, SynapseData, SynapseDevice, SynapseRefreshToken, SynapseThreepid,
        SynapseUser,
    },
};

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0)
        .single()
        .expect("a date")
}

fn user(name: &str) -> SynapseUser {
    user_of(name, "example.com")
}

fn user_of(name: &str, server: &str) -> SynapseUser {
    SynapseUser {
        name: format!("@{name}:{server}"),
        password_hash: None,
        creation_ts: 1_700_000_000,
        admin: false,
        is_guest: false,
        deactivated: false,
        locked: false,
        appservice_id: None,
    }
}

fn device(user: &str, device_id: &str) -> SynapseDevice {
    SynapseDevice {
        user_id: format!("@{user}:example.com"),
        device_id: device_id.to_owned(),
        display_name: Some(format!("{device_id}'s name")),
        last_seen: Some(1_700_000_100_000),
        ip: None,
        user_agent: Some("Element".to_owned()),
    }
}

fn token(id: i64, user: &str, device: Option<&str>, value: &str) -> SynapseAccessToken {
    SynapseAccessToken {
        id,
        user_id: format!("@{user}:example.com"),
        device_id: device.map(str::to_owned),
        token: value.to_owned(),
        valid_until_ms: None,
        puppets_user_id: None,
        refresh_token_id: None,
    }
}

fn threepid(user: &str, medium: &str, address: &str) -> SynapseThreepid {
    SynapseThreepid {
        user_id: format!("@{user}:example.com"),
        medium: medium.to_owned(),
        address: address.to_owned(),
        added_at: 1_700_000_000_000,
    }
}

/// alice (admin, bcrypt password, two devices), bob (locked, an address alice has in another
/// case), a guest with a device, an appservice's user, carol (deactivated, one device), and a user of another
/// server; tokens of every kind a migration meets.
fn data() -> SynapseData {
    let expired = now() - TimeDelta::minutes(1);
    let mut alice = user("alice");
    alice.admin = true;
    alice.password_hash =
        Some("$2b$04$0123456789abcdefghijkuJ9nJxT6mC3p9kFh7bFq8t4tZ0p1bG3e".to_owned());
    let mut bob = user("bob");
    bob.locked = true;
    let mut guest = user("guest");
    guest.is_guest = true;
    let mut bridged = user("bridge_x");
    bridged.appservice_id = Some("bridge".to_owned());
    let mut carol = user("carol");
    carol.deactivated = true;
    let mut expired_token = token(2, "alice", Some("PHONE"), "syt_expired");
    expired_token.valid_until_ms = Some(expired.timestamp_millis());
    let mut refreshable = token(3, "alice", Some("PHONE"), "syt_refreshable");
    refreshable.valid_until_ms = Some(expired.timestamp_millis());
    refreshable.refresh_token_id = Some(10);
    let mut puppet = token(5, "bridge_x", None, "syt_puppet");
    puppet.puppets_user_id = Some("@alice:example.com".to_owned());
    SynapseData {
        users: vec![
            alice,
            bob,
            guest,
            bridged,
            carol,
            user_of("stranger", "elsewhere.org"),
        ],
        threepids: vec![
            threepid("alice", "email", "Alice@Example.org"),
            threepid("alice", "msisdn", "447700900000"),
            threepid("bob", "email", "alice@example.org"),
        ],
        external_ids: Vec::new(),
        devices: vec![
            device("alice", "LAPTOP"),
            device("alice", "PHONE"),
            device("carol", "DESK"),
            device("guest", "GUESTDEVICE"),
        ],
        access_tokens: vec![
            token(1, "alice", Some("LAPTOP"), "syt_laptop"),
            expired_token,
            refreshable,
            token(4, "alice", None, "syt_nodevice"),
            puppet,
            token(6, "carol", Some("DESK"), "syt_carol"),
        ],
        refresh_tokens: vec![SynapseRefreshToken {
            id: 10,
            user_id: "@alice:example.com".to_owned(),
            device_id: "PHONE".to_owned(),
            token: "syr_refresh".to_owned(),
            next_token_id: None,
        }],
        other_clients: 0,
    }
}

fn options() -> MigrateOptions {
    MigrateOptions {
        server_name: "example.com".to_owned(),
        bcrypt_version: Some(1),
        providers: std::collections::HashMap::new(),
        now: now(),
    }
}

async fn repo(db: &Database) -> BoxRepository {
    db.transaction().await.expect("a unit of work")
}

async fn moves_and_says_what_it_does_not(db: Database) {
    let mut tx = repo(&db).await;
    let summary = migrate(&mut *tx, &data(), &options(), &mut NoProgress)
        .await
        .expect("migrated");
    tx.commit().await.expect("committed");

    assert_eq!(
        (
            summary.users,
            summary.admins,
            summary.locked,
            summary.deactivated
        ),
        (4, 1, 1, 1)
    );
    assert_eq!(summary.legacy_guests, 1);
    assert_eq!(
        (
            summary.passwords,
            summary.emails,
            summary.other_third_party_ids
        ),
        (1, 1, 1)
    );
    assert_eq!(
        (
            summary.compat_sessions,
            summary.access_tokens,
            summary.refresh_tokens
        ),
        (2, 2, 1)
    );
    let skipped: Vec<(&str, &str)> = summary
        .skipped
        .iter()
        .map(|skipped| (skipped.what.as_str(), skipped.why.as_str()))
        .collect();
    for expected in [
        (
            "device GUESTDEVICE of @guest:example.com",
            "its user is a guest",
        ),
        (
            "user @bridge_x:example.com",
            "belongs to the appservice bridge, which keeps managing it",
        ),
        ("user @stranger:elsewhere.org", "not a user of this server"),
        (
            "email alice@example.org of @bob:example.com",
            "the address, in another case, is already someone's",
        ),
        (
            "device DESK of @carol:example.com",
            "its user is deactivated",
        ),
        ("access token 2 of @alice:example.com", "expired"),
        ("access token 4 of @alice:example.com", "it has no device"),
        (
            "access token 5 of @bridge_x:example.com",
            "an appservice's token acting as another user",
        ),
        (
            "access token 6 of @carol:example.com",
            "its device is not moved",
        ),
    ] {
        assert!(
            skipped.contains(&expected),
            "{expected:?} not in {skipped:#?}"
        );
    }
    assert_eq!(skipped.len(), 9, "{skipped:#?}");

    // The tokens clients hold go on working, with their session's Synapse admin rights.
    let mut tx = repo(&db).await;
    let active = tx
        .compat_access_tokens()
        .find_active_by_token("syt_laptop", now())
        .await
        .expect("read")
        .expect("an active token");
    assert_eq!(active.user.username, "alice");
    assert_eq!(active.session.device_id, "LAPTOP");
    assert!(active.session.is_synapse_admin);
    assert!(
        tx.compat_refresh_tokens()
            .find_by_token("syr_refresh")
            .await
            .expect("read")
            .is_some()
    );
    let alice = active.user;
    assert!(alice.can_request_admin);
    let password = tx
        .user_passwords()
        .active(&alice)
        .await
        .expect("read")
        .expect("a password");
    assert_eq!(password.version, 1);
    let guest = tx
        .users()
        .find_by_username("guest")
        .await
        .expect("read")
        .expect("moved");
    assert!(guest.legacy_guest && !alice.legacy_guest);
    let kept = tx
        .user_third_party_ids()
        .list_for_user(&alice)
        .await
        .expect("read");
    assert_eq!(kept, [("msisdn".to_owned(), "447700900000".to_owned())]);
    tx.rollback().await.expect("rolled back");

    // A second run finds the database no longer empty.
    let mut tx = repo(&db).await;
    let again = migrate(&mut *tx, &data(), &options(), &mut NoProgress).await;
    assert!(matches!(again, Err(MigrateError::NotEmpty(4))), "{again:?}");
    tx.rollback().await.expect("rolled back");
}

#[tokio::test]
async fn moves_and_says_what_it_does_not_on_sqlite() {
    testing::run_on_sqlite(true, moves_and_says_what_it_does_not).await;
}

#[tokio::test]
async fn moves_and_says_what_it_does_not_on_postgres() {
    testing::run_on_postgres(true, moves_and_says_what_it_does_not).await;
}

#[tokio::test]
async fn one_migration_runs_at_a_time_on_postgres() {
    // On SQLite a second migration waits for the first instead: the lock is the database's
    // write lock, and the second then finds the users of the first.
    testing::run_on_postgres(true, |db| async move {
        assert_eq!(db.backend(), Backend::Postgres);
        let mut first = repo(&db).await;
        assert!(
            first
                .try_lock(portcullis_syn2mas::migrate::LOCK)
                .await
                .expect("asked")
        );
        let mut second = repo(&db).await;
        let refused = migrate(&mut *second, &data(), &options(), &mut NoProgress).await;
        assert!(
            matches!(refused, Err(MigrateError::AlreadyRunning)),
            "{refused:?}"
        );
        second.rollback().await.expect("rolled back");
        first.rollback().await.expect("rolled back");
        let mut tx = repo(&db).await;
        let users = tx
            .users()
            .count(&UserFilter::default())
            .await
            .expect("counted");
        assert_eq!(users, 0);
        tx.rollback().await.expect("rolled back");
    })
    .await;
}
