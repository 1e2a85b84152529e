//! The real-world configurations of `tests/fixtures/`, judged as their README says (the checks
//! of key material belong to the CLI and the keys crate, not to this crate).

use crate::common::{env, fixture};
use portcullis_config::load;

const GUIDE_ENV: &[(&str, &str)] = &[
    ("MAS_POSTGRES_PASSWORD", "pw"),
    (
        "MAS_SECRETS_ENCRYPTION",
        "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
    ),
    (
        "MAS_SECRETS_KEYS",
        "c29tZSByYW5kb20gYnl0ZXMgdGhhdCBhcmUgbm90IGEga2V5IGF0IGFsbA==",
    ),
    ("MAS_CLIENTS_SECRET", "s"),
    ("POCKETID_CLIENT_SECRET", "p"),
];

#[test]
fn the_configuration_mas_generated_loads_without_any_warning() {
    let loaded = crate::common::loaded(load(&[fixture("mas-generated.yaml")], &env(&[])));
    assert_eq!(loaded.warnings, []);
}

#[test]
fn the_guide_configuration_warns_only_about_the_moved_device_code_option() {
    let loaded = crate::common::loaded(load(&[fixture("homelab-guide.yaml")], &env(GUIDE_ENV)));
    let warnings: Vec<String> = loaded.warnings.iter().map(ToString::to_string).collect();
    assert_eq!(
        warnings,
        [
            "experimental.oauth2_device_code_grant: unknown option, ignored (did you mean oauth.device_code_grant_enabled?)"
        ]
    );
}

#[test]
fn the_guide_configuration_accepts_its_empty_clients_and_pocketid_provider() {
    let loaded = crate::common::loaded(load(&[fixture("homelab-guide.yaml")], &env(GUIDE_ENV)));
    assert!(loaded.config.clients.is_empty());
    assert_eq!(loaded.config.upstream_oauth2.providers[0].id, "pocketid");
}

#[test]
fn the_guide_configuration_without_its_matrix_secret_names_the_variable_and_the_key() {
    let without_secret: Vec<(&str, &str)> = GUIDE_ENV
        .iter()
        .copied()
        .filter(|(name, _)| *name != "MAS_CLIENTS_SECRET")
        .collect();
    let problems = match load(&[fixture("homelab-guide.yaml")], &env(&without_secret)) {
        Ok(_) => panic!("an unset variable must be an error"),
        Err(problems) => problems,
    };
    let errors: Vec<String> = problems.errors().map(ToString::to_string).collect();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].starts_with("matrix.secret: environment variable MAS_CLIENTS_SECRET is not set"),
        "{errors:?}"
    );
    assert_eq!(problems.warnings().count(), 1);
}

#[test]
fn the_fixed_guide_configuration_loads_without_any_warning() {
    let fixed_env = [
        ("MAS_POSTGRES_PASSWORD", "pw"),
        ("MAS_ENCRYPTION_FILE", "/run/secrets/mas-encryption"),
        ("MAS_CLIENTS_SECRET", "s"),
        ("POCKETID_CLIENT_SECRET", "p"),
    ];
    let loaded = crate::common::loaded(load(&[fixture("homelab-fixed.yaml")], &env(&fixed_env)));
    assert_eq!(loaded.warnings, []);
    assert!(loaded.config.oauth.device_code_grant_enabled);
}
