//! hyper answers a request head it cannot parse by itself, before any service sees the request:
//! a request target over 65,534 bytes (414), a head over its buffer or with too many fields (431),
//! differing duplicate or malformed `Content-Length` headers and broken header lines (400), each with
//! an empty body. Such an answer is recognised on its way to the socket and replaced by the same
//! status with udata's JSON error shape, so that no answer of rudata's is a bare status line.
//!
//! Only a write made while the connection reads a head (no request of ours in flight) can be such an
//! answer (see [`is_own_error`]); the connection closes after it, as hyper closes it.

/// What hyper's own error answer looks like: a status line with a 4xx code and a head without a
/// body (`content-length: 0`), small enough to be one write.
pub fn is_own_error(bytes: &[u8]) -> bool {
    let status_line = bytes.starts_with(b"HTTP/1.1 4") || bytes.starts_with(b"HTTP/1.0 4");
    status_line
        && bytes.len() < 512
        && bytes.ends_with(b"\r\n\r\n")
        && contains_ignore_case(bytes, b"\r\ncontent-length: 0\r\n")
}

/// The answer to send instead of hyper's `bytes`: the same status, a JSON message, the connection
/// closed after it.
pub fn shaped(bytes: &[u8]) -> Vec<u8> {
    let code = std::str::from_utf8(&bytes[9..12.min(bytes.len())]).unwrap_or("400");
    let (code, reason, message) = match code {
        "414" => (
            414,
            "URI Too Long",
            "The request target is too long: at most 16 KiB is accepted.",
        ),
        "431" => (
            431,
            "Request Header Fields Too Large",
            "The request's header fields are too large or too many.",
        ),
        _ => (
            400,
            "Bad Request",
            "The request could not be read: its head is malformed (request line, header fields or Content-Length).",
        ),
    };
    let body = serde_json::json!({ "message": message }).to_string();
    let date = httpdate::fmt_http_date(std::time::SystemTime::now());
    format!(
        "HTTP/1.1 {code} {reason}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
         x-content-type-options: nosniff\r\nconnection: close\r\ndate: {date}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

fn contains_ignore_case(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hypers_bare_answers_are_recognised_and_ours_are_not() {
        let bare = b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\ndate: Sat, 28 Nov 2026 03:00:00 GMT\r\n\r\n";
        assert!(is_own_error(bare));
        let ours = b"HTTP/1.1 404 Not Found\r\ncontent-type: application/json\r\ncontent-length: 23\r\n\r\n{\"message\":\"Not found\"}";
        assert!(!is_own_error(ours));
        let ok = b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n";
        assert!(!is_own_error(ok));
    }

    #[test]
    fn the_shaped_answer_keeps_the_status_and_carries_json() {
        let out = shaped(b"HTTP/1.1 414 URI Too Long\r\ncontent-length: 0\r\n\r\n");
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("HTTP/1.1 414 URI Too Long\r\n"));
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(head.contains(&format!("content-length: {}", body.len())));
        let json: serde_json::Value = serde_json::from_str(body).unwrap();
        assert!(json["message"].as_str().unwrap().contains("too long"));
    }
}
