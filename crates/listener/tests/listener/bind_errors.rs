use portcullis_listener::{BindErrorKind, BindSpec, FdKind, ListenerSpec, bind};

use crate::support::tcp_spec;

#[tokio::test]
async fn binding_an_address_in_use_names_the_listener_and_the_address() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("binds");
    let address = taken.local_addr().expect("a local address");
    let spec = ListenerSpec {
        binds: vec![BindSpec::Tcp(address)],
        ..tcp_spec("web")
    };

    let error = bind([spec]).await.expect_err("the address is taken");

    assert!(matches!(error.kind, BindErrorKind::Tcp { .. }), "{error:?}");
    assert!(
        error
            .to_string()
            .starts_with(&format!("listener `web`: cannot bind {address}: ")),
        "{error}"
    );
}

#[tokio::test]
async fn a_failing_listener_fails_the_whole_bind() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("binds");
    let specs = [
        tcp_spec("web"),
        ListenerSpec {
            binds: vec![BindSpec::Tcp(taken.local_addr().expect("a local address"))],
            ..tcp_spec("internal")
        },
    ];

    let error = bind(specs)
        .await
        .expect_err("the second listener cannot bind");

    assert_eq!(error.listener, "internal");
}

#[tokio::test]
async fn a_socket_activation_fd_that_was_not_passed_is_reported() {
    // The test runner passes no sockets (LISTEN_FDS is unset).
    let spec = ListenerSpec {
        binds: vec![BindSpec::Fd {
            fd: 0,
            kind: FdKind::Tcp,
        }],
        ..tcp_spec("web")
    };

    let error = bind([spec]).await.expect_err("no socket was passed");

    assert!(
        matches!(error.kind, BindErrorKind::FdMissing { fd: 0, passed: 0 }),
        "{error:?}"
    );
}

#[tokio::test]
async fn an_unresolvable_host_is_reported_with_its_name() {
    let spec = ListenerSpec {
        binds: vec![BindSpec::Host {
            host: Some("no-such-host.invalid".to_owned()),
            port: 0,
        }],
        ..tcp_spec("web")
    };

    let error = bind([spec]).await.expect_err("the host does not exist");

    assert!(
        error.to_string().contains("no-such-host.invalid"),
        "{error}"
    );
}

#[tokio::test]
async fn an_unusable_tls_key_fails_at_bind_time() {
    let pki = crate::support::TestPki::generate();
    let spec = ListenerSpec {
        tls: Some(portcullis_listener::TlsSettings {
            key: b"not a key".to_vec(),
            ..pki.settings()
        }),
        ..tcp_spec("web")
    };

    let error = bind([spec]).await.expect_err("the key is unusable");

    assert!(matches!(error.kind, BindErrorKind::Tls(_)), "{error:?}");
    assert!(
        error
            .to_string()
            .starts_with("listener `web`: TLS: bad private key"),
        "{error}"
    );
}
