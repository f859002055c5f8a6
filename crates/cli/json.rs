//! The `--json` documents of the commands that report, as typed structs: one schema each,
//! every document carrying `version` (today [`VERSION`]; a field is only ever added within a
//! version). The README's "JSON output" section documents each one; tests parse them.

use aiwg_deploy::{Action, Mode, Plan, Summary};
use aiwg_platforms::{Notice, NoticeLevel};
use serde::Serialize;

/// The version of every document's schema.
pub const VERSION: u32 = 1;

/// `apply`, `use`, `remove` and `uninstall --json`: what the command did (or, dry run, would do).
#[derive(Debug, Serialize)]
pub struct DeployReport {
    /// [`VERSION`].
    pub version: u32,
    /// `apply`, `use`, `remove`, `uninstall`.
    pub command: &'static str,
    /// True when nothing was written (`--dry-run`).
    pub dry_run: bool,
    /// True when the changes were made (false for a dry run and when conflicts stopped it).
    pub applied: bool,
    /// Counts per action, per path.
    pub summary: Summary,
    /// The history generation recorded, when files changed.
    pub generation: Option<u64>,
    /// Every path written or deleted (or that would be), sorted.
    pub changes: Vec<Change>,
    /// The paths that stop the command.
    pub conflicts: Vec<Conflict>,
    /// The platforms' notes and warnings on how they take the content.
    pub notices: Vec<NoticeEntry>,
    /// `use` only: what changes in `aiwg.toml`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config: Option<ConfigChange>,
}

/// One path a deploy changes.
#[derive(Debug, Serialize)]
pub struct Change {
    /// Relative to the scope root, `/`-separated.
    pub path: String,
    /// `create`, `update` or `delete`.
    pub action: Action,
    /// `file`, `section` or `merge`.
    pub mode: Mode,
    /// The platforms that read it.
    pub platforms: Vec<String>,
}

/// One path a deploy stops on.
#[derive(Debug, Serialize)]
pub struct Conflict {
    /// Relative to the scope root.
    pub path: String,
    /// Why.
    pub reason: String,
    /// Whether `--force` resolves it.
    pub forceable: bool,
}

/// A platform's note or warning.
#[derive(Debug, Serialize)]
pub struct NoticeEntry {
    /// The platform id.
    pub platform: String,
    /// `note` or `warning`.
    pub level: &'static str,
    /// The text, without the platform id.
    pub message: String,
}

/// What `use` changes in `aiwg.toml`.
#[derive(Debug, Serialize)]
pub struct ConfigChange {
    /// The config file, as shown in messages.
    pub path: String,
    /// True when `use` creates it.
    pub created: bool,
    /// True when it was written (false for a dry run, an unchanged file, a failed deploy).
    pub written: bool,
}

impl DeployReport {
    /// The report of `command` for `plan`: `applied` says whether it was carried out, with
    /// the history `generation` it recorded.
    pub fn new(
        command: &'static str,
        plan: &Plan,
        dry_run: bool,
        applied: bool,
        generation: Option<u64>,
        notices: &[Notice],
    ) -> DeployReport {
        let changes = plan
            .changes()
            .filter(|i| i.action != Action::Conflict)
            .map(|i| {
                let mut platforms: Vec<String> = i
                    .parts()
                    .iter()
                    .flat_map(|p| p.origin.platforms.iter().cloned())
                    .collect();
                platforms.sort();
                platforms.dedup();
                Change {
                    path: i.path.as_str().to_string(),
                    action: i.action,
                    mode: i.mode,
                    platforms,
                }
            })
            .collect();
        let conflicts = plan
            .conflicts()
            .filter_map(|i| {
                let c = i.conflict()?;
                Some(Conflict {
                    path: i.path.as_str().to_string(),
                    reason: c.reason(),
                    forceable: c.forceable(),
                })
            })
            .collect();
        DeployReport {
            version: VERSION,
            command,
            dry_run,
            applied,
            summary: plan.summary(),
            generation,
            changes,
            conflicts,
            notices: notices.iter().map(notice).collect(),
            config: None,
        }
    }
}

fn notice(n: &Notice) -> NoticeEntry {
    NoticeEntry {
        platform: n.platform.clone(),
        level: match n.level {
            NoticeLevel::Warning => "warning",
            _ => "note",
        },
        message: n.message.clone(),
    }
}

/// `diff --json`: one entry per changed path, with its unified diff.
#[derive(Debug, Serialize)]
pub struct DiffReport {
    /// [`VERSION`].
    pub version: u32,
    /// Every path the next apply would change, sorted.
    pub files: Vec<DiffFile>,
}

/// One path of `diff --json`.
#[derive(Debug, Serialize)]
pub struct DiffFile {
    /// Relative to the scope root.
    pub path: String,
    /// `create`, `update`, `delete` or `conflict`.
    pub action: Action,
    /// Lines added and removed.
    pub added: usize,
    /// Lines removed.
    pub removed: usize,
    /// The unified diff of this path, as `aiwg diff` prints it (without colour).
    pub patch: String,
}

/// `rollback --list --json`.
#[derive(Debug, Serialize)]
pub struct Generations {
    /// [`VERSION`].
    pub version: u32,
    /// Oldest first.
    pub generations: Vec<GenerationEntry>,
}

/// One generation of `rollback --list --json`.
#[derive(Debug, Serialize)]
pub struct GenerationEntry {
    /// Its number (`rollback --to` takes it).
    pub generation: u64,
    /// Seconds since the Unix epoch.
    pub time: u64,
    /// The command that recorded it.
    pub command: String,
    /// How many paths it changed.
    pub paths: usize,
}

/// `validate --json`.
#[derive(Debug, Serialize)]
pub struct Validation {
    /// [`VERSION`].
    pub version: u32,
    /// How many sources were loaded.
    pub sources: usize,
    /// How many artifacts loaded.
    pub artifacts: usize,
    /// How many diagnostics are errors.
    pub errors: usize,
    /// How many are warnings.
    pub warnings: usize,
    /// Every problem, sorted by path and line.
    pub diagnostics: Vec<DiagnosticEntry>,
}

/// One problem of `validate --json`.
#[derive(Debug, Serialize)]
pub struct DiagnosticEntry {
    /// The file, as `validate` names it.
    pub path: String,
    /// 1-based, when the problem has a line.
    pub line: Option<u32>,
    /// `error` or `warning`.
    pub level: &'static str,
    /// What is wrong.
    pub message: String,
    /// What to do about it.
    pub hint: Option<String>,
}

/// `import --json`.
#[derive(Debug, Serialize)]
pub struct ImportReport {
    /// [`VERSION`].
    pub version: u32,
    /// True for `--dry-run`: `written` is what would be written.
    pub dry_run: bool,
    /// The platform ids (and `rulesync`, `ruler`) something was found for.
    pub platforms: Vec<String>,
    /// How many artifacts were found, before copies of one were merged.
    pub found: usize,
    /// Source files written (or that would be), relative to the project root.
    pub written: Vec<String>,
    /// Source files that already hold what import would write.
    pub unchanged: Vec<String>,
    /// Source files that exist with other content: left alone (exit 1).
    pub clashes: Vec<PathWhy>,
    /// Artifacts found on several platforms whose copies differ: the first is imported.
    pub differences: Vec<ImportDifference>,
    /// Files not read, and why.
    pub skipped: Vec<PathWhy>,
    /// Things said once (keys not imported, text that stays where it is).
    pub notes: Vec<String>,
    /// How many files aiwg manages (in `aiwg.lock`) and import left out.
    pub managed: usize,
}

/// A path and what about it.
#[derive(Debug, Serialize)]
pub struct PathWhy {
    /// Relative to the project root.
    pub path: String,
    /// Why.
    pub why: String,
}

/// One artifact of `import --json` whose copies differ.
#[derive(Debug, Serialize)]
pub struct ImportDifference {
    /// `kind:name`.
    pub artifact: String,
    /// What differs between the copies.
    pub differences: Vec<String>,
}

/// Prints `doc` on stdout, pretty, with a final newline.
pub fn print(doc: &impl Serialize) -> anyhow::Result<()> {
    use std::io::Write as _;
    let text = serde_json::to_string_pretty(doc)?;
    writeln!(std::io::stdout().lock(), "{text}")?;
    Ok(())
}
