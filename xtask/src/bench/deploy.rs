//! DESIGN.md's benchmark: a realistic framework ([`Shape::REALISTIC`]) deployed to every
//! platform in project scope. Measures, in one run: (a) the first `aiwg apply` (each run on a
//! fresh copy of the project), (b) a no-change `aiwg check` (reading everything, and answered
//! by its stat cache), and `aiwg validate` (source loading alone); (c) the maximum RSS of
//! each; (d) the ratio of each to `cp -r` of the same tree — the deployed output tree for
//! apply and check, the source tree for validate.

use std::path::Path;

use anyhow::bail;

use super::corpus::{self, Shape};
use super::{cp_r, fresh_dir, max_rss_kib, ms, rss, run_ok, time, Aiwg, Timing};

/// Runs of each measurement (apply writes thousands of files, so fewer of those).
const APPLY_RUNS: usize = 5;
const COPY_RUNS: usize = 5;
const RUNS: usize = 21;

/// One row of the table.
struct Row {
    what: &'static str,
    timing: Timing,
    rss_kib: Option<u64>,
    /// The `cp -r` row this one is compared with.
    versus: Option<(&'static str, Timing)>,
}

/// Generates the corpus under `work`, measures, and prints the table.
pub fn run(aiwg: &Aiwg, work: &Path) -> anyhow::Result<()> {
    let shape = Shape::REALISTIC;
    let template = work.join("template");
    std::fs::create_dir_all(&template)?;
    corpus::generate(&template, &shape)?;
    let ids: Vec<String> = aiwg_platforms::Registry::builtin()
        .all()
        .iter()
        .map(|p| format!("\"{}\"", p.id))
        .collect();
    std::fs::write(
        template.join("aiwg.toml"),
        format!("sources = [\".aiwg\"]\nplatforms = [{}]\n", ids.join(", ")),
    )?;
    let source_entries = [".aiwg".to_string(), "aiwg.toml".to_string()];
    let project = work.join("project");
    let fresh_project = |_: usize| -> anyhow::Result<()> {
        let _ = std::fs::remove_dir_all(&project);
        std::fs::create_dir_all(&project)?;
        run_ok(cp_r(&template, &source_entries, &project))?;
        fresh_dir(&work.join("copy"))
    };

    // (a) First apply, on a fresh copy each time.
    let mut summary = String::new();
    let apply = time(APPLY_RUNS, fresh_project, |_| {
        summary = aiwg.run(&project, &["apply"], 0)?.summary().to_string();
        Ok(())
    })?;
    fresh_project(0)?;
    let apply_rss = max_rss_kib(&aiwg.command(&project, &["apply"]), 0)?;

    // The output tree: everything apply wrote (the lock included), not the sources.
    let mut outputs: Vec<String> = std::fs::read_dir(&project)?
        .map(|e| e.map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect::<Result<_, _>>()?;
    outputs.retain(|name| !source_entries.contains(name));
    outputs.sort();
    let files = count_files(&project, &outputs)?;

    // (b) A no-change check (reading everything, and answered by the stat cache), and source
    // loading alone.
    let clean_check = |aiwg: &Aiwg| -> anyhow::Result<()> {
        let out = aiwg.run(&project, &["check"], 0)?;
        if !out.stdout.is_empty() {
            bail!("aiwg check is not clean: {}", out.stdout);
        }
        Ok(())
    };
    let full = aiwg.without_check_cache();
    let check = time(RUNS, |_| Ok(()), |_| clean_check(&full))?;
    let check_rss = max_rss_kib(&full.command(&project, &["check"]), 0)?;
    aiwg.prime_check_cache(&project)?;
    let check_hit = time(RUNS, |_| Ok(()), |_| clean_check(aiwg))?;
    let check_hit_rss = max_rss_kib(&aiwg.command(&project, &["check"]), 0)?;
    let mut loaded = String::new();
    let validate = time(
        RUNS,
        |_| Ok(()),
        |_| {
            loaded = aiwg.run(&project, &["validate"], 0)?.summary().to_string();
            Ok(())
        },
    )?;
    let validate_rss = max_rss_kib(&aiwg.command(&project, &["validate"]), 0)?;

    // (d) cp -r of the same trees, in the same run.
    let copy_to = work.join("copy");
    let cp_out = time(
        COPY_RUNS,
        |_| fresh_dir(&copy_to),
        |_| run_ok(cp_r(&project, &outputs, &copy_to)),
    )?;
    fresh_dir(&copy_to)?;
    let cp_out_rss = max_rss_kib(&cp_r(&project, &outputs, &copy_to), 0)?;
    let cp_src = time(
        COPY_RUNS,
        |_| fresh_dir(&copy_to),
        |_| run_ok(cp_r(&project, &source_entries, &copy_to)),
    )?;
    fresh_dir(&copy_to)?;
    let cp_src_rss = max_rss_kib(&cp_r(&project, &source_entries, &copy_to), 0)?;

    let rows = [
        Row {
            what: "aiwg apply (first deploy)",
            timing: apply,
            rss_kib: apply_rss,
            versus: Some(("cp -r output", cp_out)),
        },
        Row {
            what: "aiwg check, full (no cache)",
            timing: check,
            rss_kib: check_rss,
            versus: Some(("cp -r output", cp_out)),
        },
        Row {
            what: "aiwg check, cache hit",
            timing: check_hit,
            rss_kib: check_hit_rss,
            versus: Some(("cp -r output", cp_out)),
        },
        Row {
            what: "aiwg validate (load only)",
            timing: validate,
            rss_kib: validate_rss,
            versus: Some(("cp -r sources", cp_src)),
        },
        Row {
            what: "cp -r output tree",
            timing: cp_out,
            rss_kib: cp_out_rss,
            versus: None,
        },
        Row {
            what: "cp -r source tree",
            timing: cp_src,
            rss_kib: cp_src_rss,
            versus: None,
        },
    ];
    println!(
        "Realistic framework ({} agents, {} commands, {} skills, {} rules, {} runbooks; {} source files) \
         deployed to all {} platforms, project scope: {files} files written",
        shape.agents,
        shape.commands,
        shape.skills,
        shape.rules,
        shape.runbooks,
        shape.files(),
        ids.len(),
    );
    println!("  apply: {summary}");
    println!("  validate: {loaded}");
    println!(
        "  {:<27} {:>5} {:>10} {:>10} {:>10}  ratio (medians)",
        "measurement", "runs", "median", "min", "max RSS"
    );
    for row in &rows {
        let ratio = row.versus.map_or(String::new(), |(name, base)| {
            format!(
                "{:.2}x {name}",
                row.timing.median.as_secs_f64() / base.median.as_secs_f64()
            )
        });
        println!(
            "  {:<27} {:>5} {:>10} {:>10} {:>10}  {ratio}",
            row.what,
            row.timing.runs,
            ms(row.timing.median),
            ms(row.timing.min),
            rss(row.rss_kib),
        );
    }
    println!("  max RSS: /usr/bin/time -f %M (the child's getrusage), one extra run each");
    Ok(())
}

/// How many files `entries` (relative to `root`) hold, recursively.
fn count_files(root: &Path, entries: &[String]) -> anyhow::Result<usize> {
    let mut count = 0;
    let mut stack: Vec<std::path::PathBuf> = entries.iter().map(|e| root.join(e)).collect();
    while let Some(path) = stack.pop() {
        let meta = std::fs::symlink_metadata(&path)?;
        if meta.is_dir() {
            for entry in std::fs::read_dir(&path)? {
                stack.push(entry?.path());
            }
        } else {
            count += 1;
        }
    }
    Ok(count)
}
