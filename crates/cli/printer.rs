//! How much the binary says on stderr, set once from `-q`/`-v`: quiet says only errors and
//! what stopped a command (conflicts); the default adds summaries and one line counting the
//! platforms' notes; verbose prints every note and warning. stdout (data) never changes.
//! Writes to stderr never panic (a closed stderr is not worth a crash).

use std::sync::atomic::{AtomicU8, Ordering};

/// How much to say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verbosity {
    /// `-q`: errors and conflicts only.
    Quiet = 0,
    /// Summaries, and a count of the platforms' notes.
    Normal = 1,
    /// `-v`: every note and warning as well.
    Verbose = 2,
}

static LEVEL: AtomicU8 = AtomicU8::new(Verbosity::Normal as u8);

/// Sets the verbosity for the rest of the run.
pub fn set(level: Verbosity) {
    LEVEL.store(level as u8, Ordering::Relaxed);
}

/// The verbosity of this run.
pub fn get() -> Verbosity {
    match LEVEL.load(Ordering::Relaxed) {
        0 => Verbosity::Quiet,
        1 => Verbosity::Normal,
        _ => Verbosity::Verbose,
    }
}

/// Whether a message of `level` is said in this run.
pub fn says(level: Verbosity) -> bool {
    get() >= level
}

/// Writes one line to stderr with one `write`: stderr is unbuffered, and `writeln!` on it
/// makes a system call per piece of the format (some fifty for an apply's report).
pub fn line(args: std::fmt::Arguments<'_>) {
    use std::io::Write as _;
    let mut text = String::with_capacity(128);
    let _ = std::fmt::Write::write_fmt(&mut text, args);
    text.push('\n');
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}

/// A message on stderr, unless `-q`.
macro_rules! say {
    ($($arg:tt)*) => {
        if $crate::printer::says($crate::printer::Verbosity::Normal) {
            $crate::printer::line(format_args!($($arg)*));
        }
    };
}

/// A message on stderr whatever the verbosity: what stopped a command.
macro_rules! shout {
    ($($arg:tt)*) => {
        $crate::printer::line(format_args!($($arg)*))
    };
}

pub(crate) use say;
pub(crate) use shout;
