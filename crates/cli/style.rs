//! When to colour the binary's output, and its styles: the one style table is
//! `aiwg_core::style` (re-exported here, shared with the diff renderer); the decision goes
//! through `anstream` (`--color`, else `NO_COLOR`, `CLICOLOR_FORCE`, `CLICOLOR`, `TERM=dumb`
//! and whether the stream is a terminal).

pub use aiwg_core::style::*;

use crate::cli::ColorChoice;

/// The style of a managed path's state (`status`, `check`): ok is fine, an edit or a conflict
/// stops a plain apply, the rest an apply makes right.
pub fn state(state: aiwg_deploy::State) -> Style {
    match state {
        aiwg_deploy::State::Ok => OK,
        aiwg_deploy::State::Edited | aiwg_deploy::State::Conflict => ERROR,
        _ => WARNING,
    }
}

/// Whether to colour a stream: `--color always|never`, else what `anstream` decides for it.
pub fn enabled(choice: ColorChoice, stream: &impl anstream::stream::RawStream) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => !matches!(
            anstream::AutoStream::choice(stream),
            anstream::ColorChoice::Never
        ),
    }
}
