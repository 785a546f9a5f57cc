//! Characters that change how text reads without showing themselves.

/// Bidirectional overrides, embeddings, isolates and marks (a right-to-left
/// override would make the statement read differently from what is signed),
/// zero-width space, byte-order mark, line and paragraph separators.
pub(crate) fn is_hidden_or_reordering(c: char) -> bool {
    matches!(
        c,
        '\u{200B}' | '\u{200E}' | '\u{200F}' | '\u{2028}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}'
    )
}
