//! The deploy benchmark: the first `aiwg apply` against `cp -r` of the very tree it writes,
//! over a matrix of corpus sizes (the realistic framework ×1, ×3, ×10, and the bundled `sdlc`
//! framework as real-world content) and target sets (one platform, six, all), measured so that
//! neither side is favoured:
//!
//! - every destination (a fresh project copy for aiwg, an empty folder for `cp -r`) is made
//!   before the series starts, and no tree is deleted until every cell is done (a cell's
//!   trees are moved aside): on ext4 without a journal, a new inode skips every inode freed
//!   in the last minute or so (`recently_deleted`), so deleting before timed writes makes
//!   both sides slower by the same amount and squeezes the ratio towards 1 (the default
//!   matrix so holds about 4 GB in 1.7 million files at its end, all deleted then);
//! - the page cache is warmed the same way for both (every input file read once, and one
//!   untimed run of each), and an untimed `sync` before every timed run starts each with no
//!   dirty data: otherwise aiwg's `syncfs` (or `sync -f`) would also flush what the run
//!   before it left;
//! - runs alternate, aiwg then `cp -r`, so load on the machine hits both alike;
//! - median, min and max per side, the ratio of medians, the mean CPU time (user + system)
//!   per side and its ratio (barely moved by load, unlike wall time), the maximum RSS from the
//!   OS (GNU time, one extra run each), and the per-file slope from ×1 to ×10.
//!
//! aiwg's apply includes its one `syncfs` before the lock; `cp -r` does not sync, so the table
//! also shows `cp -r` followed by `sync -f` (the same flush), which prices durability.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::bail;

use super::corpus::{self, Shape};
use super::{cp_r, cpu_ms, max_rss_kib, ms, rss, run_ok, Aiwg, Samples};

/// The "one" target set: a single platform.
pub const ONE: &[&str] = &["claude-code"];
/// The "six" target set: the platforms most teams use together (the peers' bench too).
pub const SIX: &[&str] = &[
    "agents-md",
    "claude-code",
    "codex",
    "copilot",
    "cursor",
    "opencode",
];

/// The target sets: one platform, six, every platform.
fn target_sets() -> Vec<(&'static str, Vec<String>)> {
    let all: Vec<String> = aiwg_platforms::Registry::builtin()
        .all()
        .iter()
        .map(|p| p.id.to_string())
        .collect();
    vec![
        ("one", ONE.iter().map(|s| s.to_string()).collect()),
        ("six", SIX.iter().map(|s| s.to_string()).collect()),
        ("all", all),
    ]
}

/// A corpus: generated (a shape scaled) or the bundled `sdlc` framework.
#[derive(Clone, Copy)]
enum Corpus {
    Realistic(usize),
    BundledSdlc,
}

impl Corpus {
    fn name(self) -> String {
        match self {
            Corpus::Realistic(n) => format!("realistic x{n}"),
            Corpus::BundledSdlc => "bundled sdlc".into(),
        }
    }
}

/// One measured cell of the matrix.
pub struct Cell {
    pub corpus: String,
    pub targets: &'static str,
    pub files: usize,
    pub bytes: u64,
    pub aiwg: Samples,
    pub cp: Samples,
    pub cp_sync: Samples,
    pub aiwg_rss: Option<u64>,
    pub cp_rss: Option<u64>,
    pub runs: usize,
}

/// Runs the matrix under `work` and prints its table; `runs` per side and cell. The cells'
/// trees are moved to `trash` (the caller deletes it when nothing is timed any more).
pub fn run(aiwg: &Aiwg, work: &Path, trash: &Path, runs: usize) -> anyhow::Result<Vec<Cell>> {
    let mut cells = Vec::new();
    let scales: Vec<usize> = std::env::var("AIWG_BENCH_SCALES")
        .ok()
        .map(|v| v.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![1, 3, 10]);
    let mut corpora: Vec<Corpus> = scales.into_iter().map(Corpus::Realistic).collect();
    corpora.push(Corpus::BundledSdlc);
    for corpus in corpora {
        for (set, ids) in target_sets() {
            let dir = work.join(format!("{}-{set}", corpus.name().replace(' ', "-")));
            let cell = measure(aiwg, &dir, corpus, set, &ids, runs)?;
            eprintln!(
                "  {} / {set}: aiwg {} cp {}",
                cell.corpus,
                ms(cell.aiwg.median()),
                ms(cell.cp.median())
            );
            cells.push(cell);
            // Moved aside, not deleted: freed inodes would slow the next cell's writes.
            std::fs::create_dir_all(trash)?;
            let name = dir
                .file_name()
                .map(|n| n.to_os_string())
                .unwrap_or_default();
            std::fs::rename(&dir, trash.join(name))?;
        }
    }
    print_table(&cells);
    Ok(cells)
}

/// Writes the template project (sources and `aiwg.toml`) for `corpus` deploying to `ids`.
fn template(dir: &Path, corpus: Corpus, ids: &[String]) -> anyhow::Result<Vec<String>> {
    std::fs::create_dir_all(dir)?;
    let quoted: Vec<String> = ids.iter().map(|id| format!("\"{id}\"")).collect();
    let sources = match corpus {
        Corpus::Realistic(n) => {
            corpus::generate(dir, &Shape::REALISTIC.scaled(n))?;
            "\".aiwg\""
        }
        Corpus::BundledSdlc => "\"sdlc\"",
    };
    std::fs::write(
        dir.join("aiwg.toml"),
        format!(
            "sources = [{sources}]\nplatforms = [{}]\n",
            quoted.join(", ")
        ),
    )?;
    let mut entries = vec!["aiwg.toml".to_string()];
    if matches!(corpus, Corpus::Realistic(_)) {
        entries.push(".aiwg".into());
    }
    Ok(entries)
}

fn measure(
    aiwg: &Aiwg,
    dir: &Path,
    corpus: Corpus,
    set: &'static str,
    ids: &[String],
    runs: usize,
) -> anyhow::Result<Cell> {
    let template_dir = dir.join("template");
    let sources = template(&template_dir, corpus, ids)?;
    // The output tree, once, to copy from and to count.
    let reference = dir.join("reference");
    copy_project(&template_dir, &sources, &reference)?;
    aiwg.run(&reference, &["apply"], 0)?;
    let outputs = output_entries(&reference, &sources)?;
    let (files, bytes) = count(&reference, &outputs)?;
    // The biggest cells are timed fewer times (the table shows how many).
    let runs = if files > 20_000 { runs.min(2) } else { runs };

    // Every destination made now, none deleted until the cell is done.
    let total = runs + 2; // one warm-up each, one for RSS
    let projects: Vec<PathBuf> = (0..total).map(|i| dir.join(format!("p{i}"))).collect();
    let copies: Vec<PathBuf> = (0..total * 2).map(|i| dir.join(format!("c{i}"))).collect();
    for p in &projects {
        copy_project(&template_dir, &sources, p)?;
    }
    for c in &copies {
        std::fs::create_dir_all(c)?;
    }
    // The same warming for both sides: every input read once, then one untimed run each.
    warm(&[
        template_dir.as_path(),
        reference.as_path(),
        aiwg.binary.as_path(),
    ])?;
    let _ = Command::new("sync").status();
    aiwg.run(&projects[0], &["apply"], 0)?;
    run_ok(cp_r(&reference, &outputs, &copies[0]))?;

    let mut a = Samples::default();
    let mut b = Samples::default();
    let mut c = Samples::default();
    for i in 0..runs {
        let project = &projects[1 + i];
        flush();
        a.time(|| aiwg.run(project, &["apply"], 0).map(|_| ()))?;
        flush();
        b.time(|| run_ok(cp_r(&reference, &outputs, &copies[1 + i])))?;
        let synced = &copies[total + i];
        flush();
        c.time(|| {
            run_ok(cp_r(&reference, &outputs, synced))?;
            run_ok(sync_f(synced))
        })?;
    }
    let last = total - 1;
    let aiwg_rss = max_rss_kib(&aiwg.command(&projects[last], &["apply"]), 0)?;
    let cp_rss = max_rss_kib(&cp_r(&reference, &outputs, &copies[last]), 0)?;
    Ok(Cell {
        corpus: corpus.name(),
        targets: set,
        files,
        bytes,
        aiwg: a,
        cp: b,
        cp_sync: c,
        aiwg_rss,
        cp_rss,
        runs,
    })
}

/// An untimed `sync`: the next timed run starts with nothing dirty to flush.
fn flush() {
    let _ = Command::new("sync").status();
}

/// `sync -f <dir>`: `syncfs` of the file system holding `dir`, as aiwg's apply does once.
fn sync_f(dir: &Path) -> Command {
    let mut cmd = Command::new("sync");
    cmd.arg("-f").arg(dir);
    cmd
}

/// Copies the project template (its source entries) into the new folder `to`.
fn copy_project(template: &Path, entries: &[String], to: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(to)?;
    run_ok(cp_r(template, entries, to))
}

/// The entries of a deployed project that apply wrote (the lock included, sources and aiwg's
/// history excluded), sorted.
pub fn output_entries(project: &Path, sources: &[String]) -> anyhow::Result<Vec<String>> {
    let mut outputs: Vec<String> = std::fs::read_dir(project)?
        .map(|e| e.map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect::<Result<_, _>>()?;
    outputs.retain(|name| !sources.contains(name) && name != ".aiwg");
    outputs.sort();
    if outputs.is_empty() {
        bail!("apply wrote nothing in `{}`", project.display());
    }
    Ok(outputs)
}

/// Reads every file below `paths` once (a file path is read itself).
fn warm(paths: &[&Path]) -> anyhow::Result<()> {
    let mut stack: Vec<PathBuf> = paths.iter().map(|p| p.to_path_buf()).collect();
    while let Some(path) = stack.pop() {
        let meta = std::fs::symlink_metadata(&path)?;
        if meta.is_dir() {
            for entry in std::fs::read_dir(&path)? {
                stack.push(entry?.path());
            }
        } else if meta.is_file() {
            std::fs::read(&path)?;
        }
    }
    Ok(())
}

/// How many files `entries` (relative to `root`) hold, and their bytes.
pub fn count(root: &Path, entries: &[String]) -> anyhow::Result<(usize, u64)> {
    let (mut files, mut bytes) = (0, 0);
    let mut stack: Vec<PathBuf> = entries.iter().map(|e| root.join(e)).collect();
    while let Some(path) = stack.pop() {
        let meta = std::fs::symlink_metadata(&path)?;
        if meta.is_dir() {
            for entry in std::fs::read_dir(&path)? {
                stack.push(entry?.path());
            }
        } else {
            files += 1;
            bytes += meta.len();
        }
    }
    Ok((files, bytes))
}

fn ratio(a: Duration, b: Duration) -> f64 {
    a.as_secs_f64() / b.as_secs_f64()
}

fn print_table(cells: &[Cell]) {
    println!("First `aiwg apply` vs `cp -r` of the same output tree (runs alternate; ms: median [min..max])");
    println!(
        "  {:<17} {:<4} {:>4} {:>6} {:>8}  {:<24} {:<24} {:<24} {:>6} {:>6} {:>8} {:>8} {:>6} {:>9} {:>9}",
        "corpus",
        "set",
        "runs",
        "files",
        "MB",
        "aiwg apply",
        "cp -r",
        "cp -r + sync -f",
        "ratio",
        "+sync",
        "aiwg CPU",
        "cp CPU",
        "CPU",
        "aiwg RSS",
        "cp RSS"
    );
    for c in cells {
        let cpu_ratio = match (c.aiwg.cpu_mean(), c.cp.cpu_mean()) {
            (Some(a), Some(b)) if c.aiwg.cpu_measurable() && c.cp.cpu_measurable() => {
                format!("{:>5.2}x", ratio(a, b))
            }
            _ => "n/a".into(),
        };
        println!(
            "  {:<17} {:<4} {:>4} {:>6} {:>8.1}  {:<24} {:<24} {:<24} {:>5.2}x {:>5.2}x {:>8} {:>8} {:>6} {:>9} {:>9}",
            c.corpus,
            c.targets,
            c.runs,
            c.files,
            c.bytes as f64 / 1e6,
            c.aiwg.spread(),
            c.cp.spread(),
            c.cp_sync.spread(),
            ratio(c.aiwg.median(), c.cp.median()),
            ratio(c.aiwg.median(), c.cp_sync.median()),
            cpu_ms(c.aiwg.cpu_mean()),
            cpu_ms(c.cp.cpu_mean()),
            cpu_ratio,
            rss(c.aiwg_rss),
            rss(c.cp_rss),
        );
    }
    // The per-file slope from x1 to x10, per target set: what each more file costs.
    println!("  per-file slope, realistic x1 -> x10 (median time difference / file difference):");
    for set in ["one", "six", "all"] {
        let find = |n: &str| cells.iter().find(|c| c.corpus == n && c.targets == set);
        if let (Some(small), Some(big)) = (find("realistic x1"), find("realistic x10")) {
            let files = big.files.saturating_sub(small.files).max(1) as f64;
            let slope =
                |a: Duration, b: Duration| (b.as_secs_f64() - a.as_secs_f64()) * 1e6 / files;
            println!(
                "    {set:<4} aiwg {:>6.1} us/file   cp -r {:>6.1} us/file   ({} -> {} files)",
                slope(small.aiwg.median(), big.aiwg.median()),
                slope(small.cp.median(), big.cp.median()),
                small.files,
                big.files
            );
        }
    }
    println!(
        "  ratio: aiwg median / cp -r median; +sync: aiwg / (cp -r + sync -f); CPU: mean user + system ms \
         per run (the children's total in /proc/self/stat, read to {:.0} ms over all runs) and aiwg / cp -r \
         (n/a under ten ticks); RSS: GNU time %M",
        1000.0 / super::clock_ticks() as f64
    );
}
