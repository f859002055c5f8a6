//! Renders the aiwg model into each AI platform's native paths and formats.
//!
//! Most of a platform is data (`platforms/<id>.toml`); this crate reads that data and turns
//! a `Model` into a `TargetState`. It never reads the destination.
