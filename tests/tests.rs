//! End-to-end tests of the `aiwg` binary, one test binary with a module per concern.
//!
//! - `deploy`: apply, diff, check, status, plan, rollback, remove, uninstall, hook.
//! - `support`: the `Test` builder (temp project, `HOME` and `AIWG_HOME` redirected).

mod deploy;
mod support;
