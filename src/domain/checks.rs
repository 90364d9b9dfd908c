//! The rules of the remote resource checks (DESIGN §3.5): which resources are checked, what an
//! answer means (available, changed, and how the change was told), the extras written under
//! udata-hydra's names, and when the next check is due. No I/O: `fetch` observes, `ops::checks`
//! writes.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use super::resource::{FILETYPE_REMOTE, Resource};
use super::time::to_api;

/// Whether `r` is checked: a remote resource with an HTTP(S) URL.
pub fn is_checked(r: &Resource) -> bool {
    r.filetype == FILETYPE_REMOTE && is_http(&r.url)
}

/// Whether `url` is one the checks can fetch (FTP resources are left alone).
pub fn is_http(url: &str) -> bool {
    let lower = url.trim().to_ascii_lowercase();
    lower.starts_with("http://") || lower.starts_with("https://")
}

/// The lower-cased host of `url`, which the per-host politeness and the failure counts group by.
pub fn host_of(url: &str) -> String {
    url::Url::parse(url.trim())
        .ok()
        .and_then(|u| u.host_str().map(str::to_ascii_lowercase))
        .unwrap_or_default()
}

/// The validators and size an answer's headers carry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Validators {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub content_length: Option<i64>,
}

impl Validators {
    /// Whether `now` (a `HEAD`'s headers) shows the same content as these, without reading it:
    /// the same strong `ETag`, or the same `Last-Modified` and length.
    pub fn unchanged_by(&self, now: &Validators) -> bool {
        if let (Some(a), Some(b)) = (&self.etag, &now.etag) {
            return a == b && !a.starts_with("W/");
        }
        match (&self.last_modified, &now.last_modified) {
            (Some(a), Some(b)) => a == b && self.content_length == now.content_length,
            _ => false,
        }
    }
}

/// What a body read gave: its size, and its sha1 unless it passed the size limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Body {
    pub size: u64,
    pub sha1: Option<String>,
    pub truncated: bool,
}

/// One answer, as the checks saw it.
#[derive(Debug, Clone, Default)]
pub struct Observed {
    pub status: u16,
    pub content_type: Option<String>,
    pub validators: Validators,
    pub retry_after: Option<String>,
    /// Read only when the content may have changed (a `GET` with a 2xx answer).
    pub body: Option<Body>,
}

/// What a check got: an answer, or none (refused, unreachable, timed out).
#[derive(Debug, Clone)]
pub enum Outcome {
    Answer(Observed),
    Failed { timeout: bool, error: String },
}

/// What the store remembers of the previous check of a resource.
#[derive(Debug, Clone, Default)]
pub struct Previous {
    pub checked: bool,
    pub available: Option<bool>,
    pub interval: Duration,
    pub validators: Validators,
    pub checksum: Option<String>,
}

/// How a change was told, in udata-hydra's words (`analysis:last-modified-detection`).
pub const BY_HEADER: &str = "last-modified-header";
pub const BY_LENGTH: &str = "content-length-header";
pub const BY_CHECKSUM: &str = "computed-checksum";
pub const BY_PREVIOUS: &str = "previous-check-detection";

/// The content changed (or was seen for the first time): what the resource takes from it.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub detection: &'static str,
    pub at: DateTime<Utc>,
    pub filesize: Option<i64>,
    pub mime: Option<String>,
    pub sha1: Option<String>,
}

/// What a check decides.
#[derive(Debug, Clone)]
pub struct Verdict {
    /// `None`: the server asked to come back later (429, 503): nothing is written to the resource.
    pub available: Option<bool>,
    pub status: Option<u16>,
    pub error: Option<String>,
    /// The extras to set on the resource (the others are kept; see [`STALE_KEYS`]).
    pub extras: Map<String, Value>,
    pub change: Option<Change>,
    /// What the next check sends and compares with.
    pub validators: Validators,
    pub checksum: Option<String>,
    /// Time to the next check, and the interval it grows from.
    pub next_in: Duration,
    pub interval: Duration,
    /// A short word for the history: `changed`, `unchanged`, `unavailable`, `postponed`, `first`.
    pub summary: &'static str,
}

/// Extras a check rewrites each time: those it does not set again are removed (an error that is
/// gone, a header the server no longer sends).
pub const STALE_KEYS: [&str; 4] = [
    "check:error",
    "check:headers:content-type",
    "check:headers:content-length",
    "analysis:error",
];

/// The bounds of the schedule.
#[derive(Debug, Clone, Copy)]
pub struct Schedule {
    pub min: Duration,
    pub max: Duration,
}

impl Schedule {
    /// After a change (or a first check, or a change of availability): the shortest interval.
    /// While nothing changes, each interval doubles up to the longest (12 h, 24 h, 2 d… 30 d by
    /// default, as udata-hydra's 12 h, 24 h, 7 d, 30 d).
    pub fn next(&self, previous: Duration, changed: bool) -> Duration {
        if changed || previous.is_zero() {
            return self.min;
        }
        (previous * 2).clamp(self.min, self.max.max(self.min))
    }
}

/// How long a server asked to wait (`Retry-After`: seconds or an HTTP date), between a minute and a day.
pub fn retry_after(value: Option<&str>, now: DateTime<Utc>) -> Duration {
    let asked = value.and_then(|v| {
        v.trim()
            .parse::<u64>()
            .ok()
            .map(Duration::from_secs)
            .or_else(|| {
                let at: DateTime<Utc> = httpdate::parse_http_date(v.trim()).ok()?.into();
                (at - now).to_std().ok()
            })
    });
    asked
        .unwrap_or(Duration::from_secs(300))
        .clamp(Duration::from_secs(60), Duration::from_secs(86400))
}

/// Judges one check of a resource against the previous one.
pub fn judge(
    previous: &Previous,
    outcome: &Outcome,
    now: DateTime<Utc>,
    schedule: Schedule,
) -> Verdict {
    let mut extras = Map::new();
    extras.insert("check:date".into(), json!(to_api(&now)));
    let answer = match outcome {
        Outcome::Failed { timeout, error } => {
            extras.insert("check:available".into(), json!(false));
            extras.insert("check:timeout".into(), json!(timeout));
            extras.insert("check:error".into(), json!(error));
            let flipped = previous.available != Some(false);
            let interval = schedule.next(previous.interval, flipped);
            return Verdict {
                available: Some(false),
                status: None,
                error: Some(error.clone()),
                extras,
                change: None,
                validators: previous.validators.clone(),
                checksum: previous.checksum.clone(),
                next_in: interval,
                interval,
                summary: "unavailable",
            };
        }
        Outcome::Answer(o) => o,
    };
    let status = answer.status;
    if status == 429 || (status == 503 && answer.retry_after.is_some()) {
        let wait = retry_after(answer.retry_after.as_deref(), now);
        return Verdict {
            available: None,
            status: Some(status),
            error: None,
            extras: Map::new(),
            change: None,
            validators: previous.validators.clone(),
            checksum: previous.checksum.clone(),
            next_in: wait,
            interval: previous.interval,
            summary: "postponed",
        };
    }
    let available = status < 400;
    extras.insert("check:available".into(), json!(available));
    extras.insert("check:status".into(), json!(status));
    extras.insert("check:timeout".into(), json!(false));
    if let Some(ct) = &answer.content_type {
        extras.insert("check:headers:content-type".into(), json!(ct));
    }
    if let Some(len) = answer.validators.content_length {
        extras.insert("check:headers:content-length".into(), json!(len));
    }
    let flipped = previous.checked && previous.available != Some(available);
    if !available {
        let interval = schedule.next(previous.interval, flipped);
        return Verdict {
            available: Some(false),
            status: Some(status),
            error: None,
            extras,
            change: None,
            validators: previous.validators.clone(),
            checksum: previous.checksum.clone(),
            next_in: interval,
            interval,
            summary: "unavailable",
        };
    }
    // 304, or a HEAD whose validators matched: the content is the one seen before.
    let (validators, body) = if status == 304 {
        (previous.validators.clone(), None)
    } else {
        (answer.validators.clone(), answer.body.as_ref())
    };
    let sha1 = body
        .and_then(|b| b.sha1.clone())
        .or_else(|| previous.checksum.clone().filter(|_| body.is_none()));
    if body.is_some_and(|b| b.truncated) {
        extras.insert(
            "analysis:error".into(),
            json!("File too large to be analysed"),
        );
    }
    let size = body
        .filter(|b| !b.truncated)
        .map(|b| i64::try_from(b.size).unwrap_or(i64::MAX))
        .or(validators.content_length);
    let header_date = validators
        .last_modified
        .as_deref()
        .and_then(|d| httpdate::parse_http_date(d).ok())
        .map(DateTime::<Utc>::from)
        .filter(|d| *d <= now);
    let by_header = previous.validators.last_modified.is_some()
        && validators.last_modified.is_some()
        && previous.validators.last_modified != validators.last_modified;
    let by_length = previous.validators.content_length.is_some()
        && validators.content_length.is_some()
        && previous.validators.content_length != validators.content_length;
    let by_checksum =
        previous.checksum.is_some() && sha1.is_some() && previous.checksum != sha1 && status != 304;
    let first = !previous.checked;
    let changed = first || by_header || by_length || by_checksum;
    let detection = if header_date.is_some() {
        BY_HEADER
    } else if by_length {
        BY_LENGTH
    } else if by_checksum {
        BY_CHECKSUM
    } else {
        BY_PREVIOUS
    };
    let mime = answer
        .content_type
        .as_deref()
        .and_then(|c| c.split(';').next())
        .map(|c| c.trim().to_ascii_lowercase())
        .filter(|c| !c.is_empty() && status != 304);
    if let Some(sha1) = &sha1 {
        extras.insert("analysis:checksum".into(), json!(sha1));
    }
    if let Some(size) = size {
        extras.insert("analysis:content-length".into(), json!(size));
    }
    if let Some(mime) = &mime {
        extras.insert("analysis:mime-type".into(), json!(mime));
    }
    let change = changed.then(|| {
        let at = header_date.unwrap_or(now);
        extras.insert("analysis:last-modified-at".into(), json!(to_api(&at)));
        extras.insert("analysis:last-modified-detection".into(), json!(detection));
        Change {
            detection,
            at,
            filesize: size,
            mime: mime.clone(),
            sha1: sha1.clone(),
        }
    });
    let interval = schedule.next(previous.interval, changed || flipped);
    Verdict {
        available: Some(true),
        status: Some(status),
        error: None,
        extras,
        change,
        validators,
        checksum: sha1,
        next_in: interval,
        interval,
        summary: if first {
            "first"
        } else if changed {
            "changed"
        } else {
            "unchanged"
        },
    }
}

/// Applies a verdict to the resource: the extras, and on a change its date, size, type and checksum.
/// Returns whether its `last_modified` moved.
pub fn apply_verdict(r: &mut Resource, verdict: &Verdict) -> bool {
    for key in STALE_KEYS {
        r.extras.remove(key);
    }
    for (k, v) in &verdict.extras {
        r.extras.insert(k.clone(), v.clone());
    }
    let Some(change) = &verdict.change else {
        return false;
    };
    if let Some(size) = change.filesize {
        r.filesize = Some(size);
    }
    if let Some(mime) = &change.mime {
        r.mime = Some(mime.clone());
    }
    if let Some(sha1) = &change.sha1 {
        r.checksum = Some(super::resource::Checksum {
            kind: "sha1".into(),
            value: sha1.clone(),
        });
    }
    let moved = r.last_modified != change.at;
    r.last_modified = change.at;
    moved
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schedule() -> Schedule {
        Schedule {
            min: Duration::from_secs(12 * 3600),
            max: Duration::from_secs(30 * 86400),
        }
    }

    fn ok(body: &str, last_modified: Option<&str>, len: i64) -> Outcome {
        Outcome::Answer(Observed {
            status: 200,
            content_type: Some("text/csv; charset=utf-8".into()),
            validators: Validators {
                etag: None,
                last_modified: last_modified.map(str::to_string),
                content_length: Some(len),
            },
            retry_after: None,
            body: Some(Body {
                size: len as u64,
                sha1: Some(body.into()),
                truncated: false,
            }),
        })
    }

    fn after(v: &Verdict) -> Previous {
        Previous {
            checked: true,
            available: v.available,
            interval: v.interval,
            validators: v.validators.clone(),
            checksum: v.checksum.clone(),
        }
    }

    #[test]
    fn intervals_grow_while_nothing_changes_and_reset_on_a_change() {
        let s = schedule();
        let mut i = s.next(Duration::ZERO, false);
        assert_eq!(i, s.min);
        for _ in 0..20 {
            i = s.next(i, false);
        }
        assert_eq!(i, s.max);
        assert_eq!(s.next(i, true), s.min);
    }

    #[test]
    fn a_change_is_told_by_checksum_then_length_then_header() {
        let now = Utc::now();
        let first = judge(&Previous::default(), &ok("aa", None, 2), now, schedule());
        assert_eq!(first.summary, "first");
        assert_eq!(first.extras["analysis:mime-type"], "text/csv");
        let same = judge(&after(&first), &ok("aa", None, 2), now, schedule());
        assert!(same.change.is_none());
        assert_eq!(same.interval, first.interval * 2);
        let content = judge(&after(&same), &ok("bb", None, 2), now, schedule());
        assert_eq!(content.change.unwrap().detection, BY_CHECKSUM);
        let length = judge(&after(&same), &ok("bbb", None, 3), now, schedule());
        assert_eq!(length.change.unwrap().detection, BY_LENGTH);
        // A date appearing where there was none, same content: not a change.
        let dated = "Wed, 21 Oct 2015 07:28:00 GMT";
        let appeared = judge(&after(&same), &ok("aa", Some(dated), 2), now, schedule());
        assert!(appeared.change.is_none());
        let later = "Thu, 22 Oct 2015 07:28:00 GMT";
        let header = judge(
            &after(&appeared),
            &ok("aa", Some(later), 2),
            now,
            schedule(),
        );
        let change = header.change.unwrap();
        assert_eq!(change.detection, BY_HEADER);
        assert_eq!(to_api(&change.at), "2015-10-22T07:28:00+00:00");
    }

    #[test]
    fn failures_and_requests_to_wait() {
        let now = Utc::now();
        let gone = Outcome::Answer(Observed {
            status: 404,
            ..Default::default()
        });
        let v = judge(&Previous::default(), &gone, now, schedule());
        assert_eq!(v.available, Some(false));
        assert_eq!(v.extras["check:status"], 404);
        let wait = Outcome::Answer(Observed {
            status: 429,
            retry_after: Some("120".into()),
            ..Default::default()
        });
        let v = judge(&Previous::default(), &wait, now, schedule());
        assert_eq!(v.available, None);
        assert_eq!(v.next_in, Duration::from_secs(120));
        assert_eq!(retry_after(Some("1"), now), Duration::from_secs(60));
    }
}
