//! The deploy engine: makes the disk match a `TargetState` without losing a byte a user wrote.
//!
//! - [`system`]: the `System` trait (the only door to the disk), `RealSystem`, `MemSystem`.
//! - [`lock`]: `aiwg.lock`, what aiwg wrote per path and part.
//! - [`mod@plan`]: `plan()`, the one decision every command shares.
//! - [`section`], [`merge`]: the shared-file ownership modes ([`jsonc`]: the JSON editor).
//! - [`diff`]: a plan rendered as a unified diff.
//! - [`engine`]: the `Engine` (target and state Systems, [`layout`]); reads the lock, plans.
//! - [`apply`]: `Engine::apply`, in the order that makes every crash converge.
//! - [`history`]: generations of replaced bytes; [`rollback`] puts them back.
//! - [`decision`]: the plan's types (actions, conflicts, states); [`error`]: `DeployError`.
//! - [`proclock`]: one aiwg at a time per project.
//! - [`mark`]: the machine-local key that marks history as written here.
//! - [`eol`]: line endings as git converts them.
//! - `toml_text`: the TOML text of the lock and history manifests, written directly.
//!
//! It knows paths, bytes and ownership modes, nothing of platforms. It never prints.

// No unsafe code here at all (the workspace only denies it: the binary's `tune_allocator`
// is its one allowed place).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod apply;
pub mod decision;
pub mod diff;
pub mod engine;
pub mod eol;
pub mod error;
pub mod hash;
pub mod history;
pub mod jsonc;
pub mod layout;
pub mod lock;
pub mod mark;
pub mod merge;
pub mod plan;
pub mod proclock;
pub mod rollback;
pub mod section;
pub mod system;
mod toml_text;
pub mod yaml;

pub use aiwg_core::target::Part;
pub use apply::{ApplyOptions, ApplyReport};
pub use engine::Engine;
pub use error::DeployError;
pub use history::Generation;
pub use layout::Layout;
pub use lock::{Lock, LockEntry, Mode, SourcePin};
pub use plan::{
    plan, Action, Blocker, ConflictKind, ForcedInTheWay, InTheWay, Parts, Plan, PlanError,
    PlanItem, State, Summary,
};
pub use rollback::{RollbackOptions, RollbackReport};
pub use system::{FileData, MemSystem, Owner, RealSystem, System, SystemError};

#[cfg(test)]
mod tests;
