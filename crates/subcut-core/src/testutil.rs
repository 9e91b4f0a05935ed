//! Helpers for the unit tests: a seeded random number generator for the invariant tests
//! (deterministic, no extra dependency; a failure names its seed and case and reproduces).

/// A 64-bit linear congruential generator (Knuth's MMIX constants).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0
    }

    /// A number in `0..m` (0 when `m` ≤ 1).
    pub fn below(&mut self, m: i64) -> i64 {
        ((self.next_u64() >> 33) as i64) % m.max(1)
    }

    /// A number in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}
