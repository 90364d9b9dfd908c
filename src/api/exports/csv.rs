//! udata's CSV dialect: what Python's `csv.writer(delimiter=";", quoting=QUOTE_NONNUMERIC)` writes
//! for the values udata's adapters hand it, and JSON cells as `json.dumps` writes them.

use std::borrow::Cow;

use serde_json::Value;

/// One value as Python's `csv.writer(quoting=QUOTE_NONNUMERIC)` writes what udata hands it.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell<'a> {
    /// Quoted, inner quotes doubled.
    Text(Cow<'a, str>),
    /// `None`: an empty quoted string.
    Null,
    Int(i64),
    /// `True` / `False`, bare.
    Bool(bool),
}

pub fn text(s: &str) -> Cell<'_> {
    Cell::Text(Cow::Borrowed(s))
}

pub fn owned<'a>(s: String) -> Cell<'a> {
    Cell::Text(Cow::Owned(s))
}

pub fn opt(s: &Option<String>) -> Cell<'_> {
    s.as_deref().map_or(Cell::Null, text)
}

/// A timestamp as Python's `isoformat()` writes udata's naive UTC datetimes (written by hand: this
/// runs for every line of a million-line export).
pub fn naive_iso<'a>(t: &chrono::DateTime<chrono::Utc>) -> Cell<'a> {
    use chrono::{Datelike, Timelike};
    // Digits pushed one by one: `format!` here took 5 % of a `resources.csv` export (`perf`).
    fn push(out: &mut String, n: u32, width: u32) {
        for p in (0..width).rev() {
            out.push(char::from(b'0' + (n / 10u32.pow(p) % 10) as u8));
        }
    }
    let mut out = String::with_capacity(26);
    push(&mut out, t.year().clamp(0, 9999) as u32, 4);
    for (sep, n) in [
        ('-', t.month()),
        ('-', t.day()),
        ('T', t.hour()),
        (':', t.minute()),
        (':', t.second()),
    ] {
        out.push(sep);
        push(&mut out, n, 2);
    }
    let micros = t.timestamp_subsec_micros();
    if micros != 0 {
        out.push('.');
        push(&mut out, micros, 6);
    }
    owned(out)
}

/// Appends one CSV line.
pub fn write_row(out: &mut Vec<u8>, cells: &[Cell<'_>]) {
    for (i, cell) in cells.iter().enumerate() {
        if i > 0 {
            out.push(b';');
        }
        match cell {
            Cell::Text(s) => {
                out.push(b'"');
                for part in s.split('"').enumerate() {
                    if part.0 > 0 {
                        out.extend_from_slice(b"\"\"");
                    }
                    out.extend_from_slice(part.1.as_bytes());
                }
                out.push(b'"');
            }
            Cell::Null => out.extend_from_slice(b"\"\""),
            Cell::Int(n) => out.extend_from_slice(n.to_string().as_bytes()),
            Cell::Bool(true) => out.extend_from_slice(b"True"),
            Cell::Bool(false) => out.extend_from_slice(b"False"),
        }
    }
    out.extend_from_slice(b"\r\n");
}

/// JSON as Python's `json.dumps` writes it (`", "` and `": "` separators, non-ASCII escaped).
pub fn python_json(value: &Value) -> String {
    let mut out = String::new();
    write_python_json(&mut out, value);
    out
}

fn write_python_json(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => write_python_string(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_python_json(out, item);
            }
            out.push(']');
        }
        Value::Object(map) => write_python_object(out, map),
    }
}

/// A string as `json.dumps` writes it (`ensure_ascii`: anything outside printable ASCII escaped).
fn write_python_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 || (c as u32) > 0x7e => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// An object as Python's `json.dumps` writes it.
pub fn python_json_object(map: &serde_json::Map<String, Value>) -> String {
    let mut out = String::new();
    write_python_object(&mut out, map);
    out
}

fn write_python_object(out: &mut String, map: &serde_json::Map<String, Value>) {
    out.push('{');
    for (i, (k, v)) in map.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        write_python_string(out, k);
        out.push_str(": ");
        write_python_json(out, v);
    }
    out.push('}');
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn cells_are_written_as_python_writes_them() {
        let mut out = Vec::new();
        write_row(
            &mut out,
            &[
                text("a;b"),
                text("q\"uote"),
                text("nl\nx"),
                Cell::Null,
                text(""),
                Cell::Int(0),
                Cell::Bool(true),
                Cell::Bool(false),
                text("é"),
            ],
        );
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "\"a;b\";\"q\"\"uote\";\"nl\nx\";\"\";\"\";0;True;False;\"é\"\r\n"
        );
    }

    #[test]
    fn timestamps_are_written_as_python_isoformat_writes_them() {
        let t = chrono::DateTime::parse_from_rfc3339("2024-05-02T10:11:12.345Z")
            .unwrap()
            .to_utc();
        assert_eq!(naive_iso(&t), text("2024-05-02T10:11:12.345000"));
        let t = chrono::DateTime::parse_from_rfc3339("2024-05-02T01:02:03Z")
            .unwrap()
            .to_utc();
        assert_eq!(naive_iso(&t), text("2024-05-02T01:02:03"));
    }

    #[test]
    fn json_is_written_as_python_dumps_it() {
        assert_eq!(
            python_json(&json!({"k": "v", "n": [1, 2.5, null, true], "é": "\"\u{1F600}\n"})),
            r#"{"k": "v", "n": [1, 2.5, null, true], "\u00e9": "\"\ud83d\ude00\n"}"#
        );
        assert_eq!(python_json(&json!({})), "{}");
    }
}
