//! End-to-end tests of the `aiwg` binary, one test binary with a module per concern.
//!
//! - `support`: the `Test` builder (temp project, `HOME` and `AIWG_HOME` redirected).
//! - `platforms`: `aiwg platforms [--json]`.

mod platforms;
mod support;
