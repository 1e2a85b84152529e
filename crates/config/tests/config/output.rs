//! Output: defaults, `config dump`, `config generate` and the JSON schema.

use std::path::PathBuf;

use crate::common::{MINIMAL, load_yaml, loaded};
use portcullis_config::{Backend, Config, REDACTED, json_schema};

fn generated() -> Config {
    Config::generated(
        "0000111122223333444455556666777788889999aaaabbbbccccddddeeeeffff".to_owned(),
        vec![
            (
                "rsa".to_owned(),
                "-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----\n".to_owned(),
            ),
            (
                String::new(),
                "-----BEGIN EC PRIVATE KEY-----\nMHcC\n-----END EC PRIVATE KEY-----\n".to_owned(),
            ),
        ],
        "sqlite:mas.db".to_owned(),
        "a-generated-shared-secret".to_owned(),
    )
}

#[test]
fn a_file_with_only_the_required_sections_gets_mas_defaults() {
    let config = loaded(load_yaml(&[MINIMAL], &[])).config;
    assert_eq!(config.http.public_base.as_str(), "http://[::]:8080/");
    assert_eq!(config.http.issuer().as_str(), "http://[::]:8080/");
    assert_eq!(config.http.trusted_proxies.len(), 6);
    assert_eq!(config.http.listeners.len(), 2);
    assert_eq!(config.matrix.homeserver, "localhost:8008");
    assert_eq!(config.matrix.endpoint.as_str(), "http://localhost:8008/");
    assert!(config.passwords.enabled);
    assert_eq!(config.passwords.minimum_complexity, 3);
    assert_eq!(config.experimental.access_token_ttl, 300);
    assert!(config.oauth.device_code_grant_enabled);
    assert!(!config.oauth.device_code_user_code_auto_fill_enabled);
    assert!(!config.account.password_registration_enabled);
    assert_eq!(config.rate_limiting.login.per_account.burst.get(), 1800);
    assert_eq!(
        config.email.from,
        "\"Authentication Service\" <root@localhost>"
    );
    assert!(config.database.is_none());
}

#[test]
fn without_a_database_section_sqlite_is_used_next_to_the_first_file() {
    let loaded = loaded(load_yaml(&[MINIMAL], &[]));
    assert_eq!(
        loaded.config.database_backend(&loaded.base_dir),
        Backend::Sqlite {
            path: PathBuf::from("/etc/mas/mas.db")
        }
    );
}

#[test]
fn the_generated_configuration_loads_back_unchanged_and_without_problems() {
    let config = generated();
    let yaml = config.to_yaml(true);
    let reloaded = loaded(load_yaml(&[&yaml], &[]));
    assert_eq!(reloaded.warnings, []);
    assert_eq!(reloaded.config, config);
}

#[test]
fn the_compact_generated_configuration_loads_back_unchanged_and_without_problems() {
    let config = generated();
    let reloaded = loaded(load_yaml(&[&config.to_yaml_compact(true)], &[]));
    assert_eq!(reloaded.warnings, []);
    assert_eq!(reloaded.config, config);
}

#[test]
fn the_compact_generated_configuration_has_mas_sections_and_listeners() {
    let yaml = generated().to_yaml_compact(true);
    let sections: Vec<&str> = yaml
        .lines()
        .filter(|line| !line.starts_with([' ', '-']))
        .collect();
    assert_eq!(
        sections,
        [
            "http:",
            "database:",
            "email:",
            "secrets:",
            "passwords:",
            "matrix:"
        ]
    );
    assert!(yaml.contains("name: web"));
    assert!(yaml.contains("address: '[::]:8080'"), "{yaml}");
    assert!(yaml.contains("port: 8081"));
}

#[test]
fn a_dump_fills_in_every_default_section() {
    let dump = generated().to_yaml(true);
    for section in portcullis_config::SECTIONS {
        assert!(
            dump.contains(&format!("\n{section}:")) || dump.starts_with(&format!("{section}:")),
            "{section} missing"
        );
    }
}

#[test]
fn a_dump_redacts_inline_secrets_but_shows_secret_file_paths() {
    let yaml = "email:\n  transport: smtp\n  mode: tls\n  hostname: smtp.example\n  username: mas\n  password_file: /run/secrets/smtp\n";
    let config = loaded(load_yaml(&[MINIMAL, yaml], &[])).config;
    let dump = config.to_yaml(false);
    assert!(!dump.contains("shared-secret"));
    assert!(!dump.contains("0000111122223333"));
    assert!(dump.contains(REDACTED));
    assert!(dump.contains("/run/secrets/smtp"));
    assert!(dump.contains("keys/rsa.pem"));
}

#[test]
fn a_dump_with_secrets_shows_them() {
    let config = loaded(load_yaml(&[MINIMAL], &[])).config;
    assert!(config.to_yaml(true).contains("shared-secret"));
}

#[test]
fn the_schema_requires_matrix_and_secrets_and_describes_every_section() {
    let schema = json_schema();
    let required = schema["required"]
        .as_array()
        .expect("the root schema lists required sections");
    assert!(required.contains(&"matrix".into()));
    assert!(required.contains(&"secrets".into()));
    for section in portcullis_config::SECTIONS {
        assert!(
            schema["properties"].get(*section).is_some(),
            "no schema for {section}"
        );
    }
}
