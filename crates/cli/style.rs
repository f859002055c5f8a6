//! The one style table of the binary's output, and when to use it: colours through `anstyle`,
//! the decision through `anstream` (`--color`, else `NO_COLOR`, `CLICOLOR_FORCE`, `CLICOLOR`,
//! `TERM=dumb` and whether the stream is a terminal).

use anstyle::{AnsiColor, Style};

use crate::cli::ColorChoice;

/// A check or state that is fine.
pub const OK: Style = Style::new().fg_color(Some(anstyle::Color::Ansi(AnsiColor::Green)));
/// Something to look at; the command still did its work.
pub const WARNING: Style = Style::new()
    .fg_color(Some(anstyle::Color::Ansi(AnsiColor::Yellow)))
    .bold();
/// Something that stopped the command, or will stop the next one.
pub const ERROR: Style = Style::new()
    .fg_color(Some(anstyle::Color::Ansi(AnsiColor::Red)))
    .bold();
/// A `hint:` or `note:` prefix.
pub const HINT: Style = Style::new()
    .fg_color(Some(anstyle::Color::Ansi(AnsiColor::Cyan)))
    .bold();

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

/// `text` in `style` when `color`, else as it is.
pub fn paint(color: bool, style: Style, text: &str) -> String {
    if color {
        format!("{style}{text}{style:#}")
    } else {
        text.to_string()
    }
}
