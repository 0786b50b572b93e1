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

use std::path::{Path, PathBuf};

/// Problems with the results folder.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    /// The destination exists and `--force` was not given.
    #[error("results folder {0} already exists; pass --force to replace it, or --out to choose another")]
    Exists(PathBuf),
    /// An I/O error, with the path it concerned.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
}

/// Attaches a path to an I/O error.
pub fn io_at(path: &Path) -> impl FnOnce(std::io::Error) -> OutputError + '_ {
    move |source| OutputError::Io { path: path.to_owned(), source }
}

/// A results folder being written: files go to a hidden sibling folder that replaces the
/// destination on [`Staging::commit`], and is removed if dropped before that.
pub struct Staging {
    tmp: PathBuf,
    dest: PathBuf,
    force: bool,
    committed: bool,
}

impl Staging {
    /// Prepares to write `dest`; fails at once if it exists and `force` is false.
    pub fn create(dest: &Path, force: bool) -> Result<Staging, OutputError> {
        if dest.exists() && !force {
            return Err(OutputError::Exists(dest.to_owned()));
        }
        let parent = match dest.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
            _ => PathBuf::from("."),
        };
        std::fs::create_dir_all(&parent).map_err(io_at(&parent))?;
        let name =
            dest.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "results".into());
        let tmp = parent.join(format!(".{name}.partial-{}", std::process::id()));
        if tmp.exists() {
            std::fs::remove_dir_all(&tmp).map_err(io_at(&tmp))?;
        }
        std::fs::create_dir(&tmp).map_err(io_at(&tmp))?;
        Ok(Staging { tmp, dest: dest.to_owned(), force, committed: false })
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

    /// Moves the finished folder into place (replacing the old one under `--force`).
    pub fn commit(mut self) -> Result<PathBuf, OutputError> {
        if self.dest.exists() {
            if !self.force {
                return Err(OutputError::Exists(self.dest.clone()));
            }
            let old = self.tmp.with_file_name(format!(
                ".{}.old-{}",
                self.dest.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
                std::process::id()
            ));
            std::fs::rename(&self.dest, &old).map_err(io_at(&self.dest))?;
            std::fs::rename(&self.tmp, &self.dest).map_err(io_at(&self.dest))?;
            std::fs::remove_dir_all(&old).map_err(io_at(&old))?;
        } else {
            std::fs::rename(&self.tmp, &self.dest).map_err(io_at(&self.dest))?;
        }
        self.committed = true;
        Ok(self.dest.clone())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_dir_all(&self.tmp);
        }
    }
}
