use http::StatusCode;
use pkcs8::{PrivateKeyInfo, der::Decode};
use portcullis_listener::{ListenerSpec, TlsError, TlsSettings, rustls_server_config};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use crate::support::{TestPki, TestServer, field, info_router, tcp_spec};

fn tls_spec(settings: TlsSettings) -> ListenerSpec {
    ListenerSpec {
        tls: Some(settings),
        ..tcp_spec("web")
    }
}

fn pem(label: &str, der: &[u8]) -> Vec<u8> {
    pkcs8::der::pem::encode_string(label, pkcs8::der::pem::LineEnding::LF, der)
        .expect("PEM encoding works")
        .into_bytes()
}

#[tokio::test]
async fn https_is_served_with_the_configured_certificate() {
    let pki = TestPki::generate();
    let server = TestServer::start(tls_spec(pki.settings()), info_router()).await;
    let address = server.tcp_addr();

    let response = pki
        .reqwest_client(address)
        .get(format!("https://localhost:{}/info", address.port()))
        .send()
        .await
        .expect("the TLS server answers");

    assert_eq!(response.status(), StatusCode::OK);
    let body = response.text().await.expect("a body");
    assert_eq!(field(&body, "tls"), "Some(\"sni=localhost alpn=http/1.1\")");
    server.stop().await;
}

#[tokio::test]
async fn a_client_offering_h2_negotiates_it_with_alpn() {
    let pki = TestPki::generate();
    let server = TestServer::start(tls_spec(pki.settings()), info_router()).await;
    let stream = TcpStream::connect(server.tcp_addr())
        .await
        .expect("connects");

    let connector = TlsConnector::from(pki.rustls_client(&[b"h2", b"http/1.1"]));
    let tls = connector
        .connect("localhost".try_into().expect("a valid name"), stream)
        .await
        .expect("TLS handshake");

    assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
    server.stop().await;
}

#[tokio::test]
async fn an_encrypted_pkcs8_key_is_served_with_its_password() {
    let pki = TestPki::generate();
    let settings = TlsSettings {
        password: Some(b"correct horse".to_vec()),
        ..pki.encrypted_settings("correct horse")
    };
    let server = TestServer::start(tls_spec(settings), info_router()).await;
    let address = server.tcp_addr();

    let response = pki
        .reqwest_client(address)
        .get(format!("https://localhost:{}/", address.port()))
        .send()
        .await
        .expect("the TLS server answers");

    assert_eq!(response.text().await.expect("a body"), "ok");
    server.stop().await;
}

#[test]
fn an_encrypted_key_with_the_wrong_password_is_refused_clearly() {
    let pki = TestPki::generate();
    let settings = TlsSettings {
        password: Some(b"wrong".to_vec()),
        ..pki.encrypted_settings("correct horse")
    };

    let error = rustls_server_config(&settings).expect_err("the password is wrong");

    assert!(matches!(error, TlsError::WrongPassword), "{error:?}");
    assert!(error.to_string().contains("wrong password"), "{error}");
}

#[test]
fn an_encrypted_key_without_a_password_is_refused_clearly() {
    let pki = TestPki::generate();

    let error = rustls_server_config(&pki.encrypted_settings("correct horse"))
        .expect_err("a password is needed");

    assert!(matches!(error, TlsError::PasswordRequired), "{error:?}");
}

#[test]
fn an_encrypted_key_in_der_is_accepted_with_its_password() {
    let pki = TestPki::generate();
    let encrypted = pki.encrypted_settings("pw");
    let (_, der) = pkcs8::der::pem::decode_vec(&encrypted.key).expect("valid PEM");
    let settings = TlsSettings {
        key: der,
        password: Some(b"pw".to_vec()),
        ..encrypted
    };

    assert!(rustls_server_config(&settings).is_ok());
}

#[test]
fn a_pkcs8_key_in_der_is_accepted() {
    let pki = TestPki::generate();
    let settings = TlsSettings {
        key: pki.leaf_key.serialize_der(),
        ..pki.settings()
    };

    assert!(rustls_server_config(&settings).is_ok());
}

#[test]
fn a_sec1_ec_key_in_pem_is_accepted() {
    let pki = TestPki::generate();
    let pkcs8 = pki.leaf_key.serialize_der();
    // A PKCS#8 EC key wraps the SEC1 `ECPrivateKey` structure.
    let sec1 = PrivateKeyInfo::from_der(&pkcs8)
        .expect("rcgen writes PKCS#8")
        .private_key
        .to_vec();
    let settings = TlsSettings {
        key: pem("EC PRIVATE KEY", &sec1),
        ..pki.settings()
    };

    assert!(rustls_server_config(&settings).is_ok());
}

#[test]
fn a_key_that_does_not_match_the_certificate_is_refused_clearly() {
    let pki = TestPki::generate();
    let other = TestPki::generate();
    let settings = TlsSettings {
        key: other.leaf_key.serialize_pem().into_bytes(),
        ..pki.settings()
    };

    let error = rustls_server_config(&settings).expect_err("the key is another one");

    assert!(matches!(error, TlsError::KeyMismatch), "{error:?}");
    assert_eq!(
        error.to_string(),
        "the private key does not match the certificate"
    );
}

#[test]
fn a_certificate_chain_without_certificates_is_refused_clearly() {
    let pki = TestPki::generate();
    let settings = TlsSettings {
        certificate_chain_pem: b"this is not PEM".to_vec(),
        ..pki.settings()
    };

    let error = rustls_server_config(&settings).expect_err("there is no certificate");

    assert!(matches!(error, TlsError::NoCertificate), "{error:?}");
}

#[test]
fn a_certificate_that_is_not_x509_is_refused_as_a_bad_certificate() {
    let pki = TestPki::generate();
    let settings = TlsSettings {
        certificate_chain_pem: pem("CERTIFICATE", b"\x30\x03\x02\x01\x00"),
        ..pki.settings()
    };

    let error = rustls_server_config(&settings).expect_err("the certificate is garbage");

    assert!(matches!(error, TlsError::BadCertificate(_)), "{error:?}");
}

#[test]
fn a_key_in_an_unknown_format_is_refused_as_a_bad_key() {
    let pki = TestPki::generate();
    let settings = TlsSettings {
        key: pki.leaf_key.public_key_pem().into_bytes(),
        ..pki.settings()
    };

    let error = rustls_server_config(&settings).expect_err("a public key is no private key");

    assert!(matches!(error, TlsError::BadKey(_)), "{error:?}");
}
