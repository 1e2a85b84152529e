//! Turns `secrets` into the keystore and the encrypter, with every problem tied to its key.

use portcullis_config::{Problem, sections::secrets::SecretsConfig};
use portcullis_keys::{Encrypter, EncryptionKey, KeyType, Keystore, PrivateKey};

const KEY_HINT: &str = "generate keys with `mas-cli config generate`, or `openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048`";

/// Loads the encryption key and the signing keys, collecting every problem rather than
/// stopping at the first, so `config check` can list them all.
pub fn load(secrets: &SecretsConfig) -> Result<(Encrypter, Keystore), Vec<Problem>> {
    let mut problems = Vec::new();

    let encrypter = load_encryption_key(secrets, &mut problems).map(Encrypter::new);
    let keys = load_signing_keys(secrets, &mut problems);

    if !problems.is_empty() {
        return Err(problems);
    }

    // ID tokens are signed with RS256 unless a client asks for something else (OIDC Core
    // §3.1.3.7), so, as in MAS, one RSA key is required.
    if !keys.iter().any(|(_, key)| key.key_type() == KeyType::Rsa) {
        problems.push(
            Problem::error(
                "secrets.keys",
                "at least one RSA key is needed (ID tokens default to RS256)",
            )
            .with_hint(KEY_HINT),
        );
    }

    let keystore = match Keystore::new(keys) {
        Ok(keystore) => Some(keystore),
        Err(error) => {
            problems.push(Problem::error("secrets.keys", error.to_string()));
            None
        }
    };

    match (encrypter, keystore) {
        (Some(encrypter), Some(keystore)) if problems.is_empty() => Ok((encrypter, keystore)),
        _ => Err(problems),
    }
}

fn load_encryption_key(
    secrets: &SecretsConfig,
    problems: &mut Vec<Problem>,
) -> Option<EncryptionKey> {
    // Which of `encryption`/`encryption_file` is given was checked with the configuration.
    let source = secrets.encryption()?;
    let path = if secrets.encryption_file.is_some() {
        "secrets.encryption_file"
    } else {
        "secrets.encryption"
    };
    let text = match source.read_string() {
        Ok(text) => text,
        Err(error) => {
            problems.push(Problem::error(
                path,
                format!("cannot read the key: {error}"),
            ));
            return None;
        }
    };
    match EncryptionKey::from_hex(&text) {
        Ok(key) => Some(key),
        Err(error) => {
            problems.push(
                Problem::error(path, error.to_string())
                    .with_hint("this must be 32 random bytes written as 64 hexadecimal characters, e.g. from `openssl rand -hex 32`; never change it once in use, or encrypted data becomes unreadable"),
            );
            None
        }
    }
}

fn load_signing_keys(
    secrets: &SecretsConfig,
    problems: &mut Vec<Problem>,
) -> Vec<(Option<String>, PrivateKey)> {
    let mut keys = Vec::new();

    for (index, entry) in secrets.keys.iter().enumerate() {
        let Some(source) = entry.key() else { continue };
        let key_path = if entry.key_file.is_some() {
            format!("secrets.keys[{index}].key_file")
        } else {
            format!("secrets.keys[{index}].key")
        };

        let password = match entry.password().map(|p| p.read()).transpose() {
            Ok(password) => password.map(trim_line_end),
            Err(error) => {
                problems.push(Problem::error(
                    format!("secrets.keys[{index}].password_file"),
                    format!("cannot read the password: {error}"),
                ));
                continue;
            }
        };
        let bytes = match source.read() {
            Ok(bytes) => bytes,
            Err(error) => {
                problems.push(Problem::error(
                    key_path,
                    format!("cannot read the key: {error}"),
                ));
                continue;
            }
        };
        match PrivateKey::load(&bytes, password.as_deref()) {
            Ok(key) => keys.push((entry.kid.clone(), key)),
            Err(error) => {
                problems.push(Problem::error(key_path, error.to_string()).with_hint(KEY_HINT))
            }
        }
    }

    if let Some(dir) = &secrets.keys_dir {
        load_keys_dir(dir, &mut keys, problems);
    }

    keys
}

/// Every file of `keys_dir` is a key, named (kid) after its file name.
fn load_keys_dir(
    dir: &std::path::Path,
    keys: &mut Vec<(Option<String>, PrivateKey)>,
    problems: &mut Vec<Problem>,
) {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(error) => {
            problems.push(Problem::error(
                "secrets.keys_dir",
                format!("cannot read {}: {error}", dir.display()),
            ));
            return;
        }
    };
    let mut paths: Vec<_> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.is_file())
        .collect();
    // Directory order is arbitrary; sort so the first key (the default signer) is stable.
    paths.sort();
    for path in paths {
        let kid = path
            .file_name()
            .map(|name| name.to_string_lossy().into_owned());
        match std::fs::read(&path) {
            Ok(bytes) => match PrivateKey::load(&bytes, None) {
                Ok(key) => keys.push((kid, key)),
                Err(error) => problems.push(
                    Problem::error("secrets.keys_dir", format!("{}: {error}", path.display()))
                        .with_hint(KEY_HINT),
                ),
            },
            Err(error) => problems.push(Problem::error(
                "secrets.keys_dir",
                format!("cannot read {}: {error}", path.display()),
            )),
        }
    }
}

/// Password files usually end with a newline that is not part of the password.
fn trim_line_end(mut bytes: Vec<u8>) -> Vec<u8> {
    while matches!(bytes.last(), Some(b'\n' | b'\r')) {
        bytes.pop();
    }
    bytes
}
