//! How long a request or a job spent in the database.
//!
//! Every statement, and the start and end of every unit of work (waiting for a connection
//! included), adds the time it took to a counter private to the piece of work that ran it,
//! when that work runs inside [`measured`]: the request's or job's span then carries its
//! database time. Outside of [`measured`] nothing is counted.

use std::{cell::Cell, future::Future, time::Duration};

tokio::task_local! {
    static SPENT: Cell<Duration>;
}

/// Runs `work`, and returns its output with the time it spent waiting for the database.
pub async fn measured<F: Future>(work: F) -> (F::Output, Duration) {
    SPENT
        .scope(Cell::new(Duration::ZERO), async move {
            let output = work.await;
            (output, SPENT.with(Cell::get))
        })
        .await
}

/// Adds to the database time of the work in progress, if it is being [`measured`].
pub(crate) fn add(elapsed: Duration) {
    let _ = SPENT.try_with(|spent| spent.set(spent.get() + elapsed));
}

/// Awaits `step` (a statement, a `BEGIN`, a `COMMIT`) and counts the time it took.
pub(crate) async fn timed<F: Future>(step: F) -> F::Output {
    let started = std::time::Instant::now();
    let output = step.await;
    add(started.elapsed());
    output
}
