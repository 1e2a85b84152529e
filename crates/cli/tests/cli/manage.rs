//! `mas-cli manage ...` against a real process and a SQLite database in a temporary directory.

use std::{path::Path, process::Output};

use crate::common::{mas_cli, run, stderr, stdout, write_config};
use portcullis_config::PasswordsConfig;
use portcullis_model::UserPassword;
use portcullis_passwords::{PasswordManager, Verified};
use portcullis_storage_sql::{ConnectOptions, Database, PoolOptions};
use serde_json::Value;
use tempfile::TempDir;
use zeroize::Zeroizing;

/// Strong enough for the default `minimum_complexity` (3).
const STRONG: &str = "correct horse battery staple 1987";
const OTHER_STRONG: &str = "lighthouse keeper ate 12 marmalade jars";

/// A configuration (with `extra` YAML appended) and a migrated database.
fn setup_with(extra: &str) -> TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    write_config(dir.path(), crate::common::free_port(), &["health"], extra);
    let output = run(mas_cli(dir.path()).args(["database", "migrate"]));
    assert!(output.status.success(), "migrate: {}", stderr(&output));
    dir
}

fn setup() -> TempDir {
    setup_with("")
}

fn manage(dir: &Path, args: &[&str]) -> Output {
    run(mas_cli(dir).arg("manage").args(args))
}

fn assert_success(output: &Output) {
    assert!(
        output.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        output.status.code(),
        stdout(output),
        stderr(output)
    );
}

/// Checks that the command failed with exit code 1 and an error mentioning `fragment`.
fn assert_fails_with(output: &Output, fragment: &str) {
    assert_eq!(
        output.status.code(),
        Some(1),
        "stdout: {}\nstderr: {}",
        stdout(output),
        stderr(output)
    );
    assert!(
        stderr(output).contains(fragment),
        "expected {fragment:?} in stderr: {}",
        stderr(output)
    );
}

fn register(dir: &Path, args: &[&str]) -> Output {
    let mut full = vec!["register-user", "--yes"];
    full.extend_from_slice(args);
    manage(dir, &full)
}

/// `manage list-users --json`, parsed.
fn users(dir: &Path) -> Vec<Value> {
    let output = manage(dir, &["list-users", "--json"]);
    assert_success(&output);
    serde_json::from_str::<Vec<Value>>(&stdout(&output)).expect("list-users --json prints JSON")
}

fn user(dir: &Path, username: &str) -> Value {
    users(dir)
        .into_iter()
        .find(|user| user["username"] == username)
        .unwrap_or_else(|| panic!("{username} is listed"))
}

/// The user's current password as stored, read straight from the database.
/// The database the commands wrote, opened from the test.
async fn open_database(dir: &Path) -> Database {
    Database::connect(
        &ConnectOptions::Sqlite {
            path: dir.join("mas.db"),
        },
        &PoolOptions::default(),
    )
    .await
    .expect("database opens")
}

async fn stored_password(dir: &Path, username: &str) -> UserPassword {
    let database = open_database(dir).await;
    let mut repo = database.transaction().await.expect("transaction");
    let user = repo
        .users()
        .find_by_username(username)
        .await
        .expect("query")
        .expect("user exists");
    let password = repo
        .user_passwords()
        .active(&user)
        .await
        .expect("query")
        .expect("the user has a password");
    repo.rollback().await.expect("rollback");
    database.close().await;
    password
}

/// Whether `password` matches the stored hash, checked with the default schemes.
async fn verifies(stored: &UserPassword, password: &str) -> bool {
    let manager = PasswordManager::new(&PasswordsConfig::default()).expect("default schemes");
    let version = u16::try_from(stored.version).expect("small version");
    matches!(
        manager
            .verify(
                version,
                &stored.hashed_password,
                Zeroizing::new(password.to_owned())
            )
            .await,
        Ok(Verified::Ok)
    )
}

#[tokio::test]
async fn register_user_with_yes_and_a_password_stores_the_user_and_a_hash_of_the_password() {
    let dir = setup();

    let output = register(dir.path(), &["alice", "--password", STRONG]);

    assert_success(&output);
    assert!(
        stdout(&output).contains("@alice:localhost"),
        "{}",
        stdout(&output)
    );
    let alice = user(dir.path(), "alice");
    assert_eq!(alice["mxid"], "@alice:localhost");
    assert_eq!(alice["status"], "active");
    assert_eq!(alice["admin"], false);
    assert_eq!(alice["password"]["version"], 1);
    let stored = stored_password(dir.path(), "alice").await;
    assert!(
        stored.hashed_password.starts_with("$argon2id$"),
        "hashed with the configured scheme"
    );
    assert!(verifies(&stored, STRONG).await);
}

#[test]
fn register_user_accepts_a_full_matrix_id_of_this_server() {
    let dir = setup();

    let output = register(dir.path(), &["@bob:localhost"]);

    assert_success(&output);
    assert_eq!(user(dir.path(), "bob")["password"], Value::Null);
}

#[test]
fn registering_a_taken_username_is_refused() {
    let dir = setup();
    assert_success(&register(dir.path(), &["alice"]));

    let output = register(dir.path(), &["alice"]);

    assert_fails_with(&output, "the username alice is already taken");
    assert_eq!(users(dir.path()).len(), 1);
}

#[test]
fn invalid_usernames_are_refused_naming_the_rule_they_break() {
    let dir = setup();
    let too_long = "a".repeat(250);
    let cases = [
        ("Alice", "did you mean \"alice\""),
        ("bob smith", "only lowercase letters a-z, digits 0-9"),
        ("12345", "digits only"),
        (too_long.as_str(), "too long"),
        (
            "@carol:elsewhere.org",
            "belongs to the server \"elsewhere.org\"",
        ),
        ("", "the username is empty"),
    ];

    for (username, rule) in cases {
        let output = register(dir.path(), &[username]);
        assert_fails_with(&output, rule);
    }
    assert!(users(dir.path()).is_empty(), "no user was created");
}

#[test]
fn register_user_without_a_username_and_without_a_terminal_fails_clearly() {
    let dir = setup();

    // Standard input is not a terminal here, so nothing can be asked even without --yes.
    let output = manage(dir.path(), &["register-user", "--password", STRONG]);

    assert_fails_with(&output, "no username given");
    assert_fails_with(&output, "standard input is not a terminal");
}

#[test]
fn register_user_with_yes_and_without_a_username_fails_clearly() {
    let dir = setup();

    let output = manage(dir.path(), &["register-user", "--yes"]);

    assert_fails_with(&output, "no username given: pass it as the first argument");
}

#[test]
fn a_weak_password_is_refused_and_no_user_is_created() {
    let dir = setup();

    let output = register(dir.path(), &["alice", "-p", "password"]);

    assert_fails_with(&output, "too easy to guess");
    assert_fails_with(&output, "--ignore-password-complexity");
    assert!(users(dir.path()).is_empty());
}

#[test]
fn a_weak_password_is_accepted_with_ignore_password_complexity() {
    let dir = setup();

    let output = register(
        dir.path(),
        &["alice", "-p", "password", "--ignore-password-complexity"],
    );

    assert_success(&output);
    assert_eq!(user(dir.path(), "alice")["password"]["version"], 1);
}

#[test]
fn a_password_is_refused_when_passwords_are_disabled() {
    let dir = setup_with("passwords:\n  enabled: false\n");

    let output = register(dir.path(), &["alice", "-p", STRONG]);

    assert_fails_with(&output, "passwords are disabled");
    assert!(users(dir.path()).is_empty());
}

#[test]
fn register_user_with_admin_lets_the_user_request_admin() {
    let dir = setup();

    assert_success(&register(dir.path(), &["alice", "--admin"]));
    assert_success(&register(dir.path(), &["bob", "-A"]));

    assert_eq!(user(dir.path(), "alice")["admin"], true);
    assert_eq!(user(dir.path(), "bob")["admin"], false);
    let admins = manage(dir.path(), &["list-admin-users"]);
    assert_success(&admins);
    assert_eq!(stdout(&admins), "@alice:localhost\n");
}

#[test]
fn register_user_stores_every_email_given() {
    let dir = setup();

    let output = register(
        dir.path(),
        &[
            "alice",
            "-e",
            "alice@example.com",
            "--email",
            "al@example.org",
        ],
    );

    assert_success(&output);
    let listed = user(dir.path(), "alice");
    let mut emails: Vec<&str> = listed["emails"]
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    // Added in the same instant, so in no particular order.
    emails.sort_unstable();
    assert_eq!(emails, ["al@example.org", "alice@example.com"]);
}

#[test]
fn register_user_refuses_an_email_of_another_user_and_creates_nothing() {
    let dir = setup();
    assert_success(&register(dir.path(), &["alice", "-e", "alice@example.com"]));

    let output = register(dir.path(), &["bob", "-e", "ALICE@example.com"]);

    assert_fails_with(&output, "already used by @alice:localhost");
    assert_eq!(users(dir.path()).len(), 1);
}

#[test]
fn register_user_refuses_a_malformed_email() {
    let dir = setup();

    let output = register(dir.path(), &["alice", "-e", "alice.example.com"]);

    assert_fails_with(&output, "is not an email address");
    assert!(users(dir.path()).is_empty());
}

#[tokio::test]
async fn registering_queues_the_provisioning_on_the_homeserver_with_the_display_name() {
    let dir = setup();

    let output = register(dir.path(), &["alice", "-d", "Alice Liddell"]);
    assert_success(&output);

    let database = open_database(dir.path()).await;
    let mut repo = database.transaction().await.expect("transaction");
    let alice = repo
        .users()
        .find_by_username("alice")
        .await
        .expect("query")
        .expect("alice exists");
    let job = repo
        .jobs()
        .claim(
            "test",
            chrono::Utc::now(),
            std::time::Duration::from_secs(60),
        )
        .await
        .expect("query")
        .expect("a job is queued");
    repo.rollback().await.expect("rollback");
    database.close().await;

    assert_eq!(job.kind, "provision-user");
    assert_eq!(job.payload["user_id"], alice.id.to_string());
    assert_eq!(job.payload["set_display_name"], "Alice Liddell");
}

#[tokio::test]
async fn set_password_replaces_the_hash() {
    let dir = setup();
    assert_success(&register(dir.path(), &["alice", "-p", STRONG]));
    let before = stored_password(dir.path(), "alice").await;

    let output = manage(dir.path(), &["set-password", "alice", OTHER_STRONG]);

    assert_success(&output);
    let after = stored_password(dir.path(), "alice").await;
    assert_ne!(before.id, after.id);
    assert!(verifies(&after, OTHER_STRONG).await);
    assert!(!verifies(&after, STRONG).await);
}

#[test]
fn set_password_refuses_a_weak_password_unless_told_to_ignore_complexity() {
    let dir = setup();
    assert_success(&register(dir.path(), &["alice"]));

    let refused = manage(dir.path(), &["set-password", "alice", "123456"]);
    assert_fails_with(&refused, "--ignore-complexity");
    assert_eq!(user(dir.path(), "alice")["password"], Value::Null);

    let accepted = manage(
        dir.path(),
        &["set-password", "alice", "123456", "--ignore-complexity"],
    );
    assert_success(&accepted);
    assert_eq!(user(dir.path(), "alice")["password"]["version"], 1);
}

#[test]
fn set_password_of_an_unknown_user_says_the_user_does_not_exist() {
    let dir = setup();

    let output = manage(dir.path(), &["set-password", "@bob:localhost", STRONG]);

    assert_fails_with(&output, "user @bob:localhost does not exist");
}

#[test]
fn promote_admin_and_demote_admin_toggle_the_admin_flag() {
    let dir = setup();
    assert_success(&register(dir.path(), &["alice"]));

    assert_success(&manage(dir.path(), &["promote-admin", "alice"]));
    assert_eq!(user(dir.path(), "alice")["admin"], true);

    assert_success(&manage(dir.path(), &["demote-admin", "@alice:localhost"]));
    assert_eq!(user(dir.path(), "alice")["admin"], false);
}

#[test]
fn add_email_adds_an_address_and_refuses_one_of_another_user() {
    let dir = setup();
    assert_success(&register(dir.path(), &["alice"]));
    assert_success(&register(dir.path(), &["bob", "-e", "bob@example.com"]));

    assert_success(&manage(
        dir.path(),
        &["add-email", "alice", "alice@example.com"],
    ));
    let taken = manage(dir.path(), &["add-email", "alice", "bob@example.com"]);

    assert_eq!(
        user(dir.path(), "alice")["emails"],
        serde_json::json!(["alice@example.com"])
    );
    assert_fails_with(&taken, "already used by @bob:localhost");
}

#[test]
fn lock_user_and_unlock_user_change_the_listed_status() {
    let dir = setup();
    assert_success(&register(dir.path(), &["alice"]));

    assert_success(&manage(dir.path(), &["lock-user", "alice"]));
    assert_eq!(user(dir.path(), "alice")["status"], "locked");

    assert_success(&manage(dir.path(), &["unlock-user", "alice"]));
    assert_eq!(user(dir.path(), "alice")["status"], "active");
}

#[test]
fn list_users_prints_a_table_by_default() {
    let dir = setup();
    assert_success(&register(
        dir.path(),
        &["alice", "--admin", "-e", "alice@example.com"],
    ));

    let output = manage(dir.path(), &["list-users"]);

    assert_success(&output);
    let text = stdout(&output);
    let mut lines = text.lines();
    let header = lines.next().expect("a header");
    assert!(header.starts_with("USER"), "{text}");
    let row: Vec<&str> = lines.next().expect("a row").split_whitespace().collect();
    assert_eq!(
        row,
        [
            "@alice:localhost",
            "active",
            "yes",
            "no",
            "alice@example.com"
        ]
    );
}

#[test]
fn manage_commands_refuse_an_unmigrated_database() {
    let dir = tempfile::tempdir().expect("temp dir");
    write_config(dir.path(), crate::common::free_port(), &["health"], "");

    let output = manage(dir.path(), &["list-users"]);

    assert_fails_with(&output, "run `mas-cli database migrate` first");
}

/// The stored registration token whose clear value is `token`, if any.
async fn stored_registration_token(
    dir: &Path,
    token: &str,
) -> Option<portcullis_model::RegistrationToken> {
    let database = open_database(dir).await;
    let mut repo = database.transaction().await.expect("transaction");
    let found = repo
        .registration_tokens()
        .find_by_token(token)
        .await
        .expect("query");
    repo.rollback().await.expect("rollback");
    database.close().await;
    found
}

#[tokio::test]
async fn issue_user_registration_token_prints_a_stored_token_with_its_limits() {
    let dir = setup();

    let generated = manage(
        dir.path(),
        &[
            "issue-user-registration-token",
            "--usage-limit",
            "2",
            "--expires-in",
            "3600",
        ],
    );
    let given = manage(
        dir.path(),
        &[
            "issue-user-registration-token",
            "--token",
            "lets-meet-at-fosdem",
        ],
    );

    assert_success(&generated);
    assert_success(&given);
    let token = stdout(&generated).trim().to_owned();
    assert_eq!(token.len(), 20);
    assert!(token.chars().all(|c| c.is_ascii_alphanumeric()));
    let stored = stored_registration_token(dir.path(), &token)
        .await
        .expect("the printed token is stored");
    assert_eq!(stored.usage_limit, Some(2));
    let lifetime = stored.expires_at.expect("it expires") - stored.created_at;
    assert_eq!(lifetime.num_seconds(), 3600);
    assert_eq!(stdout(&given).trim(), "lets-meet-at-fosdem");
    let stored = stored_registration_token(dir.path(), "lets-meet-at-fosdem")
        .await
        .expect("the given token is stored");
    assert_eq!((stored.usage_limit, stored.expires_at), (None, None));
}

#[test]
fn issue_user_registration_token_refuses_a_duplicate_and_a_zero_limit() {
    let dir = setup();
    assert_success(&manage(
        dir.path(),
        &["issue-user-registration-token", "--token", "once"],
    ));

    let again = manage(
        dir.path(),
        &["issue-user-registration-token", "--token", "once"],
    );
    let zero = manage(
        dir.path(),
        &["issue-user-registration-token", "--usage-limit", "0"],
    );

    assert_fails_with(&again, "already exists");
    assert_fails_with(&zero, "usage limit of 0");
}

#[test]
fn generate_token_gives_an_admin_token_only_to_an_admin_and_prints_it_alone() {
    let dir = setup();
    assert_success(&register(dir.path(), &["admin", "--password", STRONG]));

    let refused = manage(
        dir.path(),
        &[
            "generate-token",
            "--admin",
            "--expires-in-days",
            "365",
            "--user",
            "admin",
        ],
    );
    assert_fails_with(&refused, "mas-cli manage promote-admin admin");

    assert_success(&manage(dir.path(), &["promote-admin", "admin"]));
    let output = manage(
        dir.path(),
        &[
            "generate-token",
            "--admin",
            "--expires-in-days",
            "365",
            "--user",
            "admin",
        ],
    );
    assert_success(&output);
    let token = stdout(&output);
    let token = token.trim_end();
    assert!(
        token.starts_with("mpt_") && !token.contains(char::is_whitespace),
        "{token:?}"
    );
    assert!(
        stderr(&output).contains("urn:mas:admin"),
        "{}",
        stderr(&output)
    );

    let listed = manage(
        dir.path(),
        &["list-personal-access-tokens", "admin", "--json"],
    );
    assert_success(&listed);
    let listed: Vec<Value> = serde_json::from_str(&stdout(&listed)).expect("JSON");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["scope"], "urn:mas:admin");
    assert!(listed[0]["expires_at"].is_string());
    assert!(!stdout(&manage(dir.path(), &["list-personal-access-tokens"])).contains("mpt_"));

    let id = listed[0]["id"].as_str().expect("an id");
    assert_success(&manage(dir.path(), &["revoke-personal-access-token", id]));
    let listed = manage(
        dir.path(),
        &["list-personal-access-tokens", "admin", "--json"],
    );
    let listed: Vec<Value> = serde_json::from_str(&stdout(&listed)).expect("JSON");
    assert!(
        listed.is_empty(),
        "revoked tokens are not listed without --all"
    );
    let all = manage(
        dir.path(),
        &["list-personal-access-tokens", "--all", "--json"],
    );
    let all: Vec<Value> = serde_json::from_str(&stdout(&all)).expect("JSON");
    assert!(all[0]["revoked_at"].is_string());
}

#[test]
fn issue_personal_access_token_checks_its_arguments() {
    let dir = setup();
    assert_success(&register(dir.path(), &["bot", "--password", STRONG]));

    let output = manage(
        dir.path(),
        &[
            "issue-personal-access-token",
            "bot",
            "--name",
            "CI",
            "--expires-in",
            "30d",
        ],
    );
    assert_success(&output);
    assert!(stdout(&output).starts_with("mpt_"));
    assert!(
        stderr(&output).contains("urn:matrix:client:api:*"),
        "{}",
        stderr(&output)
    );

    let bad_duration = manage(
        dir.path(),
        &[
            "issue-personal-access-token",
            "bot",
            "--name",
            "CI",
            "--expires-in",
            "soon",
        ],
    );
    assert_eq!(
        bad_duration.status.code(),
        Some(2),
        "{}",
        stderr(&bad_duration)
    );
    assert!(
        stderr(&bad_duration).contains("--expires-in"),
        "{}",
        stderr(&bad_duration)
    );

    let bad_scope = manage(
        dir.path(),
        &[
            "issue-personal-access-token",
            "bot",
            "--name",
            "CI",
            "--scope",
            "openid",
        ],
    );
    assert_fails_with(&bad_scope, "the scope openid cannot be given");

    let unknown = manage(
        dir.path(),
        &["issue-personal-access-token", "nobody", "--name", "CI"],
    );
    assert_fails_with(&unknown, "does not exist");

    let bad_id = manage(dir.path(), &["revoke-personal-access-token", "nope"]);
    assert_fails_with(&bad_id, "is not a token ID");
}

#[test]
fn upstream_links_are_added_listed_refused_when_taken_and_removed() {
    let dir = setup_with(
        "upstream_oauth2:\n  providers:\n    - id: pocketid\n      issuer: https://id.example.com\n      client_id: portcullis\n      token_endpoint_auth_method: none\n",
    );
    assert_success(&run(mas_cli(dir.path()).args(["config", "sync"])));
    assert_success(&register(dir.path(), &["alice"]));
    assert_success(&register(dir.path(), &["bob"]));

    let empty = manage(dir.path(), &["list-upstream-links"]);
    assert_success(&empty);
    assert!(
        stdout(&empty).contains("(no upstream links)"),
        "{}",
        stdout(&empty)
    );

    let added = manage(
        dir.path(),
        &[
            "add-upstream-link",
            "alice",
            "pocketid",
            "sub-1",
            "--account-name",
            "alice@id.example.com",
        ],
    );
    assert_success(&added);
    assert!(
        stderr(&added).contains("@alice:localhost"),
        "{}",
        stderr(&added)
    );

    let table = manage(dir.path(), &["list-upstream-links"]);
    assert_success(&table);
    let table = stdout(&table);
    assert!(table.starts_with("ID"), "{table}");
    assert!(
        table.contains("pocketid") && table.contains("sub-1") && table.contains("@alice:localhost"),
        "{table}"
    );
    let listed: Value = serde_json::from_str(&stdout(&manage(
        dir.path(),
        &["list-upstream-links", "--user", "alice", "--json"],
    )))
    .expect("JSON");
    assert_eq!(listed.as_array().map(Vec::len), Some(1));
    assert_eq!(listed[0]["subject"], "sub-1");
    assert_eq!(listed[0]["human_account_name"], "alice@id.example.com");
    let bobs: Value = serde_json::from_str(&stdout(&manage(
        dir.path(),
        &["list-upstream-links", "--user", "bob", "--json"],
    )))
    .expect("JSON");
    assert_eq!(bobs, serde_json::json!([]));

    // The account is alice's: linking it to bob says whose it is and how to undo it.
    let taken = manage(
        dir.path(),
        &["add-upstream-link", "bob", "pocketid", "sub-1"],
    );
    assert_fails_with(&taken, "already linked to @alice:localhost");
    assert_fails_with(
        &manage(
            dir.path(),
            &["add-upstream-link", "bob", "keycloak", "sub-1"],
        ),
        "there is no upstream provider \"keycloak\"",
    );
    assert_fails_with(
        &manage(
            dir.path(),
            &["list-upstream-links", "--provider", "keycloak"],
        ),
        "there is no upstream provider \"keycloak\"",
    );

    let id = listed[0]["id"].as_str().expect("an id");
    assert_success(&manage(dir.path(), &["remove-upstream-link", id]));
    assert_fails_with(
        &manage(dir.path(), &["remove-upstream-link", id]),
        "there is no upstream link with ID",
    );
    assert_fails_with(
        &manage(dir.path(), &["remove-upstream-link", "not-an-id"]),
        "is not a link ID",
    );
    assert_success(&manage(
        dir.path(),
        &["add-upstream-link", "bob", "pocketid", "sub-1"],
    ));
}

#[test]
fn register_user_links_upstream_accounts_with_m_or_creates_nothing() {
    let dir = setup_with(
        "upstream_oauth2:\n  providers:\n    - id: pocketid\n      issuer: https://id.example.com\n      client_id: portcullis\n      token_endpoint_auth_method: none\n",
    );
    assert_success(&run(mas_cli(dir.path()).args(["config", "sync"])));

    // As MAS's `-m PROVIDER:SUBJECT`; a subject may hold colons.
    assert_success(&register(
        dir.path(),
        &[
            "carol",
            "-m",
            "pocketid:urn:uuid:1234",
            "--upstream-provider-mapping",
            "pocketid:c2",
        ],
    ));
    let links: Value = serde_json::from_str(&stdout(&manage(
        dir.path(),
        &["list-upstream-links", "--user", "carol", "--json"],
    )))
    .expect("JSON");
    let mut subjects: Vec<&str> = links
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|link| link["subject"].as_str())
        .collect();
    subjects.sort_unstable();
    assert_eq!(subjects, ["c2", "urn:uuid:1234"]);

    // Refused before anything is created: an unknown provider, a taken account, a bad mapping.
    assert_fails_with(
        &register(dir.path(), &["dave", "-m", "keycloak:d1"]),
        "there is no upstream provider \"keycloak\"",
    );
    assert_fails_with(
        &register(dir.path(), &["dave", "-m", "pocketid:c2"]),
        "already linked to another user",
    );
    // A usage error, as clap reports them (exit status 2).
    let malformed = register(dir.path(), &["dave", "-m", "pocketid"]);
    assert_eq!(malformed.status.code(), Some(2));
    assert!(
        stderr(&malformed).contains("is not PROVIDER:SUBJECT"),
        "{}",
        stderr(&malformed)
    );
    assert!(
        users(dir.path())
            .iter()
            .all(|user| user["username"] != "dave"),
        "no user was created"
    );
}

#[test]
fn issue_login_token_prints_the_token_alone_and_refuses_what_it_cannot_issue() {
    let dir = setup();
    assert_success(&register(dir.path(), &["bot"]));
    let issued = manage(
        dir.path(),
        &[
            "issue-login-token",
            "bot",
            "--device-id",
            "BOTDEVICE1",
            "--expires-in",
            "1h",
        ],
    );
    assert_success(&issued);
    let out = stdout(&issued);
    assert_eq!(out.lines().count(), 1, "{out}");
    assert!(out.trim().starts_with("mlt_"), "{out}");
    assert!(
        stderr(&issued).contains("device BOTDEVICE1 only"),
        "{}",
        stderr(&issued)
    );

    assert_fails_with(
        &manage(
            dir.path(),
            &["issue-login-token", "bot", "--expires-in", "25h"],
        ),
        "at most 24 hours",
    );
    assert_fails_with(
        &manage(
            dir.path(),
            &["issue-login-token", "bot", "--device-id", "no spaces"],
        ),
        "cannot be a device ID",
    );
    assert_fails_with(
        &manage(dir.path(), &["issue-login-token", "nobody"]),
        "does not exist",
    );
}

#[test]
fn register_user_without_a_terminal_needs_a_password_or_yes_and_says_what_it_did() {
    let dir = setup();
    let refused = manage(dir.path(), &["register-user", "carol"]);
    assert_fails_with(&refused, "--password");
    assert!(stderr(&refused).contains("--yes"), "{}", stderr(&refused));
    assert!(users(dir.path()).is_empty(), "no user was created");

    let created = manage(dir.path(), &["register-user", "carol", "--yes"]);
    assert_success(&created);
    assert!(stdout(&created).contains("created user @carol:localhost"));
    assert!(
        stderr(&created).contains("has no password"),
        "{}",
        stderr(&created)
    );
    // The homeserver is not running here: the command says so and leaves it to the worker.
    assert!(stderr(&created).contains("the server's worker will provision it"));
}

#[test]
fn register_user_prompts_read_whole_lines_in_a_terminal() {
    use std::io::Write as _;

    let dir = setup();
    // `script` runs the command in a pseudo-terminal fed from our standard input.
    let command = format!(
        "{} manage register-user dave --password '{STRONG}'",
        env!("CARGO_BIN_EXE_mas-cli")
    );
    let mut child = std::process::Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .current_dir(dir.path())
        .env_remove("MAS_CONFIG")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("script runs");
    // "y" and Enter to the admin question, then "y" and Enter to the confirmation.
    let mut input = child.stdin.take().expect("stdin");
    input.write_all(b"y\ny\n").expect("typed");
    let output = child.wait_with_output().expect("ended");
    drop(input);
    let shown = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(shown.contains("created user @dave:localhost"), "{shown}");
    let dave = user(dir.path(), "dave");
    assert_eq!(dave["admin"], true, "{dave}");
}

#[tokio::test]
async fn remove_second_factors_removes_the_authenticator_app_and_the_recovery_codes() {
    use portcullis_services::second_factor;

    let dir = setup();
    assert_success(&register(dir.path(), &["alice"]));
    let database = open_database(dir.path()).await;
    let mut repo = database.transaction().await.expect("a transaction");
    let alice = repo
        .users()
        .find_by_username("alice")
        .await
        .expect("read")
        .expect("alice");
    let now = chrono::Utc::now();
    second_factor::new_recovery_codes(&mut *repo, &alice, &mut rand::rngs::OsRng, now)
        .await
        .expect("codes made");
    repo.commit().await.expect("committed");

    let removed = manage(dir.path(), &["remove-second-factors", "@alice:localhost"]);
    assert_success(&removed);
    assert!(
        String::from_utf8_lossy(&removed.stdout)
            .contains("removed the second factors of @alice:localhost"),
        "{removed:?}"
    );
    let mut repo = database.transaction().await.expect("a transaction");
    let left = second_factor::factors_of(&mut *repo, &alice)
        .await
        .expect("read");
    repo.rollback().await.expect("rolled back");
    assert_eq!(left, second_factor::Factors::default());

    let again = manage(dir.path(), &["remove-second-factors", "alice"]);
    assert_success(&again);
    assert!(String::from_utf8_lossy(&again.stdout).contains("has no second factor"));
    assert_fails_with(
        &manage(dir.path(), &["remove-second-factors", "nobody"]),
        "nobody",
    );
}
