//! Evidence bundles: exported after a real (software) passkey signature, checked
//! offline by the library, the CLI and plain OpenSSL; each single-byte tamper is
//! caught, by the check that should catch it.

use base64::{Engine as _, engine::general_purpose::STANDARD};
use recordpass_tests::{TestVerifier, verifier_cli};
use recordpass_verifier::{
    evidence::{Bundle, Exporter, to_pretty_json, verify_bundle},
    seal::{PublishedSealKey, SealKey, SealPublicKey},
};
use reqwest::StatusCode;
use serde_json::Value;
use std::{
    path::PathBuf,
    process::{Command, Output},
};

use crate::client::Requester;

const USER_AGENT: &str = "Mozilla/5.0 (RecordpassTest) SoftPasskey/0.6";

/// Creates a passkey, signs Ana's request with it and returns the request number.
async fn signed_request(verifier: &TestVerifier) -> String {
    let mut ana = Requester::new(verifier).with_user_agent(USER_AGENT);
    ana.register_and_sign(1).await.remove(0)
}

async fn export(verifier: &TestVerifier, number: &str) -> Bundle {
    export_for(verifier, number, &verifier.config.relying_party.id).await
}

/// [`export`] by a verifier configured with relying-party ID `rp_id`.
async fn export_for(verifier: &TestVerifier, number: &str, rp_id: &str) -> Bundle {
    let exporter = Exporter {
        rp_id,
        public_url: &verifier.base_url,
        seal: &verifier.seal,
        reader: recordpass_verifier::evidence::Reader::Him,
    };
    exporter
        .export(&verifier.store, number, verifier.clock.unix())
        .await
        .expect("bundle exported")
}

/// The seal key as an auditor gets it: from the well-known URL.
async fn published_key(verifier: &TestVerifier) -> PublishedSealKey {
    let resp = reqwest::get(verifier.url("/.well-known/recordpass-seal-key"))
        .await
        .expect("GET seal key");
    assert_eq!(resp.status(), StatusCode::OK);
    resp.json().await.expect("seal key JSON")
}

fn json(bundle: &Bundle) -> Vec<u8> {
    to_pretty_json(bundle).expect("serialises").into_bytes()
}

/// The three single-byte tampers, as edits of the bundle's JSON.
fn tampered(bundle: &[u8], what: &str) -> Vec<u8> {
    let mut v: Value = serde_json::from_slice(bundle).expect("bundle JSON");
    let flip_b64 = |v: &mut Value, pointer: &str| {
        let slot = v.pointer_mut(pointer).expect("field");
        let mut bytes = STANDARD
            .decode(slot.as_str().expect("string"))
            .expect("b64");
        let last = bytes.len() - 1;
        bytes[last] ^= 0x01;
        *slot = Value::String(STANDARD.encode(bytes));
    };
    match what {
        // One digit of the date of birth, in both representations of the document.
        "document" => {
            let doc = v["document"]["canonical"].as_str().expect("canonical");
            let edited = doc.replacen("1984-03-07", "1984-03-08", 1);
            assert_ne!(edited, doc);
            v["document"]["b64"] = Value::String(STANDARD.encode(&edited));
            v["document"]["canonical"] = Value::String(edited);
        }
        "signature" => flip_b64(&mut v, "/webauthn/signature_b64"),
        "seal" => flip_b64(&mut v, "/seal/signature_b64"),
        other => panic!("unknown tamper {other}"),
    }
    serde_json::to_vec_pretty(&v).expect("serialises")
}

#[tokio::test]
async fn an_exported_bundle_verifies_and_records_where_the_signature_came_from() {
    let verifier = TestVerifier::start().await;
    let number = signed_request(&verifier).await;
    let bundle = export(&verifier, &number).await;

    assert_eq!(bundle.format, "recordpass.evidence.v1");
    assert_eq!(bundle.request_number, number);
    assert_eq!(bundle.context.client_ip.as_deref(), Some("127.0.0.1"));
    assert_eq!(bundle.context.user_agent.as_deref(), Some(USER_AGENT));
    assert_eq!(bundle.requester.email_masked, "a***@example.org");
    assert_eq!(bundle.webauthn.alg, "ES256");
    assert!(bundle.webauthn.flags.up && bundle.webauthn.flags.uv);
    assert_eq!(bundle.webauthn.rp_id, "localhost");
    assert!(
        bundle
            .identity_assurance
            .starts_with("passkey with user verification (AAL2-equivalent)"),
        "{}",
        bundle.identity_assurance
    );
    assert!(
        bundle
            .identity_assurance
            .ends_with("identity not yet matched to chart")
    );
    assert_eq!(bundle.verifier.version, "0.1.0");
    assert!(bundle.document.canonical.contains("Ana María Pérez"));
    assert_eq!(
        bundle.seal.public_key_url,
        verifier.url("/.well-known/recordpass-seal-key")
    );

    // The key served at the well-known URL is the one that sealed the bundle.
    let published = published_key(&verifier).await;
    assert_eq!(published.alg, "Ed25519");
    assert_eq!(published.key_id, bundle.seal.key_id);
    let pinned = SealPublicKey::from_pem(&published.public_key_pem).expect("PEM");
    assert_eq!(
        STANDARD.decode(&published.public_key_b64).expect("b64"),
        pinned.spki_der()[12..],
        "public_key_b64 is the raw key at the end of the SPKI"
    );

    let report = verify_bundle(&json(&bundle), Some(&pinned));
    assert!(report.ok(), "{report}");
    let names: Vec<_> = report.checks.iter().map(|c| c.name).collect();
    assert_eq!(
        names,
        [
            "format",
            "document_bytes",
            "document_digest",
            "document_well_formed",
            "challenge",
            "client_data",
            "rp_id_hash",
            "user_flags",
            "public_key",
            "passkey_signature",
            "seal",
            "seal_key_pinned"
        ]
    );

    // The bundle is reproducible apart from its seal time.
    let again = export(&verifier, &number).await;
    assert_eq!(again.document, bundle.document);
    assert_eq!(again.webauthn, bundle.webauthn);
}

#[tokio::test]
async fn each_single_byte_tamper_fails_the_check_that_covers_it() {
    let verifier = TestVerifier::start().await;
    let number = signed_request(&verifier).await;
    let good = json(&export(&verifier, &number).await);
    let pinned = SealPublicKey::from_pem(&published_key(&verifier).await.public_key_pem)
        .expect("pinned key");

    let failed = |bytes: &[u8], pinned: Option<&SealPublicKey>| {
        let report = verify_bundle(bytes, pinned);
        assert!(!report.ok(), "{report}");
        report.failed()
    };
    let document = failed(&tampered(&good, "document"), Some(&pinned));
    assert!(document.starts_with(&["document_digest"]), "{document:?}");
    assert!(document.contains(&"challenge") && document.contains(&"seal"));
    assert!(!document.contains(&"passkey_signature"), "{document:?}");
    assert_eq!(
        failed(&tampered(&good, "signature"), Some(&pinned)),
        ["passkey_signature", "seal", "seal_key_pinned"]
    );
    assert_eq!(
        failed(&tampered(&good, "seal"), Some(&pinned)),
        ["seal", "seal_key_pinned"]
    );
    // A bundle re-sealed by someone else's key fails only when the key is pinned.
    let other = SealKey::generate();
    assert_eq!(failed(&good, Some(other.public())), ["seal_key_pinned"]);
    assert!(verify_bundle(&good, None).ok());
    assert_eq!(failed(b"{\"format\":\"x\"}", None), ["format"]);
}

fn script() -> Command {
    let mut cmd = Command::new("bash");
    cmd.arg(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/evidence/verify-with-openssl.sh"
    ));
    cmd
}

/// Runs `cmd`; returns whether it succeeded and its stdout and stderr.
pub fn run(cmd: &mut Command) -> (bool, String) {
    let Output {
        status,
        stdout,
        stderr,
    } = cmd.output().expect("command runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&stdout),
        String::from_utf8_lossy(&stderr)
    );
    (status.success(), text)
}

#[tokio::test]
async fn the_cli_and_openssl_verify_an_export_and_reject_each_tamper() {
    let verifier = TestVerifier::start().await;
    let number = signed_request(&verifier).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let file = |name: &str| -> PathBuf { dir.path().join(name) };

    // Export through the real CLI, against the running verifier's database.
    let (ok, out) = run(verifier_cli()
        .args(["submissions", "export", &number, "--out"])
        .arg(file("bundle.json"))
        .arg("--config")
        .arg(&verifier.config_path));
    assert!(ok, "{out}");
    let published = published_key(&verifier).await;
    assert!(out.contains(&published.key_id), "{out}");
    std::fs::write(
        file("seal-key.json"),
        serde_json::to_vec(&published).expect("json"),
    )
    .expect("write");
    std::fs::write(file("seal.pem"), &published.public_key_pem).expect("write");

    let (ok, out) = run(verifier_cli()
        .arg("verify-bundle")
        .arg(file("bundle.json"))
        .arg("--seal-key")
        .arg(file("seal-key.json")));
    assert!(ok, "{out}");
    assert!(out.contains("✓ passkey_signature") && out.contains("✓ seal_key_pinned"));

    let (ok, out) = run(script().arg(file("bundle.json")).arg(file("seal.pem")));
    assert!(ok, "{out}");
    assert!(out.contains("openssl dgst: Verified OK"), "{out}");
    assert!(out.contains("✓ seal_key_pinned"), "{out}");
    assert!(
        out.contains("openssl pkeyutl: Signature Verified Successfully"),
        "{out}"
    );
    assert!(!out.contains('✗'), "{out}");

    // `RECORDPASS_SAMPLE_BUNDLE=FILE` keeps this bundle, e.g. to try docs/evidence.md.
    if let Some(keep) = std::env::var_os("RECORDPASS_SAMPLE_BUNDLE") {
        std::fs::copy(file("bundle.json"), keep).expect("sample kept");
    }
    let good = std::fs::read(file("bundle.json")).expect("read");
    for (what, expected) in [
        ("document", "document_digest"),
        ("signature", "passkey_signature"),
        ("seal", "seal_key_pinned"),
    ] {
        let path = file(&format!("tampered-{what}.json"));
        std::fs::write(&path, tampered(&good, what)).expect("write");
        let (ok, out) = run(verifier_cli()
            .arg("verify-bundle")
            .arg(&path)
            .arg("--seal-key")
            .arg(file("seal.pem")));
        assert!(!ok, "CLI accepted a tampered {what}: {out}");
        assert!(out.contains(&format!("✗ {expected}")), "{what}: {out}");
        let (ok, out) = run(script().arg(&path).arg(file("seal.pem")));
        assert!(!ok, "openssl script accepted a tampered {what}: {out}");
        assert!(out.contains(&format!("✗ {expected}")), "{what}: {out}");
    }
}

/// A bundle names (and verifies against) the relying-party ID the passkey
/// signed for, even when exported after the configured ID changed.
#[tokio::test]
async fn a_bundle_keeps_the_relying_party_id_it_was_signed_for() {
    let verifier = TestVerifier::start().await;
    let number = signed_request(&verifier).await;
    let signed_for = verifier.config.relying_party.id.clone();
    let bundle = export_for(&verifier, &number, "records.example-hospital.org").await;
    assert_eq!(bundle.webauthn.rp_id, signed_for);
    let report = verify_bundle(&json(&bundle), Some(verifier.seal.public()));
    assert!(report.ok(), "{report}");
}

/// A bundle sealed by an earlier release, whose document is a
/// `recordpass.request.v2` (the wording before v3): `verify-bundle` still
/// re-renders its statement exactly, with that format's wording.
#[test]
fn a_bundle_signed_in_an_earlier_document_format_still_verifies() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../fuzz/corpus/evidence_bundle/signed-request.json"
    );
    let bytes = std::fs::read(path).expect("the v2 bundle");
    assert!(String::from_utf8_lossy(&bytes).contains(r#"\"format\":\"recordpass.request.v2\""#));
    let report = verify_bundle(&bytes, None);
    assert!(report.ok(), "{report}");
    let (ok, out) = run(verifier_cli().arg("verify-bundle").arg(path));
    assert!(ok, "{out}");
    assert!(
        out.contains("✓ document_well_formed recordpass.request.v2; statement matches the request"),
        "{out}"
    );
}
