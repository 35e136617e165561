//! Serving stored bytes: one byte range of them (RFC 9110, 14), and the name they are saved
//! under.

use std::ops::Range;

use actix_web::HttpRequest;
use actix_web::http::header::{
    self, Charset, ContentDisposition, DispositionParam, DispositionType, ExtendedValue,
};

use http_range_header::RangeUnsatisfiableError;

use crate::error::ApiError;

/// What a `Range` header asks of content of `size` bytes.
#[derive(Debug, PartialEq, Eq)]
enum Wanted {
    Whole,
    Part(Range<u64>),
    Unsatisfiable,
}

/// One `bytes=` range (RFC 9110, 14.1.2), parsed and checked against the size by
/// `http-range-header`. Several ranges, or a header that does not parse, are ignored, as the RFC
/// allows, and the whole content is served; a range wholly outside the content is 416.
fn wanted(range: Option<&str>, size: u64) -> Wanted {
    let Some(range) = range else {
        return Wanted::Whole;
    };
    match http_range_header::parse_range_header(range).and_then(|ranges| ranges.validate(size)) {
        Ok(ranges) => match ranges.as_slice() {
            [one] => Wanted::Part(*one.start()..one.end() + 1),
            _ => Wanted::Whole,
        },
        Err(RangeUnsatisfiableError::Unsatisfiable) => Wanted::Unsatisfiable,
        Err(_) => Wanted::Whole,
    }
}

/// `attachment; filename="…"; filename*=UTF-8''…`: an ASCII stand-in for old clients, the real
/// name for the rest.
pub fn attachment_disposition(filename: &str) -> ContentDisposition {
    let ascii: String = filename
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    ContentDisposition {
        disposition: DispositionType::Attachment,
        parameters: vec![
            DispositionParam::Filename(ascii),
            DispositionParam::FilenameExt(ExtendedValue {
                charset: Charset::Ext("UTF-8".to_owned()),
                language_tag: None,
                value: filename.as_bytes().to_vec(),
            }),
        ],
    }
}

/// The part of content of `size` bytes (tagged `etag`) the request asks for: `None` for the whole,
/// as when `If-Range` names another version; 416 for a range outside it.
pub fn requested(req: &HttpRequest, etag: &str, size: u64) -> Result<Option<Range<u64>>, ApiError> {
    let header_text = |name| req.headers().get(name).and_then(|v| v.to_str().ok());
    if header_text(header::IF_RANGE).is_some_and(|tag| tag != etag) {
        return Ok(None);
    }
    match wanted(header_text(header::RANGE), size) {
        Wanted::Unsatisfiable => Err(ApiError::RangeNotSatisfiable { size }),
        Wanted::Part(range) if range != (0..size) => Ok(Some(range)),
        Wanted::Part(_) | Wanted::Whole => Ok(None),
    }
}

/// `Content-Range` for `range` of content of `size` bytes.
pub fn content_range(range: &Range<u64>, size: u64) -> (header::HeaderName, String) {
    (
        header::CONTENT_RANGE,
        format!("bytes {}-{}/{size}", range.start, range.end - 1),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_byte_range_is_served_and_anything_else_is_the_whole() {
        assert_eq!(wanted(None, 100), Wanted::Whole);
        assert_eq!(wanted(Some("bytes=0-9"), 100), Wanted::Part(0..10));
        assert_eq!(wanted(Some("bytes=90-"), 100), Wanted::Part(90..100));
        assert_eq!(wanted(Some("bytes=-10"), 100), Wanted::Part(90..100));
        assert_eq!(wanted(Some("bytes=-500"), 100), Wanted::Part(0..100));
        assert_eq!(wanted(Some("bytes=50-500"), 100), Wanted::Part(50..100));
        assert_eq!(wanted(Some("bytes=100-"), 100), Wanted::Unsatisfiable);
        assert_eq!(wanted(Some("bytes=-0"), 100), Wanted::Unsatisfiable);
        assert_eq!(wanted(Some("bytes=0-1,5-9"), 100), Wanted::Whole);
        assert_eq!(wanted(Some("bytes=9-0"), 100), Wanted::Whole);
        assert_eq!(wanted(Some("items=0-9"), 100), Wanted::Whole);
        assert_eq!(wanted(Some("bytes=x-9"), 100), Wanted::Whole);
    }

    #[test]
    fn names_are_offered_in_ascii_and_in_full() {
        let header = attachment_disposition("截图 \"1\".png").to_string();
        assert!(
            header.starts_with("attachment; filename=\"__ _1_.png\""),
            "{header}"
        );
        assert!(header.contains("filename*=UTF-8''"), "{header}");
    }
}
