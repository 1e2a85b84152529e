//! Rebuilds the crate when a migration changes: `sqlx::migrate!` embeds the files at compile
//! time, and cargo cannot see that dependency by itself.

fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
