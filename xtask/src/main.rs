//! `cargo xtask`: project chores — `ci` (what `.ci/run` runs), `bench`, `docs`.

mod bench;

use std::process::Command;

use anyhow::{bail, Context as _};

fn main() -> anyhow::Result<()> {
    let task = std::env::args().nth(1).unwrap_or_default();
    match task.as_str() {
        "ci" => ci(),
        "bench" => bench::run(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .parent()
                .context("xtask lives in the workspace")?,
        ),
        _ => bail!("usage: cargo xtask <ci|bench>"),
    }
}

/// Runs exactly what `.ci/run` runs.
fn ci() -> anyhow::Result<()> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap();
    let status = Command::new("bash")
        .arg(root.join(".ci/run"))
        .current_dir(root)
        .status()
        .context("cannot run .ci/run")?;
    if !status.success() {
        bail!(".ci/run failed");
    }
    Ok(())
}
