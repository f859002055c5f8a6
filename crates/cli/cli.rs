//! The command-line interface, as clap definitions: the single source of help text,
//! the man page and shell completions.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Deploy AI context — agents, skills, commands, rules, behaviors and runbooks — from one
/// source of truth into every AI coding platform's native paths.
#[derive(Debug, Parser)]
#[command(
    name = "aiwg",
    version,
    max_term_width = 100,
    after_help = "Examples:\n  aiwg use sdlc          # deploy the bundled SDLC framework\n  aiwg diff              # what the next apply would change\n  aiwg apply             # make every platform's copy match\n  aiwg doctor            # what stands between the project and its platforms"
)]
pub struct Cli {
    /// Run as if started in this folder
    #[arg(short = 'C', long = "directory", global = true, value_name = "DIR")]
    pub directory: Option<PathBuf>,

    /// When to use colours
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,

    /// Say only errors and what stopped the command
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,

    /// Also print every note and warning on how the platforms take the content
    #[arg(short, long, global = true)]
    pub verbose: bool,
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

/// `aiwg hook install --mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum HookMode {
    Check,
    Apply,
}

/// `aiwg generated <mode>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GeneratedMode {
    /// Keep the files aiwg owns whole out of git: listed in `.gitignore`, untracked
    Ignore,
    /// Commit them with the sources (the default)
    Commit,
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
    /// Platforms, comma-separated ids or aliases: `use` adds them to `aiwg.toml`; the other
    /// commands look only at the paths they read and never touch another platform's files
    #[arg(long, value_delimiter = ',', value_name = "IDS")]
    pub platforms: Vec<String>,

    /// Deploy into the repository or into the user's home folder (default: `aiwg.toml`)
    #[arg(long, value_enum)]
    pub scope: Option<ScopeArg>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Load sources and report every problem as `path:line: error|warning: message`
    #[command(
        display_order = 100,
        after_help = "Examples:\n  aiwg validate\n  aiwg validate path/to/source sdlc\n  aiwg validate --json | jq .errors"
    )]
    Validate {
        /// Source folders (default: the project's sources from `aiwg.toml`, or `.aiwg/`)
        paths: Vec<PathBuf>,
        /// Print JSON: the counts and every problem
        #[arg(long)]
        json: bool,
    },

    /// List every artifact: kind, name, source, description
    #[command(
        display_order = 101,
        after_help = "Examples:\n  aiwg list --kind skill\n  aiwg list --frameworks\n  aiwg list --json"
    )]
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
    #[command(
        after_help = "Examples:\n  aiwg use sdlc\n  aiwg use stream --platforms claude-code,codex\n  aiwg use vendor@third_party/agents --dry-run\n  aiwg use sdlc --scope user\n  aiwg use --local ../my-agents --platforms cursor   # yours only: aiwg.local.toml"
    )]
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
        /// Print what was done (or, with `--dry-run`, would be) as JSON
        #[arg(long)]
        json: bool,
        /// Add it to your own `aiwg.local.toml` (kept out of git) instead of `aiwg.toml`
        #[arg(long, conflicts_with = "scope")]
        local: bool,
    },

    /// Move git sources' pins to what their refs are now: show the diff, then apply it
    ///
    /// Fetches each git source of `aiwg.toml` (or only SOURCE), prints the pin it moves, every
    /// hook it installs or changes and the unified diff of every file, then applies and
    /// writes the new pins into `aiwg.lock`. `apply` and `check` never move a pin.
    #[command(
        after_help = "Examples:\n  aiwg update --dry-run\n  aiwg update fw\n  aiwg update --allow-hooks   # the new pin brings a hook you have read"
    )]
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
    #[command(
        after_help = "Examples:\n  aiwg apply\n  aiwg apply --dry-run\n  aiwg apply --platforms codex   # only the paths Codex reads\n  aiwg apply --force"
    )]
    Apply {
        #[command(flatten)]
        target: TargetArgs,
        /// Print what would change and write nothing at all
        #[arg(long)]
        dry_run: bool,
        /// Overwrite conflicting files after backing them up
        #[arg(long)]
        force: bool,
        /// `git add` every file apply wrote or deleted, and `aiwg.lock` (for a pre-commit hook)
        #[arg(long)]
        stage: bool,
        /// Print what was done (or, with `--dry-run`, would be) as JSON
        #[arg(long)]
        json: bool,
    },

    /// Show a unified diff of every change the next apply would make
    #[command(
        after_help = "Examples:\n  aiwg diff\n  aiwg diff --stat\n  aiwg diff .claude --exit-code\n  aiwg diff --json"
    )]
    Diff {
        /// Only these paths (files or folders)
        paths: Vec<PathBuf>,
        #[command(flatten)]
        target: TargetArgs,
        /// Exit 1 when there is a difference, like `git diff --exit-code`
        #[arg(long)]
        exit_code: bool,
        /// One line per path with its lines added and removed, then a total
        #[arg(long, conflicts_with_all = ["name_only", "json"])]
        stat: bool,
        /// Only the paths that would change, one per line
        #[arg(long, conflicts_with = "json")]
        name_only: bool,
        /// Print JSON: each path with its action, counts and diff
        #[arg(long)]
        json: bool,
    },

    /// Exit 1 if any managed file differs from what apply would write (for hooks and CI)
    #[command(
        after_help = "Examples:\n  aiwg check\n  aiwg check --staged   # what the next commit holds\n  aiwg check --json"
    )]
    Check {
        #[command(flatten)]
        target: TargetArgs,
        /// Check what is staged for the next commit (git's index), not the work tree
        #[arg(long)]
        staged: bool,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },

    /// Show every managed path with its state
    #[command(
        after_help = "Examples:\n  aiwg status\n  aiwg status --notes\n  aiwg status --json"
    )]
    Status {
        #[command(flatten)]
        target: TargetArgs,
        /// Also print the notes and warnings on how each platform takes the content
        #[arg(long)]
        notes: bool,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },

    /// Print the plan: what apply would create, update, delete, or stop on
    #[command(after_help = "Examples:\n  aiwg plan\n  aiwg plan --json | jq .summary")]
    Plan {
        #[command(flatten)]
        target: TargetArgs,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },

    /// Undo the last apply (or go back to a generation), byte for byte
    #[command(
        after_help = "Examples:\n  aiwg rollback\n  aiwg rollback --list\n  aiwg rollback --to 3   # the state right after generation 3"
    )]
    Rollback {
        /// List the generations instead
        #[arg(long)]
        list: bool,
        /// Go back to the state right after this generation, undoing every later one
        /// (`0`: before the first)
        #[arg(long, value_name = "GENERATION")]
        to: Option<u64>,
        /// Restore files changed since that apply too (their bytes go into a new generation)
        #[arg(long)]
        force: bool,
        /// With `--list`: print JSON
        #[arg(long, requires = "list")]
        json: bool,
        /// The project's deployment, or the user's (default: `aiwg.toml`)
        #[arg(long, value_enum)]
        scope: Option<ScopeArg>,
        /// The personal overlay's history (`aiwg.local.toml`) instead of the team's
        #[arg(long, conflicts_with = "scope")]
        local: bool,
    },

    /// Remove a framework or source (or a platform) and every file aiwg wrote for it
    #[command(
        after_help = "Examples:\n  aiwg remove stream\n  aiwg remove --platform cursor\n  aiwg remove sdlc --dry-run"
    )]
    Remove {
        /// The source as named in `aiwg.toml`
        #[arg(required_unless_present = "platform")]
        source: Option<String>,
        /// Remove this platform from `aiwg.toml` instead, with every file only it reads
        #[arg(long, value_name = "ID", conflicts_with = "source")]
        platform: Option<String>,
        /// Show what would be removed and write nothing
        #[arg(long)]
        dry_run: bool,
        /// With `--dry-run`: one line per path with its lines added and removed, then a total
        #[arg(long, requires = "dry_run", conflicts_with_all = ["name_only", "json"])]
        stat: bool,
        /// With `--dry-run`: only the paths that would change, one per line
        #[arg(long, requires = "dry_run", conflicts_with = "json")]
        name_only: bool,
        /// Print what was done (or would be) as JSON
        #[arg(long)]
        json: bool,
        /// The project's deployment, or the user's (default: `aiwg.toml`)
        #[arg(long, value_enum)]
        scope: Option<ScopeArg>,
        /// A source of your `aiwg.local.toml`, and the files only the overlay deployed for it
        #[arg(long, conflicts_with_all = ["scope", "platform"])]
        local: bool,
    },

    /// Remove every file aiwg wrote (never one a user edited), its lock, history, ignore
    /// lines, hook block and `aiwg.toml`: nothing of aiwg is left
    #[command(
        after_help = "Examples:\n  aiwg uninstall --dry-run --stat\n  aiwg uninstall\n  aiwg uninstall --keep-config"
    )]
    Uninstall {
        /// Show what would be removed and write nothing
        #[arg(long)]
        dry_run: bool,
        /// With `--dry-run`: one line per path with its lines added and removed, then a total
        #[arg(long, requires = "dry_run", conflicts_with_all = ["name_only", "json"])]
        stat: bool,
        /// With `--dry-run`: only the paths that would change, one per line
        #[arg(long, requires = "dry_run", conflicts_with = "json")]
        name_only: bool,
        /// Keep `aiwg.toml` (`aiwg apply` deploys it all again)
        #[arg(long)]
        keep_config: bool,
        /// Print what was done (or would be) as JSON
        #[arg(long)]
        json: bool,
        /// The project's deployment, or the user's (default: `aiwg.toml`)
        #[arg(long, value_enum)]
        scope: Option<ScopeArg>,
        /// Only the personal overlay: what `aiwg.local.toml` deployed, its lock and history, and the file itself (unless `--keep-config`)
        #[arg(long, conflicts_with_all = ["scope"])]
        local: bool,
    },

    /// List the platforms, their aliases, and where each kind goes
    #[command(
        after_help = "Examples:\n  aiwg platforms\n  aiwg platforms claude codex\n  aiwg platforms --json"
    )]
    Platforms {
        /// Only these platforms (ids or aliases; default: all)
        #[arg(value_name = "ID")]
        platform: Vec<String>,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },

    /// Scaffold a new artifact in the project's source folder
    #[command(after_help = "Examples:\n  aiwg new agent reviewer\n  aiwg new skill release-notes")]
    New {
        /// agent, skill, command, rule, behavior or runbook
        kind: String,
        /// Its name (`[a-z0-9-]`)
        name: String,
    },

    /// Lint and render runbooks
    #[command(
        after_help = "Examples:\n  aiwg runbook lint\n  aiwg runbook render service-deployment --set target_version=2.4.1"
    )]
    Runbook {
        #[command(subcommand)]
        command: RunbookCommand,
    },

    /// Check config, lock, sources, platform folders, hand edits, hook, line endings and
    /// history: one line each, `ok`, `warning` or `error` with a hint (exit 1 on an error)
    #[command(after_help = "Examples:\n  aiwg doctor")]
    Doctor {
        #[command(flatten)]
        target: TargetArgs,
    },

    /// Install or remove the git pre-commit hook that runs `aiwg check` (and, with `generated
    /// = "ignore"`, the post-checkout and post-merge hooks that run `aiwg apply`)
    #[command(
        after_help = "Examples:\n  aiwg hook install\n  aiwg hook install --mode apply\n  aiwg hook uninstall"
    )]
    Hook {
        #[command(subcommand)]
        command: HookCommand,
    },

    /// Commit the files aiwg generates, or keep them out of git (`generated` in `aiwg.toml`)
    ///
    /// `ignore`: applies, lists every file aiwg owns whole in its block of `.gitignore` and
    /// untracks them (`git rm --cached`: they stay on disk); `aiwg hook install` then adds
    /// post-checkout and post-merge hooks that deploy them. `commit`: applies, takes the block
    /// out, and the files show as untracked for you to `git add`. Shared files (`AGENTS.md`
    /// sections, merged keys of `.mcp.json` or a settings file) hold your content too and
    /// stay committed in both modes.
    #[command(
        after_help = "Examples:\n  aiwg generated ignore && aiwg hook install\n  aiwg generated commit && git add -A"
    )]
    Generated {
        #[arg(value_enum)]
        mode: GeneratedMode,
    },

    /// Show what this project asks for that needs consent (hooks, user scope, sources outside
    /// it), and allow it until it changes
    #[command(after_help = "Examples:\n  aiwg trust --show\n  aiwg trust\n  aiwg trust --revoke")]
    Trust {
        /// Only show what is asked and what is allowed; record nothing
        #[arg(long, conflicts_with = "revoke")]
        show: bool,
        /// Take back everything allowed for this project
        #[arg(long)]
        revoke: bool,
    },

    /// Print shell completions
    #[command(
        after_help = "Examples:\n  aiwg completions bash > ~/.local/share/bash-completion/completions/aiwg\n  aiwg completions fish > ~/.config/fish/completions/aiwg.fish"
    )]
    Completions { shell: clap_complete::Shell },

    /// Turn the platform files a repository already has into sources in `.aiwg/`
    ///
    /// Reads `.claude/`, `.cursor/`, `.github/`, `.codex/`, `.opencode/` ... (every platform's
    /// agents, commands, rules, skills and instruction files; files aiwg manages are left
    /// out), rulesync's `.rulesync/` and ruler's `.ruler/`. The same artifact found for
    /// several platforms becomes one source; differences are reported.
    /// Existing sources are never overwritten.
    #[command(
        after_help = "Examples:\n  aiwg import --dry-run\n  aiwg import --from claude-code,cursor\n  aiwg import --json | jq .clashes\n  aiwg import && aiwg apply && aiwg diff"
    )]
    Import {
        /// Only these platforms (ids or aliases) and peer tools (`rulesync`, `ruler`)
        #[arg(long, value_delimiter = ',', value_name = "IDS")]
        from: Vec<String>,
        /// Print what would be written and write nothing
        #[arg(long)]
        dry_run: bool,
        /// Print what was found and written (or would be) as JSON
        #[arg(long)]
        json: bool,
        /// Read the repository (default), or the MCP servers of the platforms' user files in
        /// the home folder (`~/.claude.json`, `~/.codex/config.toml`, ...)
        #[arg(long, value_enum)]
        scope: Option<ScopeArg>,
    },

    /// Take a hand edit of a managed platform file back into its source
    ///
    /// Refuses when the source, written back, would not render to exactly the edited file.
    #[command(
        after_help = "Examples:\n  aiwg adopt .claude/agents/reviewer.md --dry-run\n  aiwg adopt .claude/agents/reviewer.md"
    )]
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
    /// Install the git pre-commit hook (where git runs hooks: `core.hooksPath` is honoured);
    /// with `generated = "ignore"` also post-checkout and post-merge hooks running `aiwg apply
    /// -q`, which never ask for consent (stdin is `/dev/null`: what needs it is not deployed)
    Install {
        /// `check`: block a commit whose staged sources and platform copies disagree;
        /// `apply`: re-sync the platform copies and stage them
        #[arg(long, value_enum, default_value_t = HookMode::Check)]
        mode: HookMode,
    },
    /// Remove the hooks aiwg installed (only its blocks)
    Uninstall,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory as _;

    #[test]
    fn cli_is_well_formed() {
        super::Cli::command().debug_assert();
    }

    /// The help lists what a newcomer runs first (`use`, `apply`) before the inspection
    /// commands (`validate`, `list`).
    #[test]
    fn help_lists_use_and_apply_first() {
        let help = <super::Cli as clap::CommandFactory>::command()
            .render_help()
            .to_string();
        let at = |name: &str| help.find(&format!("\n  {name} ")).unwrap();
        assert!(
            at("use") < at("apply") && at("apply") < at("validate"),
            "{help}"
        );
        assert!(at("use") < at("list"), "{help}");
    }

    #[test]
    fn every_command_has_an_example() {
        let cli = super::Cli::command();
        for sub in cli.get_subcommands() {
            let help = sub
                .get_after_help()
                .map(|h| h.to_string())
                .unwrap_or_default();
            assert!(
                help.starts_with("Examples:\n  aiwg "),
                "`aiwg {}` has no example",
                sub.get_name()
            );
        }
    }
}
