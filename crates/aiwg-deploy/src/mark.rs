//! The machine-local mark on history: a secret key kept outside the project (in `$AIWG_HOME`)
//! and an HMAC-SHA256 of each generation's manifest under it. A generation whose mark does not
//! verify was not written by aiwg on this machine — it was committed to the repository, copied
//! from elsewhere, or changed by hand — and is never replayed, resumed or pruned.
//!
//! Why a MAC and not a marker id: a marker written into the manifest would be published the
//! day a user commits their history, and then anyone could forge it. The key itself never
//! enters the project, so a generation cannot vouch for itself.

use std::cell::OnceCell;
use std::hash::{BuildHasher as _, RandomState};
use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aiwg_core::RelPath;
use sha2::{Digest as _, Sha256};

use crate::system::{System, SystemError};

/// The file name of the key, in `$AIWG_HOME`.
pub const KEY_FILE: &str = "history-key";

/// A 256-bit secret; `Debug` never prints it.
#[derive(Clone, PartialEq, Eq)]
pub struct HistoryKey([u8; 32]);

impl std::fmt::Debug for HistoryKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HistoryKey(..)")
    }
}

/// SHA-256's block size, the HMAC pad length.
const MAC_BLOCK: usize = 64;

/// An HMAC being computed ([`HistoryKey::mac_of_pieces`]): the message goes in by `update`.
pub struct Mac {
    inner: Sha256,
    outer_pad: [u8; MAC_BLOCK],
}

impl Mac {
    /// Adds the next piece of the message.
    pub fn update(&mut self, piece: &[u8]) {
        self.inner.update(piece);
    }

    /// The HMAC of every piece, as 64 lowercase hex digits.
    pub fn finish(self) -> String {
        let inner = self.inner.finalize();
        let outer = Sha256::new()
            .chain_update(self.outer_pad)
            .chain_update(inner)
            .finalize();
        outer.iter().map(|b| format!("{b:02x}")).collect()
    }
}

impl HistoryKey {
    /// A fresh random key. The operating system seeds every `RandomState` of a process with
    /// random keys (128 bits); hashing several of them with the time and pid gives a key no
    /// repository can predict, without a random-number crate.
    pub fn generate() -> HistoryKey {
        let mut hasher = Sha256::new();
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or(Duration::ZERO);
        for i in 0u64..8 {
            let state = RandomState::new();
            hasher.update(
                state
                    .hash_one((i, now.as_nanos(), std::process::id()))
                    .to_le_bytes(),
            );
        }
        HistoryKey(hasher.finalize().into())
    }

    /// The key this process uses when the engine is given none: generations it writes verify
    /// only within this process, which is the safe default for a library user.
    pub fn process() -> &'static HistoryKey {
        static KEY: OnceLock<HistoryKey> = OnceLock::new();
        KEY.get_or_init(HistoryKey::generate)
    }

    /// The key written as 64 hex digits (the key file's content, before its newline).
    fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Reads a key file's text: 64 hex digits, surrounding whitespace allowed.
    fn from_hex(text: &str) -> Option<HistoryKey> {
        let text = text.trim();
        if text.len() != 64 || !text.is_ascii() {
            return None;
        }
        let mut key = [0u8; 32];
        for (i, byte) in key.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok()?;
        }
        Some(HistoryKey(key))
    }

    /// HMAC-SHA256 of `message` under this key (RFC 2104), as 64 lowercase hex digits.
    pub fn mac(&self, message: &[u8]) -> String {
        let mut mac = self.mac_of_pieces();
        mac.update(message);
        mac.finish()
    }

    /// [`HistoryKey::mac`] of a message given piece by piece (a manifest written as it is
    /// made, never held whole).
    pub fn mac_of_pieces(&self) -> Mac {
        let mut inner_pad = [0x36u8; MAC_BLOCK];
        let mut outer_pad = [0x5cu8; MAC_BLOCK];
        for (i, k) in self.0.iter().enumerate() {
            inner_pad[i] ^= k;
            outer_pad[i] ^= k;
        }
        Mac {
            inner: Sha256::new().chain_update(inner_pad),
            outer_pad,
        }
    }

    /// True when `mac` is [`HistoryKey::mac`] of `message` (compared in constant time).
    pub fn verify(&self, message: &[u8], mac: &str) -> bool {
        let want = self.mac(message);
        want.len() == mac.len()
            && want
                .bytes()
                .zip(mac.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
    }
}

/// Why the key file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// Reading or writing it failed.
    #[error(transparent)]
    System(#[from] SystemError),
    /// It exists but does not hold a key.
    #[error("`{path}` does not hold a history key (64 hex digits)")]
    Invalid {
        /// The key file, relative to its System's root.
        path: RelPath,
    },
    /// There is no key yet, and another process has held the lock for making one longer than
    /// `KEY_LOCK_WAIT`.
    #[error("another aiwg is making the history key and has not finished in 5 seconds (it holds `{path}`)")]
    Busy {
        /// The lock file, relative to its System's root.
        path: RelPath,
    },
}

/// How long [`KeySource::for_writing`] waits for another process making the key.
const KEY_LOCK_WAIT: Duration = if cfg!(test) {
    Duration::from_millis(200)
} else {
    Duration::from_secs(5)
};

/// Where an engine takes its history key from.
pub enum KeySource<'a> {
    /// [`HistoryKey::process`].
    Process,
    /// A fixed key.
    Fixed(HistoryKey),
    /// The key file at `path` in `sys` (`$AIWG_HOME`), created on the first write.
    File {
        /// The System holding the key file.
        sys: &'a dyn System,
        /// The key file.
        path: RelPath,
        /// The key, once read or created.
        cell: OnceCell<HistoryKey>,
    },
}

impl std::fmt::Debug for KeySource<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeySource::Process => f.write_str("KeySource::Process"),
            KeySource::Fixed(_) => f.write_str("KeySource::Fixed(..)"),
            KeySource::File { path, .. } => write!(f, "KeySource::File({path})"),
        }
    }
}

impl<'a> KeySource<'a> {
    /// The key file [`KEY_FILE`] at the root of `sys`.
    pub fn file(sys: &'a dyn System) -> KeySource<'a> {
        KeySource::File {
            sys,
            path: RelPath::new(KEY_FILE).expect("a fixed name is valid"),
            cell: OnceCell::new(),
        }
    }

    /// The key to verify with; `None` when no key exists yet, so no generation is local.
    /// Reading never creates the key file.
    pub fn for_reading(&self) -> Result<Option<HistoryKey>, KeyError> {
        match self {
            KeySource::Process => Ok(Some(HistoryKey::process().clone())),
            KeySource::Fixed(key) => Ok(Some(key.clone())),
            KeySource::File { sys, path, cell } => {
                if let Some(key) = cell.get() {
                    return Ok(Some(key.clone()));
                }
                let Some(key) = read_key(*sys, path)? else {
                    return Ok(None);
                };
                Ok(Some(cell.get_or_init(|| key).clone()))
            }
        }
    }

    /// The key to mark a new generation with, creating the key file when there is none. Two
    /// processes creating it at once take a file lock, so both end up with the same key.
    pub fn for_writing(&self) -> Result<HistoryKey, KeyError> {
        if let Some(key) = self.for_reading()? {
            return Ok(key);
        }
        let KeySource::File { sys, path, cell } = self else {
            unreachable!("only a key file can be missing")
        };
        let lock = RelPath::new(&format!("{KEY_FILE}.lock")).expect("a fixed name is valid");
        let mut waited = Duration::ZERO;
        while !sys.try_lock(&lock, std::process::id().to_string().as_bytes())? {
            if waited >= KEY_LOCK_WAIT {
                // Making a key takes microseconds, and the operating system releases a dead
                // holder's lock: a holder this slow is alive. Writing a key without the lock
                // could replace the key it just wrote, and make its generations foreign.
                return match read_key(*sys, path)? {
                    Some(key) => Ok(cell.get_or_init(|| key).clone()),
                    None => Err(KeyError::Busy { path: lock }),
                };
            }
            std::thread::sleep(Duration::from_millis(20));
            waited += Duration::from_millis(20);
        }
        let key = match read_key(*sys, path) {
            Ok(Some(key)) => Ok(key),
            Ok(None) => {
                let key = HistoryKey::generate();
                let written =
                    sys.write_atomic(path, format!("{}\n", key.to_hex()).as_bytes(), false);
                written.map(|()| key).map_err(KeyError::from)
            }
            Err(e) => Err(e),
        };
        sys.unlock(&lock);
        let key = key?;
        Ok(cell.get_or_init(|| key).clone())
    }
}

fn read_key(sys: &dyn System, path: &RelPath) -> Result<Option<HistoryKey>, KeyError> {
    match sys.read(path)? {
        None => Ok(None),
        Some(data) => std::str::from_utf8(&data.bytes)
            .ok()
            .and_then(HistoryKey::from_hex)
            .map(Some)
            .ok_or_else(|| KeyError::Invalid { path: path.clone() }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::system::MemSystem;

    #[test]
    fn hmac_matches_rfc_4231_case_2_shape_and_verifies() {
        // RFC 4231 test case 2 uses a 4-byte key; ours are 32 bytes, so check the construction
        // against a key padded with zeros, which HMAC treats the same.
        let mut key = [0u8; 32];
        key[..4].copy_from_slice(b"Jefe");
        let mac = HistoryKey(key).mac(b"what do ya want for nothing?");
        assert_eq!(
            mac,
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert!(HistoryKey(key).verify(b"what do ya want for nothing?", &mac));
        assert!(!HistoryKey(key).verify(b"what do ya want for nothing!", &mac));
        assert!(!HistoryKey::generate().verify(b"what do ya want for nothing?", &mac));
        // The same message in pieces, cut anywhere, has the same mark.
        let message = b"what do ya want for nothing?";
        for cut in [0, 1, 13, message.len()] {
            let mut pieces = HistoryKey(key).mac_of_pieces();
            pieces.update(&message[..cut]);
            pieces.update(&message[cut..]);
            assert_eq!(pieces.finish(), mac, "cut at {cut}");
        }
    }

    #[test]
    fn keys_are_random_and_round_trip_through_their_file() {
        let a = HistoryKey::generate();
        assert_ne!(a, HistoryKey::generate());
        assert_eq!(HistoryKey::from_hex(&format!(" {}\n", a.to_hex())), Some(a));
        assert_eq!(HistoryKey::from_hex("zz"), None);
        let sys = MemSystem::new();
        let source = KeySource::file(&sys);
        assert_eq!(
            source.for_reading().unwrap(),
            None,
            "reading creates nothing"
        );
        assert!(sys.files().is_empty());
        let key = source.for_writing().unwrap();
        assert_eq!(
            KeySource::file(&sys).for_reading().unwrap(),
            Some(key.clone())
        );
        assert_eq!(KeySource::file(&sys).for_writing().unwrap(), key);
        sys.put(KEY_FILE, b"not a key", false);
        assert!(matches!(
            KeySource::file(&sys).for_reading(),
            Err(KeyError::Invalid { .. })
        ));
    }

    #[test]
    fn a_key_another_process_is_still_making_is_waited_for_never_written_over() {
        let sys = MemSystem::new();
        let lock = RelPath::new(&format!("{KEY_FILE}.lock")).unwrap();
        assert!(
            sys.try_lock(&lock, b"other").unwrap(),
            "the other process holds it"
        );
        // It never finishes: this process gives up, writes no key of its own and leaves the
        // other's lock alone.
        assert!(matches!(
            KeySource::file(&sys).for_writing(),
            Err(KeyError::Busy { .. })
        ));
        assert!(sys
            .read(&RelPath::new(KEY_FILE).unwrap())
            .unwrap()
            .is_none());
        assert!(
            !sys.try_lock(&lock, b"third").unwrap(),
            "the lock is still held"
        );
        // Once its key is there, that key is the one used.
        let theirs = HistoryKey::generate();
        sys.put(KEY_FILE, format!("{}\n", theirs.to_hex()).as_bytes(), false);
        let source = KeySource::file(&sys);
        assert_eq!(source.for_writing().unwrap(), theirs);
    }
}
