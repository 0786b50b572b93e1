//! `brink slurm`: write (and with `--submit`, submit) the Slurm jobs of a sharded run.

use super::*;
use crate::slurm::{unfit_for_sbatch, SlurmJob, ARRAY_SCRIPT, MERGE_SCRIPT, SUBMIT_SCRIPT};

#[derive(Debug, Args)]
pub(super) struct SlurmArgs {
    #[command(flatten)]
    scenario: ScenarioArgs,
    /// Number of shards N: the array has tasks 0 to N-1.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=100_000))]
    shards: u64,
    /// Job directory, on a filesystem every node sees: scripts, shards/, logs/.
    #[arg(long, value_name = "DIR")]
    dir: PathBuf,
    /// Merged results folder (default: DIR/results).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Number of trials of the whole run (default: the file's `trials`).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    trials: Option<u64>,
    /// Seed (default: the file's `seed`).
    #[arg(long)]
    seed: Option<u64>,
    /// Per-trial limit on firings before a trial counts as a runaway loop.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=u32::MAX as u64))]
    max_events: Option<u64>,
    /// Do not write trials.csv.
    #[arg(long)]
    no_trials_csv: bool,
    /// Also write events.csv for the first K trials.
    #[arg(long, value_name = "K", value_parser = clap::value_parser!(u64).range(1..))]
    events: Option<u64>,
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
    /// Job name (default: brink-<scenario>).
    #[arg(long, value_name = "NAME")]
    job_name: Option<String>,
    /// Replace earlier shard folders and results (also passed to the jobs).
    #[arg(long)]
    force: bool,
    /// Submit the jobs now (runs DIR/submit.sh: sbatch must be on PATH).
    #[arg(long)]
    submit: bool,
    #[command(flatten)]
    charts: ChartArgs,
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

pub(super) fn slurm(a: SlurmArgs) -> Result<(), Failure> {
    let (model, _) = load(&a.scenario)?;
    let trials = a.trials.unwrap_or(model.trials);
    let seed = a.seed.unwrap_or(model.seed);
    slurm_word("partition", &a.partition)?;
    slurm_word("time", &a.time)?;
    slurm_word("account", &a.account)?;
    slurm_word("job-name", &a.job_name)?;
    let here = std::env::current_dir().map_err(io_at(Path::new(".")))?;
    let absolute = |p: &Path| if p.is_absolute() { p.to_owned() } else { here.join(p) };
    let dir = absolute(&a.dir);
    let out = absolute(&a.out.clone().unwrap_or_else(|| a.dir.join("results")));
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

    let mut run_args = vec!["--trials".to_string(), trials.to_string(), "--seed".into(), seed.to_string()];
    if let Some(v) = &a.scenario.variant {
        run_args.extend(["--variant".into(), v.clone()]);
    }
    for (k, v) in &a.scenario.sets {
        run_args.extend(["--set".into(), format!("{k}={v}")]);
    }
    if let Some(m) = a.max_events {
        run_args.extend(["--max-events".into(), m.to_string()]);
    }
    if a.no_trials_csv {
        run_args.push("--no-trials-csv".into());
    }
    if let Some(k) = a.events {
        run_args.extend(["--events".into(), k.to_string()]);
    }
    let charts = a.charts.options();
    let merge_args = vec![
        "--charts".to_string(),
        clap::ValueEnum::to_possible_value(&a.charts.charts)
            .map_or("both".into(), |v| v.get_name().to_owned()),
        "--chart-size".into(),
        format!("{}x{}", charts.width, charts.height),
    ];
    let job = SlurmJob {
        brink,
        workdir: here,
        dir: dir.clone(),
        out: out.clone(),
        scenario: a.scenario.scenario.display().to_string(),
        name: a.job_name.clone().unwrap_or_else(|| format!("brink-{}", model.name)),
        shards: a.shards,
        run_args,
        merge_args,
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
    let per = trials / a.shards;
    say(&format!(
        "wrote {ARRAY_SCRIPT}, {MERGE_SCRIPT} and {SUBMIT_SCRIPT} in {}\n  {} trials of {} in {} shards ({}{} trials each), seed {seed}\n  shard folders: {}\n  results: {}\n",
        dir.display(),
        trials,
        model.name,
        a.shards,
        per,
        if trials % a.shards == 0 { String::new() } else { format!(" or {}", per + 1) },
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
