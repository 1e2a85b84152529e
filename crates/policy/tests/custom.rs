//! An operator's own Rego: added to the built-in policy, or replacing it with a whole policy
//! written the way MAS's is; and what is said when it is wrong.

use std::path::{Path, PathBuf};

use portcullis_policy::{
    AuthorizationGrantInput, ClientInput, ClientRegistrationInput, CompatLogin, CompatLoginInput,
    Entrypoints, GrantType, Policy, PolicyError, PolicyLoader, RegisterInput, RegistrationMethod,
    Requester, SessionCounts, Sources, UserInput,
};
use serde_json::{Map, Value, json};

fn base() -> Map<String, Value> {
    let mut base = Map::new();
    base.insert("server_name".into(), json!("example.com"));
    base.insert(
        "session_limit".into(),
        json!({"soft_limit": 1, "hard_limit": 2}),
    );
    base
}

fn mas_style() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/mas-style")
}

fn load(sources: &Sources, data: Value) -> Result<Policy, PolicyError> {
    PolicyLoader::new(sources, Entrypoints::default(), base(), data)
        .and_then(|loader| loader.instantiate(None))
}

fn register_codes(policy: &Policy, username: &str, email: Option<&str>) -> Vec<String> {
    let verdict = policy
        .evaluate_register(&RegisterInput {
            registration_method: RegistrationMethod::Password,
            username,
            email,
            requester: &Requester::default(),
        })
        .expect("evaluates");
    let mut codes: Vec<String> = verdict
        .violations
        .into_iter()
        .map(|violation| violation.code.unwrap_or(violation.msg))
        .collect();
    codes.sort();
    codes
}

#[test]
fn a_whole_policy_written_as_mas_writes_its_own_replaces_the_built_in_one() {
    let sources = Sources {
        directory: Some(mas_style()),
        replace_default: true,
    };
    let policy = load(
        &sources,
        json!({
            "registration": {"banned_usernames": {"literals": ["root"], "regexes": ["^bot-"]}},
            "banned_domains": ["*.spam.example"],
        }),
    )
    .expect("the policy loads");

    assert_eq!(register_codes(&policy, "root", None), ["username-banned"]);
    assert_eq!(register_codes(&policy, "bot-7", None), ["username-banned"]);
    // The built-in grammar is gone with the built-in policy: the replacement decides alone.
    assert!(register_codes(&policy, "Alice", None).is_empty());
    // `import data.email as email_policy`, and `object.union` of its violations.
    assert_eq!(
        register_codes(&policy, "alice", Some("a@x.spam.example")),
        ["email-domain-banned"]
    );
    let verdict = policy
        .evaluate_register(&RegisterInput {
            registration_method: RegistrationMethod::Password,
            username: "alice",
            email: Some("a@x.spam.example"),
            requester: &Requester::default(),
        })
        .expect("evaluates");
    assert_eq!(verdict.violations[0].field.as_deref(), Some("email"));

    // Functions of `common` called through the import, with regex and array builtins.
    let metadata = json!({
        "client_uri": "https://example.com/",
        "redirect_uris": ["https://app.example.com/cb", "https://evil.example.net/cb"],
    });
    let verdict = policy
        .evaluate_client_registration(&ClientRegistrationInput {
            client_metadata: &metadata,
            requester: &Requester::default(),
        })
        .expect("evaluates");
    assert_eq!(verdict.violations.len(), 1, "{verdict:?}");
    assert_eq!(
        verdict.violations[0].redirect_uri.as_deref(),
        Some("https://evil.example.net/cb")
    );

    let user = || UserInput {
        id: "01JUSER000000000000000000".to_owned(),
        username: "alice",
        can_request_admin: false,
    };
    let grant = |scope: &str| {
        policy
            .evaluate_authorization_grant(&AuthorizationGrantInput {
                user: Some(user()),
                session_counts: None,
                client: ClientInput {
                    id: "c",
                    client_id: "c",
                },
                scope: scope.to_owned(),
                grant_type: GrantType::AuthorizationCode,
                requester: &Requester::default(),
            })
            .expect("evaluates")
    };
    assert!(grant("openid urn:matrix:client:api:*").is_allowed());
    assert!(!grant("openid email").is_allowed());

    // `input.is_interactive`, as MAS's compat_login policy reads it.
    let login = |total: u64, login: CompatLogin<'static>| {
        let is_interactive = matches!(login, CompatLogin::Sso { .. });
        policy
            .evaluate_compat_login(&CompatLoginInput {
                user: user(),
                session_counts: SessionCounts::new(0, total, 0),
                session_replaced: false,
                login,
                is_interactive,
                requester: &Requester::default(),
            })
            .expect("evaluates")
    };
    assert!(login(1, CompatLogin::Password).is_allowed());
    assert!(login(2, CompatLogin::Password).has("too-many-sessions"));
    assert!(
        login(
            2,
            CompatLogin::Sso {
                redirect_uri: "https://app.example.com/"
            }
        )
        .is_allowed()
    );
}

#[test]
fn files_added_to_the_built_in_policy_refuse_more_and_everything_else_stays() {
    let directory = tempfile::tempdir().expect("a temp dir");
    std::fs::write(
        directory.path().join("extra.rego"),
        "package register\n\nimport rego.v1\n\n\
         violation contains {\"field\": \"username\", \"msg\": \"no phone numbers\"} if {\n\
         \tregex.match(`^tel-[0-9]+$`, input.username)\n}\n",
    )
    .expect("written");
    let sources = Sources {
        directory: Some(directory.path().to_owned()),
        replace_default: false,
    };
    let policy = load(&sources, json!({})).expect("the policy loads");
    assert_eq!(
        register_codes(&policy, "tel-555", None),
        ["no phone numbers"]
    );
    assert_eq!(
        register_codes(&policy, "Alice", None),
        ["username-invalid-chars"]
    );
    assert!(register_codes(&policy, "alice", None).is_empty());
}

#[test]
fn a_syntax_error_names_its_file_and_line() {
    let directory = tempfile::tempdir().expect("a temp dir");
    let file = directory.path().join("broken.rego");
    std::fs::write(
        &file,
        "package register\n\nimport rego.v1\n\nviolation contains {\"msg\": \"x\"} if {\n\tinput.username ==\n}\n",
    )
    .expect("written");
    let sources = Sources {
        directory: Some(directory.path().to_owned()),
        replace_default: false,
    };
    let error = load(&sources, json!({})).expect_err("a syntax error");
    let message = error.to_string();
    assert!(
        message.contains(&format!("{}:7", file.display())),
        "{message}"
    );
}

#[test]
fn a_missing_entry_point_is_named() {
    let entrypoints = Entrypoints {
        register: "register/does_not_exist".to_owned(),
        ..Entrypoints::default()
    };
    let error = PolicyLoader::new(&Sources::default(), entrypoints, base(), json!({}))
        .expect_err("no such rule");
    assert!(
        matches!(&error, PolicyError::Entrypoint { decision: "register", entrypoint, .. } if entrypoint == "register/does_not_exist"),
        "{error:?}"
    );
}

#[test]
fn an_empty_or_missing_directory_is_refused() {
    let directory = tempfile::tempdir().expect("a temp dir");
    let sources = Sources {
        directory: Some(directory.path().to_owned()),
        replace_default: true,
    };
    assert!(matches!(
        load(&sources, json!({})),
        Err(PolicyError::EmptyDirectory { .. })
    ));
    let sources = Sources {
        directory: Some(directory.path().join("nope")),
        replace_default: false,
    };
    assert!(matches!(
        load(&sources, json!({})),
        Err(PolicyError::Directory { .. })
    ));
}

#[test]
fn dynamic_data_is_merged_over_the_configured_data() {
    let loader = PolicyLoader::builtin(
        base(),
        json!({"admin_users": ["alice"], "registration": {"banned_usernames": {"literals": ["root"]}}}),
    )
    .expect("loads");
    let policy = loader
        .instantiate(Some(
            &json!({"registration": {"allowed_usernames": {"prefixes": ["team-"]}}}),
        ))
        .expect("instantiates");
    // Objects merge key by key: the configured ban stays, the dynamic allow list is added.
    assert_eq!(
        register_codes(&policy, "root", None),
        ["username-banned", "username-not-allowed"]
    );
    assert!(register_codes(&policy, "team-root", None).is_empty());
    assert!(policy.lists_admin_user("alice"));
    // Lists are replaced.
    let policy = loader
        .instantiate(Some(&json!({"admin_users": ["bob"]})))
        .expect("instantiates");
    assert!(!policy.lists_admin_user("alice"));
    assert!(policy.lists_admin_user("bob"));
    assert!(loader.instantiate(Some(&json!([1]))).is_err());
}

#[test]
fn a_reloaded_policy_keeps_the_dynamic_data_in_use() {
    let configured = |banned: &str| {
        PolicyLoader::builtin(
            base(),
            json!({"registration": {"banned_usernames": {"literals": [banned]}}}),
        )
        .expect("loads")
    };
    let shared = portcullis_policy::SharedPolicy::new(configured("root")).expect("instantiates");
    shared
        .set_data("v1", &json!({"admin_users": ["alice"]}))
        .expect("the data is used");

    shared
        .replace_loader(configured("admin"))
        .expect("the new policy is used");
    let policy = shared.current();
    assert_eq!(register_codes(&policy, "admin", None), ["username-banned"]);
    assert!(
        register_codes(&policy, "root", None).is_empty(),
        "the old ban is gone"
    );
    assert!(policy.lists_admin_user("alice"), "the dynamic data stays");
    assert_eq!(shared.version().as_deref(), Some("v1"));
}
