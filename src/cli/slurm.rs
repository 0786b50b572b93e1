//! `brink slurm`: write (and with `--submit`, submit) the Slurm jobs of a sharded run of
//! `brink run`, `compare`, `sweep` or `sensitivity`.
//!
//! The command is given after `--`, exactly as it would run on one machine:
//! `brink slurm [options] -- COMMAND ARGS...`. That command line is parsed by the real
//! CLI, and the command makes its own [`Plan`] (loading and compiling its scenarios)
//! before anything is written, so a bad argument is a usage error now, not a failed job
//! later. brink never builds a command line of its own: the jobs run the user's, with
//! only `--shard`, `--out`, `--threads` (and `--trials`, `--seed` when not given) added.

use super::*;
use crate::shard::slurm::{unfit_for_sbatch, SlurmJob, ARRAY_SCRIPT, MERGE_SCRIPT, SUBMIT_SCRIPT};

/// The form `brink slurm` takes, for its usage errors.
const FORM: &str = "brink slurm --shards N --dir DIR [OPTIONS] -- run SCENARIO [OPTIONS] \
(or compare, sweep or sensitivity instead of run)";

#[derive(Debug, Args)]
#[command(override_usage = "brink slurm [OPTIONS] --shards <N> --dir <DIR> -- <COMMAND> [ARGS]...")]
pub(super) struct SlurmArgs {
    /// Number of shards N: the array has tasks 0 to N-1.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=100_000))]
    shards: u64,
    /// Job directory, on a filesystem every node sees: scripts, shards/, logs/.
    #[arg(long, value_name = "DIR")]
    dir: PathBuf,
    /// Merged results folder (default: DIR/results).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Slurm partition of both jobs.
    #[arg(long, value_name = "P")]
    partition: Option<String>,
    /// Slurm time limit of each job, e.g. 00:30:00.
    #[arg(long, value_name = "T")]
    time: Option<String>,
    /// Slurm account to charge.
    #[arg(long, value_name = "A")]
    account: Option<String>,
    /// CPUs per shard (brink uses as many threads).
    #[arg(long, value_name = "C", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=1024))]
    cpus_per_task: u32,
    /// Job name (default: brink-<scenario> for a run, brink-<scenario>-<command> otherwise).
    #[arg(long, value_name = "NAME")]
    job_name: Option<String>,
    /// Replace earlier shard folders and results (also passed to the jobs).
    #[arg(long)]
    force: bool,
    /// Submit the jobs now (runs DIR/submit.sh: sbatch must be on PATH).
    #[arg(long)]
    submit: bool,
    /// Words before `--`: none belong there. Taken only to say where they go.
    #[arg(hide = true, value_name = "WORD")]
    before: Vec<String>,
    /// After --, the command to shard with its own arguments, as on one machine
    /// (`run ...`, `compare ...`, `sweep ...` or `sensitivity ...`), without --shard,
    /// --out, --threads or --force, which the jobs set.
    #[arg(last = true, value_name = "COMMAND")]
    command: Vec<String>,
}

/// A value for an `#SBATCH` line: no white space, nothing a shell or Slurm would read.
fn slurm_word(what: &str, v: &Option<String>) -> Result<(), Failure> {
    match v {
        Some(x)
            if x.is_empty() || !x.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.:,+@".contains(&b)) =>
        {
            Err(Failure::Usage(format!(
                "--{what} `{x}` is not a plain Slurm value (letters, digits, - _ . : , + @)"
            )))
        }
        _ => Ok(()),
    }
}

/// A word of the command's (its scenario, or one of its options) given before `--`.
fn before_separator(word: &str) -> Failure {
    Failure::Usage(format!(
        "`{word}` before `--`: give the command to shard after `--`, with its own options, as you would run it on one machine: {FORM}"
    ))
}

/// clap's error for an option of the command given before `--` (`brink slurm --trials 5
/// ...`), said as [`before_separator`] says it: clap's own tip would put the option after
/// `--` alone, where it is no command.
pub(super) fn misplaced_option(e: &clap::Error, args: &[String]) -> Option<Failure> {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    if e.kind() != ErrorKind::UnknownArgument || args.get(1).map(String::as_str) != Some("slurm") {
        return None;
    }
    let Some(ContextValue::String(word)) = e.get(ContextKind::InvalidArg) else {
        return None;
    };
    let flag = word.split('=').next().unwrap_or(word);
    let end = args.iter().position(|a| a == "--").unwrap_or(args.len());
    let before = args[..end].iter().any(|a| a.split('=').next() == Some(flag));
    // Only an option of a command that runs in shards: a mistyped option of brink slurm's
    // own keeps clap's error, which suggests the right name.
    let cli = <Cli as clap::CommandFactory>::command();
    let of_a_command = SHARDED
        .iter()
        .filter_map(|c| cli.find_subcommand(c))
        .any(|c| c.get_arguments().any(|a| a.get_long().is_some_and(|l| flag.strip_prefix("--") == Some(l))));
    (before && of_a_command).then(|| before_separator(flag))
}

/// The commands that run in shards.
const SHARDED: [&str; 4] = ["run", "compare", "sweep", "sensitivity"];

fn not_sharded(command: &str) -> Failure {
    Failure::Usage(format!(
        "`brink slurm ... -- {command}`: only run, compare, sweep and sensitivity run in shards"
    ))
}

/// Refuses an argument of the command after `--` that the jobs set themselves.
fn refuse_word(command: &str, w: &str) -> Result<(), Failure> {
    let flag = if w.starts_with("--") { w.split('=').next().unwrap_or(w) } else { w };
    let why = match flag {
        "--shard" => "each array task adds --shard K/N itself, with N from --shards",
        "--out" => "each task writes its shard folder under DIR/shards; give the merged results folder as `brink slurm --out DIR`, before --",
        "--threads" => "each task runs as many threads as it has CPUs; give `brink slurm --cpus-per-task C`, before --",
        "--force" => "give --force to brink slurm, before --: it passes it to every task and to the merge",
        "--precision" => "a run that adds trials until a precision is reached cannot be split into shards; give --trials",
        "--epistemic" => "a two-loop run cannot be split into shards",
        "--" => "only one -- is taken: the one before the command",
        _ => return Ok(()),
    };
    Err(Failure::Usage(format!("`{w}` in `brink slurm ... -- {command} ...`: {why}")))
}

/// The command after `--`: its line is checked by the real CLI with the flags each task
/// adds, and the command makes its plan (its scenarios are compiled). Trials and seed,
/// unless given, are resolved now and added. `None`: the command's --help was shown.
fn command_form(a: &SlurmArgs, dir: &Path) -> Result<Option<(String, Vec<String>, Plan)>, Failure> {
    if let Some(word) = a.before.first() {
        return Err(before_separator(word));
    }
    let Some((command, rest)) = a.command.split_first() else {
        return Err(Failure::Usage(format!("give the command to shard after `--`: {FORM}")));
    };
    if !SHARDED.contains(&command.as_str()) {
        return Err(not_sharded(command));
    }
    for w in rest {
        refuse_word(command, w)?;
    }
    let shard0 = dir.join("shards").join("shard-0").display().to_string();
    let task = [
        "--shard".to_string(),
        format!("0/{}", a.shards),
        "--out".into(),
        shard0,
        "--threads".into(),
        "1".into(),
    ];
    let line =
        ["brink", command.as_str()].into_iter().map(String::from).chain(rest.iter().cloned()).chain(task);
    let cli = match Cli::try_parse_from(line) {
        Ok(c) => c,
        Err(e) if !e.use_stderr() => {
            // --help or --version of the command: show it, write nothing.
            let _ = e.print();
            return Ok(None);
        }
        Err(e) => {
            return Err(Failure::Usage(format!(
                "error: `brink slurm ... -- {command} ...` is not a valid command line:\n{}",
                e.render()
            )))
        }
    };
    let plan = cli.command.shard_plan().unwrap_or_else(|| Err(not_sharded(command)))?;
    let mut args = rest.to_vec();
    if !plan.trials_given {
        args.extend(["--trials".into(), plan.trials.to_string()]);
    }
    if !plan.seed_given {
        args.extend(["--seed".into(), plan.seed.to_string()]);
    }
    Ok(Some((command.clone(), args, plan)))
}

/// "1667 trials each" or "1667 or 1668 trials each", for `total` split `n` ways.
fn share(total: u64, n: u64, unit: &str) -> String {
    let per = total / n;
    if total % n == 0 {
        format!("{per} {unit} each")
    } else {
        format!("{per} or {} {unit} each", per + 1)
    }
}

pub(super) fn slurm(a: SlurmArgs) -> Result<(), Failure> {
    slurm_word("partition", &a.partition)?;
    slurm_word("time", &a.time)?;
    slurm_word("account", &a.account)?;
    slurm_word("job-name", &a.job_name)?;
    let here = std::env::current_dir().map_err(io_at(Path::new(".")))?;
    let absolute = |p: &Path| if p.is_absolute() { p.to_owned() } else { here.join(p) };
    let dir = absolute(&a.dir);
    let out = absolute(&a.out.clone().unwrap_or_else(|| a.dir.join("results")));
    let Some((command, args, plan)) = command_form(&a, &dir)? else {
        return Ok(());
    };
    for (what, p) in [("--dir", &dir), ("the current directory", &here)] {
        if let Some(why) = unfit_for_sbatch(p) {
            return Err(Failure::Usage(format!(
                "{what} {} {why}: Slurm cannot take it in an #SBATCH line",
                p.display()
            )));
        }
    }
    let shards_dir = dir.join("shards");
    let earlier = std::fs::read_dir(&shards_dir).map(|mut d| d.next().is_some()).unwrap_or(false);
    if !a.force && (earlier || out.exists()) {
        let what = if earlier { shards_dir.display() } else { out.display() };
        return Err(Failure::Output(OutputError::Exists(PathBuf::from(what.to_string()))));
    }
    for d in [&dir, &shards_dir, &dir.join("logs")] {
        std::fs::create_dir_all(d).map_err(io_at(d))?;
    }
    let brink = std::env::current_exe().map_err(io_at(Path::new("brink")))?;
    let name = a.job_name.clone().unwrap_or_else(|| match command.as_str() {
        "run" => format!("brink-{}", plan.name),
        other => format!("brink-{}-{other}", plan.name),
    });
    let job = SlurmJob {
        brink,
        workdir: here,
        dir: dir.clone(),
        out: out.clone(),
        command: command.clone(),
        name,
        shards: a.shards,
        args,
        merge_args: plan.charts.clone(),
        force: a.force,
        partition: a.partition.clone(),
        time: a.time.clone(),
        account: a.account.clone(),
        cpus_per_task: a.cpus_per_task,
    };
    for (name, text) in [
        (ARRAY_SCRIPT, job.array_script()),
        (MERGE_SCRIPT, job.merge_script()),
        (SUBMIT_SCRIPT, job.submit_script()),
    ] {
        let path = dir.join(name);
        std::fs::write(&path, text).map_err(io_at(&path))?;
        make_executable(&path)?;
    }
    let n = a.shards;
    let what = match (command.as_str(), plan.points) {
        ("run", _) => format!(
            "{} trials of {} in {n} shards ({})",
            plan.trials,
            plan.name,
            share(plan.trials, n, "trials")
        ),
        (_, Some(points)) => format!(
            "{command} of {}: {points} grid points of {} trials in {n} shards ({})",
            plan.name,
            plan.trials,
            share(points, n, "points")
        ),
        _ => format!(
            "{command} of {}: {}, {} trials in {n} shards ({})",
            plan.name,
            plan.models,
            plan.trials,
            share(plan.trials, n, "trials")
        ),
    };
    say(&format!(
        "wrote {ARRAY_SCRIPT}, {MERGE_SCRIPT} and {SUBMIT_SCRIPT} in {}\n  {what}, seed {}\n  shard folders: {}\n  results: {}\n",
        dir.display(),
        plan.seed,
        shards_dir.display(),
        out.display(),
    ));
    if !a.submit {
        say(&format!("submit with: sh {}\n", dir.join(SUBMIT_SCRIPT).display()));
        return Ok(());
    }
    let status = std::process::Command::new("sh")
        .arg(dir.join(SUBMIT_SCRIPT))
        .status()
        .map_err(|e| Failure::Slurm(format!("cannot run sh {}: {e}", dir.join(SUBMIT_SCRIPT).display())))?;
    if !status.success() {
        return Err(Failure::Slurm(format!(
            "submitting failed ({status}); is sbatch on PATH and the cluster up? The scripts are in {}: fix and run sh {}",
            dir.display(),
            dir.join(SUBMIT_SCRIPT).display()
        )));
    }
    Ok(())
}

#[cfg(unix)]
fn make_executable(path: &Path) -> Result<(), Failure> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).map_err(io_at(path))?;
    Ok(())
}

#[cfg(not(unix))]
fn make_executable(_: &Path) -> Result<(), Failure> {
    Ok(())
}
