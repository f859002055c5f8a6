//! The command-line interface, as clap definitions: the single source of help text,
//! the man page and shell completions.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Deploy AI context — agents, skills, commands, rules, behaviors and runbooks — from one
/// source of truth into every AI coding platform's native paths.
#[derive(Debug, Parser)]
#[command(name = "aiwg", version, propagate_version = true, max_term_width = 100)]
pub struct Cli {
    /// Run as if started in this folder
    #[arg(short = 'C', long = "directory", global = true, value_name = "DIR")]
    pub directory: Option<PathBuf>,

    /// When to use colours
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,

    #[command(flatten)]
    pub consent: ConsentArgs,

    #[command(flatten)]
    pub git: GitArgs,

    #[command(subcommand)]
    pub command: Command,
}

/// One-run consent for what a project's own `aiwg.toml` cannot ask for by itself
/// (`aiwg trust` records it instead; SECURITY.md).
#[derive(Debug, Clone, Copy, Default, Args)]
#[command(next_help_heading = "Consent (for this run only)")]
pub struct ConsentArgs {
    /// Install or change the hooks (behaviors) of the project's own sources
    #[arg(long, global = true)]
    pub allow_hooks: bool,
    /// Honour `scope = "user"` from `aiwg.toml` (deploy into the home folder)
    #[arg(long, global = true)]
    pub allow_user_scope: bool,
    /// Allow everything the project asks for: hooks, user scope, sources outside it
    #[arg(long, global = true)]
    pub trust: bool,
}

/// How git sources may be resolved in this run (README "Git sources").
#[derive(Debug, Clone, Copy, Default, Args)]
#[command(next_help_heading = "Git sources")]
pub struct GitArgs {
    /// Fail unless `aiwg.lock` pins every git source as `aiwg.toml` asks (for CI)
    #[arg(long, global = true)]
    pub frozen: bool,
    /// Never fetch: read git sources from the cache only
    #[arg(long, global = true)]
    pub offline: bool,
}

/// `--color`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// `--scope`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ScopeArg {
    Project,
    User,
}

/// `--platforms` and `--scope`, shared by every command that deploys.
#[derive(Debug, Clone, Args)]
pub struct TargetArgs {
    /// Platforms to deploy to, comma-separated ids or aliases (default: `aiwg.toml`)
    #[arg(long, value_delimiter = ',', value_name = "IDS")]
    pub platforms: Vec<String>,

    /// Deploy into the repository or into the user's home folder (default: `aiwg.toml`)
    #[arg(long, value_enum)]
    pub scope: Option<ScopeArg>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Load sources and report every problem as `path:line: error|warning: message`
    Validate {
        /// Source folders (default: the project's sources from `aiwg.toml`, or `.aiwg/`)
        paths: Vec<PathBuf>,
    },

    /// List every artifact: kind, name, source, description
    List {
        /// Source folders (default: the project's sources)
        paths: Vec<PathBuf>,
        /// Only this kind
        #[arg(long, value_name = "KIND")]
        kind: Option<String>,
        /// List the bundled frameworks and extensions instead
        #[arg(long)]
        frameworks: bool,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },

    /// Add a framework or source to `aiwg.toml` and apply
    Use {
        /// A bundled framework (`sdlc`, `all`), a path, `name@path`, or a git source
        /// (`git+https://host/org/repo[@ref][#sub-folder]`, `git+ssh://…`, `file:///…`,
        /// `github:org/repo`, each optionally as `name@…`)
        source: String,
        #[command(flatten)]
        target: TargetArgs,
        /// Show what would change and write nothing
        #[arg(long)]
        dry_run: bool,
        /// Overwrite conflicting files after backing them up
        #[arg(long)]
        force: bool,
    },

    /// Move git sources' pins to what their refs are now: show the diff, then apply it
    ///
    /// Fetches each git source of `aiwg.toml` (or only SOURCE), prints the pin it moves, every
    /// hook it installs or changes and the unified diff of every file, then applies and
    /// writes the new pins into `aiwg.lock`. `apply` and `check` never move a pin.
    /// Example: `aiwg update fw --dry-run`
    Update {
        /// The git source to move, as named in `aiwg.toml` (default: every git source)
        source: Option<String>,
        #[command(flatten)]
        target: TargetArgs,
        /// Show the new pins and the diff, and write nothing
        #[arg(long)]
        dry_run: bool,
        /// Overwrite conflicting files after backing them up
        #[arg(long)]
        force: bool,
    },

    /// Make every platform's copy match the sources
    Apply {
        #[command(flatten)]
        target: TargetArgs,
        /// Print what would change and write nothing at all
        #[arg(long)]
        dry_run: bool,
        /// Overwrite conflicting files after backing them up
        #[arg(long)]
        force: bool,
    },

    /// Show a unified diff of every change the next apply would make
    Diff {
        /// Only these paths (files or folders)
        paths: Vec<PathBuf>,
        #[command(flatten)]
        target: TargetArgs,
        /// Exit 1 when there is a difference, like `git diff --exit-code`
        #[arg(long)]
        exit_code: bool,
    },

    /// Exit 1 if any managed file differs from what apply would write (for hooks and CI)
    Check {
        #[command(flatten)]
        target: TargetArgs,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },

    /// Show every managed path with its state
    Status {
        #[command(flatten)]
        target: TargetArgs,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },

    /// Print the plan: what apply would create, update, delete, or stop on
    Plan {
        #[command(flatten)]
        target: TargetArgs,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },

    /// Undo the last apply (or go to a generation), byte for byte
    Rollback {
        /// List the generations instead
        #[arg(long)]
        list: bool,
        /// The generation to restore
        #[arg(long, value_name = "GENERATION")]
        to: Option<u64>,
        /// Restore files changed since that apply too (their bytes go into a new generation)
        #[arg(long)]
        force: bool,
        #[arg(long, value_enum)]
        scope: Option<ScopeArg>,
    },

    /// Remove a framework or source and every file aiwg wrote for it
    Remove {
        /// The source as named in `aiwg.toml`
        source: String,
        #[arg(long)]
        dry_run: bool,
        #[arg(long, value_enum)]
        scope: Option<ScopeArg>,
    },

    /// Remove every file aiwg wrote (never one a user edited) and its lock
    Uninstall {
        #[arg(long)]
        dry_run: bool,
        #[arg(long, value_enum)]
        scope: Option<ScopeArg>,
    },

    /// List the platforms, their aliases, and where each kind goes
    Platforms {
        /// Print JSON
        #[arg(long)]
        json: bool,
    },

    /// Scaffold a new artifact in the project's source folder
    New {
        /// agent, skill, command, rule, behavior or runbook
        kind: String,
        /// Its name (`[a-z0-9-]`)
        name: String,
    },

    /// Lint and render runbooks
    Runbook {
        #[command(subcommand)]
        command: RunbookCommand,
    },

    /// Install or remove the git pre-commit hook that runs `aiwg check`
    Hook {
        #[command(subcommand)]
        command: HookCommand,
    },

    /// Show what this project asks for that needs consent (hooks, user scope, sources outside
    /// it), and allow it until it changes
    Trust {
        /// Only show what is asked and what is allowed; record nothing
        #[arg(long, conflicts_with = "revoke")]
        show: bool,
        /// Take back everything allowed for this project
        #[arg(long)]
        revoke: bool,
    },

    /// Print shell completions
    Completions { shell: clap_complete::Shell },

    /// Turn the platform files a repository already has into sources in `.aiwg/`
    ///
    /// Reads `.claude/`, `.cursor/`, `.github/`, `.codex/`, `.opencode/` ... (every platform's
    /// agents, commands, rules, skills and instruction files; files aiwg manages are left
    /// out), rulesync's `.rulesync/` and ruler's `.ruler/`. The same artifact found for
    /// several platforms becomes one source; differences are reported.
    /// Existing sources are never overwritten. Example: `aiwg import --from claude-code,cursor --dry-run`
    Import {
        /// Only these platforms (ids or aliases) and peer tools (`rulesync`, `ruler`)
        #[arg(long, value_delimiter = ',', value_name = "IDS")]
        from: Vec<String>,
        /// Print what would be written and write nothing
        #[arg(long)]
        dry_run: bool,
    },

    /// Take a hand edit of a managed platform file back into its source
    ///
    /// Refuses when the source, written back, would not render to exactly the edited file.
    /// Example: `aiwg adopt .claude/agents/reviewer.md`
    Adopt {
        /// The edited platform file
        path: PathBuf,
        /// Print the source change and write nothing
        #[arg(long)]
        dry_run: bool,
    },
}

/// `aiwg runbook ...`.
#[derive(Debug, Subcommand)]
pub enum RunbookCommand {
    /// Check runbook structure: sections, a Gate per stage, a rollback trigger, agent rules
    Lint {
        /// A runbook name or a path (default: every runbook of the project's sources)
        target: Option<String>,
    },
    /// Fill a runbook's `{placeholders}`
    Render {
        /// A runbook name or path
        name: String,
        /// `key=value`, repeatable
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
        /// A TOML file of values
        #[arg(long, value_name = "FILE")]
        values: Option<PathBuf>,
        /// Write here instead of stdout
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
}

/// `aiwg hook ...`.
#[derive(Debug, Subcommand)]
pub enum HookCommand {
    /// Install `.git/hooks/pre-commit` running `aiwg check`
    Install,
    /// Remove the hook aiwg installed
    Uninstall,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory as _;

    #[test]
    fn cli_is_well_formed() {
        super::Cli::command().debug_assert();
    }
}
