//! Hostile repositories (issue 8): each case is built as a real git repository, committed,
//! cloned, then run with a plain `aiwg` command in the clone. Every case asserts that no planted
//! code ran (on the next `git status` and `git commit` either), that `.git/` and everything
//! outside the clone are byte-identical, and that the error names the culprit.
//!
//! - `repo`: the `Hostile` builder shared by every case.
//! - `deploy_holds`: what already held in the review, as regression cases in a clone.
//! - `deploy_history`: committed `.aiwg/history/` generations (R2, R15, R17).
//! - `deploy_eol`: a `core.autocrlf=true` clone is clean; sections keep a file's line ending (R7).
//! - `deploy_lock`: committed `aiwg.lock` entries naming aiwg's or git's own files (R3).

pub mod repo;

mod deploy_eol;
mod deploy_history;
mod deploy_holds;
mod deploy_lock;
