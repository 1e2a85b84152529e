use std::{
    fs,
    os::unix::fs::{FileTypeExt, PermissionsExt},
    path::PathBuf,
};

use portcullis_listener::{BindErrorKind, BindSpec, ListenerSpec, bind};
use tokio::net::UnixStream;

use crate::support::{TestServer, field, info_router};

fn unix_spec(path: PathBuf, mode: Option<u32>) -> ListenerSpec {
    ListenerSpec {
        name: "local".to_owned(),
        binds: vec![BindSpec::Unix { path, mode }],
        proxy_protocol: false,
        tls: None,
    }
}

#[tokio::test]
async fn a_unix_socket_gets_its_mode_and_is_served() {
    let directory = tempfile::tempdir().expect("a temporary directory");
    let path = directory.path().join("mas.sock");
    let server = TestServer::start(unix_spec(path.clone(), Some(0o660)), info_router()).await;

    let metadata = fs::symlink_metadata(&path).expect("the socket exists");
    let stream = UnixStream::connect(&path).await.expect("connects");
    let response = crate::support::raw_get(stream, b"", "/info")
        .await
        .expect("a response");

    assert!(metadata.file_type().is_socket());
    assert_eq!(metadata.permissions().mode() & 0o777, 0o660);
    assert_eq!(response.status_line, "HTTP/1.1 200 OK");
    assert_eq!(
        field(&response.body, "local"),
        format!("unix:{}", path.display())
    );
    assert_eq!(field(&response.body, "peer"), "None");
    server.stop().await;
}

#[tokio::test]
async fn a_stale_socket_left_by_a_previous_run_is_replaced() {
    let directory = tempfile::tempdir().expect("a temporary directory");
    let path = directory.path().join("mas.sock");
    drop(std::os::unix::net::UnixListener::bind(&path).expect("binds"));

    let server = TestServer::start(unix_spec(path.clone(), None), info_router()).await;
    let stream = UnixStream::connect(&path).await.expect("connects");
    let response = crate::support::raw_get(stream, b"", "/").await;

    assert_eq!(response.expect("a response").body, "ok");
    server.stop().await;
}

#[tokio::test]
async fn a_regular_file_at_the_socket_path_is_never_deleted() {
    let directory = tempfile::tempdir().expect("a temporary directory");
    let path = directory.path().join("mas.sock");
    fs::write(&path, "precious").expect("writes");

    let error = bind([unix_spec(path.clone(), None)])
        .await
        .expect_err("the path is a regular file");

    assert!(
        matches!(error.kind, BindErrorKind::NotASocket { .. }),
        "{error:?}"
    );
    assert_eq!(fs::read_to_string(&path).expect("still there"), "precious");
}

#[tokio::test]
async fn a_socket_another_server_listens_on_is_not_taken_over() {
    let directory = tempfile::tempdir().expect("a temporary directory");
    let path = directory.path().join("mas.sock");
    let _running = std::os::unix::net::UnixListener::bind(&path).expect("binds");

    let error = bind([unix_spec(path.clone(), None)])
        .await
        .expect_err("the socket is in use");

    assert!(
        error
            .to_string()
            .starts_with("listener `local`: cannot bind unix socket"),
        "{error}"
    );
}
