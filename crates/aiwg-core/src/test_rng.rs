//! A small deterministic random generator (xorshift) for the robustness tests, so they try
//! many awkward inputs, the same ones every run, without an extra crate.

/// Xorshift64; the seed must not be zero.
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    /// The next pseudo-random number.
    pub(crate) fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A number in `0..n`.
    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// One of `items`.
    pub(crate) fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }
}

/// How many inputs a bounded property test tries: `AIWG_PROPTEST_ROUNDS` when set (for a
/// long run by hand), else `default` (what `cargo test` runs every time).
pub(crate) fn rounds(default: usize) -> usize {
    std::env::var("AIWG_PROPTEST_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}
