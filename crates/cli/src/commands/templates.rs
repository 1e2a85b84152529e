//! `mas-cli templates save DIR` and `mas-cli templates check [DIR]`: start and check template
//! overrides.
//!
//! The pages and the emails are built into the binary; `templates.path` names a directory whose
//! files replace the built-in ones of the same name. `save` writes the built-in templates out as
//! a starting point, and `check` loads a directory the way the server would and renders every
//! page and email with sample data, so that a mistake shows up here rather than in front of
//! users.

use std::{
    path::{Path, PathBuf},
    process::ExitCode,
};

use anyhow::Context as _;
use clap::Subcommand;
use portcullis_templates::Templates;

use crate::app;

#[derive(Debug, Subcommand)]
pub enum TemplatesCommand {
    /// Write the built-in templates into DIR, to start overrides from.
    Save {
        /// The directory to write into (created if missing).
        dir: PathBuf,
        /// Replace files that exist already.
        #[arg(long)]
        overwrite: bool,
    },
    /// Render every page and email with the templates of DIR (or of `templates.path`) and
    /// report the first problem.
    Check {
        /// The override directory; without it, `templates.path` from the configuration.
        dir: Option<PathBuf>,
    },
}

pub fn run(config_paths: &[PathBuf], command: TemplatesCommand) -> anyhow::Result<ExitCode> {
    match command {
        TemplatesCommand::Save { dir, overwrite } => save(&dir, overwrite),
        TemplatesCommand::Check { dir } => {
            let dir = match dir {
                Some(dir) => Some(dir),
                None => {
                    let paths = app::config_files(config_paths)?;
                    app::load_checked_config(&paths)?.config.templates.path
                }
            };
            check(dir.as_deref())
        }
    }
}

fn save(dir: &Path, overwrite: bool) -> anyhow::Result<ExitCode> {
    let mut written = 0;
    for (name, source) in Templates::embedded() {
        let path = dir.join(name);
        if path.exists() && !overwrite {
            anyhow::bail!(
                "{} exists already: pass --overwrite to replace it",
                path.display()
            );
        }
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        std::fs::write(&path, source)
            .with_context(|| format!("cannot write {}", path.display()))?;
        written += 1;
    }
    println!(
        "wrote {written} templates into {}; set `templates.path` to it and edit what you need (files you do not change may be deleted: the built-in ones are used instead)",
        dir.display()
    );
    Ok(ExitCode::SUCCESS)
}

fn check(dir: Option<&Path>) -> anyhow::Result<ExitCode> {
    let templates = Templates::load(dir)?;
    templates.check_all()?;
    println!(
        "ok: {} templates load and every page and email renders{}",
        templates.names().len(),
        dir.map(|dir| format!(" with the overrides of {}", dir.display()))
            .unwrap_or_default()
    );
    Ok(ExitCode::SUCCESS)
}
