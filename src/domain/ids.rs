//! Identifiers: 24-hex-digit ids shaped like MongoDB ObjectIds (clients validate them so), UUIDv4 for resources.

use rand::RngCore;

/// A new ObjectId-like id: 4-byte big-endian timestamp then 8 random bytes, as 24 lowercase hex digits.
pub fn new_object_id() -> String {
    let mut bytes = [0u8; 12];
    let secs = chrono::Utc::now().timestamp() as u32;
    bytes[..4].copy_from_slice(&secs.to_be_bytes());
    rand::rng().fill_bytes(&mut bytes[4..]);
    hex::encode(bytes)
}

/// True when `s` has the shape of an ObjectId.
pub fn is_object_id(s: &str) -> bool {
    s.len() == 24 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// A new resource id.
pub fn new_resource_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Parses a resource id (any UUID form) into its canonical hyphenated lowercase form.
pub fn parse_resource_id(s: &str) -> Option<String> {
    uuid::Uuid::parse_str(s.trim()).ok().map(|u| u.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_ids_are_24_hex_and_distinct() {
        let a = new_object_id();
        assert!(is_object_id(&a));
        assert_ne!(a, new_object_id());
        assert!(!is_object_id("not-an-id"));
    }

    #[test]
    fn resource_ids_parse() {
        assert!(parse_resource_id("not-an-uuid").is_none());
        let id = new_resource_id();
        assert_eq!(parse_resource_id(&id.to_uppercase()), Some(id));
    }
}
