//! Reading an open file whole: the one read loop the source reader and the deploy engine's
//! real file system share.

use std::fs::{File, Metadata};
use std::io::{ErrorKind, Read as _};

/// Reads `file` to its end, expecting `len` bytes (its size from `fstat`): one read call when
/// the size is still right, more when the file grew since.
pub fn read_sized(mut file: &File, len: usize) -> std::io::Result<Vec<u8>> {
    let mut buf = vec![0u8; len + 1];
    let mut filled = 0;
    loop {
        let n = match file.read(&mut buf[filled..]) {
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if n == 0 {
            break;
        }
        filled += n;
        if filled == buf.len() {
            // Larger than fstat said: it is growing; read on to the end.
            buf.resize(buf.len() * 2, 0);
        } else if filled == len {
            break;
        }
    }
    buf.truncate(filled);
    Ok(buf)
}

/// Whether any execute bit is set (always false where there are none).
#[cfg(unix)]
pub fn is_executable(meta: &Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt as _;
    meta.permissions().mode() & 0o111 != 0
}

/// Whether any execute bit is set (always false where there are none).
#[cfg(not(unix))]
pub fn is_executable(_: &Metadata) -> bool {
    false
}
