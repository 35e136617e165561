//! Attachments as the product defines them: what a file name may be, which kinds of file are
//! accepted, and how a kind is told from the content rather than from the name.
//!
//! Technicians ask for screenshots, PDFs, logs, JSON and HAR captures, and archives of them.
//! Binary kinds are recognised by their signature (the `infer` crate). Anything without one must
//! be UTF-8 text without control characters other than tab, line breaks, form feed and escape:
//! it is `text/plain`, or `application/json` when it is named `.json` or `.har` and reads as a
//! JSON document's start. Text of either kind is served as plain text, never as HTML or XML, so a
//! file cannot become a page on the service's origin.

use serde::Serialize;
use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};
use utoipa::ToSchema;

use super::Invalid;
use crate::i18n::Text;

/// How many bytes the kind is judged on before the rest arrives.
pub const SNIFF_LEN: usize = 8 * 1024;

/// The longest file name kept, in characters.
pub const MAX_FILENAME_CHARS: usize = 255;

/// What no file name may hold, as a regular expression's character class: `/` and `\`, control
/// characters (Unicode's Cc) and the format characters of the Basic Multilingual Plane (Cf: bidi
/// overrides and isolates, zero-width spaces and joiners, the soft hyphen, …), which would make a
/// name show as something it is not: `invoice\u{202E}gnp.exe` reads "invoiceexe.png". Escapes
/// are `\xHH` and `\uHHHH`, which ECMAScript, Python and Rust read alike; Cf characters beyond the
/// BMP cannot be written so without the `u` flag and are refused by [`Filename::parse`] alone.
macro_rules! refused_in_filenames {
    () => {
        r"/\\\x00-\x1f\x7f-\x9f\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb"
    };
}

/// The rule [`Filename::parse`] applies, as a JSON Schema pattern: none of the characters above,
/// and one character at least that is neither a dot nor white space.
pub const FILENAME_PATTERN: &str = concat!(
    "^[^",
    refused_in_filenames!(),
    "]*[^",
    refused_in_filenames!(),
    r"\s.][^",
    refused_in_filenames!(),
    "]*$"
);

/// A file name as shown to people and offered on download: no path, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filename(String);

impl Filename {
    /// Spaces around the name are dropped; control and format characters anywhere refuse it.
    pub fn parse(value: &str) -> Result<Self, Invalid> {
        let bad = |code| {
            Err(Invalid::new(
                code,
                Text::new("field-filename").with("max", MAX_FILENAME_CHARS),
            ))
        };
        if value.chars().any(|c| {
            c == '/'
                || c == '\\'
                || c.is_control()
                || c.general_category() == GeneralCategory::Format
        }) {
            return bad("invalid_filename");
        }
        let value = value.trim();
        if value.is_empty() || value.chars().count() > MAX_FILENAME_CHARS {
            return bad("invalid_length");
        }
        if value.chars().all(|c| c == '.' || c.is_whitespace()) {
            return bad("invalid_filename");
        }
        Ok(Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }

    /// The extension, lower-cased, without its dot.
    fn extension(&self) -> Option<String> {
        let (stem, extension) = self.0.rsplit_once('.')?;
        (!stem.is_empty()).then(|| extension.to_ascii_lowercase())
    }
}

/// The kinds of file accepted, with the media type each is served as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub enum MediaType {
    #[serde(rename = "image/png")]
    Png,
    #[serde(rename = "image/jpeg")]
    Jpeg,
    #[serde(rename = "image/gif")]
    Gif,
    #[serde(rename = "image/webp")]
    Webp,
    #[serde(rename = "image/bmp")]
    Bmp,
    #[serde(rename = "application/pdf")]
    Pdf,
    #[serde(rename = "application/zip")]
    Zip,
    #[serde(rename = "application/gzip")]
    Gzip,
    #[serde(rename = "text/plain")]
    Text,
    #[serde(rename = "application/json")]
    Json,
}

impl MediaType {
    pub const ALL: [MediaType; 10] = [
        Self::Png,
        Self::Jpeg,
        Self::Gif,
        Self::Webp,
        Self::Bmp,
        Self::Pdf,
        Self::Zip,
        Self::Gzip,
        Self::Text,
        Self::Json,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Png => "image/png",
            Self::Jpeg => "image/jpeg",
            Self::Gif => "image/gif",
            Self::Webp => "image/webp",
            Self::Bmp => "image/bmp",
            Self::Pdf => "application/pdf",
            Self::Zip => "application/zip",
            Self::Gzip => "application/gzip",
            Self::Text => "text/plain",
            Self::Json => "application/json",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == value)
    }

    /// The `Content-Type` the content is served with: text of every kind as plain text, so
    /// that nothing uploaded is ever read by a browser as anything but characters.
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Text | Self::Json => "text/plain; charset=utf-8",
            _ => self.as_str(),
        }
    }

    fn of_signature(mime: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .filter(|kind| !matches!(kind, Self::Text | Self::Json))
            .find(|kind| kind.as_str() == mime)
    }
}

/// Why content was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// A recognised kind that is not accepted, such as an executable.
    Kind(&'static str),
    /// No signature, and not UTF-8 text either.
    Binary,
}

/// What the kind is judged on so far.
#[derive(Debug)]
enum State {
    /// The first bytes, until [`SNIFF_LEN`] of them arrived.
    Head(Vec<u8>),
    /// A recognised binary kind: the rest is not looked at.
    Binary(MediaType),
    /// Text so far; `carry` holds a character cut by a chunk's end, `start` the first byte that
    /// is not white space.
    Text {
        carry: Vec<u8>,
        start: Option<u8>,
    },
    Refused(Refused),
}

/// Judges a file's kind from its bytes as they stream past, holding at most [`SNIFF_LEN`] of
/// them.
#[derive(Debug)]
pub struct Sniffer {
    state: State,
}

impl Default for Sniffer {
    fn default() -> Self {
        Self {
            state: State::Head(Vec::with_capacity(SNIFF_LEN)),
        }
    }
}

/// Control characters text may hold: tab, line feed, vertical tab, form feed, carriage return
/// and escape (colour codes in logs).
fn allowed_in_text(byte: u8) -> bool {
    !byte.is_ascii_control() || matches!(byte, b'\t' | b'\n' | 0x0b | 0x0c | b'\r' | 0x1b)
}

/// Whether `chunk` continues UTF-8 text whose last character, cut by the previous chunk's end,
/// began with `carry`; leaves in `carry` the start of a character `chunk` cuts in turn. Only such
/// a character is ever copied, never the chunk.
fn continues_utf8(carry: &mut Vec<u8>, chunk: &[u8]) -> bool {
    let mut rest = chunk;
    if let Some(&lead) = carry.first() {
        let width = match lead {
            0xC0..=0xDF => 2,
            0xE0..=0xEF => 3,
            _ => 4,
        };
        let taken = (width - carry.len()).min(rest.len());
        carry.extend_from_slice(&rest[..taken]);
        rest = &rest[taken..];
        match std::str::from_utf8(carry) {
            Ok(_) => carry.clear(),
            // Cut again, by a chunk shorter than the character's rest.
            Err(err) if err.error_len().is_none() => return true,
            Err(_) => return false,
        }
    }
    match std::str::from_utf8(rest) {
        Ok(_) => true,
        // A character cut at the chunk's end: its first bytes wait for the next chunk.
        Err(err) if err.error_len().is_none() => {
            *carry = rest[err.valid_up_to()..].to_vec();
            true
        }
        Err(_) => false,
    }
}

impl Sniffer {
    /// Looks at the next chunk; a refusal is final and reported at once.
    pub fn feed(&mut self, chunk: &[u8]) -> Result<(), Refused> {
        match &mut self.state {
            State::Head(head) => {
                let wanted = SNIFF_LEN - head.len();
                let (now, rest) = chunk.split_at(wanted.min(chunk.len()));
                head.extend_from_slice(now);
                if head.len() == SNIFF_LEN {
                    self.judge_head();
                    return self.feed(rest);
                }
                Ok(())
            }
            State::Binary(_) => Ok(()),
            State::Text { .. } => self.feed_text(chunk),
            State::Refused(refused) => Err(refused.clone()),
        }
    }

    /// The kind, once the whole file went past.
    pub fn finish(mut self, name: &Filename) -> Result<MediaType, Refused> {
        if let State::Head(_) = self.state {
            self.judge_head();
        }
        match self.state {
            State::Head(_) => unreachable!("the head was judged"),
            State::Binary(kind) => Ok(kind),
            State::Refused(refused) => Err(refused),
            State::Text { carry, .. } if !carry.is_empty() => Err(Refused::Binary),
            State::Text { start, .. } => {
                let json_name = matches!(name.extension().as_deref(), Some("json" | "har"));
                let json_start = matches!(start, Some(b'{' | b'['));
                Ok(if json_name && json_start {
                    MediaType::Json
                } else {
                    MediaType::Text
                })
            }
        }
    }

    fn judge_head(&mut self) {
        let State::Head(head) = std::mem::replace(&mut self.state, State::Binary(MediaType::Text))
        else {
            return;
        };
        self.state = match infer::get(&head) {
            // Text formats infer recognises (HTML, XML, shell scripts) are text like any other.
            Some(kind) if kind.matcher_type() != infer::MatcherType::Text => {
                match MediaType::of_signature(kind.mime_type()) {
                    Some(accepted) => State::Binary(accepted),
                    None => State::Refused(Refused::Kind(kind.mime_type())),
                }
            }
            _ => State::Text {
                carry: Vec::new(),
                start: None,
            },
        };
        if let State::Text { .. } = self.state {
            // A refusal is kept in the state, for the next feed or the finish to report.
            let _ = self.feed_text(&head);
        }
    }

    fn feed_text(&mut self, chunk: &[u8]) -> Result<(), Refused> {
        let State::Text { carry, start } = &mut self.state else {
            return Ok(());
        };
        let refused = |state: &mut State| {
            *state = State::Refused(Refused::Binary);
            Err(Refused::Binary)
        };
        if start.is_none() {
            // A byte-order mark is not the document's start.
            let skipped = chunk.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(chunk);
            *start = skipped
                .iter()
                .copied()
                .find(|byte| !byte.is_ascii_whitespace());
        }
        if !chunk.iter().copied().all(allowed_in_text) {
            return refused(&mut self.state);
        }
        if continues_utf8(carry, chunk) {
            Ok(())
        } else {
            refused(&mut self.state)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(value: &str) -> Filename {
        Filename::parse(value).unwrap()
    }

    fn kind_of(content: &[u8], filename: &str, chunk: usize) -> Result<MediaType, Refused> {
        let mut sniffer = Sniffer::default();
        for part in content.chunks(chunk.max(1)) {
            sniffer.feed(part)?;
        }
        sniffer.finish(&name(filename))
    }

    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0";

    #[test]
    fn file_names_are_plain_names() {
        assert_eq!(name("  bounce-0924.eml ").as_str(), "bounce-0924.eml");
        assert_eq!(name("截图 1.png").as_str(), "截图 1.png");
        for bad in [
            "",
            "  ",
            ".",
            "..",
            ". . .",
            "a/b.txt",
            "..\\x.txt",
            "tab\there",
            "nul\0",
            "c1\u{85}",
            "invoice\u{202E}gnp.exe",
            "zero\u{200B}width.png",
            "soft\u{AD}hyphen.txt",
            "tag\u{E0041}.txt",
        ] {
            assert!(Filename::parse(bad).is_err(), "{bad:?} is refused");
        }
        assert!(Filename::parse(&"é".repeat(255)).is_ok());
        assert!(Filename::parse(&"é".repeat(256)).is_err());
        assert_eq!(name("Trace.HAR").extension().as_deref(), Some("har"));
        assert_eq!(name(".har").extension(), None);
    }

    #[test]
    fn the_published_pattern_says_what_parse_does() {
        let pattern = regex::Regex::new(FILENAME_PATTERN).unwrap();
        for value in [
            "bounce-0924.eml",
            "截图 1.png",
            ".har",
            "a",
            "",
            " ",
            ".",
            "..",
            ". .",
            "a/b",
            "a\\b",
            "tab\tname",
            "del\u{7f}",
            "c1\u{85}",
            "\u{3000}",
            "名",
            "invoice\u{202E}gnp.exe",
            "\u{FEFF}bom.txt",
            "word\u{2060}joiner",
        ] {
            assert_eq!(
                pattern.is_match(value),
                Filename::parse(value).is_ok(),
                "{value:?}"
            );
        }
    }

    #[test]
    fn the_published_pattern_refuses_exactly_the_controls_and_format_characters_of_the_bmp() {
        let pattern = regex::Regex::new(FILENAME_PATTERN).unwrap();
        for c in (0..=0xFFFF).filter_map(char::from_u32) {
            let refused = c.is_control() || c.general_category() == GeneralCategory::Format;
            let name = format!("a{c}b");
            if c != '/' && c != '\\' {
                assert_eq!(pattern.is_match(&name), !refused, "U+{:04X}", u32::from(c));
            }
        }
    }

    #[test]
    fn binary_kinds_are_told_by_their_signature_not_their_name() {
        let signed: [(&[u8], &str, MediaType); 5] = [
            (PNG, "report.pdf", MediaType::Png),
            (b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n", "x.txt", MediaType::Pdf),
            (b"\x1f\x8b\x08\0\0\0\0\0", "logs.gz", MediaType::Gzip),
            (b"PK\x03\x04\x14\0\0\0", "logs.zip", MediaType::Zip),
            (b"\xFF\xD8\xFF\xE0\0\x10JFIF", "a.jpg", MediaType::Jpeg),
        ];
        for (content, name, kind) in signed {
            for chunk in [1, 3, 4096] {
                assert_eq!(kind_of(content, name, chunk), Ok(kind), "{name}");
            }
        }
    }

    #[test]
    fn recognised_kinds_outside_the_list_are_refused_by_name() {
        let rar = b"Rar!\x1a\x07\x01\x00\x33\x92\xb5\xe5\x0a\x01\x05\x06";
        assert_eq!(
            kind_of(rar, "logs.txt", 5),
            Err(Refused::Kind("application/vnd.rar"))
        );
        let mut elf = b"\x7fELF\x02\x01\x01".to_vec();
        elf.resize(64, 0);
        elf[16] = 2;
        assert!(matches!(kind_of(&elf, "a.log", 8), Err(Refused::Kind(_))));
    }

    #[test]
    fn text_is_utf8_without_binary_control_characters_even_across_chunks() {
        let log =
            "2026-11-24 09:00:01 错误：连接超时\r\n\x1b[31mfailed\x1b[0m\tretry\n".repeat(500);
        for chunk in [1, 2, 3, 7, 4096, SNIFF_LEN, 100_000] {
            assert_eq!(
                kind_of(log.as_bytes(), "app.log", chunk),
                Ok(MediaType::Text)
            );
        }
        let mut binary = log.clone().into_bytes();
        binary.push(0);
        assert_eq!(kind_of(&binary, "app.log", 4096), Err(Refused::Binary));
        let mut latin1 = log.into_bytes();
        latin1.extend_from_slice(b"caf\xE9 ");
        assert_eq!(kind_of(&latin1, "app.log", 4096), Err(Refused::Binary));
        // A file cut in the middle of a character.
        assert_eq!(
            kind_of("错".as_bytes().split_at(2).0, "a.txt", 1),
            Err(Refused::Binary)
        );
    }

    #[test]
    fn json_is_text_named_and_shaped_as_json() {
        let har = b"\xEF\xBB\xBF  {\"log\": {\"version\": \"1.2\", \"entries\": []}}";
        assert_eq!(kind_of(har, "capture.HAR", 5), Ok(MediaType::Json));
        assert_eq!(kind_of(b"[1, 2]", "a.json", 1), Ok(MediaType::Json));
        assert_eq!(kind_of(b"[INFO] started", "a.log", 3), Ok(MediaType::Text));
        assert_eq!(kind_of(b"not json", "a.json", 3), Ok(MediaType::Text));
    }

    #[test]
    fn markup_is_served_as_plain_text() {
        let html = b"<!DOCTYPE html><html><script>alert(1)</script></html>";
        assert_eq!(kind_of(html, "page.html", 9), Ok(MediaType::Text));
        assert_eq!(
            kind_of(b"<?xml version=\"1.0\"?><a/>", "a.xml", 9),
            Ok(MediaType::Text)
        );
    }

    #[test]
    fn media_types_are_served_with_a_charset_when_text() {
        assert_eq!(MediaType::Text.content_type(), "text/plain; charset=utf-8");
        assert_eq!(MediaType::Json.content_type(), "text/plain; charset=utf-8");
        assert_eq!(MediaType::Png.content_type(), "image/png");
        for kind in MediaType::ALL {
            assert_eq!(MediaType::parse(kind.as_str()), Some(kind));
        }
    }
}
