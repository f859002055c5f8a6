//! The deploy engine: makes the disk match a `TargetState` without losing a byte a user wrote.
//!
//! - [`system`]: the `System` trait (the only door to the disk), `RealSystem`, `MemSystem`.
//! - [`lock`]: `aiwg.lock`, what aiwg wrote per path and part.
//! - [`mod@plan`]: `plan()`, the one decision every command shares.
//! - [`section`], [`merge`]: the shared-file ownership modes ([`jsonc`]: the JSON editor).
//! - [`diff`]: a plan rendered as a unified diff.
//! - [`engine`]: `Engine::apply`, in the order that makes every crash converge.
//! - [`history`]: generations of replaced bytes, and `rollback`.
//! - [`proclock`]: one aiwg at a time per project.
//!
//! It knows paths, bytes and ownership modes, nothing of platforms. It never prints.

#![warn(missing_docs)]

pub mod diff;
pub mod engine;
pub mod hash;
pub mod history;
pub mod jsonc;
pub mod lock;
pub mod merge;
pub mod plan;
pub mod proclock;
pub mod section;
pub mod system;

pub use engine::{ApplyOptions, ApplyReport, DeployError, Engine, Layout};
pub use history::{Generation, RollbackOptions, RollbackReport};
pub use lock::{Lock, LockEntry, Mode};
pub use plan::{plan, Action, ConflictKind, Plan, PlanError, PlanItem, State, Summary};
pub use system::{FileData, MemSystem, RealSystem, System, SystemError};

#[cfg(test)]
mod tests;
