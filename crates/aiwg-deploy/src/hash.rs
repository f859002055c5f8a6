//! SHA-256 of what aiwg writes, as lowercase hex (the lock file's `sha256`): the one
//! implementation in `aiwg-core`, which a streaming render also hashes with.

pub use aiwg_core::target::sha256_hex;

#[cfg(test)]
mod tests {
    #[test]
    fn known_digest() {
        assert_eq!(
            super::sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
