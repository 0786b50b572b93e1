//! Output: the results folder and its files.
//!
//! A run writes into a hidden staging folder next to the destination and renames it
//! into place only when every file is complete ([`Staging`]), so an interrupted or failed
//! run never leaves half-written results, and an existing folder is replaced only when
//! the user said `--force`. Each file format has its own module.

pub mod backtest;
pub mod chain;
pub mod compare;
pub mod digest;
pub mod epistemic;
pub mod events;
pub mod explore;
pub mod fit;
pub mod manifest;
pub mod results;
pub mod score;
pub mod split;
pub mod tables;
pub mod text;
pub mod track;
pub mod trials;

pub mod guard;

use std::fs::File;
use std::path::{Path, PathBuf};

/// The file that marks a hidden sibling folder (`.NAME.partial-PID`) as brink's own
/// staging folder. Its owner locks it before the folder takes that name and holds the lock
/// while it runs, so a later run removes only the folders of runs that have ended
/// (killed), never a live run's, and never a folder brink did not make. It names the host
/// that made it: a lock is visible only on its own host, so a folder made on another host
/// (a cluster file system) is left alone.
pub const STAGING_MARKER: &str = ".brink-staging";
/// Suffix of a staging folder being made, before its marker is locked: a name
/// [`sibling_of`] does not match, so no other run can take it for a killed run's.
const MAKING: &str = ".new";
/// How old a staging folder left in the making (killed within microseconds of starting)
/// must be before a later run removes it.
const MAKING_STALE: std::time::Duration = std::time::Duration::from_secs(600);
/// Inside the staging folder: the results being written (renamed to the destination).
const STAGED: &str = "results";
/// Inside the staging folder: the replaced folder, where the OS has no atomic exchange.
const ASIDE: &str = "old";

/// Problems with the results folder.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    /// The destination exists and `--force` was not given.
    #[error("results folder {0} already exists; pass --force to replace it, or --out to choose another")]
    Exists(PathBuf),
    /// `--out` cannot or may not be used (a file, a link, a folder of the user's); bad
    /// input, found before anything is simulated or touched.
    #[error("{0}")]
    Refused(String),
    /// The results could not be put in place for a reason of the machine or of another
    /// run (exit 1), not of the user's input.
    #[error("{0}")]
    Failed(String),
    /// An I/O error, with the path it concerned.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
}

impl OutputError {
    /// Whether the user's input caused it (exit 2) rather than the machine (exit 1).
    pub(crate) fn is_bad_input(&self) -> bool {
        matches!(self, OutputError::Exists(_) | OutputError::Refused(_))
    }
}

/// Attaches a path to an I/O error.
pub(crate) fn io_at(path: &Path) -> impl FnOnce(std::io::Error) -> OutputError + '_ {
    move |source| OutputError::Io { path: path.to_owned(), source }
}

/// A results folder being written: files go to a hidden, marked sibling folder whose
/// contents replace the destination on [`Staging::commit`], and which is removed if
/// dropped before that.
pub struct Staging {
    /// `.NAME.partial-PID`: the marker and the results being written.
    root: PathBuf,
    /// `root/results`.
    tmp: PathBuf,
    dest: PathBuf,
    force: bool,
    committed: bool,
    /// What was at `dest` when this run started ([`identity`]): if it changed by the
    /// commit, another run put its results there meanwhile, and they are kept.
    found: Option<Vec<i128>>,
    /// The marker file, locked for as long as this run lives.
    _marker: File,
}

/// The folder `--out` names, or a refusal; nothing is touched.
fn check_dest(dest: &Path, force: bool, inputs: &[&Path]) -> Result<(), OutputError> {
    let shown = dest.display();
    guard::check_contains_nothing_of_the_user(dest, inputs).map_err(OutputError::Refused)?;
    match std::fs::symlink_metadata(dest) {
        Ok(m) if m.file_type().is_symlink() => Err(OutputError::Refused(format!(
            "--out {shown} is a symbolic link{}; brink does not replace links: give the folder itself, or \
             a new name",
            if dest.exists() { "" } else { " to nothing" }
        ))),
        Ok(m) if !m.is_dir() => Err(OutputError::Refused(format!(
            "--out {shown} is a file, not a folder; brink writes a results folder of several files there: \
             choose another --out (the file was not touched)"
        ))),
        Ok(_) if !force => Err(OutputError::Exists(dest.to_owned())),
        Ok(_) => guard::check_replaceable(dest).map_err(OutputError::Refused),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(OutputError::Refused(format!("cannot use --out {shown}: {e}"))),
    }
}

impl Staging {
    /// Prepares to write `dest`, before anything is simulated: refuses a destination that
    /// is a file or a link, exists without `force`, is not a results folder of brink's
    /// (holding only what brink wrote) or contains the current folder or one of the
    /// command's `inputs`. Removes the staging folders that killed runs left next to it.
    pub fn create(dest: &Path, force: bool, inputs: &[&Path]) -> Result<Staging, OutputError> {
        let parent = parent_of(dest);
        // First, so that results an interrupted replacement moved aside are back in place
        // before the destination is looked at.
        for note in clean_stale(&parent) {
            eprintln!("note: {note}");
        }
        check_dest(dest, force, inputs)?;
        std::fs::create_dir_all(&parent).map_err(|e| {
            OutputError::Refused(format!("cannot create the folder {} for --out: {e}", parent.display()))
        })?;
        let found = identity(dest);
        let root = parent.join(format!(".{}.partial-{}", dest_name(dest), std::process::id()));
        let making = parent.join(format!(".{}.partial-{}{MAKING}", dest_name(dest), std::process::id()));
        let unusable = |e: std::io::Error| {
            let text = format!("cannot write the results next to --out {}: {e}", dest.display());
            if is_unusable_folder(&e) {
                OutputError::Refused(text)
            } else {
                OutputError::Failed(text)
            }
        };
        std::fs::create_dir(&making).map_err(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                OutputError::Failed(format!(
                    "{} is in the way of brink's staging folder (a brink run killed as it started, or \
                     one with the same process id in another container); run again, or remove it once \
                     no brink run writes there",
                    shown(&making)
                ))
            } else {
                unusable(e)
            }
        })?;
        // The marker is locked before the folder takes a name that other runs clean, so
        // none of them can see it unlocked while this run lives.
        let made = (|| -> Result<File, OutputError> {
            let marker = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .create_new(true)
                .open(making.join(STAGING_MARKER))
                .map_err(unusable)?;
            if lock(&marker, false) == Lock::Busy {
                return Err(OutputError::Failed(format!(
                    "cannot lock brink's staging marker in {}",
                    shown(&making)
                )));
            }
            std::io::Write::write_all(
                &mut &marker,
                format!(
                    "brink staging folder: removed by the next brink run once the run that made it has ended\n\
                     host: {}\npid: {}\n",
                    host_name(),
                    std::process::id()
                )
                .as_bytes(),
            )
            .map_err(unusable)?;
            match rename_noreplace(&making, &root) {
                Ok(()) => {}
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::AlreadyExists | std::io::ErrorKind::DirectoryNotEmpty
                    ) =>
                {
                    return Err(OutputError::Failed(format!(
                        "{} is in the way of brink's staging folder: a live brink run's with the same \
                         process id (in another container or on another host), or not brink's; run \
                         again, or move it away once no brink run writes there",
                        shown(&root)
                    )))
                }
                Err(e) => return Err(unusable(e)),
            }
            if let Err(e) = std::fs::create_dir(root.join(STAGED)) {
                let _ = std::fs::remove_dir_all(&root);
                return Err(unusable(e));
            }
            Ok(marker)
        })();
        match made {
            Ok(marker) => Ok(Staging {
                tmp: root.join(STAGED),
                root,
                dest: dest.to_owned(),
                force,
                committed: false,
                found,
                _marker: marker,
            }),
            Err(e) => {
                // Only the folder this run made (`root`, if it got that far, is removed above).
                let _ = std::fs::remove_dir_all(&making);
                Err(e)
            }
        }
    }

    /// Path of a file inside the staging folder.
    pub fn file(&self, name: &str) -> PathBuf {
        self.tmp.join(name)
    }

    /// The staging folder itself (files written here end up in the destination).
    pub fn dir(&self) -> &Path {
        &self.tmp
    }

    /// The final destination.
    pub fn dest(&self) -> &Path {
        &self.dest
    }

    /// Moves the finished folder into place. An existing folder is replaced (under
    /// `--force`, and checked again: the user may have added files while brink ran) in
    /// one atomic exchange where the OS has one, so the destination always holds a
    /// complete results folder. Commits of concurrent brink runs into one parent folder
    /// take turns, and a run whose destination another run filled or replaced since this
    /// one started leaves that run's results alone and fails (the first to finish wins).
    /// Of the replaced folder only the files brink wrote are deleted.
    pub fn commit(mut self) -> Result<PathBuf, OutputError> {
        let parent = parent_of(&self.dest);
        // On disk before the swap: a crash just after it must not leave the destination
        // holding empty or torn files where the old results were complete.
        sync_tree(&self.tmp).map_err(|e| self.failed(e))?;
        let turn = File::open(&parent).ok();
        if let Some(f) = &turn {
            lock(f, true);
        }
        let shown_dest = self.dest.display().to_string();
        let now = identity(&self.dest);
        if now.is_some() && now != self.found && owned_by_brink(&self.dest) {
            return Err(OutputError::Failed(format!(
                "{shown_dest} was {} by another brink run while this one ran; its results are kept, this \
                 run's were not written (run again{})",
                if self.found.is_some() { "replaced" } else { "created" },
                if self.force { " to replace them" } else { " with --force to replace them" }
            )));
        }
        let old = match std::fs::symlink_metadata(&self.dest) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                rename_noreplace(&self.tmp, &self.dest).map_err(|e| self.failed(e))?;
                None
            }
            _ => {
                // The user may have added files, or made a folder there, while this ran.
                if let Err(refusal) = check_dest(&self.dest, self.force, &[]) {
                    return Err(self.keep_results(refusal));
                }
                Some(
                    replace_folder(&self.tmp, &self.dest, &self.root.join(ASIDE))
                        .map_err(|e| self.failed(e))?,
                )
            }
        };
        self.committed = true;
        // The swap itself, on disk (best effort: not every platform can sync a folder).
        let _ = File::open(&parent).and_then(|d| d.sync_all());
        let kept = old.and_then(|old| remove_replaced(&old, &parent, &dest_name(&self.dest)));
        drop(turn);
        if let Some((kept, entries)) = &kept {
            eprintln!(
                "warning: {entries} appeared in {shown_dest} while brink replaced it; they were not deleted: \
                 they are in {}",
                shown(kept)
            );
        }
        // The marker (and the replaced folder, emptied of brink's files) go; unless the
        // user's entries could not be moved out of it, in which case only the marker goes,
        // so that no later cleanup takes the folder for a killed run's and deletes them.
        let user_files_inside = kept.as_ref().is_some_and(|(kept, _)| kept.starts_with(&self.root));
        let removed = if user_files_inside {
            std::fs::remove_file(self.root.join(STAGING_MARKER))
        } else {
            std::fs::remove_dir_all(&self.root)
        };
        if let Err(e) = removed {
            eprintln!("warning: could not remove brink's staging folder {}: {e}", shown(&self.root));
        }
        Ok(self.dest.clone())
    }

    /// An I/O error while putting the results in place: a failure of the machine (exit 1).
    fn failed(&self, e: std::io::Error) -> OutputError {
        OutputError::Failed(format!("cannot put the results in place at {}: {e}", self.dest.display()))
    }

    /// A refusal found only at the commit: the simulation is not thrown away, its
    /// results are moved next to the destination (a name no run cleans) and the
    /// refusal says where.
    fn keep_results(&self, refusal: OutputError) -> OutputError {
        let kept =
            parent_of(&self.dest).join(format!("{}.unplaced-{}", dest_name(&self.dest), std::process::id()));
        match rename_noreplace(&self.tmp, &kept) {
            Ok(()) => OutputError::Refused(format!(
                "{refusal}. This run's results were kept in {} (move them where you want them)",
                shown(&kept)
            )),
            Err(_) => refusal,
        }
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if self.committed {
            return;
        }
        // A replacement that failed between its two renames left the old results in
        // `old`: put them back if their place is free; otherwise leave them, with the
        // marker, for the next run's `clean_stale` to restore. Never delete them.
        let aside = self.root.join(ASIDE);
        if aside.is_dir() {
            let _ = std::fs::remove_dir_all(&self.tmp);
            if std::fs::symlink_metadata(&self.dest).is_err() && std::fs::rename(&aside, &self.dest).is_ok() {
                let _ = std::fs::remove_dir_all(&self.root);
            } else {
                eprintln!(
                    "warning: the previous results of {} are in {}; the next brink run next to it puts them back",
                    self.dest.display(),
                    shown(&aside)
                );
            }
            return;
        }
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

/// What is at `dest`, to notice another run replacing it: nothing (`None`), or the
/// folder's identity and its manifest's (each commit puts a new folder with a new
/// manifest there; the user adding a file changes neither).
fn identity(dest: &Path) -> Option<Vec<i128>> {
    fn stamp(m: &std::fs::Metadata) -> Vec<i128> {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            vec![m.dev().into(), m.ino().into(), m.mtime().into(), m.mtime_nsec().into(), m.len().into()]
        }
        #[cfg(not(unix))]
        {
            let t = m.modified().ok().and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok());
            vec![t.map_or(-1, |t| t.as_nanos() as i128), m.len().into()]
        }
    }
    let m = std::fs::symlink_metadata(dest).ok()?;
    let mut id = stamp(&m);
    #[cfg(unix)]
    id.truncate(2); // the folder's device and inode, not its times
    for name in ["manifest.json", guard::SHARD_JSON] {
        match std::fs::symlink_metadata(dest.join(name)) {
            Ok(m) => id.extend(stamp(&m)),
            Err(_) => id.push(-1),
        }
    }
    Some(id)
}

/// Whether `dir` is a results folder of brink's (perhaps with files the user added).
fn owned_by_brink(dir: &Path) -> bool {
    std::fs::symlink_metadata(dir).is_ok_and(|m| m.is_dir()) && guard::owned_files(dir).is_ok()
}

/// Deletes, in the folder `old` that a commit replaced, only the files brink wrote
/// there (as its manifest lists them, read again now), then the folders left empty. Files
/// the user put there after the last check survive: the folder is then moved to
/// `parent/NAME.kept-PID` (a name no run cleans), returned with a description.
fn remove_replaced(old: &Path, parent: &Path, name: &str) -> Option<(PathBuf, String)> {
    fn walk(dir: &Path, rel: &str, owned: &std::collections::BTreeSet<String>, left: &mut Vec<String>) {
        let Ok(entries) = std::fs::read_dir(dir) else { return left.push(rel.to_owned()) };
        for e in entries.flatten() {
            let path = format!("{rel}{}", e.file_name().to_string_lossy());
            match e.file_type() {
                Ok(t) if t.is_dir() => {
                    walk(&e.path(), &format!("{path}/"), owned, left);
                    let _ = std::fs::remove_dir(e.path());
                }
                Ok(t) if t.is_file() && owned.contains(&path) => {
                    if std::fs::remove_file(e.path()).is_err() {
                        left.push(path);
                    }
                }
                _ => left.push(path),
            }
        }
    }
    let owned = guard::owned_files(old).unwrap_or_default();
    let mut left = Vec::new();
    walk(old, "", &owned, &mut left);
    if std::fs::remove_dir(old).is_ok() || left.is_empty() {
        return None;
    }
    left.sort();
    let mut named = left.iter().take(5).cloned().collect::<Vec<_>>().join(", ");
    if left.len() > 5 {
        named.push_str(&format!(" and {} more", left.len() - 5));
    }
    let kept = parent.join(format!("{name}.kept-{}", std::process::id()));
    let kept = if rename_noreplace(old, &kept).is_ok() { kept } else { old.to_owned() };
    Some((kept, named))
}

/// Flushes every file under `dir`, and the folders themselves, to disk.
fn sync_tree(dir: &Path) -> std::io::Result<()> {
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        let t = e.file_type()?;
        if t.is_dir() {
            sync_tree(&e.path())?;
        } else if t.is_file() {
            File::open(e.path())?.sync_all()?;
        }
    }
    // Folders cannot be opened for syncing everywhere (Windows): best effort.
    let _ = File::open(dir).and_then(|d| d.sync_all());
    Ok(())
}

/// A path for a message: without a leading `./`.
fn shown(path: &Path) -> String {
    path.strip_prefix(".").unwrap_or(path).display().to_string()
}

/// Whether an error making the staging folder means `--out` is unusable (bad input,
/// exit 2) rather than a failure of the machine such as a full disk (exit 1).
fn is_unusable_folder(e: &std::io::Error) -> bool {
    #[cfg(unix)]
    if let Some(code) = e.raw_os_error() {
        return matches!(
            code,
            libc::EACCES
                | libc::EPERM
                | libc::ENOTDIR
                | libc::EROFS
                | libc::ENAMETOOLONG
                | libc::ELOOP
                | libc::EEXIST
        );
    }
    e.kind() == std::io::ErrorKind::PermissionDenied
}

/// This host's name, for the staging marker.
fn host_name() -> String {
    #[cfg(unix)]
    {
        let mut buf = [0u8; 256];
        // SAFETY: the buffer outlives the call and its length is passed.
        if unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) } == 0 {
            let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
            return String::from_utf8_lossy(&buf[..end]).into_owned();
        }
    }
    String::new()
}

fn parent_of(dest: &Path) -> PathBuf {
    match dest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    }
}

fn dest_name(dest: &Path) -> String {
    dest.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "results".into())
}

/// Puts the folder `new` at `dest` in place of the folder there and returns where the
/// replaced folder now is. On Linux the two are exchanged in one step
/// (`renameat2(RENAME_EXCHANGE)`): `dest` is never missing, and the old folder ends at
/// `new`'s path. Elsewhere, or where the file system cannot exchange, the old folder is
/// first renamed to `aside` (which should lie inside a marked staging folder, so that the
/// next run restores it if this one is killed between the two renames).
pub fn replace_folder(new: &Path, dest: &Path, aside: &Path) -> std::io::Result<PathBuf> {
    #[cfg(target_os = "linux")]
    match rename2(new, dest, libc::RENAME_EXCHANGE) {
        Ok(()) => return Ok(new.to_owned()),
        Err(e) if !matches!(e.raw_os_error(), Some(libc::EINVAL | libc::ENOSYS | libc::EOPNOTSUPP)) => {
            return Err(e)
        }
        Err(_) => {}
    }
    std::fs::rename(dest, aside)?;
    if let Err(e) = std::fs::rename(new, dest) {
        let _ = std::fs::rename(aside, dest);
        return Err(e);
    }
    Ok(aside.to_owned())
}

/// Renames `from` to `to`, failing with `AlreadyExists` if `to` exists (a plain rename
/// would silently replace an empty folder another run just put there).
fn rename_noreplace(from: &Path, to: &Path) -> std::io::Result<()> {
    #[cfg(target_os = "linux")]
    match rename2(from, to, libc::RENAME_NOREPLACE) {
        Err(e) if matches!(e.raw_os_error(), Some(libc::EINVAL | libc::ENOSYS | libc::EOPNOTSUPP)) => {}
        other => return other,
    }
    if std::fs::symlink_metadata(to).is_ok() {
        return Err(std::io::ErrorKind::AlreadyExists.into());
    }
    std::fs::rename(from, to)
}

#[cfg(target_os = "linux")]
fn rename2(from: &Path, to: &Path, flags: libc::c_uint) -> std::io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let c = |p: &Path| std::ffi::CString::new(p.as_os_str().as_bytes()).map_err(std::io::Error::other);
    let (from, to) = (c(from)?, c(to)?);
    // SAFETY: both paths are NUL-terminated C strings that outlive the call.
    let r = unsafe {
        libc::syscall(libc::SYS_renameat2, libc::AT_FDCWD, from.as_ptr(), libc::AT_FDCWD, to.as_ptr(), flags)
    };
    if r == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// What an attempt to lock a file found.
#[derive(Debug, PartialEq, Eq)]
enum Lock {
    /// This process holds the lock now.
    Held,
    /// Another process holds it.
    Busy,
    /// The platform has no such locks: nobody can tell whether the owner still runs.
    #[cfg_attr(unix, allow(dead_code))]
    Unsupported,
}

/// Takes the exclusive lock of `f` (waiting for it if `wait`).
fn lock(f: &File, wait: bool) -> Lock {
    #[cfg(unix)]
    {
        use std::os::fd::AsRawFd;
        let op = if wait { libc::LOCK_EX } else { libc::LOCK_EX | libc::LOCK_NB };
        // SAFETY: flock on a descriptor the File owns for the length of the call.
        if unsafe { libc::flock(f.as_raw_fd(), op) } == 0 {
            Lock::Held
        } else {
            Lock::Busy
        }
    }
    #[cfg(not(unix))]
    {
        let _ = (f, wait);
        Lock::Unsupported
    }
}

/// The results folder name of a hidden sibling `.NAME.partial-PID`.
fn sibling_of(file_name: &str) -> Option<&str> {
    let rest = file_name.strip_prefix('.')?;
    let (name, pid) = rest.rsplit_once(".partial-")?;
    (!name.is_empty() && !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit())).then_some(name)
}

/// Removes the staging folder `dir` left in the making by a run killed as it started
/// (nothing in it but the marker), once it is old enough that no live run can own it.
fn clean_making(dir: &Path) -> Option<String> {
    let old = std::fs::symlink_metadata(dir)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.elapsed().ok())
        .is_some_and(|age| age > MAKING_STALE);
    let only_marker = std::fs::read_dir(dir)
        .ok()?
        .map(|e| e.map(|e| e.file_name() == STAGING_MARKER))
        .all(|m| m.is_ok_and(|m| m));
    if !old || !only_marker {
        return None;
    }
    let _ = std::fs::remove_file(dir.join(STAGING_MARKER));
    std::fs::remove_dir(dir)
        .ok()
        .map(|()| format!("removed {}, left by a brink run killed as it started", shown(dir)))
}

/// Whether the open `file` is still the file at `path` (same device and inode), not one
/// that was unlinked after it was opened.
fn same_file(file: &File, path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        match (file.metadata(), std::fs::symlink_metadata(path)) {
            (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
            _ => false,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = file;
        path.is_file()
    }
}

/// Removes the staging folders in `parent` that brink runs left when they were killed:
/// only folders named like brink's siblings that hold brink's marker, made on this host
/// and unlocked (their run has ended). A results folder moved aside by an interrupted
/// replacement is put back first if its place is empty. Returns what was done, for the
/// user.
pub(crate) fn clean_stale(parent: &Path) -> Vec<String> {
    let mut notes = Vec::new();
    let Ok(entries) = std::fs::read_dir(parent) else { return notes };
    let mut entries: Vec<_> = entries.flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    let here = host_name();
    for e in entries {
        let file_name = e.file_name().to_string_lossy().into_owned();
        if !e.file_type().is_ok_and(|t| t.is_dir()) {
            continue;
        }
        let dir = e.path();
        if file_name.strip_suffix(MAKING).and_then(sibling_of).is_some() {
            notes.extend(clean_making(&dir));
            continue;
        }
        let Some(name) = sibling_of(&file_name) else { continue };
        let Ok(marker) = File::open(dir.join(STAGING_MARKER)) else { continue };
        if !marker.metadata().is_ok_and(|m| m.is_file()) || lock(&marker, false) != Lock::Held {
            continue;
        }
        // A run that has just finished unlocks its marker as it removes its folder: the
        // lock then holds an unlinked file. Only a marker still in place is a killed run's.
        if !same_file(&marker, &dir.join(STAGING_MARKER)) {
            continue;
        }
        // A marker without a host line: made here (as by the first versions of it).
        let text = std::io::read_to_string(std::io::Read::take(&marker, 4096)).unwrap_or_default();
        if let Some(host) = text.lines().find_map(|l| l.strip_prefix("host: ")) {
            if host != here {
                notes.push(format!(
                    "left {}: the staging folder of a brink run on host {host}, which this one cannot \
                     check; remove it yourself once no brink run writes there",
                    shown(&dir)
                ));
                continue;
            }
        }
        let aside = dir.join(ASIDE);
        let dest = parent.join(name);
        if aside.is_dir()
            && std::fs::symlink_metadata(&dest).is_err()
            && std::fs::rename(&aside, &dest).is_ok()
        {
            notes.push(format!(
                "restored {} from {}, where an interrupted `--force` run had moved it",
                shown(&dest),
                shown(&dir)
            ));
        }
        match std::fs::remove_dir_all(&dir) {
            Ok(()) => notes
                .push(format!("removed {}, the staging folder of a brink run that was killed", shown(&dir))),
            // Gone meanwhile: its run finished and removed it.
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
            Err(err) => notes.push(format!(
                "could not remove {}, a killed brink run's staging folder: {err}",
                shown(&dir)
            )),
        }
    }
    notes
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Review finding 5: of a replaced folder only the files its manifest lists go; what
    /// the user put there after the last check (a file, a folder with a file in it) is
    /// kept, moved next to the destination, and named.
    /// When the user's entries cannot be moved next to the destination (the name is
    /// taken), they stay where they are, and `remove_replaced` says so by returning that
    /// folder: `commit` then removes only the marker, never the folder.
    #[test]
    fn user_files_that_cannot_be_moved_out_stay_in_place() {
        let tmp = tempfile::tempdir().unwrap();
        let old = tmp.path().join(".res.partial-1/results");
        std::fs::create_dir_all(&old).unwrap();
        let manifest =
            format!(r#"{{"format":"{}","files":["manifest.json","levels.csv"]}}"#, guard::RUN_FORMAT);
        std::fs::write(old.join("manifest.json"), manifest).unwrap();
        std::fs::write(old.join("levels.csv"), "x").unwrap();
        std::fs::write(old.join("notes.txt"), "mine").unwrap();
        let taken = tmp.path().join(format!("res.kept-{}", std::process::id()));
        std::fs::create_dir(&taken).unwrap();
        std::fs::write(taken.join("other.txt"), "also mine").unwrap();
        let (kept, named) = remove_replaced(&old, tmp.path(), "res").expect("user files are kept");
        assert_eq!(kept, old);
        assert!(kept.starts_with(tmp.path().join(".res.partial-1")), "inside the staging root");
        assert_eq!(std::fs::read_to_string(old.join("notes.txt")).unwrap(), "mine");
        assert!(!old.join("levels.csv").exists() && named.contains("notes.txt"), "{named}");
        assert_eq!(std::fs::read_to_string(taken.join("other.txt")).unwrap(), "also mine");
    }

    #[test]
    fn a_replaced_folder_loses_only_brinks_files() {
        let tmp = tempfile::tempdir().unwrap();
        let old = tmp.path().join(".res.partial-1/results");
        std::fs::create_dir_all(old.join("analysis")).unwrap();
        let manifest = format!(
            r#"{{"format":"{}","files":["manifest.json","levels.csv","levels.svg"]}}"#,
            guard::RUN_FORMAT
        );
        std::fs::write(old.join("manifest.json"), manifest).unwrap();
        for f in ["levels.csv", "levels.svg", "late.txt", "analysis/fig.py", "mine.png"] {
            std::fs::write(old.join(f), "x").unwrap();
        }
        let (kept, named) = remove_replaced(&old, tmp.path(), "res").expect("user files are kept");
        assert_eq!(kept, tmp.path().join(format!("res.kept-{}", std::process::id())));
        assert!(!old.exists());
        let mut left: Vec<String> = Vec::new();
        for f in ["levels.csv", "manifest.json", "levels.svg", "late.txt", "analysis/fig.py", "mine.png"] {
            if kept.join(f).exists() {
                left.push(f.into());
            }
        }
        assert_eq!(left, ["late.txt", "analysis/fig.py", "mine.png"]);
        assert!(named.contains("late.txt") && named.contains("analysis/fig.py"), "{named}");

        // Nothing of the user's: nothing kept, the folder gone.
        let old = tmp.path().join("again");
        std::fs::create_dir(&old).unwrap();
        std::fs::write(old.join("manifest.json"), r#"{"format":"brink-run/1","files":["manifest.json"]}"#)
            .unwrap();
        assert!(remove_replaced(&old, tmp.path(), "again").is_none());
        assert!(!old.exists());
    }
}
