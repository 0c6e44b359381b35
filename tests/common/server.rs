//! A small HTTP/1.1 server on 127.0.0.1 for download tests: each path has a scripted behaviour.
//! It answers a bounded number of connections and stops when dropped.
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the server does for one path.
#[derive(Clone)]
pub enum Behaviour {
    /// Serve the bytes, honouring `Range: bytes=N-`.
    Serve(Vec<u8>),
    /// Answer with this status and no body.
    Status(u16),
    /// Answer 500 for the first `n` requests, then serve the bytes.
    FailThenServe(usize, Vec<u8>),
    /// Send headers announcing the bytes, then nothing, for a long time.
    Stall(Vec<u8>),
    /// The first request gets only the first `n` bytes and the connection closes; later
    /// requests are served normally (with Range).
    CutThenServe(usize, Vec<u8>),
}

/// The running server.
pub struct Server {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// Requests received per path.
    pub hits: Arc<Mutex<BTreeMap<String, usize>>>,
    /// Range headers received, in order.
    pub ranges: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
}

impl Server {
    /// Starts serving `routes` (path -> behaviour).
    pub fn start(routes: Vec<(&str, Behaviour)>) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let base = format!("http://{}", listener.local_addr().unwrap());
        let routes: Arc<BTreeMap<String, Behaviour>> = Arc::new(
            routes
                .into_iter()
                .map(|(p, b)| (p.to_string(), b))
                .collect(),
        );
        let hits = Arc::new(Mutex::new(BTreeMap::new()));
        let ranges = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let served = Arc::new(AtomicUsize::new(0));
        {
            let (hits, ranges, stop) = (hits.clone(), ranges.clone(), stop.clone());
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) || served.fetch_add(1, Ordering::SeqCst) > 200 {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    let (routes, hits, ranges, stop) =
                        (routes.clone(), hits.clone(), ranges.clone(), stop.clone());
                    std::thread::spawn(move || handle(stream, &routes, &hits, &ranges, &stop));
                }
            });
        }
        Server {
            base,
            hits,
            ranges,
            stop,
        }
    }

    /// Requests seen for `path`.
    pub fn hits(&self, path: &str) -> usize {
        self.hits.lock().unwrap().get(path).copied().unwrap_or(0)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.base.trim_start_matches("http://"));
    }
}

fn handle(
    mut stream: TcpStream,
    routes: &BTreeMap<String, Behaviour>,
    hits: &Mutex<BTreeMap<String, usize>>,
    ranges: &Mutex<Vec<String>>,
    stop: &AtomicBool,
) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    let path = request_line
        .split_whitespace()
        .nth(1)
        .unwrap_or("/")
        .to_string();
    let mut from = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("range: bytes=") {
            ranges.lock().unwrap().push(v.trim().to_string());
            from = v.trim().trim_end_matches('-').parse().unwrap_or(0);
        }
    }
    let n = {
        let mut h = hits.lock().unwrap();
        let n = h.entry(path.clone()).or_insert(0);
        *n += 1;
        *n
    };
    let serve = |stream: &mut TcpStream, body: &[u8], from: usize, cut: Option<usize>| {
        let from = from.min(body.len());
        let head = if from > 0 {
            format!(
                "HTTP/1.1 206 Partial Content\r\nContent-Length: {}\r\nContent-Range: bytes {from}-{}/{}\r\nConnection: close\r\n\r\n",
                body.len() - from,
                body.len() - 1,
                body.len()
            )
        } else {
            format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            )
        };
        let _ = stream.write_all(head.as_bytes());
        let end = cut.map_or(body.len(), |c| c.min(body.len()));
        let _ = stream.write_all(&body[from..end.max(from)]);
        let _ = stream.flush();
    };
    match routes.get(&path) {
        None => status(&mut stream, 404),
        Some(Behaviour::Serve(body)) => serve(&mut stream, body, from, None),
        Some(Behaviour::Status(code)) => status(&mut stream, *code),
        Some(Behaviour::FailThenServe(k, _)) if n <= *k => status(&mut stream, 500),
        Some(Behaviour::FailThenServe(_, body)) => serve(&mut stream, body, from, None),
        Some(Behaviour::Stall(body)) => {
            let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", body.len());
            let _ = stream.write_all(head.as_bytes());
            for _ in 0..100 {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        Some(Behaviour::CutThenServe(cut, body)) if n == 1 => {
            serve(&mut stream, body, from, Some(*cut))
        }
        Some(Behaviour::CutThenServe(_, body)) => serve(&mut stream, body, from, None),
    }
}

fn status(stream: &mut TcpStream, code: u16) {
    let reason = match code {
        404 => "Not Found",
        500 => "Internal Server Error",
        _ => "Status",
    };
    let _ = stream.write_all(
        format!("HTTP/1.1 {code} {reason}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            .as_bytes(),
    );
}
