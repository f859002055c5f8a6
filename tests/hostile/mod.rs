//! Hostile repositories (issue 8, SECURITY.md): each case is built as a real git repository,
//! committed, cloned, then run with a plain `aiwg` command in the clone. Every case asserts
//! that no planted code ran (on the next `git status` and `git commit` either), that `.git/`
//! and everything outside the clone are byte-identical, and that the error names the culprit.
//!
//! - `repo`: `Hostile`, the one builder of every case (origin, clone, homes, snapshots).
//! - `deploy_holds`: what already held in the review, as regression cases in a clone.
//! - `deploy_history`: committed `.aiwg/history/` generations (R2, R15, R17).
//! - `deploy_eol`: a `core.autocrlf=true` clone is clean; sections keep a file's line ending (R7).
//! - `deploy_kill`: SIGKILL at random points of apply and rollback converges, no temp files.
//! - `deploy_lock`: committed `aiwg.lock` entries naming aiwg's or git's own files (R3).
//! - `deploy_merge`: an edited hook item in a merged settings file is `edited` (R12).
//! - `deploy_temp_links`: committed symlinks at the temp names of aiwg's own edits.
//! - `consent_*`: user scope, sources outside the project, hooks (guarantee 3);
//!   `consent_user_projects`: user scope is per project (R11); `consent_overlay`: a
//!   teammate's clone and committed `aiwg.local.toml` files (issue 14).
//! - `bounds_*`: YAML aliases, symlink amplification, caps (guarantee 4).
//! - `output_*`: terminal escapes in names and descriptions (guarantee 8).

pub mod repo;
pub use repo::*;

mod bounds_symlinks;
mod bounds_yaml;
mod consent_hooks;
mod consent_overlay;
mod consent_scope;
mod consent_sources;
mod consent_user_projects;
mod deploy_eol;
mod deploy_history;
mod deploy_holds;
mod deploy_kill;
mod deploy_lock;
mod deploy_merge;
mod deploy_temp_links;
mod output_escapes;
