//! The connection against a real Synapse (matrix-synapse 1.163.2 from PyPI).
//!
//! Each test starts its own Synapse with a fresh SQLite database on a free port, through
//! `shared/peers/synapse/run-synapse.sh` (the `shared/` folder beside this repository
//! checkout), and stops it when the test ends, even on failure. A start takes a few
//! seconds; the first one also installs Synapse into `target/synapse-venv` (override with
//! `SYNAPSE_VENV`), which needs PyPI. Without Python or network, the tests print a notice
//! and pass, unless `CI` is set: then they fail.
//!
//! Synapse contacts the auth service only when a client presents a token, which these tests
//! never do, so `MAS_ENDPOINT` points at a closed port.

use std::collections::BTreeSet;

use portcullis_homeserver::{
    HomeserverConnection, HomeserverError, HomeserverUser, LocalpartAvailability, ProvisionRequest,
    ReadOnlyConnection, SynapseConnection, UpsertOutcome,
};
use portcullis_test_synapse::{Options, TestSynapse};

const SECRET: &str = "portcullis-homeserver-test-secret";
const SERVER_NAME: &str = portcullis_test_synapse::SERVER_NAME;

/// A Synapse that is never asked to introspect: `MAS_ENDPOINT` is a closed port.
fn start_synapse() -> Option<TestSynapse> {
    TestSynapse::start(&Options::new(SECRET, "http://127.0.0.1:9/"))
}

trait Connect {
    fn connection(&self) -> SynapseConnection;
    fn connection_with_secret(&self, secret: &str) -> SynapseConnection;
}

impl Connect for TestSynapse {
    fn connection(&self) -> SynapseConnection {
        self.connection_with_secret(SECRET)
    }

    fn connection_with_secret(&self, secret: &str) -> SynapseConnection {
        SynapseConnection::new(SERVER_NAME, self.url(), secret).expect("the URL is valid")
    }
}

/// Whether the user has this device, asked without changing anything that matters:
/// renaming answers 404 for a device Synapse does not have.
async fn has_device(connection: &SynapseConnection, localpart: &str, device_id: &str) -> bool {
    match connection
        .update_device_display_name(localpart, device_id, "probe")
        .await
    {
        Ok(()) => true,
        Err(HomeserverError::NotFound { .. }) => false,
        Err(other) => panic!("probing device {device_id}: {other}"),
    }
}

/// The user, which must exist.
async fn existing_user(connection: &SynapseConnection, localpart: &str) -> HomeserverUser {
    connection
        .query_user(localpart)
        .await
        .expect("query succeeds")
        .unwrap_or_else(|| panic!("{localpart} exists"))
}

#[tokio::test]
async fn a_user_is_provisioned_then_updated_and_its_localpart_is_taken() {
    let Some(synapse) = start_synapse() else {
        return;
    };
    let connection = synapse.connection();

    // Step 1: a fresh localpart is available, an invalid one is not, and nobody has it.
    let availability = connection.is_localpart_available("alice").await;
    assert_eq!(availability.ok(), Some(LocalpartAvailability::Available));
    let invalid = connection
        .is_localpart_available("Not Valid")
        .await
        .expect("an answer");
    assert!(
        matches!(invalid, LocalpartAvailability::Invalid { .. }),
        "{invalid:?}"
    );
    assert_eq!(connection.query_user("alice").await.ok(), Some(None));

    // Step 2: the first provisioning creates the user, with its display name.
    let created = connection
        .provision_user(
            &ProvisionRequest::new("alice")
                .set_displayname("Alice")
                .set_emails(vec!["alice@example.org".to_owned()]),
        )
        .await
        .expect("provisioning succeeds");
    assert_eq!(created, UpsertOutcome::Created);
    let user = connection
        .query_user("alice")
        .await
        .expect("query succeeds")
        .expect("the user exists");
    assert_eq!(user.user_id, "@alice:localhost");
    assert_eq!(user.display_name.as_deref(), Some("Alice"));
    assert!(!user.is_deactivated && !user.is_suspended);

    // Step 3: provisioning again updates it.
    let updated = connection
        .provision_user(
            &ProvisionRequest::new("alice")
                .set_displayname("Alice Liddell")
                .set_avatar_url("mxc://localhost/avatar")
                .unset_emails()
                .locked(false),
        )
        .await
        .expect("provisioning succeeds");
    assert_eq!(updated, UpsertOutcome::Updated);
    let user = connection
        .query_user("alice")
        .await
        .expect("query succeeds")
        .expect("the user exists");
    assert_eq!(user.display_name.as_deref(), Some("Alice Liddell"));
    assert_eq!(user.avatar_url.as_deref(), Some("mxc://localhost/avatar"));

    // Step 4: the localpart is taken now.
    let availability = connection.is_localpart_available("alice").await;
    assert_eq!(availability.ok(), Some(LocalpartAvailability::InUse));

    // Step 5: Synapse refuses an invalid localpart at provisioning, for good.
    let error = connection
        .provision_user(&ProvisionRequest::new("Not Valid"))
        .await
        .expect_err("an invalid localpart is refused");
    assert!(
        matches!(&error, HomeserverError::Refused { errcode, .. } if errcode == "M_INVALID_USERNAME"),
        "{error:?}"
    );
    assert!(!error.is_retryable());
}

#[tokio::test]
async fn display_name_changes_deactivation_and_reactivation_reach_synapse() {
    let Some(synapse) = start_synapse() else {
        return;
    };
    let connection = synapse.connection();
    connection
        .provision_user(&ProvisionRequest::new("bob").set_displayname("Bob"))
        .await
        .expect("provisioning succeeds");

    // Step 1: set, then unset, the display name.
    connection
        .set_displayname("bob", "Robert")
        .await
        .expect("set succeeds");
    assert_eq!(
        existing_user(&connection, "bob")
            .await
            .display_name
            .as_deref(),
        Some("Robert")
    );
    connection
        .unset_displayname("bob")
        .await
        .expect("unset succeeds");
    assert_eq!(existing_user(&connection, "bob").await.display_name, None);

    // Step 2: deleting with erase deactivates the user; it still exists.
    connection
        .delete_user("bob", true)
        .await
        .expect("delete succeeds");
    assert!(existing_user(&connection, "bob").await.is_deactivated);

    // Step 3: reactivation brings it back.
    connection
        .reactivate_user("bob")
        .await
        .expect("reactivation succeeds");
    assert!(!existing_user(&connection, "bob").await.is_deactivated);

    // Step 4: a user Synapse does not know is a final "not found" for every write.
    let error = connection
        .set_displayname("nobody", "Nobody")
        .await
        .expect_err("nobody does not exist");
    assert!(
        matches!(error, HomeserverError::NotFound { .. }),
        "{error:?}"
    );
    assert!(!error.is_retryable());
    let error = connection
        .delete_user("nobody", false)
        .await
        .expect_err("nobody does not exist");
    assert!(
        matches!(error, HomeserverError::NotFound { .. }),
        "{error:?}"
    );
}

#[tokio::test]
async fn devices_are_created_renamed_synced_and_deleted_on_synapse() {
    let Some(synapse) = start_synapse() else {
        return;
    };
    let connection = synapse.connection();
    connection
        .provision_user(&ProvisionRequest::new("carol"))
        .await
        .expect("provisioning succeeds");

    // Step 1: upserting creates the device, then updates it.
    let first = connection
        .upsert_device("carol", "PHONE", None)
        .await
        .expect("upsert succeeds");
    assert_eq!(first, UpsertOutcome::Created);
    let second = connection
        .upsert_device("carol", "PHONE", Some("Carol's phone"))
        .await
        .expect("upsert succeeds");
    assert_eq!(second, UpsertOutcome::Updated);

    // Step 2: renaming an existing device works; a missing one is not found.
    connection
        .update_device_display_name("carol", "PHONE", "Old phone")
        .await
        .expect("rename succeeds");
    let error = connection
        .update_device_display_name("carol", "NOSUCH", "x")
        .await
        .expect_err("no such device");
    assert!(
        matches!(error, HomeserverError::NotFound { .. }),
        "{error:?}"
    );

    // Step 3: syncing adds the missing devices and deletes the others.
    let wanted = BTreeSet::from(["LAPTOP".to_owned(), "TABLET".to_owned()]);
    connection
        .sync_devices("carol", &wanted)
        .await
        .expect("sync succeeds");
    assert!(!has_device(&connection, "carol", "PHONE").await);
    assert!(has_device(&connection, "carol", "LAPTOP").await);
    assert!(has_device(&connection, "carol", "TABLET").await);

    // Step 4: deleting a device removes it; deleting it again still succeeds.
    connection
        .delete_device("carol", "TABLET")
        .await
        .expect("delete succeeds");
    assert!(!has_device(&connection, "carol", "TABLET").await);
    connection
        .delete_device("carol", "TABLET")
        .await
        .expect("deleting a missing device succeeds");

    // Step 5: a cross-signing reset is allowed for a known user only.
    connection
        .allow_cross_signing_reset("carol")
        .await
        .expect("allowed");
    let error = connection
        .allow_cross_signing_reset("nobody")
        .await
        .expect_err("nobody does not exist");
    assert!(
        matches!(error, HomeserverError::NotFound { .. }),
        "{error:?}"
    );

    // Step 6: device calls for an unknown user are not found.
    let error = connection
        .upsert_device("nobody", "PHONE", None)
        .await
        .expect_err("nobody does not exist");
    assert!(
        matches!(error, HomeserverError::NotFound { .. }),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_wrong_secret_is_refused_with_a_hint_about_matrix_secret() {
    let Some(synapse) = start_synapse() else {
        return;
    };
    let connection = synapse.connection_with_secret("not-the-secret");

    let error = connection
        .query_user("alice")
        .await
        .expect_err("the secret is wrong");

    assert!(
        matches!(error, HomeserverError::SecretRefused { status: 403, .. }),
        "{error:?}"
    );
    assert!(!error.is_retryable());
    assert!(error.to_string().contains("`matrix.secret`"), "{error}");
}

#[tokio::test]
async fn the_read_only_connection_reads_from_synapse_and_refuses_every_write() {
    let Some(synapse) = start_synapse() else {
        return;
    };
    synapse
        .connection()
        .provision_user(&ProvisionRequest::new("dave").set_displayname("Dave"))
        .await
        .expect("provisioning succeeds");
    let read_only = ReadOnlyConnection::new(synapse.connection());

    // Reads pass through.
    let dave = read_only
        .query_user("dave")
        .await
        .expect("query succeeds")
        .expect("dave exists");
    assert_eq!(dave.display_name.as_deref(), Some("Dave"));
    let availability = read_only.is_localpart_available("dave").await;
    assert_eq!(availability.ok(), Some(LocalpartAvailability::InUse));

    // Writes are refused and do not reach Synapse.
    let error = read_only
        .set_displayname("dave", "David")
        .await
        .expect_err("a write is refused");
    assert!(
        matches!(error, HomeserverError::ReadOnly { .. }),
        "{error:?}"
    );
    let error = read_only
        .provision_user(&ProvisionRequest::new("erin"))
        .await
        .expect_err("a write is refused");
    assert!(
        matches!(error, HomeserverError::ReadOnly { .. }),
        "{error:?}"
    );
    let dave = read_only
        .query_user("dave")
        .await
        .expect("query succeeds")
        .expect("dave exists");
    assert_eq!(dave.display_name.as_deref(), Some("Dave"));
    assert_eq!(read_only.query_user("erin").await.ok(), Some(None));
}
