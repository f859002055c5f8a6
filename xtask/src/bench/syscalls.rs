//! System calls per file, counted by `strace -f -c` (skipped when strace is not installed):
//! the first `aiwg apply` against `cp -r` of the same output tree, both into folders made
//! beforehand, per syscall with the failed ones; and the mutating calls of a no-change
//! `aiwg apply` (right after the first, and once the check cache vouches for it) and of
//! `aiwg check` (which should touch nothing).

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::path::Path;
use std::process::Command;

use anyhow::Context as _;

use super::corpus::{self, Shape};
use super::deploy::{count, output_entries};
use super::{cp_r, run_ok, under, Aiwg};

/// The calls that change the file system (what "touches nothing" counts).
const MUTATING: &str = "mkdir,mkdirat,rename,renameat,renameat2,unlink,unlinkat,rmdir,\
                        fchmod,fchmodat,truncate,ftruncate,syncfs,fsync,fdatasync,link,linkat";

/// One strace summary: per syscall, (calls, errors).
type Counts = BTreeMap<String, (u64, u64)>;

fn strace_available() -> bool {
    Command::new("strace")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Runs `cmd` under `strace -f -c` (only `filter` calls when given) and reads its summary.
fn traced(cmd: &Command, filter: Option<&str>, report: &Path) -> anyhow::Result<Counts> {
    let trace = filter.map(|f| format!("trace={f}"));
    let mut leading = vec![OsStr::new("-f"), OsStr::new("-c"), OsStr::new("-o")];
    leading.push(report.as_os_str());
    if let Some(t) = &trace {
        leading.extend([OsStr::new("-e"), OsStr::new(t.as_str())]);
    }
    leading.push(OsStr::new("--"));
    let out = under("strace", &leading, cmd).output()?;
    if !out.status.success() {
        anyhow::bail!(
            "strace {:?} failed: {}",
            cmd.get_program(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let text = std::fs::read_to_string(report).context("strace wrote no summary")?;
    let mut counts = Counts::new();
    for line in text.lines() {
        let cols: Vec<&str> = line.split_whitespace().collect();
        // `% time seconds usecs/call calls [errors] syscall`
        if cols.len() < 5 || cols[0].starts_with('%') || cols[0].starts_with('-') {
            continue;
        }
        let name = cols[cols.len() - 1];
        if name == "total" {
            continue;
        }
        let calls: u64 = cols[3].parse().unwrap_or(0);
        let errors: u64 = if cols.len() >= 6 {
            cols[4].parse().unwrap_or(0)
        } else {
            0
        };
        counts.insert(name.to_string(), (calls, errors));
    }
    Ok(counts)
}

fn total(c: &Counts) -> (u64, u64) {
    c.values().fold((0, 0), |(a, b), (x, y)| (a + x, b + y))
}

/// Measures and prints, under `work`.
pub fn run(aiwg: &Aiwg, work: &Path) -> anyhow::Result<()> {
    if !strace_available() {
        println!("System calls: strace is not installed, skipped");
        return Ok(());
    }
    let template = work.join("template");
    std::fs::create_dir_all(&template)?;
    corpus::generate(&template, &Shape::REALISTIC)?;
    let ids: Vec<String> = aiwg_platforms::Registry::builtin()
        .all()
        .iter()
        .map(|p| format!("\"{}\"", p.id))
        .collect();
    std::fs::write(
        template.join("aiwg.toml"),
        format!("sources = [\".aiwg\"]\nplatforms = [{}]\n", ids.join(", ")),
    )?;
    let sources = [".aiwg".to_string(), "aiwg.toml".to_string()];
    let project = work.join("project");
    let copy = work.join("copy");
    let reference = work.join("reference");
    for dir in [&project, &copy, &reference] {
        std::fs::create_dir_all(dir)?;
    }
    run_ok(cp_r(&template, &sources, &project))?;
    run_ok(cp_r(&template, &sources, &reference))?;
    aiwg.run(&reference, &["apply"], 0)?;
    let outputs = output_entries(&reference, &sources)?;
    let (files, _) = count(&reference, &outputs)?;
    let report = work.join("strace.txt");
    let apply = traced(&aiwg.command(&project, &["apply"]), None, &report)?;
    let cp = traced(&cp_r(&reference, &outputs, &copy), None, &report)?;
    let no_change = traced(&aiwg.command(&project, &["apply"]), Some(MUTATING), &report)?;
    let check_full = traced(
        &aiwg.without_check_cache().command(&project, &["check"]),
        Some(MUTATING),
        &report,
    )?;
    aiwg.prime_check_cache(&project)?;
    let check_hit = traced(&aiwg.command(&project, &["check"]), Some(MUTATING), &report)?;
    // The steady state: an apply that found nothing to do has recorded the cache, and the
    // next one answers from it.
    aiwg.run(&project, &["apply"], 0)?;
    let settled = traced(&aiwg.command(&project, &["apply"]), Some(MUTATING), &report)?;

    let per = |n: u64| n as f64 / files as f64;
    println!(
        "System calls per file written, `strace -f -c` (realistic x1, all {} platforms, {files} files)",
        ids.len()
    );
    let (at, ae) = total(&apply);
    let (ct, ce) = total(&cp);
    println!("  {:<18} {:>13} {:>13}", "syscall", "aiwg apply", "cp -r");
    println!(
        "  {:<18} {:>6.2} ({:>4.2}) {:>6.2} ({:>4.2})   calls per file (failed)",
        "total",
        per(at),
        per(ae),
        per(ct),
        per(ce)
    );
    let mut names: Vec<&String> = apply.keys().chain(cp.keys()).collect();
    names.sort();
    names.dedup();
    names.sort_by_key(|n| {
        let a = apply.get(*n).map_or(0, |c| c.0);
        let c = cp.get(*n).map_or(0, |c| c.0);
        std::cmp::Reverse(a.max(c))
    });
    for name in names.into_iter().take(14) {
        let (a, ae) = apply.get(name).copied().unwrap_or_default();
        let (c, cerr) = cp.get(name).copied().unwrap_or_default();
        println!(
            "  {:<18} {:>6.2} ({:>4.2}) {:>6.2} ({:>4.2})",
            name,
            per(a),
            per(ae),
            per(c),
            per(cerr)
        );
    }
    let show = |c: &Counts| {
        if c.is_empty() {
            "none".to_string()
        } else {
            c.iter()
                .map(|(k, (n, _))| format!("{k} {n}"))
                .collect::<Vec<_>>()
                .join(", ")
        }
    };
    println!(
        "  mutating calls of a no-change apply: {} (right after the first: its files are too new for the check cache)",
        show(&no_change)
    );
    println!("  mutating calls of a settled apply:   {}", show(&settled));
    println!(
        "  mutating calls of a full check:      {}",
        show(&check_full)
    );
    println!(
        "  mutating calls of a cache-hit check: {}",
        show(&check_hit)
    );
    Ok(())
}
