//! Identifiers and generated text, all drawn from the shell's seeded `http:ids` stream:
//! request UUIDs, `chatcmpl-…` ids, system fingerprints, completion words.

use crate::seed::SimRng;
use rand::Rng;

const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// A version-4-shaped UUID.
pub fn uuid(rng: &mut SimRng) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let bits: u128 = rng.random();
    let bits = (bits & !(0xF << 76) | (0x4 << 76)) & !(0x3 << 62) | (0x2 << 62);
    // Written digit by digit (no intermediate strings: this runs twice per request).
    let mut text = String::with_capacity(36);
    for nibble in 0..32 {
        if matches!(nibble, 8 | 12 | 16 | 20) {
            text.push('-');
        }
        let digit = (bits >> (124 - 4 * nibble)) & 0xF;
        text.push(char::from(HEX[digit as usize]));
    }
    text
}

/// `prefix` followed by `len` random alphanumerics (e.g. `chatcmpl-` + 29).
pub fn alnum_id(rng: &mut SimRng, prefix: &str, len: usize) -> String {
    let mut id = String::with_capacity(prefix.len() + len);
    id.push_str(prefix);
    for _ in 0..len {
        id.push(char::from(ALNUM[rng.random_range(0..ALNUM.len())]));
    }
    id
}

/// A stable `fp_…` / session tag from a name (same deployment, same fingerprint).
pub fn stable_tag(name: &str) -> u64 {
    name.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// Words standing for generated tokens (each one BPE token with its leading space).
const WORDS: &[&str] = &[
    " the",
    " model",
    " is",
    " a",
    " mock",
    " of",
    " Azure",
    " Open",
    "AI",
    " and",
    " it",
    " returns",
    " text",
    " that",
    " looks",
    " like",
    " an",
    " answer",
    " to",
    " your",
    " question",
    ",",
    " with",
    " tokens",
    " paced",
    " by",
    " the",
    " latency",
    " profile",
    ".",
    " This",
    " sentence",
    " has",
    " no",
    " meaning",
    " beyond",
    " its",
    " length",
];

/// The text of generated tokens `from..to` of a completion whose words start at `start`.
pub fn words(start: usize, from: u32, to: u32) -> String {
    let mut text = String::with_capacity((to.saturating_sub(from) as usize) * 6);
    for token in from..to {
        text.push_str(WORDS[(start + token as usize) % WORDS.len()]);
    }
    text
}

/// A random start position in the word list.
pub fn word_start(rng: &mut SimRng) -> usize {
    rng.random_range(0..WORDS.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seed::stream;

    #[test]
    fn uuids_have_the_v4_shape_and_follow_the_seed() {
        let a = uuid(&mut stream(1, "http:ids"));
        assert_eq!(a, uuid(&mut stream(1, "http:ids")));
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "4");
        assert!("89ab".contains(&a[19..20]), "{a}");
        // The same text as formatting the 128 bits as hex and cutting it 8-4-4-4-12.
        let bits: u128 = stream(1, "http:ids").random();
        let bits = (bits & !(0xF << 76) | (0x4 << 76)) & !(0x3 << 62) | (0x2 << 62);
        let hex = format!("{bits:032x}");
        let expected = [
            &hex[0..8],
            &hex[8..12],
            &hex[12..16],
            &hex[16..20],
            &hex[20..32],
        ];
        assert_eq!(a, expected.join("-"));
    }

    #[test]
    fn chat_ids_have_29_characters_after_the_prefix() {
        let id = alnum_id(&mut stream(1, "x"), "chatcmpl-", 29);
        assert_eq!(id.len(), 9 + 29);
        assert!(id[9..].bytes().all(|b| b.is_ascii_alphanumeric()));
    }
}
