//! A minimal software WebAuthn authenticator (a "virtual passkey"): it answers the options the
//! server sends for `navigator.credentials.create()` and `navigator.credentials.get()` with the
//! JSON a browser would post back, holding one P-256 key with "none" attestation.

use data_encoding::BASE64URL_NOPAD;
use p256::{
    ecdsa::{Signature, SigningKey, signature::Signer as _},
    pkcs8::EncodePublicKey as _,
};
use rand::{RngCore as _, rngs::OsRng};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

/// Flag bit: the user was present.
const FLAG_UP: u8 = 0x01;
/// Flag bit: the user was verified.
const FLAG_UV: u8 = 0x04;
/// Flag bit: attested credential data follows the sign count.
const FLAG_AT: u8 = 0x40;

/// A virtual passkey: one P-256 key pair bound to one credential ID.
pub struct Authenticator {
    /// The credential's private key.
    key: SigningKey,
    /// The credential ID, 16 random bytes.
    credential_id: Vec<u8>,
    /// The user handle the server gave at registration.
    user_handle: Option<Vec<u8>>,
    /// The signature counter, bumped before each sign-in.
    sign_count: u32,
    /// The relying party ID seen at registration; empty before it.
    rp_id: String,
}

impl Default for Authenticator {
    fn default() -> Self {
        Self::new()
    }
}

impl Authenticator {
    /// A new authenticator with one fresh P-256 key and a random 16-byte credential ID.
    pub fn new() -> Self {
        let mut credential_id = vec![0; 16];
        OsRng.fill_bytes(&mut credential_id);
        Self {
            key: SigningKey::random(&mut OsRng),
            credential_id,
            user_handle: None,
            sign_count: 0,
            rp_id: String::new(),
        }
    }

    /// The credential ID, base64url without padding.
    pub fn credential_id(&self) -> String {
        BASE64URL_NOPAD.encode(&self.credential_id)
    }

    /// Answers `navigator.credentials.create()`: `options` is the creation options JSON the
    /// server sent, bare or wrapped in `{"publicKey": ...}`; `origin` is the page's origin, such
    /// as `http://localhost:8080`. Returns the `RegistrationResponseJSON` to post back.
    pub fn register(&mut self, options: &Value, origin: &str) -> Value {
        let options = unwrap_public_key(options);
        let challenge = options["challenge"]
            .as_str()
            .expect("the creation options have no challenge");
        let rp_id = options["rp"]["id"]
            .as_str()
            .map_or_else(|| host_of(origin).to_owned(), str::to_owned);
        let user_id = options["user"]["id"]
            .as_str()
            .expect("the creation options have no user ID");
        self.user_handle = Some(decode_b64url(user_id));
        self.rp_id = rp_id;

        let client_data = client_data_json("webauthn.create", challenge, origin);
        let auth_data = self.registration_authenticator_data();

        // {"fmt": "none", "attStmt": {}, "authData": <bytes>}, keys in canonical order.
        let mut attestation_object = Vec::new();
        cbor_head(&mut attestation_object, MAJOR_MAP, 3);
        cbor_text(&mut attestation_object, "fmt");
        cbor_text(&mut attestation_object, "none");
        cbor_text(&mut attestation_object, "attStmt");
        cbor_head(&mut attestation_object, MAJOR_MAP, 0);
        cbor_text(&mut attestation_object, "authData");
        cbor_bytes(&mut attestation_object, &auth_data);

        let public_key_der = self
            .key
            .verifying_key()
            .to_public_key_der()
            .expect("the public key encodes as DER");
        let id = self.credential_id();
        json!({
            "id": id,
            "rawId": id,
            "type": "public-key",
            "authenticatorAttachment": "platform",
            "clientExtensionResults": {},
            "response": {
                "clientDataJSON": BASE64URL_NOPAD.encode(client_data.as_bytes()),
                "attestationObject": BASE64URL_NOPAD.encode(&attestation_object),
                "authenticatorData": BASE64URL_NOPAD.encode(&auth_data),
                "transports": ["internal"],
                "publicKeyAlgorithm": -7,
                "publicKey": BASE64URL_NOPAD.encode(public_key_der.as_bytes()),
            },
        })
    }

    /// Answers `navigator.credentials.get()`: `options` is the request options JSON the server
    /// sent, bare or wrapped in `{"publicKey": ...}`. Returns the `AuthenticationResponseJSON`
    /// to post back, carrying the user handle stored at registration.
    ///
    /// Panics if the server lists allowed credentials and this one is not among them.
    pub fn sign_in(&mut self, options: &Value, origin: &str) -> Value {
        let options = unwrap_public_key(options);
        let challenge = options["challenge"]
            .as_str()
            .expect("the request options have no challenge");
        let rp_id = options["rpId"].as_str().unwrap_or(&self.rp_id).to_owned();
        assert!(
            !rp_id.is_empty(),
            "the request options have no rpId and the authenticator was never registered"
        );
        if let Some(allowed) = options["allowCredentials"]
            .as_array()
            .filter(|a| !a.is_empty())
        {
            let id = self.credential_id();
            assert!(
                allowed
                    .iter()
                    .any(|c| c["id"].as_str() == Some(id.as_str())),
                "the server does not allow this authenticator's credential {id}"
            );
        }

        self.sign_count += 1;
        let client_data = client_data_json("webauthn.get", challenge, origin);
        let mut auth_data = Vec::with_capacity(37);
        auth_data.extend_from_slice(&Sha256::digest(rp_id.as_bytes()));
        auth_data.push(FLAG_UP | FLAG_UV);
        auth_data.extend_from_slice(&self.sign_count.to_be_bytes());

        let mut signed = auth_data.clone();
        signed.extend_from_slice(&Sha256::digest(client_data.as_bytes()));
        let signature: Signature = self.key.sign(&signed);

        let id = self.credential_id();
        let mut response = json!({
            "clientDataJSON": BASE64URL_NOPAD.encode(client_data.as_bytes()),
            "authenticatorData": BASE64URL_NOPAD.encode(&auth_data),
            "signature": BASE64URL_NOPAD.encode(signature.to_der().as_bytes()),
        });
        if let Some(handle) = &self.user_handle {
            response["userHandle"] = Value::String(BASE64URL_NOPAD.encode(handle));
        }
        json!({
            "id": id,
            "rawId": id,
            "type": "public-key",
            "authenticatorAttachment": "platform",
            "clientExtensionResults": {},
            "response": response,
        })
    }

    /// The authenticator data of a registration: the RP ID hash, the flags UP, UV and AT, a
    /// zero sign count, then the attested credential data (zero AAGUID, credential ID, COSE key).
    fn registration_authenticator_data(&self) -> Vec<u8> {
        let point = self.key.verifying_key().to_encoded_point(false);
        let x = point.x().expect("an uncompressed point has x");
        let y = point.y().expect("an uncompressed point has y");
        let id_len = u16::try_from(self.credential_id.len()).expect("the credential ID is short");

        let mut data = Vec::new();
        data.extend_from_slice(&Sha256::digest(self.rp_id.as_bytes()));
        data.push(FLAG_UP | FLAG_UV | FLAG_AT);
        data.extend_from_slice(&self.sign_count.to_be_bytes());
        data.extend_from_slice(&[0; 16]);
        data.extend_from_slice(&id_len.to_be_bytes());
        data.extend_from_slice(&self.credential_id);
        // COSE_Key {1: 2 (EC2), 3: -7 (ES256), -1: 1 (P-256), -2: x, -3: y}, canonical order.
        cbor_head(&mut data, MAJOR_MAP, 5);
        for (label, value) in [(1, 2), (3, -7), (-1, 1)] {
            cbor_int(&mut data, label);
            cbor_int(&mut data, value);
        }
        cbor_int(&mut data, -2);
        cbor_bytes(&mut data, x);
        cbor_int(&mut data, -3);
        cbor_bytes(&mut data, y);
        data
    }
}

/// The options inside `{"publicKey": ...}`, or `options` itself when it is not wrapped.
fn unwrap_public_key(options: &Value) -> &Value {
    options.get("publicKey").unwrap_or(options)
}

/// The host of an origin such as `http://localhost:8080`, used when the options name no RP ID.
fn host_of(origin: &str) -> &str {
    let rest = origin.split_once("://").map_or(origin, |(_, rest)| rest);
    rest.split([':', '/']).next().unwrap_or(rest)
}

/// Decodes base64url, with or without padding.
fn decode_b64url(text: &str) -> Vec<u8> {
    BASE64URL_NOPAD
        .decode(text.trim_end_matches('=').as_bytes())
        .expect("the value is not base64url")
}

/// The client data JSON, with its keys in the order the strict parsers expect.
fn client_data_json(kind: &str, challenge: &str, origin: &str) -> String {
    let quote = |s: &str| serde_json::to_string(s).expect("a string serializes");
    format!(
        r#"{{"type":{},"challenge":{},"origin":{},"crossOrigin":false}}"#,
        quote(kind),
        quote(challenge),
        quote(origin),
    )
}

/// CBOR major type of unsigned integers.
const MAJOR_UNSIGNED: u8 = 0;
/// CBOR major type of negative integers.
const MAJOR_NEGATIVE: u8 = 1;
/// CBOR major type of byte strings.
const MAJOR_BYTES: u8 = 2;
/// CBOR major type of text strings.
const MAJOR_TEXT: u8 = 3;
/// CBOR major type of maps.
const MAJOR_MAP: u8 = 5;

/// Writes a CBOR item head: the major type and an argument in its shortest encoding.
fn cbor_head(out: &mut Vec<u8>, major: u8, argument: u64) {
    let major = major << 5;
    if argument < 24 {
        out.push(major | u8::try_from(argument).expect("checked above"));
    } else if let Ok(byte) = u8::try_from(argument) {
        out.extend_from_slice(&[major | 24, byte]);
    } else if let Ok(short) = u16::try_from(argument) {
        out.push(major | 25);
        out.extend_from_slice(&short.to_be_bytes());
    } else if let Ok(word) = u32::try_from(argument) {
        out.push(major | 26);
        out.extend_from_slice(&word.to_be_bytes());
    } else {
        out.push(major | 27);
        out.extend_from_slice(&argument.to_be_bytes());
    }
}

/// Writes a CBOR integer, unsigned or negative.
fn cbor_int(out: &mut Vec<u8>, value: i64) {
    match u64::try_from(value) {
        Ok(unsigned) => cbor_head(out, MAJOR_UNSIGNED, unsigned),
        // A negative integer n is encoded as -1 - n, which is never negative.
        Err(_) => cbor_head(out, MAJOR_NEGATIVE, (-1 - value).unsigned_abs()),
    }
}

/// Writes a CBOR byte string.
fn cbor_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    cbor_head(out, MAJOR_BYTES, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

/// Writes a CBOR text string.
fn cbor_text(out: &mut Vec<u8>, text: &str) {
    cbor_head(out, MAJOR_TEXT, text.len() as u64);
    out.extend_from_slice(text.as_bytes());
}
