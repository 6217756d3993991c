//! A small, honest passphrase strength estimate.
//!
//! It counts what an attacker's guessing would have to cover: the length, the character classes
//! used, minus what is predictable (repeated characters, runs such as `abc` or `123`, and common
//! passwords or words found inside). The result is a rough number of bits, shown as one of four
//! levels; it never claims more than it measures. Argon2id slows each guess further, but a weak
//! passphrase stays weak.

use zeroize::Zeroizing;

/// How strong a passphrase looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Strength {
    /// Under 45 estimated bits, or shorter than [`MIN_LENGTH`]: refused.
    TooWeak,
    /// 45 to 60 bits: accepted, but the citizen is told it could be longer.
    Fair,
    /// 60 to 80 bits.
    Good,
    /// 80 bits or more.
    Strong,
}

/// The shortest passphrase accepted, in characters.
pub const MIN_LENGTH: usize = 12;

/// Frequent passwords and words (French and English): finding one inside adds almost nothing.
const COMMON: &[&str] = &[
    "password",
    "motdepasse",
    "azerty",
    "qwerty",
    "123456",
    "soleil",
    "bonjour",
    "doudou",
    "loulou",
    "chouchou",
    "marseille",
    "paris",
    "france",
    "iloveyou",
    "jetaime",
    "admin",
    "welcome",
    "bienvenue",
    "souverain",
    "portefeuille",
    "wallet",
    "secret",
    "letmein",
    "dragon",
    "monkey",
    "football",
    "princess",
    "sunshine",
    "coucou",
    "toto",
    "nicolas",
    "camille",
    "julien",
    "master",
    "hello",
    "abc123",
    "000000",
    "111111",
];

/// Estimated entropy in bits (rounded down).
pub fn estimate_bits(passphrase: &str) -> u32 {
    // Wiped on drop, like the lowered copy below: both are the passphrase, kept for nothing after.
    let chars: Zeroizing<Vec<char>> = Zeroizing::new(passphrase.chars().collect());
    if chars.is_empty() {
        return 0;
    }
    let (mut lower, mut upper, mut digit, mut symbol, mut other) = (false, false, false, false, false);
    for c in chars.iter() {
        match c {
            'a'..='z' => lower = true,
            'A'..='Z' => upper = true,
            '0'..='9' => digit = true,
            c if c.is_ascii() => symbol = true,
            _ => other = true,
        }
    }
    let pool: u32 = [(lower, 26), (upper, 26), (digit, 10), (symbol, 33), (other, 60)]
        .iter()
        .filter(|(present, _)| *present)
        .map(|(_, size)| size)
        .sum();
    let per_char = f64::from(pool.max(2)).log2();

    // Each character counts fully, except those that continue a repetition or a run, which an
    // attacker's rules guess almost for free.
    let mut effective = 0.0_f64;
    for (i, c) in chars.iter().enumerate() {
        let predictable = i > 0
            && chars.get(i - 1).is_some_and(|prev| {
                let (a, b) = (u32::from(*prev), u32::from(*c));
                a == b || a + 1 == b || b + 1 == a
            });
        effective += if predictable { 0.25 } else { 1.0 };
    }
    // A common word inside counts as about 10 bits (a pick from a list), not as its letters.
    let lowered = lowercase_for_words(passphrase);
    for word in COMMON {
        if lowered.contains(word) {
            let len = word.chars().count() as f64;
            effective = (effective - len).max(0.0);
            effective += 10.0 / per_char;
        }
    }
    (effective * per_char).floor().clamp(0.0, 1000.0) as u32
}

/// `str::to_lowercase` as far as the common words (all ASCII) can tell: ASCII letters lowercased, and
/// the only two other characters whose lowercase holds ASCII (U+0130 `İ` gives `i` and U+0307, the
/// Kelvin sign U+212A gives `k`). Any other character lowercases to non-ASCII characters only, which
/// no common word contains, so keeping it as it is finds the same words. Unicode's case tables and
/// conversion code would add 17 kB to the wasm for this one comparison.
fn lowercase_for_words(passphrase: &str) -> Zeroizing<String> {
    // Room for the worst case (`İ`, two bytes, gives three), so that no growth leaves an unwiped
    // copy behind in the freed buffer.
    let mut lowered = Zeroizing::new(String::with_capacity(passphrase.len() + passphrase.len() / 2 + 1));
    for c in passphrase.chars() {
        match c {
            '\u{130}' => lowered.push_str("i\u{307}"),
            '\u{212A}' => lowered.push('k'),
            c => lowered.push(c.to_ascii_lowercase()),
        }
    }
    lowered
}

/// The level shown to the citizen.
pub fn assess(passphrase: &str) -> Strength {
    let bits = estimate_bits(passphrase);
    if passphrase.chars().count() < MIN_LENGTH || bits < 45 {
        Strength::TooWeak
    } else if bits < 60 {
        Strength::Fair
    } else if bits < 80 {
        Strength::Good
    } else {
        Strength::Strong
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_common_and_repetitive_passphrases_are_too_weak() {
        assert_eq!(assess(""), Strength::TooWeak);
        assert_eq!(assess("azerty"), Strength::TooWeak);
        assert_eq!(assess("motdepasse123"), Strength::TooWeak);
        assert_eq!(assess("aaaaaaaaaaaaaaaaaaaa"), Strength::TooWeak);
        assert_eq!(assess("abcdefghijklmnop"), Strength::TooWeak);
        assert_eq!(assess("Password1234!"), Strength::TooWeak);
    }

    #[test]
    fn long_varied_passphrases_score_higher() {
        assert!(assess("cheval agrafe pile correcte") >= Strength::Good);
        assert_eq!(assess("Tr0mpette-Violette-47-Hibou!"), Strength::Strong);
        assert!(estimate_bits("tomate rouge") < estimate_bits("tomate rouge du jardin"));
        assert!(estimate_bits("tomatesrouges") < estimate_bits("Tomates-Rouges-9"));
    }

    /// Where the ASCII runs are, with each run of other characters as one separator: all that
    /// `contains` with an ASCII word can see.
    fn ascii_skeleton(s: &str) -> String {
        let mut out = String::new();
        for c in s.chars() {
            if c.is_ascii() {
                out.push(c);
            } else if !out.ends_with('\u{fffd}') {
                out.push('\u{fffd}');
            }
        }
        out
    }

    #[test]
    fn word_lowercasing_finds_what_unicode_lowercasing_finds() {
        assert!(COMMON.iter().all(|w| w.is_ascii()), "the shortcut relies on ASCII common words");
        for c in (0..=0x10_FFFF).filter_map(char::from_u32) {
            let s = format!("Ab{c}Cd");
            assert_eq!(
                ascii_skeleton(&lowercase_for_words(&s)),
                ascii_skeleton(&s.to_lowercase()),
                "U+{:04X}",
                c as u32
            );
        }
        // Around the two exceptions and ASCII, the result is exactly Unicode's.
        for s in ["\u{130}LOVEYOU", "MonKey\u{212A}", "Azerty\u{130}\u{212A}123"] {
            assert_eq!(*lowercase_for_words(s), s.to_lowercase());
        }
    }

    #[test]
    fn levels_are_ordered() {
        assert!(
            Strength::TooWeak < Strength::Fair && Strength::Fair < Strength::Good && Strength::Good < Strength::Strong
        );
    }
}
