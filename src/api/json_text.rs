//! Strings written into JSON answers by hand. Large answers (lineage graphs of thousands of
//! nodes) are mostly ids; serde_json checks every byte of every string against its escape
//! table one at a time, which was a fifth of a large REST answer and an eighth of a GraphQL
//! one. Ids almost never hold a character to escape: a plain string is copied as it is, and
//! any other is escaped by serde_json, so the output is byte for byte what serde_json writes.

pub use crate::json_plain::is_plain;

/// `text` as a JSON string.
pub fn write_str(out: &mut Vec<u8>, text: &str) {
    write_str_known(out, text, is_plain(text));
}

/// `text` as a JSON string, `plain` when it is already known to hold nothing to escape.
pub fn write_str_known(out: &mut Vec<u8>, text: &str, plain: bool) {
    if plain {
        out.reserve(text.len() + 2);
        out.push(b'"');
        out.extend_from_slice(text.as_bytes());
        out.push(b'"');
    } else {
        // Writing a `str` into a `Vec` cannot fail.
        let _ = serde_json::to_writer(&mut *out, text);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_written_as_serde_json_writes_them() {
        let long_plain = "dataset:snowflake://acme:ANALYTICS.MARTS.MART_21_207".repeat(3);
        let samples = [
            "",
            "plain",
            long_plain.as_str(),
            "quote \" inside",
            "back\\slash",
            "new\nline and tab\t",
            "\u{1}\u{1f}",
            "\u{7f} is not escaped",
            "unicode é ü 数据 🚀",
            "ends with quote\"",
        ];
        for text in samples {
            let mut out = Vec::new();
            write_str(&mut out, text);
            assert_eq!(String::from_utf8(out).ok(), serde_json::to_string(text).ok(), "{text:?}");
        }
    }

    #[test]
    fn only_the_escaped_characters_make_a_string_not_plain() {
        for b in 0u8..=0x7f {
            let text = format!("a{}b", b as char);
            let escaped_by_serde = serde_json::to_string(&text).map(|s| s.len() != text.len() + 2).unwrap_or(true);
            assert_eq!(is_plain(&text), !escaped_by_serde, "byte {b:#x}");
        }
        assert!(is_plain("数据 🚀"));
    }
}
