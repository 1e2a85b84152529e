//! The quick start: `mas-cli server` with no configuration at all.
//!
//! It writes `./mas-data/config.yaml` with generated secrets and keys, stores data in
//! `./mas-data/mas.db`, and listens on `127.0.0.1:8080`. The file is kept, so the next run
//! reuses the same keys (a restart must not invalidate every session and token).

use std::path::{Path, PathBuf};

use anyhow::Context as _;

use super::generate::{self, GenerateOptions};

/// The folder the quick start keeps everything in.
pub const DATA_DIR: &str = "mas-data";

/// Where the quick start's configuration lives, under `cwd`.
pub fn config_path(cwd: &Path) -> PathBuf {
    cwd.join(DATA_DIR).join("config.yaml")
}

/// Writes the quick-start configuration under `cwd` unless it exists, and returns its path
/// and whether it was just written (the server then says where it serves, once it does).
pub fn prepare(cwd: &Path) -> anyhow::Result<(PathBuf, bool)> {
    let path = config_path(cwd);
    if path.is_file() {
        return Ok((path, false));
    }
    let dir = cwd.join(DATA_DIR);
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;

    let yaml = generate::generate(&mut rand::rngs::OsRng, &GenerateOptions::quick_start())?;
    super::files::write_private(&path, yaml.as_bytes(), false)?;

    eprintln!(
        "No configuration file was found, so this is a quick start:\n  \
         - wrote {} with freshly generated secrets and signing keys (keep it: it holds the keys);\n  \
         - data goes to {}.\n\
         Next: edit that file (`matrix.homeserver`, `matrix.endpoint`, `http.public_base`), check it with \
         `mas-cli -c {} config check`, and restart.",
        path.display(),
        dir.join("mas.db").display(),
        path.display(),
    );
    Ok((path, true))
}

/// What the quick start says once its listener is bound.
pub fn announce(addresses: &[std::net::SocketAddr]) {
    for address in addresses {
        eprintln!("serving on http://{address} (try `curl http://{address}/health`)");
    }
}
