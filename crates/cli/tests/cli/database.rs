//! Files holding secrets stay private, and a database that cannot be reached is explained once,
//! with a hint.

use std::os::unix::fs::PermissionsExt as _;

use crate::common::{free_port, mas_cli, run, stderr, stdout, write_config};

fn mode(path: &std::path::Path) -> u32 {
    std::fs::metadata(path)
        .expect("exists")
        .permissions()
        .mode()
        & 0o777
}

#[test]
fn a_generated_configuration_is_private_and_never_replaced_by_accident() {
    let dir = tempfile::tempdir().expect("temp dir");
    let output = run(mas_cli(dir.path()).args(["config", "generate", "-o", "config.yaml"]));
    assert!(output.status.success(), "{}", stderr(&output));
    let path = dir.path().join("config.yaml");
    assert_eq!(mode(&path), 0o600);
    let first = std::fs::read_to_string(&path).expect("read");

    let again = run(mas_cli(dir.path()).args(["config", "generate", "-o", "config.yaml"]));
    assert!(!again.status.success());
    assert!(stderr(&again).contains("--force"), "{}", stderr(&again));
    assert_eq!(std::fs::read_to_string(&path).expect("read"), first, "kept");

    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let forced =
        run(mas_cli(dir.path()).args(["config", "generate", "-o", "config.yaml", "--force"]));
    assert!(forced.status.success(), "{}", stderr(&forced));
    assert_ne!(
        std::fs::read_to_string(&path).expect("read"),
        first,
        "replaced"
    );
    assert_eq!(mode(&path), 0o600);
}

#[test]
fn the_sqlite_database_and_its_journal_are_private() {
    let dir = tempfile::tempdir().expect("temp dir");
    write_config(dir.path(), free_port(), &["health"], "");
    let output = run(mas_cli(dir.path()).args(["database", "migrate"]));
    assert!(output.status.success(), "{}", stderr(&output));
    let mut seen = 0;
    for entry in std::fs::read_dir(dir.path()).expect("listed") {
        let path = entry.expect("entry").path();
        if path
            .file_name()
            .is_some_and(|name| name.to_string_lossy().starts_with("mas.db"))
        {
            assert_eq!(mode(&path), 0o600, "{}", path.display());
            seen += 1;
        }
    }
    assert!(seen >= 1);
}

#[test]
fn a_database_that_cannot_be_opened_is_explained_once_with_a_hint() {
    let dir = tempfile::tempdir().expect("temp dir");
    write_config(
        dir.path(),
        free_port(),
        &["health"],
        "database:\n  uri: sqlite:missing/mas.db\n",
    );
    let output = run(mas_cli(dir.path()).args(["database", "migrate"]));
    assert!(!output.status.success());
    let text = stderr(&output);
    assert!(text.contains("does not exist: create it"), "{text}");
    assert!(text.contains("missing"), "{text}");

    // Nothing listens on this port: the cause is said once, with what to check.
    let closed = free_port();
    write_config(
        dir.path(),
        free_port(),
        &["health"],
        &format!(
            "database:\n  uri: postgresql://portcullis@127.0.0.1:{closed}/mas\n  connect_timeout: 5\n"
        ),
    );
    let output = run(mas_cli(dir.path()).args(["database", "migrate"]));
    assert!(!output.status.success());
    let text = stderr(&output);
    assert_eq!(text.matches("Connection refused").count(), 1, "{text}");
    assert!(text.contains("database.port"), "{text}{}", stdout(&output));
}
