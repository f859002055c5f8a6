//! The process lock: one aiwg at a time writes to a project. A file created exclusively,
//! holding the owner's pid; a second process polls until it is gone or a bounded wait ends.
//! A lock whose pid is no longer alive (or that stays unreadable) was left by a crash and is
//! taken over.
//!
//! Known limit: two processes that find the same dead lock at the same instant may both
//! remove it; the exclusive create that follows still lets only one of them in, unless the
//! second removal lands after the first process re-created it.

use std::time::{Duration, Instant};

use aiwg_core::RelPath;

use crate::engine::DeployError;
use crate::system::System;

/// Held while a command writes; removes the lock file when dropped.
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
        let _ = self.sys.remove_file(&self.path);
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
    let content = format!("{}\n", std::process::id());
    let mut unreadable_before = false;
    loop {
        if sys.create_new(path, content.as_bytes())? {
            return Ok(ProcessLock {
                sys,
                path: path.clone(),
            });
        }
        let holder = sys
            .read(path)
            .ok()
            .flatten()
            .and_then(|f| String::from_utf8_lossy(&f.bytes).trim().parse::<u32>().ok());
        match holder {
            Some(pid) if !sys.process_alive(pid) => {
                sys.remove_file(path)?;
                continue;
            }
            None if unreadable_before => {
                sys.remove_file(path)?;
                unreadable_before = false;
                continue;
            }
            None => unreadable_before = true,
            Some(_) => {}
        }
        let waited = start.elapsed();
        if waited >= wait {
            return Err(DeployError::Busy {
                path: path.clone(),
                pid: holder,
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
    fn waits_then_fails_and_recovers_a_dead_holder() {
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
        // A lock left by a dead process is taken over.
        sys.put(".aiwg/lock.pid", b"999999\n", false);
        sys.kill(999_999);
        let _held = acquire(&sys, &path, Duration::ZERO, Duration::ZERO).unwrap();
        assert_eq!(
            sys.text(".aiwg/lock.pid").unwrap(),
            format!("{}\n", std::process::id())
        );
    }

    #[test]
    fn an_unreadable_lock_is_taken_over_on_the_second_look() {
        let sys = MemSystem::new();
        sys.put(".aiwg/lock.pid", b"", false);
        let path = RelPath::new(".aiwg/lock.pid").unwrap();
        acquire(
            &sys,
            &path,
            Duration::from_millis(50),
            Duration::from_millis(1),
        )
        .unwrap();
    }
}
