//! `mas-cli`: the Portcullis binary, with the command line of the Matrix Authentication Service.

mod app;
mod commands;

use std::{path::PathBuf, process::ExitCode};

use clap::{Parser, Subcommand};

/// Portcullis: an authentication service for Matrix homeservers, compatible with MAS.
#[derive(Debug, Parser)]
#[command(name = "mas-cli", version, about, long_about = None)]
struct Cli {
    /// Configuration file to load; repeat to merge several in order.
    /// Without it: the colon-separated list in MAS_CONFIG, else ./config.yaml, else
    /// ./mas-data/config.yaml (which `server` writes on its first run when there is none).
    #[arg(short = 'c', long = "config", global = true, value_name = "FILE")]
    config: Vec<PathBuf>,

    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check, print, generate and apply the configuration.
    #[command(subcommand)]
    Config(commands::config::ConfigCommand),
    /// Database migrations and status.
    #[command(subcommand)]
    Database(commands::database::DatabaseCommand),
    /// Manage users: register, passwords, admin flag, emails, locks.
    #[command(subcommand)]
    Manage(commands::manage::ManageCommand),
    /// Save the built-in templates, or check a directory of overrides.
    #[command(subcommand)]
    Templates(commands::templates::TemplatesCommand),
    /// Run the web server and the background worker (the default command). With no
    /// configuration anywhere, it first writes ./mas-data/config.yaml with fresh keys (a quick
    /// start on 127.0.0.1:8080).
    Server(commands::server::ServerArgs),
    /// Run the background worker alone.
    Worker,
    /// Check that the deployment works, with a hint for each problem; fails unless every
    /// check is ok (or only warnings remain, with --warnings-ok).
    Doctor(commands::doctor::DoctorArgs),
    /// Move an existing Synapse homeserver's users and devices here (`check`, then
    /// `migrate`), from its SQLite or PostgreSQL database.
    #[command(subcommand)]
    Syn2mas(commands::syn2mas::Syn2masCommand),
}

/// The status a shell reports for a process that SIGPIPE ended (128 + 13).
const BROKEN_PIPE_STATUS: i32 = 141;

/// A reader that stops reading (`mas-cli database status | head`) ends the command quietly,
/// with the status a SIGPIPE would give, instead of a panic and its backtrace. (Rust ignores
/// SIGPIPE, so `println!` panics on a closed pipe; restoring the signal would need `unsafe`.)
fn quit_quietly_on_broken_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or_default();
        if message.starts_with("failed printing to std") && message.contains("Broken pipe") {
            std::process::exit(BROKEN_PIPE_STATUS);
        }
        default(info);
    }));
}

fn main() -> ExitCode {
    quit_quietly_on_broken_pipe();
    let cli = Cli::parse();

    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        // Blocking threads serve file reads and name resolution, a few at a time; each one
        // that the C allocator gives an arena of its own keeps memory after a burst. (Password
        // hashing has threads of its own, see the passwords crate.)
        .max_blocking_threads(4)
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };

    let config_paths = cli.config;
    // The processes that serve and run jobs report traces, metrics and errors as configured;
    // the other commands only log.
    let serves = matches!(
        cli.command,
        None | Some(Command::Server(_) | Command::Worker)
    );
    let telemetry = if serves {
        let config = app::telemetry_config(&config_paths);
        match portcullis_telemetry::Telemetry::start(&config, runtime.handle()) {
            Ok(telemetry) => Some(telemetry),
            Err(error) => {
                portcullis_telemetry::init_logs();
                eprintln!("error: {error:#}");
                return ExitCode::FAILURE;
            }
        }
    } else {
        portcullis_telemetry::init_logs();
        None
    };

    let result = runtime.block_on(async {
        match cli.command {
            None => {
                commands::server::run(
                    &config_paths,
                    commands::server::ServerArgs::default(),
                    telemetry.as_ref(),
                )
                .await
            }
            Some(Command::Server(args)) => {
                commands::server::run(&config_paths, args, telemetry.as_ref()).await
            }
            Some(Command::Config(command)) => commands::config::run(&config_paths, command).await,
            Some(Command::Database(command)) => {
                commands::database::run(&config_paths, command).await
            }
            Some(Command::Manage(command)) => commands::manage::run(&config_paths, command).await,
            Some(Command::Templates(command)) => commands::templates::run(&config_paths, command),
            Some(Command::Worker) => commands::worker::run(&config_paths).await,
            Some(Command::Doctor(args)) => commands::doctor::run(&config_paths, args).await,
            Some(Command::Syn2mas(command)) => commands::syn2mas::run(&config_paths, command).await,
        }
    });

    if let Some(telemetry) = telemetry {
        telemetry.shutdown();
    }
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
