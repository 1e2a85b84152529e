//! How long commands (`syn2mas migrate`, `manage import-users`) show that they advance: a
//! progress bar per entity on a terminal, a plain line per tenth of each entity otherwise (a
//! log file, a CI job), on standard error.

use std::{io::IsTerminal as _, time::Instant};

use indicatif::{ProgressBar, ProgressStyle};
use portcullis_syn2mas::migrate::Progress;

/// [`Progress`] shown on standard error.
pub enum Shown {
    Bars(Option<ProgressBar>),
    Log {
        entity: &'static str,
        total: usize,
        next_tenth: usize,
        started: Instant,
    },
}

impl Shown {
    /// Bars when standard error is a terminal, lines otherwise.
    pub fn on_stderr() -> Self {
        if std::io::stderr().is_terminal() {
            Self::Bars(None)
        } else {
            Self::Log {
                entity: "",
                total: 0,
                next_tenth: 1,
                started: Instant::now(),
            }
        }
    }
}

fn rate(done: usize, started: Instant) -> String {
    let seconds = started.elapsed().as_secs_f64();
    if seconds <= 0.0 {
        return String::new();
    }
    #[expect(clippy::cast_precision_loss, reason = "a rate to show")]
    let per_second = done as f64 / seconds;
    format!("{per_second:.0}/s")
}

impl Progress for Shown {
    fn start(&mut self, entity: &'static str, total: usize) {
        match self {
            Self::Bars(bar) => {
                let new = ProgressBar::new(total as u64).with_message(entity);
                if let Ok(style) = ProgressStyle::with_template(
                    "{msg:>16} [{bar:30}] {human_pos}/{human_len} ({per_sec}, {eta} left)",
                ) {
                    new.set_style(style.progress_chars("=> "));
                }
                *bar = Some(new);
            }
            Self::Log {
                entity: current,
                total: current_total,
                next_tenth,
                started,
            } => {
                *current = entity;
                *current_total = total;
                *next_tenth = 1;
                *started = Instant::now();
            }
        }
    }

    fn advance(&mut self, done: usize) {
        match self {
            Self::Bars(Some(bar)) => bar.set_position(done as u64),
            Self::Bars(None) => {}
            Self::Log {
                entity,
                total,
                next_tenth,
                started,
            } => {
                if *total >= 10 && *next_tenth < 10 && done >= *total * *next_tenth / 10 {
                    eprintln!("{entity}: {done}/{total} ({})", rate(done, *started));
                    *next_tenth += 1;
                }
            }
        }
    }

    fn finish(&mut self) {
        match self {
            Self::Bars(bar) => {
                if let Some(bar) = bar.take() {
                    bar.finish();
                }
            }
            Self::Log {
                entity,
                total,
                started,
                ..
            } => {
                eprintln!(
                    "{entity}: {total}/{total} in {:.1} s ({})",
                    started.elapsed().as_secs_f64(),
                    rate(*total, *started)
                );
            }
        }
    }
}
