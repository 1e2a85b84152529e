//! Binding a named unix socket without ever exposing it with the wrong permissions and
//! without deleting anything that is not a stale socket.

use std::{
    fs::{self, Permissions},
    io,
    os::unix::fs::{FileTypeExt, PermissionsExt},
    path::{Path, PathBuf},
};

use tokio::net::{UnixListener, UnixStream};

use crate::bind::BindErrorKind;

/// Binds `path`, replacing a stale socket left there by a previous run.
///
/// The socket is bound under a temporary name, given its mode, then renamed into place: the
/// rename is atomic, so clients never see the socket with the umask's permissions.
pub(crate) async fn bind_unix(
    path: &Path,
    mode: Option<u32>,
) -> Result<UnixListener, BindErrorKind> {
    check_existing(path).await?;

    let temporary = temporary_path(path);
    // A temporary socket left behind by a crashed start with the same pid.
    match fs::symlink_metadata(&temporary) {
        Ok(metadata) if metadata.file_type().is_socket() => {
            let _ = fs::remove_file(&temporary);
        }
        _ => {}
    }

    let listener = UnixListener::bind(&temporary).map_err(|error| BindErrorKind::Unix {
        path: path.to_owned(),
        error,
    })?;
    let guard = RemoveOnDrop(Some(temporary.clone()));

    if let Some(mode) = mode {
        fs::set_permissions(&temporary, Permissions::from_mode(mode)).map_err(|error| {
            BindErrorKind::SocketMode {
                path: path.to_owned(),
                mode,
                error,
            }
        })?;
    }

    fs::rename(&temporary, path).map_err(|error| BindErrorKind::Unix {
        path: path.to_owned(),
        error,
    })?;
    guard.disarm();

    Ok(listener)
}

/// Refuses to replace anything but a socket nobody listens on any more.
async fn check_existing(path: &Path) -> Result<(), BindErrorKind> {
    let metadata = match fs::symlink_metadata(path) {
        Ok(metadata) => metadata,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(error) => {
            return Err(BindErrorKind::Unix {
                path: path.to_owned(),
                error,
            });
        }
    };

    if !metadata.file_type().is_socket() {
        return Err(BindErrorKind::NotASocket {
            path: path.to_owned(),
        });
    }

    // A socket someone still accepts on belongs to a running server: replacing it would
    // silently steal its clients, which TCP would have refused with "address in use".
    match UnixStream::connect(path).await {
        Ok(_) => Err(BindErrorKind::Unix {
            path: path.to_owned(),
            error: io::Error::from(io::ErrorKind::AddrInUse),
        }),
        Err(_) => Ok(()),
    }
}

fn temporary_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(format!(".{}.tmp", std::process::id()));
    PathBuf::from(name)
}

/// Removes the temporary socket if binding fails half-way.
struct RemoveOnDrop(Option<PathBuf>);

impl RemoveOnDrop {
    fn disarm(mut self) {
        self.0 = None;
    }
}

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        if let Some(path) = self.0.take() {
            let _ = fs::remove_file(path);
        }
    }
}
