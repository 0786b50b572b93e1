//! Slurm job scripts for a sharded run (of `brink run`, `compare`, `sweep` or
//! `sensitivity`): an array job with one task per shard, and a merge job that runs once
//! every shard has succeeded (`sbatch --dependency=afterok`).
//!
//! `brink slurm` fills a [`SlurmJob`] from the user's options and writes the three
//! texts made here: `brink-array.sbatch`, `brink-merge.sbatch` and `submit.sh`. The
//! scripts call brink by absolute path and pass the shard count N explicitly: Slurm's
//! `SLURM_ARRAY_TASK_COUNT` counts tasks, not N (with `--array=0-7:2` it is 4). Every task
//! runs in the directory `brink slurm` was called from (`--chdir`), so a relative scenario
//! path means the same file, and the results match the unsharded command run there byte
//! for byte. On a real cluster, that directory, the binary and the job directory must be on a
//! filesystem every node sees.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// File name of the array job script.
pub(crate) const ARRAY_SCRIPT: &str = "brink-array.sbatch";
/// File name of the merge job script.
pub(crate) const MERGE_SCRIPT: &str = "brink-merge.sbatch";
/// File name of the submission script.
pub(crate) const SUBMIT_SCRIPT: &str = "submit.sh";

/// Everything the scripts need. Paths should be absolute.
#[derive(Debug, Clone)]
pub struct SlurmJob {
    /// The brink binary the jobs run.
    pub brink: PathBuf,
    /// Working directory of every job.
    pub workdir: PathBuf,
    /// Job directory: scripts, `shards/`, `logs/`, job ids.
    pub dir: PathBuf,
    /// Merged results folder.
    pub out: PathBuf,
    /// The brink subcommand every task runs: `run`, `compare`, `sweep` or `sensitivity`.
    pub command: String,
    /// Job name (the merge job adds `-merge`).
    pub name: String,
    /// N.
    pub shards: u64,
    /// Its arguments besides `--shard`, `--out`, `--threads` and `--force`, which the job
    /// adds after them: the scenario (paths relative to `workdir`), `--trials`, `--seed`,
    /// `--variant`, `--set`, ... Each becomes one shell word.
    pub args: Vec<String>,
    /// Arguments of `brink merge` besides the shard folders and `--out`.
    pub merge_args: Vec<String>,
    /// Pass `--force` to runs and merge.
    pub force: bool,
    /// `#SBATCH --partition`.
    pub partition: Option<String>,
    /// `#SBATCH --time`.
    pub time: Option<String>,
    /// `#SBATCH --account`.
    pub account: Option<String>,
    /// `#SBATCH --cpus-per-task` of each shard (brink uses that many threads).
    pub cpus_per_task: u32,
}

/// Quotes a word for a POSIX shell: unchanged if it is plainly safe, else in single quotes.
pub(crate) fn sh_quote(s: &str) -> String {
    let safe = !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_./=:,+@%^".contains(&b));
    if safe {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// Why a path cannot appear in an `#SBATCH` line (which is not parsed by a shell), if so.
pub(crate) fn unfit_for_sbatch(p: &Path) -> Option<&'static str> {
    let s = p.to_str()?;
    if s.chars().any(char::is_whitespace) {
        Some("contains white space")
    } else if s.contains('%') {
        Some("contains `%`, which Slurm reads as a file name pattern")
    } else {
        None
    }
}

impl SlurmJob {
    fn q(p: &Path) -> String {
        sh_quote(&p.display().to_string())
    }

    /// The folder of shard `$k`, as shell text.
    fn shard_dir_expr(&self) -> String {
        format!("{}/shard-\"$k\"", Self::q(&self.dir.join("shards")))
    }

    fn header(&self, s: &mut String, name: &str, log: &str) {
        let _ = writeln!(s, "#SBATCH --job-name={name}");
        let _ = writeln!(s, "#SBATCH --chdir={}", self.workdir.display());
        let _ = writeln!(s, "#SBATCH --output={}", self.dir.join("logs").join(log).display());
        if let Some(p) = &self.partition {
            let _ = writeln!(s, "#SBATCH --partition={p}");
        }
        if let Some(t) = &self.time {
            let _ = writeln!(s, "#SBATCH --time={t}");
        }
        if let Some(a) = &self.account {
            let _ = writeln!(s, "#SBATCH --account={a}");
        }
    }

    fn words(args: &[String]) -> String {
        args.iter().map(|a| format!(" {}", sh_quote(a))).collect()
    }

    /// `brink-array.sbatch`: task K runs `brink <command> <args> --shard K/N`.
    pub fn array_script(&self) -> String {
        let n = self.shards;
        let last = n - 1;
        let mut s = String::from("#!/bin/bash\n");
        let _ =
            writeln!(s, "# brink: the shards of one run as a Slurm job array (written by `brink slurm`).");
        let _ = writeln!(
            s,
            "# Task K runs `brink {} --shard K/{n}` into {}/shard-K.",
            self.command,
            self.dir.join("shards").display()
        );
        let _ = writeln!(s, "# Submit with submit.sh, which also queues the merge, or by hand:");
        let _ = writeln!(s, "#   sbatch --array=0-{last} {}", self.dir.join(ARRAY_SCRIPT).display());
        self.header(&mut s, &self.name, "shard-%a.out");
        let _ = writeln!(s, "#SBATCH --array=0-{last}");
        let _ = writeln!(s, "#SBATCH --ntasks=1");
        let _ = writeln!(s, "#SBATCH --cpus-per-task={}", self.cpus_per_task);
        s.push_str("set -euo pipefail\n\n");
        let _ = writeln!(s, "# N is written here: SLURM_ARRAY_TASK_COUNT counts tasks, which is not N");
        let _ = writeln!(s, "# when the array has a step (--array=0-7:2 has 4 tasks) or runs a subset.");
        let _ = writeln!(s, "shards={n}");
        let _ = writeln!(
            s,
            "k=${{SLURM_ARRAY_TASK_ID:?submit as an array job: sbatch --array=0-{last} {ARRAY_SCRIPT}}}"
        );
        let _ = writeln!(s, "threads=${{SLURM_CPUS_PER_TASK:-{}}}", self.cpus_per_task);
        let _ = writeln!(
            s,
            "exec {} {}{} --shard \"$k/$shards\" --out {} --threads \"$threads\"{}",
            Self::q(&self.brink),
            sh_quote(&self.command),
            Self::words(&self.args),
            self.shard_dir_expr(),
            if self.force { " --force" } else { "" },
        );
        s
    }

    /// `brink-merge.sbatch`: `brink merge` of every shard folder into the results folder.
    pub fn merge_script(&self) -> String {
        let n = self.shards;
        let mut s = String::from("#!/bin/bash\n");
        let _ = writeln!(
            s,
            "# brink: merge the {n} shards of one run into its results folder (written by `brink slurm`)."
        );
        let _ = writeln!(s, "# Runs after every array task succeeded: submit.sh queues it with");
        let _ = writeln!(s, "# --dependency=afterok:<array job id> --kill-on-invalid-dep=yes.");
        self.header(&mut s, &format!("{}-merge", self.name), "merge.out");
        s.push_str("#SBATCH --ntasks=1\n#SBATCH --cpus-per-task=1\n");
        s.push_str("set -euo pipefail\n\n");
        let _ = writeln!(s, "shards={n}");
        s.push_str("dirs=()\n");
        let _ = writeln!(s, "for ((k = 0; k < shards; k++)); do dirs+=({}); done", self.shard_dir_expr());
        let _ = writeln!(
            s,
            "exec {} merge \"${{dirs[@]}}\" --out {}{}{}",
            Self::q(&self.brink),
            Self::q(&self.out),
            Self::words(&self.merge_args),
            if self.force { " --force" } else { "" },
        );
        s
    }

    /// `submit.sh`: the array job, then the merge job once every task has succeeded.
    /// Writes the job ids to `array.jobid` and `merge.jobid` in the job directory.
    pub fn submit_script(&self) -> String {
        let last = self.shards - 1;
        let dir = |name: &str| Self::q(&self.dir.join(name));
        let mut s = String::from("#!/bin/sh\n");
        s.push_str("# brink: submit the shards as a job array, then the merge after all of them succeed.\n");
        s.push_str("# If a shard fails, Slurm cancels the merge (--kill-on-invalid-dep=yes).\n");
        s.push_str("set -eu\n");
        let _ = writeln!(s, "array=$(sbatch --parsable --array=0-{last} {})", dir(ARRAY_SCRIPT));
        s.push_str("array=${array%%;*}\n");
        let _ = writeln!(
            s,
            "merge=$(sbatch --parsable --dependency=afterok:\"$array\" --kill-on-invalid-dep=yes {})",
            dir(MERGE_SCRIPT)
        );
        s.push_str("merge=${merge%%;*}\n");
        let _ = writeln!(s, "echo \"$array\" > {}", dir("array.jobid"));
        let _ = writeln!(s, "echo \"$merge\" > {}", dir("merge.jobid"));
        let _ = writeln!(s, "echo \"array job $array: {} shards (tasks 0-{last})\"", self.shards);
        let _ = writeln!(s, "echo \"merge job $merge: runs when every shard has succeeded\"");
        let _ = writeln!(s, "printf 'results: %s\\n' {}", Self::q(&self.out));
        s
    }
}

#[cfg(test)]
mod tests {
    use super::sh_quote;

    #[test]
    fn words_are_quoted_only_when_needed() {
        assert_eq!(sh_quote("scenarios/baghdad-2020.toml"), "scenarios/baghdad-2020.toml");
        assert_eq!(sh_quote("p=0.5"), "p=0.5");
        assert_eq!(sh_quote("my file"), "'my file'");
        assert_eq!(sh_quote("it's"), r"'it'\''s'");
        assert_eq!(sh_quote(""), "''");
        assert_eq!(sh_quote("$HOME"), "'$HOME'");
    }
}
