//! Resources: the files (hosted or remote) of a dataset, and the rules for editing them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::input::{
    FieldErrors, Given, InputError, apply_opt_string, finish, object_field, push_error,
    required_string, string_field,
};
use super::reference::{CLOSED_FORMATS, is_resource_type};
use super::url_check::{check_public_url, check_url_allowing};

pub const FILETYPE_FILE: &str = "file";
pub const FILETYPE_REMOTE: &str = "remote";
const CHECKSUM_TYPES: [&str; 5] = ["sha1", "sha2", "sha256", "md5", "crc"];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Checksum {
    #[serde(rename = "type")]
    pub kind: String,
    pub value: String,
}

/// A resource as stored. `file_key` is set when rudata hosts the file; its URL is then derived.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Resource {
    pub id: String,
    pub title: String,
    pub description: Option<String>,
    pub filetype: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub format: Option<String>,
    pub url: String,
    pub checksum: Option<Checksum>,
    pub filesize: Option<i64>,
    pub mime: Option<String>,
    #[serde(default)]
    pub extras: Map<String, Value>,
    pub schema: Option<Value>,
    #[serde(with = "super::time::api_format")]
    pub created_at: DateTime<Utc>,
    #[serde(with = "super::time::api_format")]
    pub last_modified: DateTime<Utc>,
    #[serde(default)]
    pub file_key: Option<String>,
}

impl Resource {
    /// An empty remote-style resource, to be filled by [`apply_resource_input`].
    pub fn blank(id: String, now: DateTime<Utc>) -> Self {
        Resource {
            id,
            title: String::new(),
            description: None,
            filetype: FILETYPE_FILE.to_string(),
            kind: "other".to_string(),
            format: None,
            url: String::new(),
            checksum: None,
            filesize: None,
            mime: None,
            extras: Map::new(),
            schema: None,
            created_at: now,
            last_modified: now,
            file_key: None,
        }
    }

    /// A hosted file: its url, checksum, size, mime and format belong to the server.
    pub fn is_hosted(&self) -> bool {
        self.filetype == FILETYPE_FILE && (self.file_key.is_some() || !self.url.is_empty())
    }
}

/// The facts about one resource that its dataset's quality is made of. The store keeps them in
/// columns, so that a dataset's quality is found without reading its resources' documents.
impl Resource {
    /// Given in a format, and not a closed one (`has_open_format`).
    pub fn has_open_format(&self) -> bool {
        self.format
            .as_deref()
            .is_some_and(|f| !f.is_empty() && !CLOSED_FORMATS.contains(&f.to_lowercase().as_str()))
    }

    /// Documentation, or described (`resources_documentation`).
    pub fn is_documented(&self) -> bool {
        self.kind == "documentation" || self.description.as_deref().is_some_and(|d| !d.is_empty())
    }

    /// A remote file the availability checks found unavailable (`all_resources_available`).
    pub fn is_reported_unavailable(&self) -> bool {
        self.filetype == FILETYPE_REMOTE
            && self.extras.get("check:available") == Some(&Value::Bool(false))
    }
}

/// A title as a title search compares it: in lowercase (Unicode's, not only ASCII's).
pub fn fold_title(title: &str) -> String {
    title.to_lowercase()
}

/// What an uploaded file contributes to its resource.
#[derive(Debug, Clone)]
pub struct StoredFile {
    pub key: String,
    pub filename: String,
    pub sha1: String,
    pub size: i64,
    pub mime: String,
    pub format: Option<String>,
}

impl Resource {
    /// Points the resource at a newly stored file (upload or replacement).
    pub fn set_file(&mut self, file: &StoredFile, now: DateTime<Utc>) {
        self.filetype = FILETYPE_FILE.to_string();
        self.title = file.filename.clone();
        self.url = String::new();
        self.file_key = Some(file.key.clone());
        self.checksum = Some(Checksum {
            kind: "sha1".to_string(),
            value: file.sha1.clone(),
        });
        self.filesize = Some(file.size);
        self.mime = Some(file.mime.clone());
        self.format = file.format.clone();
        self.last_modified = now;
    }
}

/// Applies a resource JSON body to `res`. On creation, `title` and `url` are required;
/// afterwards, absent keys keep their values and hosted-file fields are never overwritten.
pub fn apply_resource_input(
    res: &mut Resource,
    body: &Map<String, Value>,
    creating: bool,
    allowed: &[ipnet::IpNet],
) -> Result<(), InputError> {
    let mut errors = FieldErrors::new();
    match body.get("filetype") {
        None | Some(Value::Null) => {}
        Some(Value::String(ft)) if creating && (ft == FILETYPE_FILE || ft == FILETYPE_REMOTE) => {
            res.filetype = ft.clone()
        }
        Some(Value::String(ft)) if !creating => {
            if *ft != res.filetype {
                return Err(InputError::Message(
                    "Cannot modify filetype after creation".into(),
                ));
            }
        }
        Some(_) => push_error(&mut errors, "filetype", "Not a valid choice"),
    }
    let hosted = !creating && res.is_hosted();

    if let Some(title) = required_string(body, "title", 350, creating, &mut errors) {
        res.title = title;
    }
    apply_opt_string(
        body,
        "description",
        100_000,
        &mut res.description,
        &mut errors,
    );
    match string_field(body, "type", 64, &mut errors) {
        Given::Value(t) if is_resource_type(&t) => res.kind = t,
        Given::Value(_) => push_error(&mut errors, "type", "Not a valid choice"),
        Given::Null => res.kind = "other".to_string(),
        Given::Absent => {}
    }
    if let Some(extras) = object_field(body, "extras", &mut errors) {
        res.extras = extras;
    }
    apply_schema(res, body, &mut errors);
    if !hosted {
        apply_file_fields(res, body, creating, allowed, &mut errors);
    }
    finish(errors)
}

/// `url`, `format`, `checksum`, `filesize`, `mime`: editable only on remote (or not yet hosted) resources.
fn apply_file_fields(
    res: &mut Resource,
    body: &Map<String, Value>,
    creating: bool,
    allowed: &[ipnet::IpNet],
    errors: &mut FieldErrors,
) {
    match string_field(body, "url", 2048, errors) {
        Given::Value(u) if !u.trim().is_empty() => match check_url_allowing(&u, allowed) {
            Ok(u) => res.url = u,
            Err(e) => push_error(errors, "url", e.to_string()),
        },
        Given::Absent if !creating || errors.contains_key("url") => {}
        _ => push_error(errors, "url", super::input::REQUIRED),
    }
    match string_field(body, "format", 255, errors) {
        Given::Value(f) => {
            let f = f.trim().to_lowercase();
            res.format = (!f.is_empty()).then_some(f);
        }
        Given::Null => res.format = None,
        Given::Absent => {}
    }
    apply_opt_string(body, "mime", 255, &mut res.mime, errors);
    match body.get("filesize") {
        None => {}
        Some(Value::Null) => res.filesize = None,
        Some(Value::Number(n)) if n.as_i64().is_some_and(|n| n >= 0) => res.filesize = n.as_i64(),
        Some(_) => push_error(errors, "filesize", "Not a valid integer value."),
    }
    match body.get("checksum") {
        None => {}
        Some(Value::Null) => res.checksum = None,
        Some(Value::Object(c)) => match parse_checksum(c) {
            Ok(c) => res.checksum = Some(c),
            Err(sub) => {
                errors.insert("checksum".into(), Value::Object(sub));
            }
        },
        Some(_) => push_error(errors, "checksum", "This field must be an object."),
    }
}

fn parse_checksum(c: &Map<String, Value>) -> Result<Checksum, FieldErrors> {
    let mut errors = FieldErrors::new();
    let kind = match c.get("type") {
        None | Some(Value::Null) => "sha1".to_string(),
        Some(Value::String(t)) if CHECKSUM_TYPES.contains(&t.as_str()) => t.clone(),
        Some(_) => {
            push_error(&mut errors, "type", "Not a valid choice");
            String::new()
        }
    };
    let value = match c.get("value") {
        Some(Value::String(v)) if !v.trim().is_empty() => v.trim().to_string(),
        _ => {
            push_error(&mut errors, "value", super::input::REQUIRED);
            String::new()
        }
    };
    if errors.is_empty() {
        Ok(Checksum { kind, value })
    } else {
        Err(errors)
    }
}

/// `schema`: `null` removes it; an object `{name, version, url}` with a valid URL replaces it.
fn apply_schema(res: &mut Resource, body: &Map<String, Value>, errors: &mut FieldErrors) {
    match body.get("schema") {
        None => {}
        Some(Value::Null) => res.schema = None,
        Some(Value::Object(s)) => {
            let mut sub = FieldErrors::new();
            let mut clean = Map::new();
            for key in ["name", "version", "url"] {
                match s.get(key) {
                    None | Some(Value::Null) => {}
                    Some(Value::String(v)) if key == "url" => match check_public_url(v) {
                        Ok(u) => {
                            clean.insert(key.into(), Value::String(u));
                        }
                        Err(e) => push_error(&mut sub, key, e.to_string()),
                    },
                    Some(Value::String(v)) => {
                        clean.insert(key.into(), Value::String(v.clone()));
                    }
                    Some(_) => push_error(&mut sub, key, "Not a valid string."),
                }
            }
            if !sub.is_empty() {
                errors.insert("schema".into(), Value::Object(sub));
            } else if clean.is_empty() {
                res.schema = None;
            } else {
                for key in ["name", "version", "url"] {
                    clean.entry(key).or_insert(Value::Null);
                }
                res.schema = Some(Value::Object(clean));
            }
        }
        Some(_) => push_error(errors, "schema", "This field must be an object."),
    }
}

/// Normalises an uploaded file name as udata does (`Mon Fichier.CSV` → `mon-fichier.csv`).
pub fn normalize_filename(name: &str) -> String {
    // Browsers may send a path; only its last component names the file.
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let slug = super::slug::slugify(base, true);
    if slug.is_empty() {
        "file".to_string()
    } else {
        slug
    }
}

/// The longest file name a storage key holds, in bytes. Filesystems refuse a path component over 255
/// bytes (the local backend also writes `name#N` while uploading), and S3 keys stop at 1024.
pub const MAX_STORED_NAME: usize = 200;

/// The name part of a storage key for `filename`: the name itself when short enough, otherwise cut
/// on a character boundary, keeping its extension (`format_of`'s, so `.csv.gz` stays whole). The
/// resource's title keeps the whole name.
pub fn stored_name(filename: &str) -> String {
    if filename.len() <= MAX_STORED_NAME {
        return filename.to_string();
    }
    let suffix = super::reference::format_of(filename)
        .map(|f| format!(".{f}"))
        .filter(|s| filename.ends_with(s.as_str()) && s.len() <= MAX_STORED_NAME / 4)
        .unwrap_or_default();
    let stem = &filename[..filename.len() - suffix.len()];
    let mut cut = MAX_STORED_NAME - suffix.len();
    while !stem.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}{suffix}", &stem[..cut])
}

/// The MIME type guessed from a file name, `application/octet-stream` when unknown.
pub fn guess_mime(filename: &str) -> String {
    mime_guess::from_path(filename)
        .first_raw()
        .unwrap_or("application/octet-stream")
        .to_string()
}

/// Whether a browser shown a file of this type inline could run script in it: HTML, XML and every
/// `+xml` type (SVG, XHTML, RDF, KML...; browsers run XHTML-namespaced script in any XML document),
/// XSLT and JavaScript. Such files are served as attachments.
pub fn is_active_content(mime: &str) -> bool {
    let mime = mime.to_ascii_lowercase();
    ["html", "xml", "svg", "xsl", "javascript", "ecmascript"]
        .iter()
        .any(|kind| mime.contains(kind))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn body(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn remote_creation_needs_title_and_url() {
        let mut r = Resource::blank("x".into(), Utc::now());
        let err = apply_resource_input(&mut r, &body(json!({"filetype": "remote"})), true, &[])
            .unwrap_err();
        let InputError::Fields(f) = err else { panic!() };
        assert!(f.contains_key("title") && f.contains_key("url"));
    }

    #[test]
    fn format_is_trimmed_and_lowercased() {
        let mut r = Resource::blank("x".into(), Utc::now());
        let b = json!({"title": "t", "url": "https://example.com/a", "filetype": "remote", "format": " FORMAT "});
        apply_resource_input(&mut r, &body(b), true, &[]).unwrap();
        assert_eq!(r.format.as_deref(), Some("format"));
    }

    #[test]
    fn schema_url_is_checked() {
        let mut r = Resource::blank("x".into(), Utc::now());
        let b = json!({"title": "t", "url": "https://example.com/a", "schema": {"url": "test"}});
        let InputError::Fields(f) = apply_resource_input(&mut r, &body(b), true, &[]).unwrap_err()
        else {
            panic!()
        };
        assert_eq!(f["schema"]["url"][0], "Invalid URL \"test\"");
    }

    #[test]
    fn stored_names_are_short_and_keep_their_extension() {
        assert_eq!(stored_name("data.csv"), "data.csv");
        let long = format!("{}.csv.gz", "a".repeat(400));
        let name = stored_name(&long);
        assert_eq!(name.len(), MAX_STORED_NAME);
        assert!(name.ends_with("a.csv.gz"));
        // Cut on a character boundary, whatever the name is made of.
        let wide = format!("{}.csv", "é".repeat(300));
        let name = stored_name(&wide);
        assert!(
            name.len() <= MAX_STORED_NAME && name.ends_with("é.csv"),
            "{name}"
        );
        let no_ext = "b".repeat(300);
        assert_eq!(stored_name(&no_ext).len(), MAX_STORED_NAME);
    }

    #[test]
    fn active_content_is_recognised() {
        for name in [
            "a.svg", "a.xml", "a.xsd", "a.html", "a.xhtml", "a.js", "a.rdf", "a.kml",
        ] {
            assert!(
                is_active_content(&guess_mime(name)),
                "{name}: {}",
                guess_mime(name)
            );
        }
        for name in ["a.csv", "a.json", "a.pdf", "a.png", "a.zip", "a.txt"] {
            assert!(!is_active_content(&guess_mime(name)), "{name}");
        }
    }

    #[test]
    fn filenames_normalise() {
        assert_eq!(normalize_filename("Mon Fichier.CSV"), "mon-fichier.csv");
        assert_eq!(
            normalize_filename("C:\\x\\test_update.txt"),
            "test-update.txt"
        );
        assert_eq!(guess_mime("a.txt"), "text/plain");
    }
}
