//! The deploy engine: makes the disk match a `TargetState` without losing a byte a user wrote.
//!
//! - [`system`]: the `System` trait (the only door to the disk), `RealSystem`, `MemSystem`.
//! - [`lock`]: `aiwg.lock`, what aiwg wrote per path and part.
//! - [`plan`]: `plan()`, the one decision every command shares.
//! - [`section`], [`merge`]: the shared-file ownership modes.
//! - [`diff`]: a plan rendered as a unified diff.
//!
//! It knows paths, bytes and ownership modes, nothing of platforms. It never prints.

pub mod diff;
pub mod hash;
pub mod lock;
pub mod merge;
pub mod plan;
pub mod section;
pub mod system;

pub use lock::{Lock, LockEntry, Mode};
pub use plan::{plan, Action, ConflictKind, Plan, PlanError, PlanItem, State, Summary};
pub use system::{FileData, MemSystem, RealSystem, System, SystemError};

#[cfg(test)]
mod tests;
