//! `UserError`: an error the user can fix, with its `hint:`; its own module so that the
//! modules below the commands (pipeline, project, trust, config edits) need not import
//! `commands`.

use std::fmt;

/// An error the user can fix, with the `hint:` line that says how.
#[derive(Debug)]
pub struct UserError {
    pub message: String,
    pub hint: String,
}

impl UserError {
    /// An error with its hint.
    pub fn new(message: impl Into<String>, hint: impl Into<String>) -> Self {
        UserError {
            message: message.into(),
            hint: hint.into(),
        }
    }
}

impl fmt::Display for UserError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for UserError {}
