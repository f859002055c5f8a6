//! End-to-end tests of the `aiwg` binary, one test binary with a module per concern.
//!
//! - `bundled`: the bundled content, `aiwg new`, `aiwg runbook`, `aiwg list --frameworks`.
//! - `ci_examples`: `.pre-commit-hooks.yaml` through the framework, the GitHub Actions example.
//! - `sources`: `aiwg validate` and `aiwg list` on fixtures and project sources.
//! - `deploy`: apply, diff, check, status, plan, rollback, remove, uninstall, hook.
//! - `doctor`: `aiwg doctor` on a healthy and a broken repository.
//! - `generated`: `generated = "ignore"`: a clone deploying itself through its hooks, switching
//!   modes both ways, shared files tracked, a symlinked `.gitignore`, consent in a hook.
//! - `hook`: the pre-commit hook in real git repositories, both modes, `core.hooksPath`.
//! - `json_output`: every `--json` document parsed; `diff --stat`/`--name-only`; `rollback --to`.
//! - `use_cmd`: `aiwg use`: config creation, detection, idempotence, skills everywhere.
//! - `stream`: the stream-deploy scripts: the quality gate on recorded captures, the test stream.
//! - `guards`: the secret and destructive-command guards against their labelled corpora.
//! - `support`: the `Test` builder (temp project, `HOME` and `AIWG_HOME` redirected).
//! - `platforms`: `aiwg platforms [--json]`.
//! - `check_cache`: the stat cache of `aiwg check` never changes its answer.
//! - `sync`: `--platforms` as a filter, `remove --platform`, `-C`, runs without `aiwg.toml`.
//! - `shared_files`: the user's settings and instruction files survive apply + uninstall.
//! - `fs_guard`: cloned hostile repos: no write into git dirs, none through a managed symlink.
//! - `import`: moving to aiwg: real-world frontmatter, `aiwg import`, `aiwg adopt`, excludes.
//! - `git_sources`: git sources over `file://` bare repositories: pins, update, frozen,
//!   offline, force-pushed and deleted refs, consent, a source turning hostile.
//! - `monorepo`: `packages`: nested AGENTS.md and folder-scoped rules, one lock, hostile paths.
//! - `mcp`: MCP servers merged into the users' MCP files, byte-exact uninstall, secrets refused.
//! - `overlay`: `aiwg.local.toml`: merge, its own lock, the exclude block, clashes, removal.
//! - `snapshots`: exit code, stdout and stderr of the main commands through a project's life.
//! - `qa`: defects found by acting as a user, each pinned by the test that first failed.
//! - `hostile`: cloned repositories as hostile input (issue 8), one module per finding class.

mod bundled;
mod check_cache;
mod ci_examples;
mod deploy;
mod doctor;
mod fs_guard;
mod generated;
mod git_sources;
mod guards;
mod hook;
mod hostile;
mod import;
mod json_output;
mod mcp;
mod monorepo;
mod overlay;
mod platforms;
mod qa;
mod shared_files;
mod snapshots;
mod sources;
mod stream;
mod support;
mod sync;
mod use_cmd;
