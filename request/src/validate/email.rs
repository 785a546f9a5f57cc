//! The email address rule, shared by the widget and the verifier: an address
//! it accepts is one the verifier's mailer can send a code to.

use super::{MAX_EMAIL_BYTES, Problem};
use crate::hidden::is_hidden_or_reordering;

/// Longest local part (before the `@`), in bytes (RFC 5321 4.5.3.1.1).
const MAX_LOCAL_BYTES: usize = 64;
/// Longest domain label, in bytes (RFC 1035 2.3.4).
const MAX_LABEL_BYTES: usize = 63;
/// RFC 5322 `atext` besides letters and digits.
const ATEXT_SYMBOLS: &str = "!#$%&'*+-/=?^_`{|}~";

/// Checks a normalised address. The local part is a dot-atom (RFC 5322
/// 3.2.3): runs of `atext` (letters, digits, `ATEXT_SYMBOLS`, and non-ASCII
/// characters as RFC 6532 allows) joined by single dots, so no leading,
/// trailing or double dot, no quotes, comments, spaces or second `@`. The
/// domain has at least two labels of letters or digits with inner hyphens.
/// Nothing invisible or direction-changing anywhere, so the address reads in
/// the statement as it is.
pub(super) fn check_email(email: &str) -> Result<(), Problem> {
    if email.is_empty() {
        return Err(Problem::Required);
    }
    if email.len() > MAX_EMAIL_BYTES {
        return Err(Problem::TooLong);
    }
    let Some((local, domain)) = email.rsplit_once('@') else {
        return Err(Problem::InvalidEmail);
    };
    let visible = !email
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || is_hidden_or_reordering(c));
    let local_ok = local.len() <= MAX_LOCAL_BYTES && dot_separated(local, is_atom);
    let domain_ok = domain.contains('.') && dot_separated(domain, is_label);
    if visible && local_ok && domain_ok {
        Ok(())
    } else {
        Err(Problem::InvalidEmail)
    }
}

/// `text` is non-empty parts joined by single dots, each of them `ok`.
fn dot_separated(text: &str, ok: fn(&str) -> bool) -> bool {
    text.split('.').all(|part| !part.is_empty() && ok(part))
}

/// One run of RFC 5322 `atext` (with RFC 6532's non-ASCII characters).
fn is_atom(atom: &str) -> bool {
    atom.chars()
        .all(|c| c.is_ascii_alphanumeric() || ATEXT_SYMBOLS.contains(c) || !c.is_ascii())
}

/// A domain label: letters or digits (of any script) with hyphens inside.
fn is_label(label: &str) -> bool {
    label.len() <= MAX_LABEL_BYTES
        && label.starts_with(char::is_alphanumeric)
        && label.ends_with(char::is_alphanumeric)
        && label.chars().all(|c| c.is_alphanumeric() || c == '-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_atom_local_parts_and_host_names_are_accepted() {
        for good in [
            "ana@example.org",
            "jane.doe@example.com",
            "jane+records@example.com",
            "o'brien@example.ie",
            "a!#$%&'*+-/=?^_`{|}~z@example.com",
            "{x}@example.com",
            "josé.núñez@example.es",
            "ana@bücher.de",
            "ana@xn--bcher-kva.de",
            "ana@mail-1.example.org",
            "ana@192.0.2.7.example",
        ] {
            assert_eq!(check_email(good), Ok(()), "{good}");
        }
        let longest_local = format!("{}@example.org", "a".repeat(64));
        let longest_label = format!("ana@{}.org", "b".repeat(63));
        assert_eq!(check_email(&longest_local), Ok(()));
        assert_eq!(check_email(&longest_label), Ok(()));
    }

    #[test]
    fn what_a_mailer_refuses_is_refused() {
        for bad in [
            // Dots at the ends of, or doubled in, the local part.
            "jane.@example.com",
            ".jane@example.com",
            "jane..doe@example.com",
            // Comments, quotes, specials and a second `@`.
            "a(b)@example.com",
            "a@b@example.com",
            "\"jane\"@example.com",
            "\"jane doe\"@example.com",
            "a[b]@example.com",
            "a\\b@example.com",
            "a:b@example.com",
            "a;b@example.com",
            "a,b@example.com",
            "<a>@example.com",
            // Domains that are no host names.
            "ana@-x.org",
            "ana@x-.org",
            "ana@x..org",
            "ana@.x.org",
            "ana@x.org.",
            "ana@x_y.org",
            "ana@x!y.org",
            "ana@[192.0.2.1]",
            "ana@localhost",
            "ana@",
            "@example.org",
            "ana",
        ] {
            assert_eq!(check_email(bad), Err(Problem::InvalidEmail), "{bad}");
        }
        let long_local = format!("{}@example.org", "a".repeat(65));
        let long_label = format!("ana@{}.org", "b".repeat(64));
        assert_eq!(check_email(&long_local), Err(Problem::InvalidEmail));
        assert_eq!(check_email(&long_label), Err(Problem::InvalidEmail));
        assert_eq!(check_email(""), Err(Problem::Required));
        let too_long = format!("ana@{}.org", vec!["c".repeat(60); 5].join("."));
        assert_eq!(check_email(&too_long), Err(Problem::TooLong));
    }

    #[test]
    fn invisible_and_direction_changing_characters_are_refused() {
        for bad in [
            "an\u{200B}a@example.org",
            "ana@exa\u{202E}gro.elpm",
            "ana\u{00A0}@example.org",
            "ana\u{0007}@example.org",
            "\u{FEFF}ana@example.org",
        ] {
            assert_eq!(check_email(bad), Err(Problem::InvalidEmail), "{bad:?}");
        }
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        /// A run of `atext` characters.
        fn atom() -> impl Strategy<Value = String> {
            let atext: Vec<char> = ('a'..='z')
                .chain('A'..='Z')
                .chain('0'..='9')
                .chain(ATEXT_SYMBOLS.chars())
                .chain(['é', 'ñ', '中'])
                .collect();
            proptest::collection::vec(proptest::sample::select(atext), 1..8)
                .prop_map(|chars| chars.into_iter().collect())
        }

        proptest! {
            #[test]
            fn every_dot_atom_is_accepted(atoms in proptest::collection::vec(atom(), 1..4)) {
                let local = atoms.join(".");
                prop_assume!(local.len() <= MAX_LOCAL_BYTES);
                let email = format!("{local}@example.org");
                prop_assert_eq!(check_email(&email), Ok(()));
            }

            #[test]
            fn a_special_character_or_double_dot_anywhere_is_refused(
                atoms in proptest::collection::vec(atom(), 1..4),
                stray in proptest::sample::select(vec![
                    "..", "(", ")", "\"", " ", ",", ":", ";", "<", ">", "@", "[", "]", "\\",
                    "\u{200B}",
                ]),
                at in any::<proptest::sample::Index>(),
            ) {
                let local = atoms.join(".");
                let boundaries: Vec<usize> =
                    local.char_indices().map(|(i, _)| i).chain([local.len()]).collect();
                let (before, after) = local.split_at(*at.get(&boundaries));
                let email = format!("{before}{stray}{after}@example.org");
                prop_assert_eq!(check_email(&email), Err(Problem::InvalidEmail), "{}", email);
            }
        }
    }
}
