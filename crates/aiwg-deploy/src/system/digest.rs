//! [`FileDigest`]: what a plan needs to know of a file on disk without holding its bytes — its
//! SHA-256 and size, its executable bit, and the same of its LF form (a CRLF checkout, see
//! [`crate::eol`]) — computed by [`Digester`] as the file is read, in a bounded buffer.

use sha2::{Digest as _, Sha256};

/// How much of a file is read at a time when it is digested (the memory a digest read holds).
pub const DIGEST_BUFFER: usize = 64 * 1024;

/// A file known by its digests instead of its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileDigest {
    /// The SHA-256 of the bytes, as 64 lowercase hex digits (the lock's `sha256`).
    pub sha256: String,
    /// The size in bytes.
    pub size: u64,
    /// Whether any execute bit is set.
    pub executable: bool,
    /// The SHA-256 and size of [`crate::eol::lf_form`] of the bytes, when they have one.
    pub lf: Option<(String, u64)>,
}

impl FileDigest {
    /// The digest of `bytes` held in memory: exactly what [`Digester`] makes of them read
    /// in pieces.
    pub fn of(bytes: &[u8], executable: bool) -> FileDigest {
        let mut d = Digester::new();
        d.update(bytes);
        d.finish(executable)
    }

    /// True when the file holds `size` bytes of SHA-256 `sha256`, as they are or in their LF
    /// form (what [`crate::decision`] calls "matches the lock").
    pub fn matches(&self, sha256: &str, size: u64) -> bool {
        (self.size == size && self.sha256 == sha256)
            || self
                .lf
                .as_ref()
                .is_some_and(|(lf, n)| *n == size && lf == sha256)
    }
}

/// The LF form's hash as the bytes stream in (the rules of [`crate::eol::lf_form`]).
#[derive(Clone)]
enum Lf {
    /// No CR seen yet: the LF form so far is the bytes themselves (no second hash is kept).
    Same,
    /// A CR was seen; every one so far starts a CRLF (`pending`: the last byte was a CR).
    Converted {
        hash: Sha256,
        size: u64,
        pending: bool,
    },
    /// A lone CR or a NUL byte: the bytes have no LF form.
    None,
}

/// A streamed [`FileDigest`]: feed the bytes in any pieces, then [`Digester::finish`].
#[derive(Clone)]
pub struct Digester {
    hash: Sha256,
    size: u64,
    lf: Lf,
}

impl Default for Digester {
    fn default() -> Self {
        Digester::new()
    }
}

impl Digester {
    /// Nothing read yet.
    pub fn new() -> Digester {
        Digester {
            hash: Sha256::new(),
            size: 0,
            lf: Lf::Same,
        }
    }

    /// The next `piece` of the file.
    pub fn update(&mut self, piece: &[u8]) {
        if piece.contains(&0) {
            self.lf = Lf::None;
        }
        if matches!(self.lf, Lf::Same) {
            if let Some(cr) = piece.iter().position(|&b| b == b'\r') {
                // The LF form is the bytes up to the first CR: its hash starts from here.
                let mut hash = self.hash.clone();
                hash.update(&piece[..cr]);
                self.lf = Lf::Converted {
                    hash,
                    size: self.size + cr as u64,
                    pending: false,
                };
                self.convert(&piece[cr..]);
            }
        } else {
            self.convert(piece);
        }
        self.hash.update(piece);
        self.size += piece.len() as u64;
    }

    /// Feeds `rest` (after the first CR) to the LF form's hash, each CRLF as LF.
    fn convert(&mut self, mut rest: &[u8]) {
        let Lf::Converted {
            hash,
            size,
            pending,
        } = &mut self.lf
        else {
            return;
        };
        if *pending {
            if rest.is_empty() {
                return;
            }
            if rest[0] != b'\n' {
                self.lf = Lf::None;
                return;
            }
            hash.update(b"\n");
            *size += 1;
            *pending = false;
            rest = &rest[1..];
        }
        while let Some(cr) = rest.iter().position(|&b| b == b'\r') {
            hash.update(&rest[..cr]);
            *size += cr as u64;
            match rest.get(cr + 1) {
                Some(b'\n') => {
                    hash.update(b"\n");
                    *size += 1;
                    rest = &rest[cr + 2..];
                }
                Some(_) => {
                    self.lf = Lf::None;
                    return;
                }
                None => {
                    *pending = true;
                    return;
                }
            }
        }
        hash.update(rest);
        *size += rest.len() as u64;
    }

    /// The digest of everything fed, for a file with this executable bit.
    pub fn finish(self, executable: bool) -> FileDigest {
        let lf = match self.lf {
            Lf::Converted {
                hash,
                size,
                pending: false,
            } => Some((hex(hash), size)),
            _ => None,
        };
        FileDigest {
            sha256: hex(self.hash),
            size: self.size,
            executable,
            lf,
        }
    }
}

fn hex(hash: Sha256) -> String {
    aiwg_core::target::Sha256(hash.finalize().into())
        .hex()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::sha256_hex;

    /// What the digest must be: the whole-buffer functions it stands in for.
    fn expected(bytes: &[u8]) -> FileDigest {
        FileDigest {
            sha256: sha256_hex(bytes),
            size: bytes.len() as u64,
            executable: false,
            lf: crate::eol::lf_form(bytes).map(|lf| (sha256_hex(&lf), lf.len() as u64)),
        }
    }

    #[test]
    fn streamed_digest_equals_the_whole_buffer_functions_however_it_is_cut() {
        let samples: &[&[u8]] = &[
            b"",
            b"plain text\nwith lines\n",
            b"crlf\r\ntext\r\n",
            b"\r\n",
            b"\r",
            b"ends in cr\r",
            b"lone\rcr\r\n",
            b"mixed\nand\r\ncrlf\n",
            b"nul\0with\r\ncrlf",
            b"\r\n\r\n\r\r\n",
            b"cr\r\r\nnot crlf",
            b"abc\r\n\0",
        ];
        for bytes in samples {
            let want = expected(bytes);
            assert_eq!(FileDigest::of(bytes, false), want, "{bytes:?} whole");
            // Every cut into two pieces, and byte by byte.
            for cut in 0..=bytes.len() {
                let mut d = Digester::new();
                d.update(&bytes[..cut]);
                d.update(&bytes[cut..]);
                assert_eq!(d.finish(false), want, "{bytes:?} cut at {cut}");
            }
            let mut d = Digester::new();
            for b in bytes.iter() {
                d.update(std::slice::from_ref(b));
            }
            assert_eq!(d.finish(false), want, "{bytes:?} byte by byte");
        }
    }

    #[test]
    fn matches_the_bytes_or_their_lf_form() {
        let d = FileDigest::of(b"a\r\nb\r\n", true);
        assert!(d.executable);
        assert!(d.matches(&sha256_hex(b"a\r\nb\r\n"), 6));
        assert!(d.matches(&sha256_hex(b"a\nb\n"), 4));
        assert!(!d.matches(&sha256_hex(b"a\nb\n"), 5), "the size counts");
        assert!(!d.matches(&sha256_hex(b"other"), 5));
    }
}
