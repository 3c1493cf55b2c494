//! The trace hash's mixing step and how it reads strings.
//!
//! One little-endian 8-byte word at a time through a folded 128-bit multiply (the mixing step
//! of wyhash and foldhash). A string folds in its length, then its whole words, then the bytes
//! left over read as one word (overlapping the previous word, or from at most two loads when
//! it is shorter than eight bytes: the length already says which bytes are new), so no string
//! is read byte by byte. A name is folded once, when it is interned ([`crate::engine::Names`]
//! keeps its word), and each event folds in that one word.
//!
//! Fixed constants and order: the same value on every machine. Changing anything here
//! changes every trace hash in the snapshots and docs.

/// Where a run's trace hash starts.
pub(crate) const SEED: u64 = 0x243f_6a88_85a3_08d3;
const MUL: u64 = 0x9e37_79b9_7f4a_7c15;
/// Where a name's word starts (apart from [`SEED`], so a name's word is not an event's hash).
const NAME_SEED: u64 = 0x1319_8a2e_0370_7344;

/// Fold `word` into `h`.
#[inline]
pub(crate) const fn mix(h: u64, word: u64) -> u64 {
    let m = (h ^ word) as u128 * MUL as u128;
    (m as u64) ^ ((m >> 64) as u64)
}

#[inline]
fn word(b: &[u8]) -> u64 {
    u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]])
}

/// 1 to 7 bytes as one word: two 4-byte loads that overlap, or the first, middle and last
/// byte (together they cover every byte of a string of that length).
#[inline]
fn short(b: &[u8]) -> u64 {
    let n = b.len();
    if n >= 4 {
        let lo = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
        let hi = u32::from_le_bytes([b[n - 4], b[n - 3], b[n - 2], b[n - 1]]);
        (u64::from(hi) << 32) | u64::from(lo)
    } else {
        (u64::from(b[0]) << 16) | (u64::from(b[n / 2]) << 8) | u64::from(b[n - 1])
    }
}

/// Fold in `bytes`, length first (so that consecutive strings cannot run into each other).
#[inline]
pub(crate) fn mix_bytes(mut h: u64, bytes: &[u8]) -> u64 {
    let n = bytes.len();
    h = mix(h, n as u64);
    if n >= 8 {
        let mut words = bytes.chunks_exact(8);
        for w in &mut words {
            h = mix(h, word(w));
        }
        if !words.remainder().is_empty() {
            h = mix(h, word(&bytes[n - 8..]));
        }
    } else if n > 0 {
        h = mix(h, short(bytes));
    }
    h
}

/// A name as one word (what [`crate::engine::Names`] keeps for each).
pub(crate) fn name_word(name: &str) -> u64 {
    mix_bytes(NAME_SEED, name.as_bytes())
}

/// The word of the empty name, for ids no name was interned for.
pub(crate) const EMPTY_NAME_WORD: u64 = mix(NAME_SEED, 0);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_byte_and_the_length_count() {
        // Strings of every length up to 24 that differ in one byte, or only in length
        // (trailing zero bytes), fold to different values.
        let mut seen = std::collections::BTreeSet::new();
        for n in 0..=24usize {
            let base = vec![0u8; n];
            assert!(seen.insert(mix_bytes(SEED, &base)), "length {n}");
            for i in 0..n {
                let mut b = base.clone();
                b[i] = 1;
                assert!(seen.insert(mix_bytes(SEED, &b)), "length {n}, byte {i}");
            }
        }
        assert_eq!(name_word(""), EMPTY_NAME_WORD);
    }
}
