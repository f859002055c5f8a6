//! [`UserError`]: an error the user can fix, with the `hint:` line that says how. Its own
//! module, below every other, so that the pipeline, the project and the commands all use it
//! without importing upwards.

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
