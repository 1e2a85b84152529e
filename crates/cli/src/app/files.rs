//! Files that hold secrets: those the configuration names must be there and readable, each
//! named with its option and path, before anything starts (a missing `matrix.secret_file`
//! would otherwise pass every check and stop the server later); and those the CLI writes
//! (a generated configuration) are created readable by their owner only.

use std::path::Path;

use portcullis_config::{Config, Problem};

/// One error per named file that cannot be read.
///
/// # Errors
/// The problems found.
pub fn check(config: &Config) -> Result<(), Vec<Problem>> {
    let problems: Vec<Problem> = config
        .named_files()
        .into_iter()
        .filter_map(|(option, path)| {
            let directory = option.ends_with("_dir");
            unreadable(path, directory).map(|reason| {
                Problem::error(option, format!("cannot read {}: {reason}", path.display()))
                    .with_hint(hint(path))
            })
        })
        .collect();
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

/// Why `path` cannot be read as a file (or a directory), if it cannot.
fn unreadable(path: &Path, directory: bool) -> Option<String> {
    let metadata = match std::fs::metadata(path) {
        Ok(metadata) => metadata,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            return Some("no such file".to_owned());
        }
        Err(error) => return Some(error.to_string()),
    };
    let opened = if directory {
        if !metadata.is_dir() {
            return Some("not a directory".to_owned());
        }
        std::fs::read_dir(path).map(drop)
    } else {
        if metadata.is_dir() {
            return Some("a directory, not a file".to_owned());
        }
        std::fs::File::open(path).map(drop)
    };
    opened.err().map(|error| error.to_string())
}

fn hint(path: &Path) -> String {
    if path.is_relative() {
        let cwd = std::env::current_dir()
            .map(|cwd| cwd.display().to_string())
            .unwrap_or_else(|_| "the working directory".to_owned());
        format!(
            "create it or correct the path; a relative path is read from the working directory, {cwd}"
        )
    } else {
        "create it or correct the path".to_owned()
    }
}

/// Creates `path` readable and writable by its owner only, for contents that hold secrets
/// (a generated configuration, keys). An existing file is replaced only when `replace`, and
/// then made private too.
///
/// # Errors
/// When the file exists (and `replace` is false) or cannot be written.
pub fn write_private(path: &Path, contents: &[u8], replace: bool) -> anyhow::Result<()> {
    use std::io::Write as _;

    use anyhow::Context as _;

    let mut options = std::fs::OpenOptions::new();
    options.write(true);
    if replace {
        options.create(true).truncate(true);
    } else {
        options.create_new(true);
    }
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = match options.open(path) {
        Ok(file) => file,
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => anyhow::bail!(
            "{} already exists and was left as it is (its keys would be lost); pass --force to replace it",
            path.display()
        ),
        Err(error) => {
            return Err(error).with_context(|| format!("cannot create {}", path.display()));
        }
    };
    #[cfg(unix)]
    if replace {
        use std::os::unix::fs::PermissionsExt as _;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))
            .with_context(|| format!("cannot make {} private", path.display()))?;
    }
    file.write_all(contents)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}
