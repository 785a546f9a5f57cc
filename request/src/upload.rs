//! Proof-of-authority files: which types are accepted, how a file's real type
//! is detected, and the reference to an uploaded file that the signed document
//! carries.
//!
//! The widget checks a file with [`check_file`] before uploading it and the
//! verifier checks the uploaded bytes with the same function, so both refuse
//! exactly the same files. Detection reads magic bytes only (never the name or
//! the declared type), then insists that the declared type and the file name's
//! extension agree with the content, and finally makes a light structural check
//! (PDF `%%EOF` near the end, PNG `IHDR` first and `IEND` last, JPEG end marker)
//! so that truncated or padded-garbage files are refused. It is not a parser:
//! a file that passes is only *plausibly* a PDF, JPEG or PNG.

use serde::{Deserialize, Serialize};
use std::fmt;

use crate::{Digest, Lang, hidden::is_hidden_or_reordering, model::collapse_whitespace};

/// Largest accepted file, in bytes (10 MiB).
pub const MAX_UPLOAD_BYTES: u64 = 10 * 1024 * 1024;

/// Most files one request may carry.
pub const MAX_ATTACHMENTS: usize = 5;

/// Longest file name kept, in characters (the extension is kept when shortening).
pub const MAX_FILE_NAME_CHARS: usize = 100;

/// The value of an `<input type=file accept=…>` that offers exactly the accepted types.
pub const ACCEPT: &str = ".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png";

/// An accepted file type.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum MediaType {
    /// `application/pdf`.
    #[serde(rename = "application/pdf")]
    Pdf,
    /// `image/jpeg`.
    #[serde(rename = "image/jpeg")]
    Jpeg,
    /// `image/png`.
    #[serde(rename = "image/png")]
    Png,
}

impl MediaType {
    /// Every accepted type.
    pub const ALL: [MediaType; 3] = [MediaType::Pdf, MediaType::Jpeg, MediaType::Png];

    /// The MIME type, as sent in `Content-Type`.
    pub fn mime(self) -> &'static str {
        match self {
            MediaType::Pdf => "application/pdf",
            MediaType::Jpeg => "image/jpeg",
            MediaType::Png => "image/png",
        }
    }

    /// A short name for people: `PDF`, `JPEG`, `PNG`.
    pub fn label(self) -> &'static str {
        match self {
            MediaType::Pdf => "PDF",
            MediaType::Jpeg => "JPEG",
            MediaType::Png => "PNG",
        }
    }

    /// File-name extensions (lower case, without the dot) this type may carry.
    pub fn extensions(self) -> &'static [&'static str] {
        match self {
            MediaType::Pdf => &["pdf"],
            MediaType::Jpeg => &["jpg", "jpeg"],
            MediaType::Png => &["png"],
        }
    }

    /// Parses a `Content-Type` value (parameters and case ignored; `image/jpg`
    /// and `image/pjpeg` count as JPEG). `None` for any other type.
    pub fn from_mime(value: &str) -> Option<MediaType> {
        let essence = value.split(';').next().unwrap_or("").trim();
        match essence.to_ascii_lowercase().as_str() {
            "application/pdf" => Some(MediaType::Pdf),
            "image/jpeg" | "image/jpg" | "image/pjpeg" => Some(MediaType::Jpeg),
            "image/png" => Some(MediaType::Png),
            _ => None,
        }
    }

    /// The type a file name's extension claims, if it is one of ours.
    pub fn from_file_name(name: &str) -> Option<MediaType> {
        let ext = extension(name)?.to_ascii_lowercase();
        MediaType::ALL
            .into_iter()
            .find(|t| t.extensions().contains(&ext.as_str()))
    }
}

impl fmt::Display for MediaType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.mime())
    }
}

/// Why a file is refused.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FileProblem {
    /// The file has no bytes.
    Empty,
    /// Larger than [`MAX_UPLOAD_BYTES`].
    TooLarge,
    /// The content is not a PDF, JPEG or PNG.
    Unsupported,
    /// The content is one accepted type but the name or declared type says another.
    Mismatch,
    /// Starts like an accepted type but is truncated or malformed.
    Damaged,
}

impl FileProblem {
    /// Plain-language text for the requester.
    pub fn message(self, lang: Lang) -> &'static str {
        match (lang, self) {
            (Lang::En, FileProblem::Empty) => "This file is empty. Choose another file.",
            (Lang::En, FileProblem::TooLarge) => "The file is larger than 10 MB.",
            (Lang::En, FileProblem::Unsupported) => "This file is not a PDF, JPEG or PNG.",
            (Lang::En, FileProblem::Mismatch) => {
                "This file's name or type does not match what it contains. Save it again as a PDF, JPEG or PNG."
            }
            (Lang::En, FileProblem::Damaged) => {
                "This file looks damaged or incomplete. Save or scan it again and try once more."
            }
            (Lang::Es, FileProblem::Empty) => "Este archivo está vacío. Elija otro archivo.",
            (Lang::Es, FileProblem::TooLarge) => "El archivo pesa más de 10 MB.",
            (Lang::Es, FileProblem::Unsupported) => "Este archivo no es PDF, JPEG ni PNG.",
            (Lang::Es, FileProblem::Mismatch) => {
                "El nombre o el tipo de este archivo no coincide con su contenido. Guárdelo de nuevo como PDF, JPEG o PNG."
            }
            (Lang::Es, FileProblem::Damaged) => {
                "Este archivo parece dañado o incompleto. Guárdelo o escanéelo de nuevo e inténtelo otra vez."
            }
        }
    }
}

/// The type the content's magic bytes say, if it is an accepted one.
pub fn sniff(bytes: &[u8]) -> Option<MediaType> {
    if bytes.starts_with(b"%PDF-") {
        Some(MediaType::Pdf)
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(MediaType::Jpeg)
    } else if bytes.starts_with(PNG_SIGNATURE) {
        Some(MediaType::Png)
    } else {
        None
    }
}

/// Refuses sizes the verifier would refuse, before any byte is read.
pub fn check_size(len: u64) -> Result<(), FileProblem> {
    match len {
        0 => Err(FileProblem::Empty),
        n if n > MAX_UPLOAD_BYTES => Err(FileProblem::TooLarge),
        _ => Ok(()),
    }
}

/// Checks a file named `name`, declared as `declared` (a `Content-Type`; empty
/// when the client did not say), holding `bytes`. Returns the detected type.
pub fn check_file(name: &str, declared: &str, bytes: &[u8]) -> Result<MediaType, FileProblem> {
    check_size(bytes.len() as u64)?;
    let detected = sniff(bytes).ok_or(FileProblem::Unsupported)?;
    let declared = declared.trim();
    if !declared.is_empty() && MediaType::from_mime(declared) != Some(detected) {
        return Err(FileProblem::Mismatch);
    }
    if MediaType::from_file_name(name) != Some(detected) {
        return Err(FileProblem::Mismatch);
    }
    if !well_formed(detected, bytes) {
        return Err(FileProblem::Damaged);
    }
    Ok(detected)
}

const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";
/// How far from the end the PDF and JPEG end markers may be (trailing whitespace, padding).
const TAIL: usize = 1024;

/// The light structural check of [`check_file`].
fn well_formed(kind: MediaType, bytes: &[u8]) -> bool {
    let tail = &bytes[bytes.len().saturating_sub(TAIL)..];
    match kind {
        MediaType::Pdf => contains(tail, b"%%EOF"),
        MediaType::Jpeg => bytes.len() >= 4 && contains(&tail[1..], &[0xFF, 0xD9]),
        MediaType::Png => {
            // Signature, then the IHDR chunk (length 13), ..., and the IEND chunk last.
            const IEND: &[u8] = b"\0\0\0\0IEND\xAE\x42\x60\x82";
            bytes.len() >= PNG_SIGNATURE.len() + 25 + IEND.len()
                && bytes[8..16] == *b"\0\0\0\x0DIHDR"
                && bytes.ends_with(IEND)
        }
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn extension(name: &str) -> Option<&str> {
    let (stem, ext) = name.rsplit_once('.')?;
    (!stem.is_empty() && !ext.is_empty()).then_some(ext)
}

/// A file name safe to show and store: the last path component, without
/// control characters, characters that hide or reorder text, or `\ / : * ? " < > |`, whitespace collapsed, no leading
/// dots, at most [`MAX_FILE_NAME_CHARS`] characters (the extension is kept).
pub fn sanitize_file_name(name: &str) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = last
        .chars()
        .map(|c| {
            if c.is_control() || is_hidden_or_reordering(c) || "\\/:*?\"<>|".contains(c) {
                ' '
            } else {
                c
            }
        })
        .collect();
    let cleaned = collapse_whitespace(&cleaned);
    let cleaned = cleaned.trim_start_matches(['.', ' ']).to_owned();
    if cleaned.chars().count() <= MAX_FILE_NAME_CHARS {
        return cleaned;
    }
    let ext = extension(&cleaned)
        .filter(|e| e.chars().count() <= 10)
        .unwrap_or("");
    let keep = MAX_FILE_NAME_CHARS - ext.chars().count() - usize::from(!ext.is_empty());
    let stem: String = cleaned.chars().take(keep).collect();
    let stem = stem.trim_end();
    if ext.is_empty() {
        stem.to_owned()
    } else {
        format!("{stem}.{ext}")
    }
}

/// A file uploaded as proof of authority, as the signed document names it.
/// The verifier stores the bytes; the document carries what identifies them,
/// so the signature covers the file.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Attachment {
    /// The file name, sanitised ([`sanitize_file_name`]).
    pub name: String,
    /// The type detected from the content.
    pub media_type: MediaType,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256 of the bytes, lower-case hex.
    pub sha256: Digest,
}

impl Attachment {
    /// The reference to `bytes`, already checked with [`check_file`] as `media_type`.
    pub fn describe(name: &str, media_type: MediaType, bytes: &[u8]) -> Attachment {
        Attachment {
            name: sanitize_file_name(name),
            media_type,
            size: bytes.len() as u64,
            sha256: Digest::of(bytes),
        }
    }

    /// True when the name, size and type are acceptable (the digest cannot be checked without the bytes).
    pub fn is_plausible(&self) -> bool {
        !self.name.is_empty()
            && self.name == sanitize_file_name(&self.name)
            && MediaType::from_file_name(&self.name) == Some(self.media_type)
            && check_size(self.size).is_ok()
    }

    /// The size for people: `812 bytes`, `12.3 KB`, `4.0 MB` (1 KB = 1024 bytes).
    pub fn size_text(&self) -> String {
        size_text(self.size)
    }
}

/// A byte count for people: `812 bytes`, `12.3 KB`, `4.0 MB` (1 KB = 1024 bytes).
pub fn size_text(size: u64) -> String {
    // Integer arithmetic: float formatting would add ~20 KiB to the widget.
    const KB: u64 = 1024;
    let (unit, per) = match size {
        n if n < KB => return format!("{n} bytes"),
        n if n < KB * KB => ("KB", KB),
        _ => ("MB", KB * KB),
    };
    let tenths = (size.saturating_mul(10) + per / 2) / per;
    format!("{}.{} {unit}", tenths / 10, tenths % 10)
}

#[cfg(test)]
mod tests;
