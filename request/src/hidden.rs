//! Characters that change how text reads without showing themselves.

/// Bidirectional overrides, embeddings, isolates and marks (a right-to-left
/// override would make the statement read differently from what is signed),
/// zero-width space, soft hyphen, word joiner and invisible operators,
/// Mongolian vowel separator, byte-order mark, tag characters, line and
/// paragraph separators. The zero-width joiner and non-joiner stay allowed:
/// some scripts need them to spell names.
pub(crate) fn is_hidden_or_reordering(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{061C}'
            | '\u{180E}'
            | '\u{200B}'
            | '\u{200E}'
            | '\u{200F}'
            | '\u{2028}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{2069}'
            | '\u{FEFF}'
            | '\u{E0000}'..='\u{E007F}'
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invisible_and_reordering_characters_are_caught_and_joiners_are_not() {
        for c in [
            '\u{00AD}',
            '\u{061C}',
            '\u{180E}',
            '\u{200B}',
            '\u{200E}',
            '\u{202E}',
            '\u{2060}',
            '\u{2064}',
            '\u{2066}',
            '\u{2069}',
            '\u{FEFF}',
            '\u{E0001}',
            '\u{E007F}',
        ] {
            assert!(is_hidden_or_reordering(c), "U+{:04X}", c as u32);
        }
        for c in [
            'a',
            'ñ',
            ' ',
            '\u{200C}',
            '\u{200D}',
            '\u{0640}',
            '\u{2065}',
            '\u{E0080}',
        ] {
            assert!(!is_hidden_or_reordering(c), "U+{:04X}", c as u32);
        }
    }
}
