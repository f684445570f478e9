//! Whether a string can be written into JSON as it is. Lineage nodes record it once per id
//! (`lineage::traverse`), and the answer writers (`api::json_text`) copy such strings
//! without escaping them.

/// Whether `text` holds nothing JSON must escape (a control character, `"` or `\`). It reads
/// every byte without stopping early, so the compiler checks many bytes per instruction.
pub fn is_plain(text: &str) -> bool {
    !text.bytes().fold(false, |found, b| found | (b < 0x20) | (b == b'"') | (b == b'\\'))
}
