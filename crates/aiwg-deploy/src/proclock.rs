//! The process lock: one aiwg at a time writes to a project. An operating-system lock on a
//! file holding the owner's pid (for the message a waiter prints); a second process polls
//! until it is free or a bounded wait ends. The OS releases the lock when its process dies,
//! so a crash never leaves a project locked and no pid is ever checked for liveness.

use std::time::{Duration, Instant};

use aiwg_core::RelPath;

use crate::error::DeployError;
use crate::system::System;

/// Held while a command writes; deletes the lock file and releases the lock when dropped.
pub struct ProcessLock<'a> {
    sys: &'a dyn System,
    path: RelPath,
}

impl std::fmt::Debug for ProcessLock<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ProcessLock({})", self.path)
    }
}

impl Drop for ProcessLock<'_> {
    fn drop(&mut self) {
        self.sys.unlock(&self.path);
    }
}

/// Takes the lock at `path`, waiting up to `wait` (polling every `poll`).
pub fn acquire<'a>(
    sys: &'a dyn System,
    path: &RelPath,
    wait: Duration,
    poll: Duration,
) -> Result<ProcessLock<'a>, DeployError> {
    let start = Instant::now();
    let owner = format!("{}\n", std::process::id());
    loop {
        if sys.try_lock(path, owner.as_bytes())? {
            return Ok(ProcessLock {
                sys,
                path: path.clone(),
            });
        }
        let waited = start.elapsed();
        if waited >= wait {
            let pid = sys
                .read(path)
                .ok()
                .flatten()
                .and_then(|f| String::from_utf8_lossy(&f.bytes).trim().parse::<u32>().ok());
            return Err(DeployError::Busy {
                path: path.clone(),
                pid,
                waited,
            });
        }
        std::thread::sleep(poll.min(wait - waited));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::system::MemSystem;

    #[test]
    fn waits_then_fails_and_a_holderless_lock_file_is_taken() {
        let sys = MemSystem::new();
        let path = RelPath::new(".aiwg/lock.pid").unwrap();
        let held = acquire(&sys, &path, Duration::ZERO, Duration::ZERO).unwrap();
        let err = acquire(
            &sys,
            &path,
            Duration::from_millis(20),
            Duration::from_millis(5),
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .contains(&format!("(pid {})", std::process::id())),
            "{err}"
        );
        drop(held);
        assert!(sys.files().is_empty());
        // A lock file left by a crashed process holds no lock: it is taken at once.
        sys.put(".aiwg/lock.pid", b"999999\n", false);
        let _held = acquire(&sys, &path, Duration::ZERO, Duration::ZERO).unwrap();
        assert_eq!(
            sys.text(".aiwg/lock.pid").unwrap(),
            format!("{}\n", std::process::id())
        );
    }
}
