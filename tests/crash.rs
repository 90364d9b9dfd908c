//! Crash safety with a real process: `rudata serve` killed (SIGKILL) in the middle of an upload, of a
//! chunk part, and of the assembly of parts, then restarted. No resource may point to a partial or
//! missing file, and the half-written data must be cleaned.

mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{Server, curl, json, start};

/// Files the local backend is still writing (`name#N`), anywhere under `dir`.
fn staging_files(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let path = e.path();
            if path.is_dir() {
                out.extend(staging_files(&path));
            } else if path.file_name().unwrap().to_string_lossy().contains('#') {
                out.push(path.display().to_string());
            }
        }
    }
    out
}

/// Waits until a staging file appears under `dir` (the server is mid-write), at most 20 s.
fn wait_for_staging(dir: &Path) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while staging_files(dir).is_empty() {
        assert!(
            Instant::now() < deadline,
            "no upload in progress under {}",
            dir.display()
        );
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Waits until the file at `path` is longer than `len` (a part is being written in place), at most
/// 20 s.
fn wait_for_len(path: &Path, len: u64) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::fs::metadata(path).map_or(0, |m| m.len()) <= len {
        assert!(
            Instant::now() < deadline,
            "no part being written at {}",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(2));
    }
}

fn kill_hard(server: &mut Server) {
    server.child.kill().unwrap(); // SIGKILL
    server.child.wait().unwrap();
}

/// A slow upload in the background (rate-limited so the server is caught mid-write).
fn slow_upload(url: &str, key: &str, form: &[String]) -> Child {
    let mut c = Command::new("curl");
    c.args([
        "-sS",
        "-o",
        "/dev/null",
        "--limit-rate",
        "256k",
        "-X",
        "POST",
        url,
        "-H",
        &format!("X-API-KEY: {key}"),
    ]);
    for f in form {
        c.args(["-F", f]);
    }
    c.stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

struct Setup {
    dir: tempfile::TempDir,
    key: String,
}

impl Setup {
    fn new() -> Setup {
        let dir = tempfile::tempdir().unwrap();
        common::cli(
            dir.path(),
            &[],
            &["user", "create", "--email", "pub@example.org"],
        );
        let key = common::cli(
            dir.path(),
            &[],
            &["token", "create", "--email", "pub@example.org"],
        );
        Setup { dir, key }
    }

    fn data(&self) -> &Path {
        self.dir.path()
    }

    fn files(&self) -> std::path::PathBuf {
        self.dir.path().join("files")
    }

    fn start(&self) -> Server {
        // Retention 0: the restarted server cleans every unfinished upload mark at once.
        start(self.data(), &[], &["--upload-retention", "0s"])
    }

    fn dataset(&self, server: &Server) -> String {
        let (code, out) = curl(&[
            "-X",
            "POST",
            &format!("{}/datasets/", server.api),
            "-H",
            "Content-Type: application/json",
            "-H",
            &format!("X-API-KEY: {}", self.key),
            "-d",
            r#"{"title": "Crash", "description": "d"}"#,
        ]);
        assert_eq!(code, 201, "{out}");
        json(&out)["id"].as_str().unwrap().to_string()
    }

    fn resources(&self, server: &Server, id: &str) -> Vec<serde_json::Value> {
        let (code, out) = curl(&[
            "-H",
            &format!("X-API-KEY: {}", self.key),
            &format!("{}/datasets/{id}/", server.api),
        ]);
        assert_eq!(code, 200, "{out}");
        json(&out)["resources"].as_array().unwrap().clone()
    }

    /// After a restart: no staging file left, and every resource's file is whole (its sha1 matches).
    fn check_clean(&self, server: &Server, id: &str) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !staging_files(&self.files()).is_empty() {
            assert!(
                Instant::now() < deadline,
                "half-written files left: {:?}",
                staging_files(&self.files())
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        for r in self.resources(server, id) {
            let url = r["url"].as_str().unwrap();
            let out = Command::new("curl").args(["-sSf", url]).output().unwrap();
            assert!(out.status.success(), "resource file missing: {url}");
            use sha1::Digest;
            assert_eq!(
                hex::encode(sha1::Sha1::digest(&out.stdout)),
                r["checksum"]["value"].as_str().unwrap()
            );
        }
    }
}

#[test]
fn killed_during_a_single_upload() {
    let s = Setup::new();
    let mut server = s.start();
    let id = s.dataset(&server);
    let big = s.data().join("big.csv");
    std::fs::write(&big, vec![b'x'; 4 << 20]).unwrap();
    let mut upload = slow_upload(
        &format!("{}/datasets/{id}/upload/", server.api),
        &s.key,
        &[format!("file=@{}", big.display())],
    );
    wait_for_staging(&s.files());
    kill_hard(&mut server);
    let _ = upload.kill();
    let _ = upload.wait();
    assert!(
        !staging_files(&s.files()).is_empty(),
        "the kill should leave a partial file behind"
    );

    let server = s.start();
    s.check_clean(&server, &id);
    assert!(
        s.resources(&server, &id).is_empty(),
        "no resource may come from an interrupted upload"
    );
    // The server works normally after the restart.
    std::fs::write(&big, b"a,b\n").unwrap();
    let (code, out) = curl(&[
        "-X",
        "POST",
        &format!("{}/datasets/{id}/upload/", server.api),
        "-H",
        &format!("X-API-KEY: {}", s.key),
        "-F",
        &format!("file=@{}", big.display()),
    ]);
    assert_eq!(code, 201, "{out}");
    s.check_clean(&server, &id);
}

#[test]
fn killed_during_a_part_then_during_the_assembly() {
    let s = Setup::new();
    let mut server = s.start();
    let id = s.dataset(&server);
    let url = format!("{}/datasets/{id}/upload/", server.api);
    let part = s.data().join("part.bin");
    let size = 6 << 20;
    std::fs::write(&part, vec![b'y'; size]).unwrap();
    let fields = |index: usize| {
        vec![
            "uuid=crash-upload".to_string(),
            "filename=big.csv".to_string(),
            format!("partindex={index}"),
            "totalparts=3".to_string(),
            format!("chunksize={size}"),
            format!("file=@{}", part.display()),
        ]
    };
    // Part 0 arrives whole; part 1, written in place after it in the upload's one file, is cut by
    // the kill.
    let mut args: Vec<String> = vec![
        "-X".into(),
        "POST".into(),
        url.clone(),
        "-H".into(),
        format!("X-API-KEY: {}", s.key),
    ];
    for f in fields(0) {
        args.push("-F".into());
        args.push(f);
    }
    let args_ref: Vec<&str> = args.iter().map(String::as_str).collect();
    assert_eq!(curl(&args_ref).0, 200);
    let mut upload = slow_upload(&url, &s.key, &fields(1));
    // The upload's one file is the only file in its directory (named by the dataset and the user).
    let one_file = || {
        std::fs::read_dir(s.files().join("chunks/crash-upload"))
            .ok()
            .and_then(|mut d| d.next())
            .and_then(|e| e.ok())
            .map(|e| e.path())
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    let data = loop {
        if let Some(path) = one_file() {
            break path;
        }
        assert!(Instant::now() < deadline, "no upload file written in place");
        std::thread::sleep(Duration::from_millis(2));
    };
    wait_for_len(&data, size as u64);
    kill_hard(&mut server);
    let _ = upload.kill();
    let _ = upload.wait();

    // After restart: the partial part is gone, the complete one is still there to resume from.
    let mut server = start(s.data(), &[], &[]);
    s.check_clean(&server, &id);
    let (_, out) = curl(&[
        "-H",
        &format!("X-API-KEY: {}", s.key),
        &format!("{}/datasets/{id}/upload/crash-upload/", server.api),
    ]);
    let parts = json(&out)["parts"].as_array().unwrap().clone();
    assert_eq!(parts.len(), 1, "{out}");
    assert_eq!(parts[0]["index"], 0);
    let url = format!("{}/datasets/{id}/upload/", server.api);
    // Parts 1 and 2 with their file before their fields: stored apart, so that the final request
    // copies the parts into the file (the path killed below).
    for index in [1, 2] {
        let mut args: Vec<String> = vec![
            "-X".into(),
            "POST".into(),
            url.clone(),
            "-H".into(),
            format!("X-API-KEY: {}", s.key),
        ];
        let mut form = fields(index);
        form.rotate_right(1);
        for f in form {
            args.push("-F".into());
            args.push(f);
        }
        let args_ref: Vec<&str> = args.iter().map(String::as_str).collect();
        assert_eq!(curl(&args_ref).0, 200);
    }

    // The final request, killed while the parts are being assembled.
    let mut finish = Command::new("curl")
        .args([
            "-sS",
            "-o",
            "/dev/null",
            "-X",
            "POST",
            &url,
            "-H",
            &format!("X-API-KEY: {}", s.key),
        ])
        .args([
            "-F",
            "uuid=crash-upload",
            "-F",
            "filename=big.csv",
            "-F",
            "totalparts=3",
        ])
        .spawn()
        .unwrap();
    wait_for_staging(&s.files().join("resources"));
    kill_hard(&mut server);
    let _ = finish.wait();

    let server = start(s.data(), &[], &[]);
    s.check_clean(&server, &id);
    assert!(
        s.resources(&server, &id).is_empty(),
        "no resource may come from an interrupted assembly"
    );
    // The parts were kept: the client retries the final request and gets the whole file.
    let (code, out) = curl(&[
        "-X",
        "POST",
        &url.replace(&url[..url.find("/api").unwrap()], &server.base),
        "-H",
        &format!("X-API-KEY: {}", s.key),
        "-F",
        "uuid=crash-upload",
        "-F",
        "filename=big.csv",
        "-F",
        "totalparts=3",
    ]);
    assert_eq!(code, 201, "{out}");
    assert_eq!(json(&out)["filesize"], 3 * size);
    s.check_clean(&server, &id);
}
