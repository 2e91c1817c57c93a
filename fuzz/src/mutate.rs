//! Deterministic mutations of corpus entries, for the bounded fresh run the
//! stable tests make of every target (no coverage guidance: libFuzzer does
//! that on nightly).

/// A small deterministic generator (xorshift64*), seeded by the caller so a
/// failing run can be repeated.
pub struct Rng(u64);

impl Rng {
    /// A generator seeded with `seed` (any value; 0 is replaced).
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
}

/// Bytes that matter to the parsers under test, inserted by [`mutate`].
const TOKENS: &[&[u8]] = &[
    b"{",
    b"}",
    b"[",
    b"]",
    b"\"",
    b"'",
    b":",
    b",",
    b".",
    b"..",
    b"$",
    b"$$",
    b"@",
    b"?(",
    b")",
    b"*",
    b"{%",
    b"%}",
    b"\\",
    b"\n",
    b"\0",
    b"-",
    b"0",
    b"1e999",
    b"-0",
    b"9223372036854775808",
    b"States.",
    b"$states.input",
    b"null",
    b"true",
    b"\xff",
    b"\xe2\x82\xac",
    b"=",
    b"[[",
    b"]]",
];

/// Longest mutated input.
const MAX_LEN: usize = 4096;

/// `input` changed in one to four places: a byte flipped, a token inserted,
/// a range deleted or repeated, or a piece of `other` spliced in.
pub fn mutate(rng: &mut Rng, input: &[u8], other: &[u8]) -> Vec<u8> {
    let mut out = input.to_vec();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(out.len() + 1);
        match rng.below(6) {
            0 if at < out.len() => out[at] ^= 1 << rng.below(8),
            1 => {
                let token = TOKENS[rng.below(TOKENS.len())];
                out.splice(at..at, token.iter().copied());
            }
            2 => {
                let end = (at + 1 + rng.below(16)).min(out.len());
                out.drain(at..end);
            }
            3 => {
                let end = (at + 1 + rng.below(32)).min(out.len());
                let piece = out[at..end].to_vec();
                out.splice(at..at, piece);
            }
            _ if !other.is_empty() => {
                let from = rng.below(other.len());
                let end = (from + 1 + rng.below(64)).min(other.len());
                let replace = if rng.below(2) == 0 {
                    at..at
                } else {
                    at..(at + rng.below(16)).min(out.len())
                };
                out.splice(replace, other[from..end].iter().copied());
            }
            _ => out.push(rng.below(256) as u8),
        }
    }
    out.truncate(MAX_LEN);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mutations_are_repeatable_and_bounded() {
        let run = |seed| {
            let mut rng = Rng::new(seed);
            (0..100)
                .map(|_| mutate(&mut rng, b"{\"a\": [1, 2]}", b"$.x[?(@.y)]"))
                .collect::<Vec<_>>()
        };
        assert_eq!(run(7), run(7));
        assert_ne!(run(7), run(8));
        let long = vec![b'x'; MAX_LEN];
        let mut rng = Rng::new(1);
        for _ in 0..100 {
            assert!(mutate(&mut rng, &long, &long).len() <= MAX_LEN);
        }
        assert!(run(7).iter().any(|m| m.as_slice() != b"{\"a\": [1, 2]}"));
    }
}
