use super::*;
use crate::examples::{PROOF_JPEG, PROOF_PDF, PROOF_PNG};

const ELF: &[u8] = b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x02\0>\0\x01\0\0\0";
const HTML: &[u8] = b"<!doctype html><html><script>alert(1)</script></html>";

#[test]
fn each_accepted_type_is_detected_from_its_bytes() {
    assert_eq!(
        check_file("poa.pdf", "application/pdf", PROOF_PDF),
        Ok(MediaType::Pdf)
    );
    assert_eq!(
        check_file("scan.JPG", "image/jpeg", PROOF_JPEG),
        Ok(MediaType::Jpeg)
    );
    assert_eq!(
        check_file("scan.jpeg", "image/jpg", PROOF_JPEG),
        Ok(MediaType::Jpeg)
    );
    assert_eq!(
        check_file("order.png", "image/png; charset=binary", PROOF_PNG),
        Ok(MediaType::Png)
    );
    // Browsers send no type for unknown files: the name and content decide.
    assert_eq!(check_file("order.png", "", PROOF_PNG), Ok(MediaType::Png));
}

#[test]
fn files_that_lie_about_their_type_are_refused() {
    // PNG bytes declared (and named) as a PDF.
    assert_eq!(
        check_file("poa.pdf", "application/pdf", PROOF_PNG),
        Err(FileProblem::Mismatch)
    );
    // Right declared type, wrong extension.
    assert_eq!(
        check_file("poa.png", "application/pdf", PROOF_PDF),
        Err(FileProblem::Mismatch)
    );
    // Declared as something we do not take at all.
    assert_eq!(
        check_file("poa.pdf", "text/html", PROOF_PDF),
        Err(FileProblem::Mismatch)
    );
    // No extension.
    assert_eq!(
        check_file("poa", "application/pdf", PROOF_PDF),
        Err(FileProblem::Mismatch)
    );
    // An executable or a web page renamed `.pdf`.
    for liar in [ELF, HTML] {
        assert_eq!(
            check_file("poa.pdf", "application/pdf", liar),
            Err(FileProblem::Unsupported)
        );
    }
}

#[test]
fn empty_oversize_and_truncated_files_are_refused() {
    assert_eq!(
        check_file("a.pdf", "application/pdf", b""),
        Err(FileProblem::Empty)
    );
    let mut big = PROOF_PDF.to_vec();
    big.resize(MAX_UPLOAD_BYTES as usize + 1, b' ');
    assert_eq!(
        check_file("a.pdf", "application/pdf", &big),
        Err(FileProblem::TooLarge)
    );
    assert_eq!(check_size(MAX_UPLOAD_BYTES), Ok(()));
    assert_eq!(check_size(0), Err(FileProblem::Empty));
    for (name, bytes) in [
        ("a.pdf", PROOF_PDF),
        ("a.jpg", PROOF_JPEG),
        ("a.png", PROOF_PNG),
    ] {
        let cut = &bytes[..bytes.len() - 6];
        assert_eq!(
            check_file(name, "", cut),
            Err(FileProblem::Damaged),
            "{name} cut short"
        );
    }
    // A PDF header followed by megabytes of padding has no end marker near the end.
    let mut padded = b"%PDF-1.7\n%%EOF\n".to_vec();
    padded.resize(4096, 0);
    assert_eq!(check_file("a.pdf", "", &padded), Err(FileProblem::Damaged));
    // Magic bytes alone are not a file.
    assert_eq!(
        check_file("a.jpg", "", &[0xFF, 0xD8, 0xFF]),
        Err(FileProblem::Damaged)
    );
    assert_eq!(
        check_file("a.png", "", &PROOF_PNG[..8]),
        Err(FileProblem::Damaged)
    );
}

#[test]
fn file_names_are_sanitised() {
    assert_eq!(sanitize_file_name("C:\\Users\\ana\\poa.pdf"), "poa.pdf");
    assert_eq!(sanitize_file_name("../../etc/passwd.pdf"), "passwd.pdf");
    assert_eq!(sanitize_file_name("..hidden.pdf"), "hidden.pdf");
    assert_eq!(sanitize_file_name("a\u{0}b\r\n<c>.pdf"), "a b c .pdf");
    // Bidirectional overrides and invisible characters would make the name
    // (and the type, size and digest after it) read differently.
    assert_eq!(sanitize_file_name("poa\u{202E}fdp.exe"), "poa fdp.exe");
    assert_eq!(sanitize_file_name("p\u{200B}oa\u{2066}.pdf"), "p oa .pdf");
    let long = format!("{}.pdf", "x".repeat(300));
    let short = sanitize_file_name(&long);
    assert_eq!(short.chars().count(), MAX_FILE_NAME_CHARS);
    assert!(short.ends_with(".pdf"));
    assert_eq!(sanitize_file_name(&short), short);
    // Found by the proptest twin of the `upload_sniff` fuzz target: a long
    // name without an extension, cut just after a space, kept the space.
    let long = format!("{} {}", "x".repeat(MAX_FILE_NAME_CHARS - 1), "y".repeat(50));
    let short = sanitize_file_name(&long);
    assert_eq!(short, "x".repeat(MAX_FILE_NAME_CHARS - 1));
    assert_eq!(sanitize_file_name(&short), short);
}

#[test]
fn attachments_are_checked_and_described() {
    let a = Attachment::describe("dir/poa.pdf", MediaType::Pdf, PROOF_PDF);
    assert_eq!(a.name, "poa.pdf");
    assert_eq!(a.size, PROOF_PDF.len() as u64);
    assert_eq!(a.sha256, Digest::of(PROOF_PDF));
    assert!(a.is_plausible());
    let wrong_ext = Attachment {
        name: "poa.png".into(),
        ..a.clone()
    };
    assert!(!wrong_ext.is_plausible());
    let huge = Attachment {
        size: MAX_UPLOAD_BYTES + 1,
        ..a.clone()
    };
    assert!(!huge.is_plausible());
    let json = serde_json::to_value(&a).expect("json");
    assert_eq!(json["media_type"], "application/pdf");
    assert_eq!(json["sha256"], Digest::of(PROOF_PDF).to_hex());
}

#[test]
fn sizes_read_plainly() {
    assert_eq!(size_text(812), "812 bytes");
    assert_eq!(size_text(12_595), "12.3 KB");
    assert_eq!(size_text(4 * 1024 * 1024), "4.0 MB");
}

#[test]
fn every_problem_has_text_in_each_language() {
    for p in [
        FileProblem::Empty,
        FileProblem::TooLarge,
        FileProblem::Unsupported,
        FileProblem::Mismatch,
        FileProblem::Damaged,
    ] {
        for lang in Lang::ALL {
            assert!(!p.message(lang).is_empty());
        }
        assert_ne!(p.message(Lang::En), p.message(Lang::Es));
    }
}

#[test]
fn the_committed_fuzz_seeds_give_the_expected_verdicts() {
    // fuzz/corpus/upload_sniff: first byte picks the name (n % 6) and declared type (n / 6 % 6).
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../fuzz/corpus/upload_sniff");
    let expected = [
        ("pdf-ok", Ok(MediaType::Pdf)),
        ("jpeg-ok", Ok(MediaType::Jpeg)),
        ("png-ok", Ok(MediaType::Png)),
        ("png-as-pdf", Err(FileProblem::Mismatch)),
        ("elf-as-pdf", Err(FileProblem::Unsupported)),
        ("html-as-pdf", Err(FileProblem::Unsupported)),
        ("pdf-truncated", Err(FileProblem::Damaged)),
        ("png-truncated", Err(FileProblem::Damaged)),
        ("jpeg-magic-only", Err(FileProblem::Damaged)),
        ("empty", Err(FileProblem::Empty)),
    ];
    const NAMES: [&str; 6] = [
        "poa.pdf",
        "scan.jpg",
        "scan.JPEG",
        "order.png",
        "poa",
        "poa.html",
    ];
    const TYPES: [&str; 6] = [
        "",
        "application/pdf",
        "image/jpeg",
        "image/png",
        "text/html",
        "image/jpg; x=y",
    ];
    for (seed, verdict) in expected {
        let data = std::fs::read(format!("{dir}/{seed}")).expect("seed");
        let (&pick, bytes) = data.split_first().expect("pick byte");
        let (name, declared) = (
            NAMES[usize::from(pick % 6)],
            TYPES[usize::from(pick / 6 % 6)],
        );
        assert_eq!(check_file(name, declared, bytes), verdict, "{seed}");
    }
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    const NAMES: [&str; 6] = [
        "poa.pdf",
        "scan.jpg",
        "scan.JPEG",
        "order.png",
        "poa",
        "poa.html",
    ];
    const TYPES: [&str; 5] = [
        "",
        "application/pdf",
        "image/jpeg",
        "image/png",
        "text/html",
    ];

    /// Bytes that often start like an accepted file (and sometimes end like one).
    fn file() -> impl Strategy<Value = Vec<u8>> {
        let heads: Vec<Vec<u8>> = vec![
            b"%PDF-1.7\n".to_vec(),
            vec![0xFF, 0xD8, 0xFF],
            PNG_SIGNATURE.to_vec(),
            Vec::new(),
        ];
        let tails: Vec<Vec<u8>> = vec![b"%%EOF\n".to_vec(), vec![0xFF, 0xD9], Vec::new()];
        (
            proptest::sample::select(heads),
            proptest::collection::vec(any::<u8>(), 0..256),
            proptest::sample::select(tails),
        )
            .prop_map(|(h, body, t)| [h, body, t].concat())
    }

    proptest! {
        /// The stable twin of the `upload_sniff` fuzz target.
        #[test]
        fn a_file_is_refused_or_accepted_as_what_its_bytes_say(
            bytes in file(),
            name in proptest::sample::select(NAMES.to_vec()),
            declared in proptest::sample::select(TYPES.to_vec()),
        ) {
            match check_file(name, declared, &bytes) {
                Ok(kind) => {
                    prop_assert_eq!(sniff(&bytes), Some(kind));
                    prop_assert_eq!(MediaType::from_file_name(name), Some(kind));
                    prop_assert!(declared.is_empty() || MediaType::from_mime(declared) == Some(kind));
                    prop_assert!(Attachment::describe(name, kind, &bytes).is_plausible());
                }
                Err(FileProblem::Unsupported) => prop_assert_eq!(sniff(&bytes), None),
                Err(FileProblem::Empty) => prop_assert!(bytes.is_empty()),
                Err(_) => {}
            }
        }

        #[test]
        fn sanitised_names_are_stable_and_bounded(name in "\\PC{0,300}") {
            let clean = sanitize_file_name(&name);
            prop_assert_eq!(sanitize_file_name(&clean), clean.clone());
            prop_assert!(clean.chars().count() <= MAX_FILE_NAME_CHARS);
            prop_assert!(!clean.contains(['/', '\\', '\0']));
        }
    }
}
