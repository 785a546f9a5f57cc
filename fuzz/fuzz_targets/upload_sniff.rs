//! Uploaded-file type detection: any bytes, under any name and declared type,
//! are either refused or accepted as exactly the type their magic bytes say,
//! never panic, and an accepted file's reference is one validation accepts.

#![no_main]

use libfuzzer_sys::fuzz_target;
use recordpass_request::upload::{
    Attachment, FileProblem, MAX_UPLOAD_BYTES, MediaType, check_file, sanitize_file_name, sniff,
};

const NAMES: [&str; 6] = ["poa.pdf", "scan.jpg", "scan.JPEG", "order.png", "poa", "poa.html"];
const TYPES: [&str; 6] = ["", "application/pdf", "image/jpeg", "image/png", "text/html", "image/jpg; x=y"];

fuzz_target!(|data: &[u8]| {
    // The first byte picks a name and a declared type; the rest is the file.
    let Some((&pick, bytes)) = data.split_first() else {
        return;
    };
    let name = NAMES[usize::from(pick % 6)];
    let declared = TYPES[usize::from(pick / 6 % 6)];
    match check_file(name, declared, bytes) {
        Ok(kind) => {
            assert_eq!(sniff(bytes), Some(kind), "accepted as what the bytes say");
            assert_eq!(MediaType::from_file_name(name), Some(kind));
            assert!(!bytes.is_empty() && bytes.len() as u64 <= MAX_UPLOAD_BYTES);
            let a = Attachment::describe(name, kind, bytes);
            assert!(a.is_plausible(), "{a:?}");
        }
        Err(FileProblem::Unsupported) => assert_eq!(sniff(bytes), None),
        Err(FileProblem::Empty) => assert!(bytes.is_empty()),
        Err(_) => {}
    }
    // Names from the bytes: sanitising is idempotent and bounded.
    if let Ok(text) = std::str::from_utf8(bytes) {
        let clean = sanitize_file_name(text);
        assert_eq!(sanitize_file_name(&clean), clean);
        assert!(clean.chars().count() <= 100);
        assert!(!clean.contains(['/', '\\', '\0']));
    }
});
