//! Loading: merging, interpolation, paths of errors, unknown options, secret pairs.

use std::path::PathBuf;

use crate::common::{MINIMAL, load_yaml, loaded, rendered_problems};
use portcullis_config::{SecretSource, load};

#[test]
fn maps_of_later_files_merge_into_earlier_ones_and_their_scalars_win() {
    let first = "http:\n  public_base: https://first.example/\n  issuer: https://issuer.example/\n";
    let second = "http:\n  public_base: https://second.example/\n";
    let config = loaded(load_yaml(&[MINIMAL, first, second], &[])).config;
    assert_eq!(config.http.public_base.as_str(), "https://second.example/");
    assert_eq!(config.http.issuer().as_str(), "https://issuer.example/");
}

#[test]
fn lists_of_several_files_are_concatenated() {
    let first = "clients:\n  - client_id: first\n    client_auth_method: none\n";
    let second = "clients:\n  - client_id: second\n    client_auth_method: none\n";
    let config = loaded(load_yaml(&[MINIMAL, first, second], &[])).config;
    let ids: Vec<&str> = config
        .clients
        .iter()
        .map(|c| c.client_id.as_str())
        .collect();
    assert_eq!(ids, ["first", "second"]);
}

#[test]
fn a_list_left_empty_counts_as_absent_without_warning() {
    let loaded = loaded(load_yaml(&[MINIMAL, "clients:\n"], &[]));
    assert!(loaded.config.clients.is_empty());
    assert_eq!(loaded.warnings, []);
}

#[test]
fn a_variable_with_a_default_takes_the_default_when_unset() {
    let yaml = "matrix:\n  homeserver: ${SERVER_NAME:-example.com}\n  secret: s\n";
    let config = loaded(load_yaml(&[MINIMAL, yaml], &[])).config;
    assert_eq!(config.matrix.homeserver, "example.com");
}

#[test]
fn a_set_variable_wins_over_its_default() {
    let yaml = "matrix:\n  homeserver: ${SERVER_NAME:-example.com}\n";
    let config = loaded(load_yaml(
        &[MINIMAL, yaml],
        &[("SERVER_NAME", "matrix.org")],
    ))
    .config;
    assert_eq!(config.matrix.homeserver, "matrix.org");
}

#[test]
fn a_double_dollar_writes_a_literal_reference() {
    let yaml = "branding:\n  service_name: \"costs $${PRICE}\"\n";
    let config = loaded(load_yaml(&[MINIMAL, yaml], &[("PRICE", "5")])).config;
    assert_eq!(
        config.branding.service_name.as_deref(),
        Some("costs ${PRICE}")
    );
}

#[test]
fn every_unset_variable_is_reported_with_its_key() {
    let yaml = "matrix:\n  secret: ${MATRIX_SECRET}\ndatabase:\n  uri: postgresql://mas:${DB_PASSWORD}@db/mas\n";
    let problems = rendered_problems(load_yaml(&[MINIMAL, yaml], &[]));
    let messages: Vec<&str> = problems
        .iter()
        .map(|p| p.split(" (").next().unwrap_or_default())
        .collect();
    assert_eq!(
        messages,
        [
            "database.uri: environment variable DB_PASSWORD is not set",
            "matrix.secret: environment variable MATRIX_SECRET is not set",
        ]
    );
}

#[test]
fn a_port_out_of_range_is_reported_at_its_exact_path() {
    let yaml = r#"
http:
  listeners:
    - name: web
      resources: [{name: human}]
      binds:
        - address: "[::]:8080"
        - port: 70000
"#;
    let problems = rendered_problems(load_yaml(&[MINIMAL, yaml], &[]));
    assert_eq!(
        problems,
        ["http.listeners[0].binds[1].port: expected a number between 1 and 65535"]
    );
}

#[test]
fn errors_in_two_sections_are_both_reported() {
    let yaml = "passwords:\n  minimum_complexity: lots\nemail:\n  transport: pigeon\n";
    let problems = rendered_problems(load_yaml(&[MINIMAL, yaml], &[]));
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(problems[0].starts_with("email.transport: unknown variant `pigeon`"));
    assert!(problems[1].starts_with("passwords.minimum_complexity: invalid type"));
}

#[test]
fn a_typo_in_a_nested_option_is_an_error_naming_its_path_and_the_right_name() {
    let yaml = r#"
http:
  listeners:
    - name: web
      resources: [{name: human}]
      binds:
        - adress: "127.0.0.1:8480"
"#;
    assert_eq!(
        rendered_problems(load_yaml(&[MINIMAL, yaml], &[])),
        [
            "http.listeners[0].binds[0].adress: unknown option; `address` is not set, so its default would apply instead (did you mean address?)",
            "http.listeners[0].binds[0]: the bind says nothing to listen on (a bind is one of: `address`, `host` + `port`, `socket` (+ `mode`), or `fd` (+ `kind`))"
        ]
    );
}

#[test]
fn a_typo_beside_the_option_it_resembles_is_only_a_warning() {
    let yaml = r#"
http:
  listeners:
    - name: web
      resources: [{name: human}]
      binds:
        - address: "127.0.0.1:8480"
          adress: "127.0.0.1:8480"
"#;
    let warnings: Vec<String> = loaded(load_yaml(&[MINIMAL, yaml], &[]))
        .warnings
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        warnings,
        ["http.listeners[0].binds[0].adress: unknown option, ignored (did you mean address?)"]
    );
}

#[test]
fn a_misspelled_section_is_an_error_unless_the_section_is_there_too() {
    for (yaml, right) in [
        ("matrix:\n  homeserer: example.com\n", "homeserver"),
        ("http:\n  listners: []\n", "listeners"),
    ] {
        let problems = rendered_problems(load_yaml(&[MINIMAL, yaml], &[]));
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].contains(&format!("`{right}` is not set")),
            "{problems:?}"
        );
    }
    assert_eq!(
        rendered_problems(load_yaml(&[MINIMAL, "clinets: []\n"], &[])),
        [
            "clinets: unknown option; `clients` is not set, so its default would apply instead (did you mean clients?)"
        ]
    );
    let warnings: Vec<String> = loaded(load_yaml(&[MINIMAL, "clients: []\nclinets: []\n"], &[]))
        .warnings
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        warnings,
        ["clinets: unknown option, ignored (did you mean clients?)"]
    );
    // A name like no option at all stays a warning.
    let warnings = loaded(load_yaml(&[MINIMAL, "x_portcullis_note: hello\n"], &[])).warnings;
    assert!(warnings.iter().all(|w| !w.is_error()), "{warnings:?}");
}

#[test]
fn the_legacy_email_verification_option_is_accepted_silently() {
    let yaml = r#"
upstream_oauth2:
  providers:
    - id: keycloak
      issuer: https://sso.example/
      client_id: mas
      token_endpoint_auth_method: none
      claims_imports:
        email:
          action: require
          set_email_verification: always
"#;
    assert_eq!(loaded(load_yaml(&[MINIMAL, yaml], &[])).warnings, []);
}

#[test]
fn a_secret_can_be_given_as_a_file() {
    let yaml = "matrix:\n  secret_file: /run/secrets/matrix\n";
    let without_inline = MINIMAL.replace("  secret: shared-secret\n", "");
    let config = loaded(load_yaml(&[&without_inline, yaml], &[])).config;
    assert_eq!(
        config.matrix.secret(),
        Some(SecretSource::File(PathBuf::from("/run/secrets/matrix")))
    );
}

#[test]
fn a_secret_given_both_inline_and_as_a_file_is_an_error_naming_both_keys() {
    let yaml = "matrix:\n  secret_file: /run/secrets/matrix\n";
    let problems = rendered_problems(load_yaml(&[MINIMAL, yaml], &[]));
    assert_eq!(
        problems,
        ["matrix.secret: both `secret` and `secret_file` are set (keep exactly one of them)"]
    );
}

#[test]
fn a_missing_required_section_is_an_error() {
    let problems = rendered_problems(load_yaml(&["http: {}\n"], &[]));
    let paths: Vec<&str> = problems
        .iter()
        .map(|p| p.split(':').next().unwrap_or_default())
        .collect();
    assert_eq!(paths, ["secrets", "matrix"]);
    assert!(problems[0].contains("missing section"));
}

#[test]
fn a_missing_file_is_an_error_naming_the_file() {
    let missing = PathBuf::from("/nonexistent/mas/config.yaml");
    let problems = rendered_problems(load(&[missing], &crate::common::env(&[])));
    assert_eq!(problems.len(), 1);
    assert!(problems[0].starts_with("/nonexistent/mas/config.yaml: cannot read the file"));
}

#[test]
fn invalid_yaml_is_an_error_naming_the_file_line_and_column() {
    let dir = tempfile::tempdir().expect("a temporary directory can be created");
    let path = dir.path().join("broken.yaml");
    std::fs::write(&path, "matrix:\n  secret: [unclosed\n").expect("the file can be written");
    let problems = rendered_problems(load(std::slice::from_ref(&path), &crate::common::env(&[])));
    assert_eq!(problems.len(), 1);
    assert!(problems[0].starts_with(&format!("{}: invalid YAML", path.display())));
    assert!(problems[0].contains("line"), "{problems:?}");
}

#[test]
fn the_base_directory_is_the_directory_of_the_first_file() {
    let dir = tempfile::tempdir().expect("a temporary directory can be created");
    let path = dir.path().join("config.yaml");
    std::fs::write(&path, MINIMAL).expect("the file can be written");
    let loaded = loaded(load(&[path], &crate::common::env(&[])));
    assert_eq!(loaded.base_dir, dir.path());
}

#[test]
fn passkey_only_accounts_need_passkeys_that_sign_in_alone() {
    let allowed = "account:\n  second_factors:\n    passkey_only_accounts_allowed: true\n";
    let config = loaded(load_yaml(&[MINIMAL, allowed], &[]));
    assert!(config.warnings.is_empty(), "{:?}", config.warnings);

    let without_sign_in = "account:\n  second_factors:\n    passkey_only_accounts_allowed: true\n    passkey_sign_in_allowed: false\n";
    let problems = rendered_problems(load_yaml(&[MINIMAL, without_sign_in], &[]));
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].starts_with("account.second_factors.passkey_only_accounts_allowed: "),
        "{problems:?}"
    );
    assert!(
        problems[0].contains("passkey_sign_in_allowed"),
        "{problems:?}"
    );
}
