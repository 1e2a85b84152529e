//! Integration tests of `portcullis-keys`, driven through its public API only.
//!
//! One test binary with a module per concern keeps link time down.

mod fuzz;
mod generate;
mod jwks;
mod jws;
mod load;

use portcullis_keys::{Keystore, PrivateKey};
use serde_json::Value;

/// Reads a fixture from `tests/fixtures/` (see the README there).
macro_rules! fixture {
    ($name:literal) => {
        include_bytes!(concat!("../fixtures/", $name)).as_slice()
    };
}
pub(crate) use fixture;

pub const PASSWORD: &[u8] = b"hunter2";

pub fn load_fixture(bytes: &[u8]) -> PrivateKey {
    PrivateKey::load(bytes, Some(PASSWORD)).expect("the fixture is a valid key")
}

/// One fixture key of each supported type, in a fixed order.
pub fn fixture_keys() -> Vec<PrivateKey> {
    vec![
        load_fixture(fixture!("rsa.pkcs8.pem")),
        load_fixture(fixture!("p256.pkcs8.pem")),
        load_fixture(fixture!("p384.pkcs8.pem")),
        load_fixture(fixture!("k256.pkcs8.pem")),
        load_fixture(fixture!("ed25519.pkcs8.pem")),
    ]
}

/// A keystore of [`fixture_keys`], every kid derived.
pub fn fixture_keystore() -> Keystore {
    Keystore::new(fixture_keys().into_iter().map(|key| (None, key)).collect())
        .expect("the fixture keys are distinct")
}

/// The public JWKS of `keystore`, as the JSON text a relying party would fetch.
pub fn published_jwks(keystore: &Keystore) -> String {
    serde_json::to_string(keystore.public_jwks()).expect("a JWKS always serialises")
}

/// The public JWK that a keystore holding only `key` publishes.
pub fn public_jwk(key: PrivateKey) -> Value {
    let keystore = Keystore::new(vec![(None, key)]).expect("one key cannot clash");
    let jwks = serde_json::to_value(keystore.public_jwks()).expect("a JWKS always serialises");
    jwks["keys"][0].clone()
}
