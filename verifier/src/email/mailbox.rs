//! The mailbox an address delivers to, as the code limits count it.

/// Domains whose mail service ignores dots in the local part, all one service.
const GMAIL: [&str; 2] = ["gmail.com", "googlemail.com"];

/// The key the code limits count `email` (a checked address) under, so that
/// the spellings of one mailbox share one budget: lower case, a `+tag`
/// dropped from the local part, and for Gmail dots dropped and
/// `googlemail.com` read as `gmail.com`. Only for counting: codes still go to
/// the address as typed.
pub fn key(email: &str) -> String {
    let email = email.to_lowercase();
    let (local, domain) = email.rsplit_once('@').unwrap_or((&email, ""));
    let local = local
        .split_once('+')
        .map_or(local, |(mailbox, _tag)| mailbox);
    if GMAIL.contains(&domain) {
        format!("{}@gmail.com", local.replace('.', ""))
    } else {
        format!("{local}@{domain}")
    }
}

#[cfg(test)]
mod tests {
    use super::key;

    #[test]
    fn spellings_of_one_mailbox_share_a_key() {
        for same in [
            "jane@example.org",
            "Jane@Example.ORG",
            "jane+1@example.org",
            "JANE+records+2@example.org",
        ] {
            assert_eq!(key(same), "jane@example.org", "{same}");
        }
        for same in [
            "jane.doe@gmail.com",
            "janedoe@gmail.com",
            "J.a.n.e.D.o.e+x@gmail.com",
            "jane.doe@googlemail.com",
        ] {
            assert_eq!(key(same), "janedoe@gmail.com", "{same}");
        }
    }

    #[test]
    fn other_mailboxes_keep_their_own_key() {
        // Dots count everywhere but Gmail.
        assert_ne!(key("jane.doe@example.org"), key("janedoe@example.org"));
        assert_ne!(key("jane@example.org"), key("jane@example.com"));
        assert_ne!(key("jane@example.org"), key("john@example.org"));
        assert_ne!(key("jane.doe@gmail.com"), key("jane.doe@gmail.com.example"));
        assert_eq!(key("josé@example.es"), "josé@example.es");
    }
}
