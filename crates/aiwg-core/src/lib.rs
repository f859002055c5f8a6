//! The aiwg model: everything between "files in a source folder" and "what each path should hold".
//!
//! - [`rel_path`]: `RelPath`, a relative path that cannot escape its root.
//! - [`diag`]: diagnostics with path, line, severity and hint.
//! - [`escape`]: escaping terminal controls and bidi overrides in text printed for a person.
//! - [`model`]: the seven artifact kinds and their frontmatter.
//! - [`mcp`]: MCP server files, environment references, the inline-secret check.
//! - [`frontmatter`]: YAML frontmatter split and parse.
//! - [`lenient`]: frontmatter the platforms accept but strict YAML does not, read as written.
//! - [`source`]: reading a source folder and loading its artifacts.
//! - [`validate`]: the rules every loaded artifact is checked against.
//! - [`runbook`]: runbook structure, lint and placeholder rendering.
//! - [`config`]: the project file, `aiwg.toml`.
//! - [`local`]: the personal overlay, `aiwg.local.toml`, and its merge over `aiwg.toml`.
//! - [`exclude`]: `kind:glob` artifact patterns for `exclude` in `aiwg.toml`.
//! - [`package`]: monorepo `packages` entries of `aiwg.toml`, checked as text.
//! - [`par`]: an order-keeping parallel map for loading many files.
//! - [`read`]: reading an open file whole (shared with the deploy engine).
//! - [`target`]: `TargetState`, what the platforms want on disk, handed to the deploy engine.

// No unsafe code here at all (the workspace only denies it: the binary's `tune_allocator`
// is its one allowed place).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod config;
pub mod diag;
pub mod escape;
pub mod exclude;
pub mod frontmatter;
pub mod lenient;
pub mod local;
pub mod mcp;
pub mod model;
pub mod package;
pub mod par;
pub mod read;
pub mod rel_path;
pub mod runbook;
pub mod source;
pub mod style;
pub mod target;
#[cfg(test)]
mod test_rng;
pub mod validate;

pub use diag::{Diagnostic, Severity};
pub use model::{Artifact, Asset, Frontmatter, Kind, Model};
pub use rel_path::RelPath;
