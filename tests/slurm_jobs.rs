//! `brink slurm`: the job scripts it writes. Without a cluster, the array script is run
//! once per task with `SLURM_ARRAY_TASK_ID` set, as Slurm would, then the merge script; the
//! results must equal a single `brink run`. A stand-in `sbatch` checks what `submit.sh`
//! submits. The real Slurm run is `tests/slurm/run.sh` (from `.ci/run`), not here.

use crate::util::{brink, bundled};
use brink::shard::slurm::SlurmJob;
use std::path::{Path, PathBuf};
use std::process::Command;

fn files(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// Runs a job script as Slurm would: in its `#SBATCH --chdir` directory, as array task
/// `task` with 2 CPUs if given.
fn bash(script: &Path, task: Option<u64>) {
    let text = std::fs::read_to_string(script).unwrap();
    let chdir =
        text.lines().find_map(|l| l.strip_prefix("#SBATCH --chdir=")).expect("an #SBATCH --chdir line");
    let mut c = Command::new("bash");
    c.arg(script).current_dir(chdir).env_remove("SLURM_ARRAY_TASK_ID").env_remove("SLURM_CPUS_PER_TASK");
    if let Some(k) = task {
        c.env("SLURM_ARRAY_TASK_ID", k.to_string()).env("SLURM_CPUS_PER_TASK", "2");
    }
    let o = c.output().unwrap();
    assert!(
        o.status.success(),
        "{} (task {task:?}) failed:\n{}",
        script.display(),
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn the_job_scripts_reproduce_a_single_run() {
    let tmp = tempfile::tempdir().unwrap();
    let scenario = bundled("minimal.toml");
    let args =
        ["--trials", "5001", "--seed", "9", "--variant", "hotline", "--set", "p_clash=0.3", "--events", "20"];
    let job = tmp.path().join("job");
    let o = brink()
        .current_dir(tmp.path())
        .args(["slurm", "--shards", "3", "--dir", "job", "--cpus-per-task", "2", "--", "run"])
        .arg(&scenario)
        .args(args)
        .args(["--charts", "svg"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(text.contains("5001 trials of minimal in 3 shards (1667 trials each)"), "{text}");
    assert_eq!(files(&job), ["brink-array.sbatch", "brink-merge.sbatch", "logs", "shards", "submit.sh"]);
    let array = std::fs::read_to_string(job.join("brink-array.sbatch")).unwrap();
    for line in ["#SBATCH --array=0-2\n", "#SBATCH --cpus-per-task=2\n", "\nshards=3\n"] {
        assert!(array.contains(line), "{line:?} missing:\n{array}");
    }
    // N is passed explicitly, never read from SLURM_ARRAY_TASK_COUNT.
    assert!(
        !array.contains("SLURM_ARRAY_TASK_COUNT=") && !array.contains("$SLURM_ARRAY_TASK_COUNT"),
        "{array}"
    );
    let exe = std::fs::canonicalize(assert_cmd::cargo::cargo_bin("brink")).unwrap();
    assert!(array.contains(&format!("exec {} run ", exe.display())), "{array}");

    for k in 0..3 {
        bash(&job.join("brink-array.sbatch"), Some(k));
    }
    bash(&job.join("brink-merge.sbatch"), None);
    let shard: serde_json::Value =
        serde_json::from_slice(&std::fs::read(job.join("shards/shard-1/shard.json")).unwrap()).unwrap();
    assert_eq!(shard["threads"], 2, "the task uses SLURM_CPUS_PER_TASK threads");

    let single = tmp.path().join("single");
    let o = brink()
        .current_dir(tmp.path())
        .arg("run")
        .arg(&scenario)
        .args(args)
        .args(["--charts", "svg", "--quiet", "--out"])
        .arg(&single)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let merged = job.join("results");
    assert_eq!(files(&merged), files(&single));
    for f in files(&single).iter().filter(|f| *f != "manifest.json") {
        assert!(
            std::fs::read(single.join(f)).unwrap() == std::fs::read(merged.join(f)).unwrap(),
            "{f} differs from the single run's"
        );
    }

    // The job directory is not reused by accident.
    let again = brink()
        .current_dir(tmp.path())
        .args(["slurm", "--shards", "3", "--dir", "job", "--", "run"])
        .arg(&scenario)
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("--force"));
}

/// `brink slurm --shards N --dir job -- <command>` from `cwd`; returns the job directory
/// and what brink printed.
fn jobs_of(cwd: &Path, shards: u64, command: &[&str]) -> (PathBuf, String) {
    let o = brink()
        .current_dir(cwd)
        .args(["slurm", "--shards", &shards.to_string(), "--dir", "job", "--cpus-per-task", "2", "--"])
        .args(command)
        .output()
        .unwrap();
    assert!(o.status.success(), "{command:?}: {}", String::from_utf8_lossy(&o.stderr));
    (cwd.join("job"), String::from_utf8_lossy(&o.stdout).into_owned())
}

/// For run, compare, sweep (by trials and by grid points) and sensitivity: `brink slurm --
/// <command>` writes jobs that run that very command line with `--shard K/N`, and running
/// every task of the array script, then the merge script, gives the folder the unsharded
/// command writes, byte for byte (only wall-clock fields of manifests differ). The
/// scenario path holds a space and a quote, to show the scripts quote it.
#[test]
fn the_jobs_of_compare_sweep_and_sensitivity_reproduce_the_unsharded_commands() {
    let exe = std::fs::canonicalize(assert_cmd::cargo::cargo_bin("brink")).unwrap();
    let cases: [(&str, u64, Vec<&str>, &str); 5] = [
        ("run", 2, vec!["--events", "10", "--trials", "3001"], "3001 trials of minimal in 2 shards (1500 or 1501 trials each)"),
        (
            "compare",
            3,
            vec!["--variants", "baseline,hotline", "--set", "p_clash=0.3", "--trials", "5001", "--charts", "svg"],
            "compare of minimal: 2 runs (baseline, hotline), 5001 trials in 3 shards (1667 trials each), seed 1",
        ),
        (
            "sweep",
            4,
            vec!["--param", "p_clash=0.1:0.5:3", "--param", "p_retaliation=0.2:0.4:2", "--shard-by", "points", "--trials", "2000", "--seed", "5", "--charts", "none"],
            "sweep of minimal: 6 grid points of 2000 trials in 4 shards (1 or 2 points each), seed 5",
        ),
        (
            "sweep",
            2,
            vec!["--param", "p_clash=0.1:0.5:3", "--variant", "hotline", "--trials", "3001", "--charts", "svg", "--chart-size", "800x600"],
            "sweep of minimal: 3 grid points, 3001 trials in 2 shards (1500 or 1501 trials each), seed 1",
        ),
        (
            "sensitivity",
            3,
            vec!["--spread", "0.5", "--metric", "clash", "--trials", "3000", "--charts", "svg"],
            "sensitivity of minimal: 3 params at low and high, 3000 trials in 3 shards (1000 trials each), seed 1",
        ),
    ];
    for (i, (command, n, args, summary)) in cases.into_iter().enumerate() {
        let tmp = tempfile::tempdir().unwrap();
        let folder = tmp.path().join("it's here");
        std::fs::create_dir(&folder).unwrap();
        std::fs::copy(bundled("minimal.toml"), folder.join("minimal.toml")).unwrap();
        let mut line = vec![command, "it's here/minimal.toml"];
        line.extend(&args);
        let (job, text) = jobs_of(tmp.path(), n, &line);
        assert!(text.contains(summary), "case {i}: {text}");

        let array = std::fs::read_to_string(job.join("brink-array.sbatch")).unwrap();
        let task =
            format!("exec {} {command} 'it'\\''s here/minimal.toml' {}", exe.display(), args.join(" "));
        assert!(array.contains(&task), "case {i}: no {task:?} in\n{array}");
        assert!(array.contains(" --shard \"$k/$shards\" --out "), "case {i}: {array}");
        assert!(array.contains(&format!("\nshards={n}\n")), "case {i}: {array}");
        if !args.contains(&"--seed") {
            assert!(array.contains(" --seed 1 --shard "), "case {i}: the seed is resolved now: {array}");
        }
        let merge = std::fs::read_to_string(job.join("brink-merge.sbatch")).unwrap();
        assert!(merge.contains(" merge \"${dirs[@]}\" --out "), "case {i}: {merge}");

        for k in 0..n {
            bash(&job.join("brink-array.sbatch"), Some(k));
        }
        bash(&job.join("brink-merge.sbatch"), None);
        let single = tmp.path().join("single");
        let o = brink()
            .current_dir(tmp.path())
            // `--shard-by` goes only with `--shard`.
            .args(line.iter().filter(|a| !["--shard-by", "points"].contains(a)))
            .args(["--quiet", "--out", "single"])
            .output()
            .unwrap();
        assert!(o.status.success(), "case {i}: {}", String::from_utf8_lossy(&o.stderr));
        crate::shards::assert_same_folder(&single, &job.join("results"), &format!("case {i} ({command})"));
    }
}

/// The command after `--` is checked before anything is written: parsed by the real CLI
/// and compiled, with the flags the jobs set refused by name. Each is a usage error.
#[test]
fn a_bad_command_after_the_separator_is_a_usage_error_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let scenario = bundled("minimal.toml");
    let s = scenario.to_str().unwrap();
    let sweep = |extra: &[&'static str]| {
        let mut v = vec!["--", "sweep", s, "--param", "p_clash=0.1:0.5:3"];
        v.extend(extra);
        v
    };
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (sweep(&["--parm", "x"]), "unexpected argument '--parm'"),
        (sweep(&["--param", "nope=0:1:2"]), "`nope` is not a param"),
        (sweep(&["--param", "p_clash=0.5:2:3"]), "p_clash"),
        (sweep(&["--shard", "0/2"]), "each array task adds --shard K/N"),
        (sweep(&["--out", "x"]), "brink slurm --out DIR"),
        (sweep(&["--out=x"]), "brink slurm --out DIR"),
        (sweep(&["--threads", "4"]), "--cpus-per-task"),
        (sweep(&["--force"]), "give --force to brink slurm"),
        (sweep(&["--", "x"]), "only one --"),
        (vec!["--", "compare", s, "--variants", "baseline,nope"], "nope"),
        (vec!["--", "compare", s, "--variants", "baseline,hotline", "--precision", "0.01"], "--trials"),
        (vec!["--", "sensitivity", s, "--metric", "peace"], "unknown level `peace`"),
        (vec!["--", "run", s, "--epistemic", "4"], "two-loop"),
        (vec!["--", "trace", s], "only run, compare, sweep and sensitivity"),
        (vec!["--", "sweep", "nowhere.toml", "--param", "p=0:1:2"], "nowhere.toml"),
        (vec!["--trials", "5", "--", "sweep", s], "`--trials` before `--`"),
        (vec![s, "--", "sweep", s], "before `--`"),
    ];
    for (args, message) in cases {
        let o = brink()
            .current_dir(tmp.path())
            .args(["slurm", "--shards", "2", "--dir", "job"])
            .args(&args)
            .output()
            .unwrap();
        let e = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {e}");
        assert!(e.contains(message), "{args:?}: {message:?} not in\n{e}");
        assert!(!tmp.path().join("job").exists(), "{args:?} wrote the job directory");
    }
    // The command's own --help is shown, and nothing is written.
    let o = brink()
        .current_dir(tmp.path())
        .args(["slurm", "--shards", "2", "--dir", "job", "--", "sweep", "--help"])
        .output()
        .unwrap();
    assert!(o.status.success());
    assert!(String::from_utf8_lossy(&o.stdout).contains("Usage: brink sweep"));
    assert!(!tmp.path().join("job").exists());
}

/// A directory holding `sh` and a stand-in `sbatch` that logs its arguments and answers
/// with job ids 41, 42, ... (or fails, if `fail`).
fn fake_path(dir: &Path, fail: bool) -> PathBuf {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::os::unix::fs::symlink("/bin/sh", bin.join("sh")).unwrap();
    let log = dir.join("sbatch.log");
    let body = if fail {
        "echo 'sbatch: error: Batch job submission failed' >&2; exit 1".to_string()
    } else {
        format!(
            "echo \"$*\" >> '{log}'\nn=$(/usr/bin/wc -l < '{log}')\necho \"$((40 + n));cluster\"",
            log = log.display()
        )
    };
    let sbatch = bin.join("sbatch");
    std::fs::write(&sbatch, format!("#!/bin/sh\n{body}\n")).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&sbatch, std::fs::Permissions::from_mode(0o755)).unwrap();
    bin
}

#[test]
fn submit_queues_the_array_then_the_merge_after_it() {
    let tmp = tempfile::tempdir().unwrap();
    let bin = fake_path(tmp.path(), false);
    let job = tmp.path().join("job");
    let o = brink()
        .env("PATH", &bin)
        .args(["slurm", "--shards", "5", "--partition", "short", "--time", "00:05:00", "--submit", "--dir"])
        .arg(&job)
        .args(["--", "run"])
        .arg(bundled("minimal.toml"))
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{out}\n{}", String::from_utf8_lossy(&o.stderr));
    assert!(out.contains("array job 41: 5 shards") && out.contains("merge job 42"), "{out}");
    let log = std::fs::read_to_string(tmp.path().join("sbatch.log")).unwrap();
    let lines: Vec<&str> = log.lines().collect();
    assert_eq!(
        lines,
        [
            format!("--parsable --array=0-4 {}", job.join("brink-array.sbatch").display()),
            format!(
                "--parsable --dependency=afterok:41 --kill-on-invalid-dep=yes {}",
                job.join("brink-merge.sbatch").display()
            ),
        ]
    );
    assert_eq!(std::fs::read_to_string(job.join("array.jobid")).unwrap(), "41\n");
    assert_eq!(std::fs::read_to_string(job.join("merge.jobid")).unwrap(), "42\n");
    let merge = std::fs::read_to_string(job.join("brink-merge.sbatch")).unwrap();
    assert!(merge.contains("#SBATCH --partition=short\n#SBATCH --time=00:05:00\n"), "{merge}");
}

#[test]
fn bad_slurm_options_and_a_failed_submission_are_reported() {
    let tmp = tempfile::tempdir().unwrap();
    let bin = fake_path(tmp.path(), true);
    let o = brink()
        .env("PATH", &bin)
        .args(["slurm", "--shards", "2", "--submit", "--dir"])
        .arg(tmp.path().join("job"))
        .args(["--", "run"])
        .arg(bundled("minimal.toml"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(e.contains("Batch job submission failed") && e.contains("submit.sh"), "{e}");
    for (args, message) in [
        (vec!["--shards", "0"], "0"),
        (vec!["--shards", "2", "--partition", "a b"], "not a plain Slurm value"),
        (vec!["--shards", "2", "--time", "1;reboot"], "not a plain Slurm value"),
    ] {
        let o = brink()
            .arg("slurm")
            .args(&args)
            .arg("--dir")
            .arg(tmp.path().join("other"))
            .args(["--", "run"])
            .arg(bundled("minimal.toml"))
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(String::from_utf8_lossy(&o.stderr).contains(message), "{args:?}");
    }
    let o = brink()
        .args(["slurm", "--shards", "2", "--dir"])
        .arg(tmp.path().join("with space"))
        .args(["--", "run"])
        .arg(bundled("minimal.toml"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("white space"));
}

/// The job that `deploy/slurm/` shows: 16 shards of a million trials.
fn example() -> SlurmJob {
    SlurmJob {
        brink: "/opt/brink/bin/brink".into(),
        workdir: "/shared/brink".into(),
        dir: "/shared/brink/jobs/baghdad-2020".into(),
        out: "/shared/brink/jobs/baghdad-2020/results".into(),
        command: "run".into(),
        name: "brink-baghdad-2020".into(),
        shards: 16,
        args: ["scenarios/baghdad-2020.toml", "--trials", "1000000", "--seed", "20201220"]
            .map(String::from)
            .to_vec(),
        merge_args: ["--charts", "both", "--chart-size", "1200x800"].map(String::from).to_vec(),
        force: false,
        partition: Some("compute".into()),
        time: Some("00:30:00".into()),
        account: None,
        cpus_per_task: 4,
    }
}

#[test]
fn the_deploy_examples_are_what_brink_slurm_writes() {
    let deploy = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("deploy/slurm");
    let job = example();
    for (name, text) in [
        ("brink-array.sbatch", job.array_script()),
        ("brink-merge.sbatch", job.merge_script()),
        ("submit.sh", job.submit_script()),
    ] {
        let path = deploy.join(name);
        if std::env::var_os("BRINK_BLESS").is_some() {
            std::fs::write(&path, &text).unwrap();
        }
        let have = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            have == text,
            "{} is not what brink slurm writes; regenerate with BRINK_BLESS=1 cargo test deploy",
            path.display()
        );
    }
}
