//! A small text-only PDF layout over `pdf-writer`: headings, wrapped
//! paragraphs, labelled facts and monospaced values on A4 pages, with a
//! footer carrying page numbers.
//!
//! Text uses the base-14 Helvetica and Courier fonts in WinAnsi encoding,
//! which every PDF reader has and which covers English and Spanish
//! (á é í ó ú ü ñ ¿ ¡). Characters outside it are shown as `?`. Text is
//! written as PDF strings, never interpreted: markup stays literal.

use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str, TextStr};

const PAGE_W: f32 = 595.0;
const PAGE_H: f32 = 842.0;
const MARGIN: f32 = 56.0;
const BODY: f32 = 10.0;
const FOOTER_Y: f32 = 30.0;

/// A typeface of the base-14 set.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Face {
    /// Helvetica.
    Regular,
    /// Helvetica-Bold.
    Bold,
    /// Courier: digests, ids, the signed statement.
    Mono,
}

impl Face {
    fn resource(self) -> Name<'static> {
        match self {
            Face::Regular => Name(b"F1"),
            Face::Bold => Name(b"F2"),
            Face::Mono => Name(b"F3"),
        }
    }

    /// Advance width of `c` in thousandths of the font size (Helvetica's
    /// AFM metrics for ASCII; a generous width for the rest, so lines never
    /// overflow).
    fn width(self, c: u8) -> f32 {
        const HELVETICA: [u16; 95] = [
            278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, 556,
            556, 556, 556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556, 1015, 667,
            667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778, 667, 778, 722,
            667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556, 333, 556, 556, 500,
            556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556, 556, 556, 333, 500, 278,
            556, 500, 722, 500, 500, 500, 334, 260, 334, 584,
        ];
        let base = match self {
            Face::Mono => return 600.0,
            Face::Regular => 1.0,
            // Bold glyphs are at most ~10 % wider.
            Face::Bold => 1.1,
        };
        let w = match c {
            32..=126 => f32::from(HELVETICA[usize::from(c - 32)]),
            _ => 722.0,
        };
        w * base
    }
}

/// `text` in WinAnsi (Windows-1252) bytes; tabs become spaces, other
/// control characters and anything WinAnsi lacks become `?`.
pub fn win_ansi(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| win_ansi_byte(c).unwrap_or(b'?'))
        .collect()
}

/// True when every character of `text` prints as itself (see [`win_ansi`]).
pub fn prints_exactly(text: &str) -> bool {
    // Lines are split before they are encoded: line breaks print as breaks.
    text.chars()
        .all(|c| matches!(c, '\n' | '\r') || win_ansi_byte(c).is_some())
}

fn win_ansi_byte(c: char) -> Option<u8> {
    Some(match c {
        '\t' => b' ',
        ' '..='~' => c as u8,
        '\u{a0}'..='\u{ff}' => c as u32 as u8,
        '€' => 0x80,
        '‚' => 0x82,
        '…' => 0x85,
        '‘' => 0x91,
        '’' => 0x92,
        '“' => 0x93,
        '”' => 0x94,
        '•' => 0x95,
        '–' => 0x96,
        '—' => 0x97,
        '‖' => b'|',
        _ => return None,
    })
}

/// One laid-out line.
struct Line {
    face: Face,
    size: f32,
    indent: f32,
    /// Space above the line, beyond its own height.
    gap: f32,
    /// A heading or label: never the last line of a page.
    keep_with_next: bool,
    bytes: Vec<u8>,
}

/// A document under construction: add blocks, then [`Document::finish`].
pub struct Document {
    title: String,
    footer: String,
    lines: Vec<Line>,
}

impl Document {
    /// A document with a title (also the PDF's metadata title) and a footer
    /// prefix such as the request number.
    pub fn new(title: &str, footer: &str) -> Document {
        let mut doc = Document {
            title: title.to_owned(),
            footer: footer.to_owned(),
            lines: Vec::new(),
        };
        doc.block(Face::Bold, 16.0, 0.0, 0.0, title);
        doc.keep_with_next();
        doc
    }

    /// A section heading.
    pub fn heading(&mut self, text: &str) {
        self.block(Face::Bold, 12.0, 0.0, 10.0, text);
        self.keep_with_next();
    }

    /// A paragraph (line breaks kept, long lines wrapped).
    pub fn paragraph(&mut self, text: &str) {
        self.block(Face::Regular, BODY, 0.0, 3.0, text);
    }

    /// Preformatted text in Courier (line breaks kept, long lines wrapped).
    pub fn mono(&mut self, text: &str) {
        self.block(Face::Mono, 9.0, 0.0, 3.0, text);
    }

    /// `label`, then `value` indented beneath it (`mono` for digests and ids).
    pub fn fact(&mut self, label: &str, value: &str, mono: bool) {
        self.block(Face::Bold, 9.0, 0.0, 3.0, label);
        self.keep_with_next();
        let face = if mono { Face::Mono } else { Face::Regular };
        self.block(face, if mono { 9.0 } else { BODY }, 12.0, 0.0, value);
    }

    fn keep_with_next(&mut self) {
        if let Some(last) = self.lines.last_mut() {
            last.keep_with_next = true;
        }
    }

    fn block(&mut self, face: Face, size: f32, indent: f32, gap: f32, text: &str) {
        let width = PAGE_W - 2.0 * MARGIN - indent;
        let mut first = true;
        for para in text.split('\n') {
            for bytes in wrap(&win_ansi(para.trim_end_matches('\r')), face, size, width) {
                self.lines.push(Line {
                    face,
                    size,
                    indent,
                    gap: if first { gap } else { 0.0 },
                    keep_with_next: false,
                    bytes,
                });
                first = false;
            }
        }
    }

    /// Lays the lines out on pages and writes the PDF.
    pub fn finish(self) -> Vec<u8> {
        let mut pages: Vec<Content> = Vec::new();
        let mut content = Content::new();
        let mut y = PAGE_H - MARGIN;
        for (i, line) in self.lines.iter().enumerate() {
            let leading = line.size * 1.3;
            let next = match self.lines.get(i + 1) {
                Some(n) if line.keep_with_next => n.gap + n.size * 1.3,
                _ => 0.0,
            };
            if y - line.gap - leading - next < MARGIN && y < PAGE_H - MARGIN {
                pages.push(std::mem::replace(&mut content, Content::new()));
                y = PAGE_H - MARGIN;
            } else {
                y -= line.gap;
            }
            y -= leading;
            content
                .begin_text()
                .set_font(line.face.resource(), line.size)
                .next_line(MARGIN + line.indent, y)
                .show(Str(&line.bytes))
                .end_text();
        }
        pages.push(content);

        let count = pages.len();
        let catalog = Ref::new(1);
        let tree = Ref::new(2);
        let info = Ref::new(3);
        let fonts = [Ref::new(4), Ref::new(5), Ref::new(6)];
        let page_ref = |i: usize| Ref::new(7 + 2 * i as i32);
        let content_ref = |i: usize| Ref::new(8 + 2 * i as i32);

        let mut pdf = Pdf::new();
        pdf.catalog(catalog).pages(tree);
        pdf.pages(tree)
            .kids((0..count).map(page_ref))
            .count(count as i32);
        pdf.document_info(info)
            .title(TextStr(&self.title))
            .producer(TextStr("Recordpass"));
        let faces = [Face::Regular, Face::Bold, Face::Mono];
        let names: [&[u8]; 3] = [b"Helvetica", b"Helvetica-Bold", b"Courier"];
        for (id, name) in fonts.iter().zip(names) {
            pdf.type1_font(*id)
                .base_font(Name(name))
                .encoding_predefined(Name(b"WinAnsiEncoding"));
        }
        for (i, mut content) in pages.into_iter().enumerate() {
            let footer = format!("{} - page {} of {count}", self.footer, i + 1);
            content
                .begin_text()
                .set_font(Face::Regular.resource(), 8.0)
                .next_line(MARGIN, FOOTER_Y)
                .show(Str(&win_ansi(&footer)))
                .end_text();
            let mut page = pdf.page(page_ref(i));
            page.media_box(Rect::new(0.0, 0.0, PAGE_W, PAGE_H))
                .parent(tree)
                .contents(content_ref(i));
            let mut resources = page.resources();
            let mut font_dict = resources.fonts();
            for (face, id) in faces.iter().zip(fonts) {
                font_dict.pair(face.resource(), id);
            }
            font_dict.finish();
            resources.finish();
            page.finish();
            pdf.stream(content_ref(i), &content.finish());
        }
        pdf.finish()
    }
}

/// Splits `bytes` into lines no wider than `width` points: at spaces where
/// possible, inside a word (a digest, an id) where not.
fn wrap(bytes: &[u8], face: Face, size: f32, width: f32) -> Vec<Vec<u8>> {
    let limit = width * 1000.0 / size;
    let mut lines = Vec::new();
    let mut line: Vec<u8> = Vec::new();
    let mut line_w = 0.0;
    for word in bytes.split(|b| *b == b' ') {
        let word_w: f32 = word.iter().map(|b| face.width(*b)).sum();
        let space = if line.is_empty() {
            0.0
        } else {
            face.width(b' ')
        };
        if line_w + space + word_w <= limit {
            if !line.is_empty() {
                line.push(b' ');
            }
            line.extend_from_slice(word);
            line_w += space + word_w;
            continue;
        }
        if !line.is_empty() {
            lines.push(std::mem::take(&mut line));
            line_w = 0.0;
        }
        for b in word {
            let w = face.width(*b);
            if line_w + w > limit && !line.is_empty() {
                lines.push(std::mem::take(&mut line));
                line_w = 0.0;
            }
            line.push(*b);
            line_w += w;
        }
    }
    lines.push(line);
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spanish_text_maps_to_win_ansi() {
        assert_eq!(
            win_ansi("¿Sí? ¡Año ñú! é í ó á"),
            b"\xbfS\xed? \xa1A\xf1o \xf1\xfa! \xe9 \xed \xf3 \xe1".to_vec()
        );
        assert_eq!(win_ansi("a‖b ☃"), b"a|b ?".to_vec());
        assert!(prints_exactly("¿Sí? ¡Año ñú!\nJosé"));
        assert!(!prints_exactly("Trần Thị Ngọc"));
    }

    #[test]
    fn long_words_and_lines_wrap_within_the_width() {
        let digest = "ab".repeat(64);
        let lines = wrap(digest.as_bytes(), Face::Mono, 10.0, 300.0);
        assert!(lines.len() > 1);
        assert!(lines.iter().all(|l| l.len() * 6 <= 300));
        assert_eq!(lines.concat(), digest.as_bytes());
        let words = wrap(b"one two three four five six", Face::Regular, 10.0, 60.0);
        assert!(words.len() > 2, "{words:?}");
        assert_eq!(words.join(&b' '), b"one two three four five six".to_vec());
    }

    #[test]
    fn many_lines_make_many_pages() {
        let mut doc = Document::new("T", "RP-1");
        for i in 0..200 {
            doc.paragraph(&format!("line {i}"));
        }
        let bytes = doc.finish();
        assert!(bytes.starts_with(b"%PDF-"));
        let text = String::from_utf8_lossy(&bytes);
        assert!(
            text.contains("/Count 4") || text.contains("/Count 5"),
            "paginated"
        );
        assert!(text.contains("(RP-1 - page 1 of "));
    }
}
