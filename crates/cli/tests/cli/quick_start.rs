//! The README's first command in an empty directory: `mas-cli server` with no configuration.

use crate::common::{Server, mas_cli, run, stdout};

// The quick start listens on the fixed 127.0.0.1:8080, so this is the only test using it.
#[tokio::test]
async fn server_without_configuration_starts_with_a_generated_one_and_keeps_it() {
    let dir = tempfile::tempdir().expect("temp dir");

    let server = Server::start(dir.path(), 8080, &["server"]).await;
    let config = dir.path().join("mas-data/config.yaml");
    assert!(config.is_file(), "the generated configuration is kept");
    assert!(
        dir.path().join("mas-data/mas.db").is_file(),
        "data in mas-data/mas.db"
    );
    let first = std::fs::read_to_string(&config).expect("readable");
    let (status, output) = server.stop();
    assert!(status.success(), "{output}");
    assert!(
        output.contains("mas-data/config.yaml"),
        "says what it did: {output}"
    );
    // Where it serves is said once it does, after the listener is bound.
    let ready = output.find("ready;").expect("ready is logged");
    let serving = output
        .find("serving on http://127.0.0.1:8080")
        .expect("says where it serves");
    assert!(serving > ready, "{output}");

    // A restart reuses the same file, so the keys stay.
    let server = Server::start(dir.path(), 8080, &["server"]).await;
    let (status, _) = server.stop();
    assert!(status.success());
    assert_eq!(std::fs::read_to_string(&config).expect("readable"), first);

    // And the other commands find it too.
    let check = run(mas_cli(dir.path()).args(["config", "check"]));
    assert!(check.status.success(), "{}", stdout(&check));
}
