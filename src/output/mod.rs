//! Output: the results folder and its files.
//!
//! A run writes into a hidden staging folder next to the destination and renames it
//! into place only when every file is complete ([`Staging`]), so an interrupted or failed
//! run never leaves half-written results, and an existing folder is replaced only when
//! the user said `--force`. Each file format has its own module.

pub mod compare;
pub mod events;
pub mod folder;
pub mod manifest;
pub mod shard;
pub mod shard_set;
pub mod summary;
pub mod tables;
pub mod trials;

pub mod guard;

use std::fs::File;
use std::path::{Path, PathBuf};

/// The file that marks a hidden sibling folder (`.NAME.partial-PID`, `.NAME.old-PID`) as
/// brink's own staging folder. Its owner holds a lock on it while it runs, so a later run
/// removes only the folders of runs that have ended (killed), never a live run's, and never
/// a folder brink did not make.
pub const STAGING_MARKER: &str = ".brink-staging";
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
    pub fn is_bad_input(&self) -> bool {
        matches!(self, OutputError::Exists(_) | OutputError::Refused(_))
    }
}

/// Attaches a path to an I/O error.
pub fn io_at(path: &Path) -> impl FnOnce(std::io::Error) -> OutputError + '_ {
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
        let root = parent.join(format!(".{}.partial-{}", dest_name(dest), std::process::id()));
        if std::fs::symlink_metadata(&root).is_ok() {
            // Our own PID: a folder of an earlier process that had it, or not brink's.
            if !root.join(STAGING_MARKER).is_file() {
                return Err(OutputError::Refused(format!(
                    "{} is in the way of brink's staging folder and is not brink's; move it away",
                    root.display()
                )));
            }
            std::fs::remove_dir_all(&root).map_err(io_at(&root))?;
        }
        let unusable = |e: std::io::Error| {
            OutputError::Refused(format!("cannot write the results next to --out {}: {e}", dest.display()))
        };
        std::fs::create_dir(&root).map_err(unusable)?;
        let made = (|| {
            let marker = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .create_new(true)
                .open(root.join(STAGING_MARKER))?;
            lock(&marker, false);
            std::io::Write::write_all(
                &mut &marker,
                b"brink staging folder: removed by the next brink run once the run that made it has ended\n",
            )?;
            std::fs::create_dir(root.join(STAGED))?;
            Ok(marker)
        })();
        match made {
            Ok(marker) => Ok(Staging {
                tmp: root.join(STAGED),
                root,
                dest: dest.to_owned(),
                force,
                committed: false,
                _marker: marker,
            }),
            Err(e) => {
                let _ = std::fs::remove_dir_all(&root);
                Err(unusable(e))
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
    /// complete results folder; commits of concurrent brink runs into one parent folder
    /// take turns.
    pub fn commit(mut self) -> Result<PathBuf, OutputError> {
        let parent = parent_of(&self.dest);
        let turn = File::open(&parent).ok();
        if let Some(f) = &turn {
            lock(f, true);
        }
        let mut placed = match std::fs::symlink_metadata(&self.dest) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => rename_noreplace(&self.tmp, &self.dest),
            _ => Err(std::io::ErrorKind::AlreadyExists.into()),
        };
        if matches!(&placed, Err(e) if matches!(e.kind(), std::io::ErrorKind::AlreadyExists | std::io::ErrorKind::DirectoryNotEmpty))
        {
            // Another run (or the user) put a folder there while this one ran.
            check_dest(&self.dest, self.force, &[])?;
            placed = replace_folder(&self.tmp, &self.dest, &self.root.join(ASIDE)).map(|_| ());
        }
        placed.map_err(io_at(&self.dest))?;
        drop(turn);
        self.committed = true;
        // Old results (where `tmp` was, or moved aside) and the marker go.
        if let Err(e) = std::fs::remove_dir_all(&self.root) {
            eprintln!("warning: could not remove brink's staging folder {}: {e}", self.root.display());
        }
        Ok(self.dest.clone())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_dir_all(&self.root);
        }
    }
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

/// Takes the exclusive lock of `f` (waiting for it if `wait`); false if another process
/// holds it. Where there are no such locks, says false: another run may own the file.
fn lock(f: &File, wait: bool) -> bool {
    #[cfg(unix)]
    {
        use std::os::fd::AsRawFd;
        let op = if wait { libc::LOCK_EX } else { libc::LOCK_EX | libc::LOCK_NB };
        // SAFETY: flock on a descriptor the File owns for the length of the call.
        unsafe { libc::flock(f.as_raw_fd(), op) == 0 }
    }
    #[cfg(not(unix))]
    {
        let _ = (f, wait);
        false
    }
}

/// The results folder name of a hidden sibling `.NAME.partial-PID` or `.NAME.old-PID`.
fn sibling_of(file_name: &str) -> Option<&str> {
    let rest = file_name.strip_prefix('.')?;
    ["partial-", "old-"].iter().find_map(|kind| {
        let (name, pid) = rest.rsplit_once(&format!(".{kind}"))?;
        (!name.is_empty() && !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit())).then_some(name)
    })
}

/// Removes the staging folders in `parent` that brink runs left when they were killed:
/// only folders named like brink's siblings that hold brink's marker, unlocked (their run
/// has ended). A results folder moved aside by an interrupted replacement is put back
/// first if its place is empty. Returns what was done, for the user.
pub fn clean_stale(parent: &Path) -> Vec<String> {
    let mut notes = Vec::new();
    let Ok(entries) = std::fs::read_dir(parent) else { return notes };
    let mut entries: Vec<_> = entries.flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let file_name = e.file_name().to_string_lossy().into_owned();
        let Some(name) = sibling_of(&file_name) else { continue };
        if !e.file_type().is_ok_and(|t| t.is_dir()) {
            continue;
        }
        let dir = e.path();
        let Ok(marker) = File::open(dir.join(STAGING_MARKER)) else { continue };
        if !marker.metadata().is_ok_and(|m| m.is_file()) || !lock(&marker, false) {
            continue;
        }
        let aside = dir.join(ASIDE);
        let dest = parent.join(name);
        if aside.is_dir()
            && std::fs::symlink_metadata(&dest).is_err()
            && std::fs::rename(&aside, &dest).is_ok()
        {
            notes.push(format!(
                "restored {} from {}, where an interrupted `--force` run had moved it",
                dest.display(),
                dir.display()
            ));
        }
        match std::fs::remove_dir_all(&dir) {
            Ok(()) => notes.push(format!(
                "removed {}, the staging folder of a brink run that was killed",
                dir.display()
            )),
            Err(err) => notes.push(format!(
                "could not remove {}, a killed brink run's staging folder: {err}",
                dir.display()
            )),
        }
    }
    notes
}
