//! `brink slurm`: write (and with `--submit`, submit) the Slurm jobs of a sharded run of
//! `brink run`, `compare`, `sweep` or `sensitivity`.
//!
//! A run is given as `brink slurm SCENARIO [run options]`; any of the four commands as
//! `brink slurm [options] -- COMMAND ARGS...`, exactly as it would run on one machine. That
//! command line is parsed by the real CLI and its scenarios are compiled before anything is
//! written, so a bad argument is a usage error now, not a failed job later.

use super::*;
use crate::present::charts::Formats;
use crate::shard::slurm::{unfit_for_sbatch, SlurmJob, ARRAY_SCRIPT, MERGE_SCRIPT, SUBMIT_SCRIPT};

#[derive(Debug, Args)]
pub(super) struct SlurmArgs {
    /// The scenario file of a sharded `brink run` (or give a whole command after --).
    #[arg(required_unless_present = "command", conflicts_with = "command")]
    scenario: Option<PathBuf>,
    /// Apply the named [variants.NAME] (`baseline`: none).
    #[arg(long, value_name = "NAME", conflicts_with = "command")]
    variant: Option<String>,
    /// Override a param, after the variant (repeatable).
    #[arg(long = "set", value_name = "PARAM=VALUE", value_parser = parse_set, conflicts_with = "command")]
    sets: Vec<(String, f64)>,
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
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..), conflicts_with = "command")]
    trials: Option<u64>,
    /// Seed (default: the file's `seed`).
    #[arg(long, conflicts_with = "command")]
    seed: Option<u64>,
    /// Per-trial limit on firings before a trial counts as a runaway loop.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=u32::MAX as u64), conflicts_with = "command")]
    max_events: Option<u64>,
    /// Do not write trials.csv.
    #[arg(long, conflicts_with = "command")]
    no_trials_csv: bool,
    /// Also write events.csv for the first K trials.
    #[arg(long, value_name = "K", value_parser = clap::value_parser!(u64).range(1..), conflicts_with = "command")]
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
    /// Job name (default: brink-<scenario>, or brink-<scenario>-<command> after --).
    #[arg(long, value_name = "NAME")]
    job_name: Option<String>,
    /// Replace earlier shard folders and results (also passed to the jobs).
    #[arg(long)]
    force: bool,
    /// Submit the jobs now (runs DIR/submit.sh: sbatch must be on PATH).
    #[arg(long)]
    submit: bool,
    /// Chart files of the merged folder [default: both].
    #[arg(long, value_enum, conflicts_with = "command")]
    charts: Option<Formats>,
    /// Chart size in pixels, WIDTHxHEIGHT [default: 1200x800].
    #[arg(long, value_name = "WxH", value_parser = parse_size, conflicts_with = "command")]
    chart_size: Option<(u32, u32)>,
    /// Instead of SCENARIO: after --, the command to shard with its own arguments, as on one
    /// machine (`compare ...`, `sweep ...`, `sensitivity ...` or `run ...`), without
    /// --shard, --out, --threads or --force, which the jobs set.
    #[arg(last = true, value_name = "COMMAND")]
    command: Vec<String>,
}

/// What a sharded command will simulate, checked by `brink slurm` before it writes jobs.
pub(super) struct Plan {
    /// The (first) scenario's name.
    pub(super) name: String,
    /// Trials of every run, grid point or setting, and whether the command line gave them.
    pub(super) trials: u64,
    pub(super) trials_given: bool,
    /// The seed, and whether the command line gave it.
    pub(super) seed: u64,
    pub(super) seed_given: bool,
    /// What runs side by side, for the terminal: "2 runs (baseline, hotline)".
    pub(super) models: String,
    /// A sweep split by grid points: their number.
    pub(super) points: Option<u64>,
    /// The command's `--charts` and `--chart-size`, for the merge.
    pub(super) charts: Vec<String>,
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

/// The `brink run` of the form `brink slurm SCENARIO [run options]`: its arguments, with
/// trials and seed resolved now.
fn run_form(a: &SlurmArgs, scenario: &Path) -> Result<(String, Vec<String>, Plan), Failure> {
    let sa = ScenarioArgs { scenario: scenario.to_owned(), variant: a.variant.clone(), sets: a.sets.clone() };
    let (model, _) = load(&sa)?;
    let trials = a.trials.unwrap_or(model.trials);
    let seed = a.seed.unwrap_or(model.seed);
    let mut args = vec![
        scenario.display().to_string(),
        "--trials".into(),
        trials.to_string(),
        "--seed".into(),
        seed.to_string(),
    ];
    if let Some(v) = &a.variant {
        args.extend(["--variant".into(), v.clone()]);
    }
    for (k, v) in &a.sets {
        args.extend(["--set".into(), format!("{k}={v}")]);
    }
    if let Some(m) = a.max_events {
        args.extend(["--max-events".into(), m.to_string()]);
    }
    if a.no_trials_csv {
        args.push("--no-trials-csv".into());
    }
    if let Some(k) = a.events {
        args.extend(["--events".into(), k.to_string()]);
    }
    let charts = ChartArgs {
        charts: a.charts.unwrap_or(Formats::Both),
        chart_size: a.chart_size.unwrap_or((1200, 800)),
    };
    let plan = Plan {
        name: model.name.clone(),
        trials,
        trials_given: true,
        seed,
        seed_given: true,
        models: "one run".into(),
        points: None,
        charts: charts.to_args(),
    };
    Ok(("run".into(), args, plan))
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

/// The form `brink slurm [options] -- COMMAND ARGS...`: the command line is checked by
/// the real CLI with the flags each task adds, and its scenarios are compiled. Trials and
/// seed, unless given, are resolved now and added.
fn command_form(a: &SlurmArgs, dir: &Path) -> Result<Option<(String, Vec<String>, Plan)>, Failure> {
    let (command, rest) = a.command.split_first().expect("clap requires SCENARIO or a command");
    if !["run", "compare", "sweep", "sensitivity"].contains(&command.as_str()) {
        return Err(Failure::Usage(format!(
            "`brink slurm ... -- {command}`: only run, compare, sweep and sensitivity run in shards"
        )));
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
    let plan = match &cli.command {
        Command::Run(r) => super::run::slurm_plan(r)?,
        Command::Compare(c) => super::compare::slurm_plan(c)?,
        Command::Sweep(s) => super::explore::sweep_plan(s)?,
        Command::Sensitivity(s) => super::explore::sensitivity_plan(s)?,
        _ => unreachable!("the command is one of the four"),
    };
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
    let (command, args, plan) = match &a.scenario {
        Some(scenario) => run_form(&a, scenario)?,
        None => match command_form(&a, &dir)? {
            Some(x) => x,
            None => return Ok(()),
        },
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
