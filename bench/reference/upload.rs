//! The upload client of `bench/files.sh` and `bench/chunked.sh`: udata's single and chunked uploads
//! sent the way a lean client sends them, so that the figures measure the server rather than the
//! client. The file's bytes go from the page cache to the socket by `sendfile` (no copy through the
//! client), each sender keeps one connection open for all its parts (as a browser or a Python
//! `requests.Session` does), and `JOBS` senders take the parts in turn.
//!
//! Usage:
//!   upload-client single URL KEY FILE
//!   upload-client chunked URL KEY FILE PART_BYTES JOBS [UUID]
//! URL is the upload endpoint (`http://host:port/api/1/datasets/{id}/upload/`). Prints the server's
//! last answer on stdout, and the timings on stderr as `parts=S final=S total=S` (seconds).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

const BOUNDARY: &str = "rudata-bench-7MA4YWxkTrZu0gW";

type Error = Box<dyn std::error::Error + Send + Sync>;

/// `http://host:port/path` split into the address to connect to, the Host header and the path.
struct Target {
    addr: String,
    path: String,
}

fn parse_url(url: &str) -> Result<Target, Error> {
    let rest = url
        .strip_prefix("http://")
        .ok_or("only http:// URLs are supported")?;
    let (addr, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    Ok(Target {
        addr: addr.to_string(),
        path: if path.is_empty() {
            "/".into()
        } else {
            path.into()
        },
    })
}

/// One multipart form: text fields, then the file's bytes `range` of `file` (if any).
struct Form<'a> {
    fields: Vec<(&'a str, String)>,
    file: Option<(&'a std::fs::File, u64, u64)>,
}

/// Sends `form` on `conn` and reads the answer; an answer other than 2xx is an error.
fn post(conn: &mut TcpStream, target: &Target, key: &str, form: &Form) -> Result<String, Error> {
    let mut head = String::new();
    for (name, value) in &form.fields {
        head += &format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
        );
    }
    let tail = if form.file.is_some() {
        head += &format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.csv\"\r\n\
             Content-Type: text/csv\r\n\r\n"
        );
        format!("\r\n--{BOUNDARY}--\r\n")
    } else {
        format!("--{BOUNDARY}--\r\n")
    };
    let file_len = form.file.map_or(0, |(_, _, len)| len);
    let length = head.len() as u64 + file_len + tail.len() as u64;
    let request = format!(
        "POST {} HTTP/1.1\r\nHost: {}\r\nX-API-KEY: {key}\r\nContent-Type: multipart/form-data; boundary={BOUNDARY}\r\n\
         Content-Length: {length}\r\n\r\n{head}",
        target.path, target.addr
    );
    conn.write_all(request.as_bytes())?;
    if let Some((file, offset, len)) = form.file {
        send_file(conn, file, offset, len)?;
    }
    conn.write_all(tail.as_bytes())?;
    read_answer(conn)
}

/// `len` bytes of `file` from `offset` to the socket, by `sendfile`.
fn send_file(conn: &TcpStream, file: &std::fs::File, offset: u64, len: u64) -> Result<(), Error> {
    let mut off = offset as libc::off_t;
    let end = offset + len;
    while (off as u64) < end {
        let count = (end - off as u64).min(1 << 30) as usize;
        // SAFETY: both descriptors are open for the duration of the call, and `off` is a valid
        // pointer to the offset sendfile reads and advances.
        let sent = unsafe { libc::sendfile(conn.as_raw_fd(), file.as_raw_fd(), &mut off, count) };
        if sent < 0 {
            let e = std::io::Error::last_os_error();
            if e.kind() != std::io::ErrorKind::Interrupted {
                return Err(e.into());
            }
        } else if sent == 0 {
            return Err("sendfile sent nothing: the file is shorter than its size".into());
        }
    }
    Ok(())
}

/// Reads one answer with a `Content-Length` body; its body, if its status is 2xx.
fn read_answer(conn: &mut TcpStream) -> Result<String, Error> {
    let mut reader = BufReader::new(conn);
    let mut status = String::new();
    reader.read_line(&mut status)?;
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Err("connection closed in the answer's head".into());
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse()?;
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    let body = String::from_utf8_lossy(&body).into_owned();
    let code: u16 = status.split(' ').nth(1).unwrap_or("").parse().unwrap_or(0);
    if !(200..300).contains(&code) {
        return Err(format!("{} {}", status.trim_end(), body).into());
    }
    Ok(body)
}

fn single(target: &Target, key: &str, path: &str) -> Result<(), Error> {
    let file = std::fs::File::open(path)?;
    let size = file.metadata()?.len();
    let start = Instant::now();
    let mut conn = TcpStream::connect(&target.addr)?;
    let form = Form {
        fields: Vec::new(),
        file: Some((&file, 0, size)),
    };
    let answer = post(&mut conn, target, key, &form)?;
    let total = start.elapsed().as_secs_f64();
    println!("{answer}");
    eprintln!("parts={total:.3} final=0 total={total:.3}");
    Ok(())
}

fn chunked(
    target: &Target,
    key: &str,
    path: &str,
    part: u64,
    jobs: usize,
    uuid: &str,
) -> Result<(), Error> {
    let file = std::fs::File::open(path)?;
    let size = file.metadata()?.len();
    let total = size.div_ceil(part).max(1);
    let start = Instant::now();
    let next = AtomicU64::new(0);
    let send = |index: u64, conn: &mut TcpStream| -> Result<(), Error> {
        let offset = index * part;
        let len = part.min(size - offset);
        let form = Form {
            fields: vec![
                ("uuid", uuid.to_string()),
                ("filename", "big.csv".into()),
                ("partindex", index.to_string()),
                ("partbyteoffset", offset.to_string()),
                ("totalparts", total.to_string()),
                ("chunksize", len.to_string()),
                ("totalfilesize", size.to_string()),
            ],
            file: Some((&file, offset, len)),
        };
        post(conn, target, key, &form).map(drop)
    };
    // Every part but the last by the senders; the last once the others are in (the server places
    // it once it knows the size of a full part).
    std::thread::scope(|scope| -> Result<(), Error> {
        let senders: Vec<_> = (0..jobs)
            .map(|_| {
                scope.spawn(|| -> Result<(), Error> {
                    let mut conn = TcpStream::connect(&target.addr)?;
                    loop {
                        let index = next.fetch_add(1, Ordering::Relaxed);
                        if index + 1 >= total {
                            return Ok(());
                        }
                        send(index, &mut conn)?;
                    }
                })
            })
            .collect();
        for sender in senders {
            sender.join().map_err(|_| "a sender panicked")??;
        }
        Ok(())
    })?;
    let mut conn = TcpStream::connect(&target.addr)?;
    send(total - 1, &mut conn)?;
    let parts = start.elapsed().as_secs_f64();
    let form = Form {
        fields: vec![
            ("uuid", uuid.to_string()),
            ("filename", "big.csv".into()),
            ("totalparts", total.to_string()),
            ("totalfilesize", size.to_string()),
        ],
        file: None,
    };
    let answer = post(&mut conn, target, key, &form)?;
    let all = start.elapsed().as_secs_f64();
    println!("{answer}");
    eprintln!("parts={parts:.3} final={:.3} total={all:.3}", all - parts);
    Ok(())
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let result = match args.get(1).map(String::as_str) {
        Some("single") if args.len() == 5 => {
            parse_url(&args[2]).and_then(|t| single(&t, &args[3], &args[4]))
        }
        Some("chunked") if (7..=8).contains(&args.len()) => (|| {
            let target = parse_url(&args[2])?;
            let part = args[5].parse()?;
            let jobs = args[6].parse()?;
            let uuid = args.get(7).cloned().unwrap_or_else(|| format!("bench-{}", std::process::id()));
            chunked(&target, &args[3], &args[4], part, jobs, &uuid)
        })(),
        _ => Err("usage: upload-client single URL KEY FILE | chunked URL KEY FILE PART_BYTES JOBS [UUID]".into()),
    };
    if let Err(e) = result {
        eprintln!("upload-client: {e}");
        std::process::exit(1);
    }
}
