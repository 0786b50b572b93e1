//! A small client of the Chrome DevTools protocol over `--remote-debugging-pipe`, for the
//! browser tests of `brink serve`'s page: Chromium reads commands (JSON, each ended by a
//! NUL byte) on its fd 3 and writes answers and events on its fd 4. No web-socket crate:
//! a dev-dependency is built by every plain `cargo test`, and this needs only `libc` and
//! `serde_json`, which brink already depends on.

use serde_json::{json, Value};
use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long a browser may live: a hung Chromium is killed, so the test fails instead of
/// hanging.
const DEADLINE: Duration = Duration::from_secs(180);

/// A headless Chromium driven through the pipe; killed when dropped (also on a failing
/// test's unwinding), with its profile folder.
pub struct Browser {
    child: Child,
    commands: File,
    events: BufReader<File>,
    next_id: u64,
    done: Arc<AtomicBool>,
    _profile: tempfile::TempDir,
}

impl Drop for Browser {
    fn drop(&mut self) {
        self.done.store(true, Ordering::SeqCst);
        // SAFETY: signals the process group this browser leads (not yet reaped: its
        // leader is waited for below).
        unsafe { libc::kill(-(self.child.id() as libc::pid_t), libc::SIGKILL) };
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A pipe whose two ends close on exec (the child gets copies on fds 3 and 4 instead).
fn pipe() -> (OwnedFd, OwnedFd) {
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for the two descriptors pipe2 writes.
    let rc = unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) };
    assert_eq!(rc, 0, "pipe2: {}", std::io::Error::last_os_error());
    // SAFETY: pipe2 succeeded, so both descriptors are open and owned by nobody else.
    unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) }
}

impl Browser {
    /// Starts `chrome` headless with a window of `width` x `height` px.
    pub fn launch(chrome: &Path, width: u32, height: u32) -> Browser {
        let profile = tempfile::tempdir().unwrap();
        let (cmd_read, cmd_write) = pipe();
        let (evt_read, evt_write) = pipe();
        let (to_3, to_4) = (cmd_read.as_raw_fd(), evt_write.as_raw_fd());
        let mut command = Command::new(chrome);
        command
            .args(["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
            .args([
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--remote-debugging-pipe",
            ])
            .arg(format!("--window-size={width},{height}"))
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        // Its own process group, so that dropping it kills its renderers too.
        command.process_group(0);
        // SAFETY: between fork and exec the closure calls only async-signal-safe functions
        // (fcntl, dup2, close) and allocates nothing.
        unsafe {
            command.pre_exec(move || {
                // Out of the way of 3 and 4 first, so neither dup2 overwrites the other's source.
                let a = libc::fcntl(to_3, libc::F_DUPFD, 10);
                let b = libc::fcntl(to_4, libc::F_DUPFD, 10);
                if a < 0 || b < 0 || libc::dup2(a, 3) < 0 || libc::dup2(b, 4) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                // The browser keeps only 3 and 4 (the originals close on exec).
                libc::close(a);
                libc::close(b);
                Ok(())
            });
        }
        let child = command.spawn().expect("start chromium");
        drop((cmd_read, evt_write));
        let done = Arc::new(AtomicBool::new(false));
        let (watch, pid) = (done.clone(), child.id() as libc::pid_t);
        std::thread::spawn(move || {
            let start = Instant::now();
            while !watch.load(Ordering::SeqCst) {
                if start.elapsed() > DEADLINE {
                    // SAFETY: signals only the browser this test started (not yet reaped:
                    // `done` is set before the Drop waits for it).
                    unsafe { libc::kill(-pid, libc::SIGKILL) };
                    return;
                }
                std::thread::sleep(Duration::from_millis(200));
            }
        });
        Browser {
            child,
            commands: File::from(cmd_write),
            events: BufReader::new(File::from(evt_read)),
            next_id: 0,
            done,
            _profile: profile,
        }
    }

    /// Sends one command (to a page's session, or to the browser) and returns its result,
    /// skipping the events that come before it; panics with the browser's error.
    pub fn call(&mut self, session: Option<&str>, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let mut msg = json!({ "id": id, "method": method, "params": params });
        if let Some(s) = session {
            msg["sessionId"] = json!(s);
        }
        let mut bytes = msg.to_string().into_bytes();
        bytes.push(0);
        self.commands.write_all(&bytes).expect("write to chromium");
        loop {
            let mut raw = Vec::new();
            let n = self.events.read_until(0, &mut raw).expect("read from chromium");
            assert!(
                n > 0,
                "chromium closed its pipe (crashed, or killed after {DEADLINE:?}) during {method}"
            );
            raw.pop();
            let answer: Value = serde_json::from_slice(&raw).expect("JSON from chromium");
            if answer["id"] == id {
                if let Some(e) = answer.get("error") {
                    panic!("{method}: {e}");
                }
                return answer["result"].clone();
            }
        }
    }

    /// Opens `url` in a new page and returns the page's session id.
    pub fn open(&mut self, url: &str) -> String {
        let target = self.call(None, "Target.createTarget", json!({ "url": "about:blank" }));
        let attached = self.call(
            None,
            "Target.attachToTarget",
            json!({ "targetId": target["targetId"], "flatten": true }),
        );
        let session = attached["sessionId"].as_str().expect("a session id").to_owned();
        self.call(Some(&session), "Page.navigate", json!({ "url": url }));
        session
    }

    /// The value of a JavaScript expression in the page, awaited if it is a promise;
    /// panics with the exception if it throws.
    pub fn eval(&mut self, session: &str, expression: &str) -> Value {
        let r = self.call(
            Some(session),
            "Runtime.evaluate",
            json!({ "expression": expression, "awaitPromise": true, "returnByValue": true }),
        );
        if let Some(e) = r.get("exceptionDetails") {
            panic!("JavaScript failed: {e}\nin: {expression}");
        }
        r["result"]["value"].clone()
    }
}
