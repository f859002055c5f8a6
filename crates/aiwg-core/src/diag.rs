//! Diagnostics: one problem in one file, with the line when there is one, and how to fix it.

use std::fmt;
use std::path::PathBuf;

use crate::escape::escape;

/// How bad a [`Diagnostic`] is: errors fail `aiwg validate` (exit 2), warnings do not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Reported, but does not fail `aiwg validate` or stop a deploy.
    Warning,
    /// Fails `aiwg validate`; one in the sources stops a deploy before anything is written.
    Error,
}

/// One problem found while loading or validating a source, or while rendering for a platform.
/// Displayed as `path:line: error: message`, with terminal controls escaped.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Diagnostic {
    /// The file, as the user named it (source root joined with the relative path).
    pub path: PathBuf,
    /// 1-based line in `path`, when the problem has one.
    pub line: Option<u32>,
    /// Whether this is an error or a warning.
    pub severity: Severity,
    /// What is wrong, without the path or line (`Display` puts those in front).
    pub message: String,
    /// What to do about it, printed as a `hint:` line.
    pub hint: Option<String>,
}

impl Diagnostic {
    /// An error in `path` at `line`.
    pub fn error(path: impl Into<PathBuf>, line: Option<u32>, message: impl Into<String>) -> Self {
        Diagnostic {
            path: path.into(),
            line,
            severity: Severity::Error,
            message: message.into(),
            hint: None,
        }
    }

    /// A warning in `path` at `line`.
    pub fn warning(
        path: impl Into<PathBuf>,
        line: Option<u32>,
        message: impl Into<String>,
    ) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(path, line, message)
        }
    }

    /// The same diagnostic with a `hint:`.
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// True for [`Severity::Error`].
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let level = match self.severity {
            Severity::Warning => "warning",
            Severity::Error => "error",
        };
        // Printed for a person: names and messages from a source are escaped (`escape`).
        write!(f, "{}", escape(&self.path.display().to_string()))?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        write!(f, ": {level}: {}", escape(&self.message))?;
        if let Some(hint) = &self.hint {
            write!(f, "\n  hint: {}", escape(hint))?;
        }
        Ok(())
    }
}
