//! The deploy engine: makes the disk match a `TargetState` without losing a byte a user wrote.
//!
//! Lock file, plan, apply, history and rollback, over a `System` trait (real, in-memory,
//! dry-run). It knows paths, bytes and ownership modes, nothing of platforms.
