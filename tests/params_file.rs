//! `--params FILE`: a `[params]` table from a file of its own (what `brink fit` writes),
//! applied after the variant and before `--set`, in every command that reads a scenario;
//! errors located in the params file; recorded in the manifest; carried by shards, whose
//! merge refuses shards that used different params files.

use crate::shards::{assert_same_folder, ok, refused};
use crate::util::{brink, Table};
use std::path::{Path, PathBuf};

/// One step, `shot`, fires `rate` times a day; each firing hits (raises to `hit`) with
/// probability `p_hit`. With rate 5 over 10 days a trial has no firing with probability
/// e^-50, so P(hit) is 1 when p_hit = 1 and 0 when p_hit = 0, exactly.
const SCENARIO: &str = r#"[scenario]
name = "pfix"
horizon_days = 10
trials = 300
seed = 3

[params]
rate = 5
p_hit = 0.1
spare = 7

[[levels]]
id = "calm"

[[levels]]
id = "hit"

[[steps]]
id = "shot"
rate = "rate"

  [[steps.branches]]
  id = "hit"
  p = "p_hit"
  raise_to = "hit"

  [[steps.branches]]
  id = "miss"
  p = "rest"

[variants.v]
p_hit = 0.2
"#;

/// One firing only, on day 1: P(hit) is the mean of p_hit's distribution.
const ONE_SHOT: &str = r#"[scenario]
name = "oneshot"
horizon_days = 5
trials = 4000
seed = 11

[params]
p_hit = 0.1

[[levels]]
id = "calm"

[[levels]]
id = "hit"

[[steps]]
id = "shot"

  [[steps.branches]]
  id = "hit"
  p = "p_hit"
  raise_to = "hit"

  [[steps.branches]]
  id = "miss"
  p = "rest"

[[schedule]]
step = "shot"
day = 1
"#;

/// Writes `text` to `dir/name` and returns the path.
fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// A fresh folder with the fixture scenario and a params file setting p_hit = 0.3 (with
/// the comments `brink fit` writes).
fn fixture() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let scenario = write(tmp.path(), "pfix.toml", SCENARIO);
    let params = write(
        tmp.path(),
        "params.toml",
        "# brink fit pfix.toml --events log.csv\n[params]\n# a comment per param\np_hit = 0.3\n",
    );
    (tmp, scenario, params)
}

fn manifest(dir: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap()
}

/// `brink run` of `scenario` with `args` into `dir/name`; returns the folder.
fn run(scenario: &Path, dir: &Path, name: &str, args: &[&str]) -> PathBuf {
    let out = dir.join(name);
    ok(brink()
        .arg("run")
        .arg(scenario)
        .args(args)
        .args(["--trials", "50", "--charts", "none", "--quiet", "--out"])
        .arg(&out));
    out
}

/// `p_hit` as the run's manifest records it.
fn p_hit(out: &Path) -> f64 {
    manifest(out)["params"]["p_hit"].as_f64().unwrap()
}

/// P(reached) of level `hit` in levels.csv, as written.
fn p_reached_hit(out: &Path) -> f64 {
    let t = Table::read(&out.join("levels.csv"));
    t.num(t.row("level", "hit"), "p_reached")
}

/// Runs brink with `args`, which must fail with exit code 2; returns stderr.
fn bad_input(args: &[&std::ffi::OsStr]) -> String {
    let o = brink().args(args).output().unwrap();
    assert_eq!(o.status.code(), Some(2), "should exit 2: {}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn precedence_is_file_then_variant_then_params_file_then_set() {
    let (tmp, sc, pf) = fixture();
    let d = tmp.path();
    let pf = pf.to_str().unwrap();
    // The file alone, then the variant over the file.
    assert_eq!(p_hit(&run(&sc, d, "file", &[])), 0.1);
    assert_eq!(p_hit(&run(&sc, d, "variant", &["--variant", "v"])), 0.2);
    // The params file over the file, and over the variant.
    let over_file = run(&sc, d, "params", &["--params", pf]);
    assert_eq!(p_hit(&over_file), 0.3);
    assert_eq!(p_hit(&run(&sc, d, "variant-params", &["--variant", "v", "--params", pf])), 0.3);
    // --set over the params file (and the variant), wherever it is on the command line.
    let all = ["--set", "p_hit=0.4", "--variant", "v", "--params", pf];
    assert_eq!(p_hit(&run(&sc, d, "all", &all)), 0.4);
    // A param the params file does not name keeps the file's value.
    assert_eq!(manifest(&over_file)["params"]["spare"], 7.0);
    assert_eq!(manifest(&over_file)["params"]["rate"], 5.0);
    // `brink check` shows the value the params file set.
    let text = ok(brink().arg("check").arg(&sc).args(["--params", pf]));
    assert!(text.lines().any(|l| l.split_whitespace().collect::<Vec<_>>() == ["p_hit", "0.3"]), "{text}");
}

#[test]
fn the_simulation_uses_the_params_files_value() {
    let tmp = tempfile::tempdir().unwrap();
    let sc = write(tmp.path(), "pfix.toml", &SCENARIO.replace("p_hit = 0.1", "p_hit = 0"));
    let one = write(tmp.path(), "one.toml", "[params]\np_hit = 1\n");
    let one = one.to_str().unwrap();
    // p_hit = 0 in the file: nothing is hit; the params file's 1: every trial is.
    assert_eq!(p_reached_hit(&run(&sc, tmp.path(), "file", &[])), 0.0);
    assert_eq!(p_reached_hit(&run(&sc, tmp.path(), "params", &["--params", one])), 1.0);
    assert_eq!(p_reached_hit(&run(&sc, tmp.path(), "set", &["--params", one, "--set", "p_hit=0"])), 0.0);
}

#[test]
fn a_distribution_in_the_params_file_makes_the_param_uncertain() {
    let tmp = tempfile::tempdir().unwrap();
    let sc = write(tmp.path(), "oneshot.toml", ONE_SHOT);
    let pf = write(
        tmp.path(),
        "params.toml",
        "[params]\np_hit = { value = { beta = [3, 1] }, source = \"fit\", note = \"Jeffreys\" }\n",
    );
    let out = tmp.path().join("out");
    ok(brink()
        .arg("run")
        .arg(&sc)
        .arg("--params")
        .arg(&pf)
        .args(["--charts", "none", "--quiet", "--out"])
        .arg(&out));
    let m = manifest(&out);
    // Compiled at its mean, 3 / (3 + 1), and drawn per trial from beta(3, 1).
    assert_eq!(m["params"]["p_hit"], 0.75);
    let prov = &m["provenance"][0];
    assert_eq!(prov["param"], "p_hit");
    assert!(prov["distribution"].as_str().unwrap().starts_with("beta"), "{prov}");
    assert_eq!(prov["source"], "fit");
    assert_eq!(prov["note"], "Jeffreys");
    // One firing: P(hit) = E[p_hit] = 0.75 (not the file's 0.1), within 99.9% of 4000 trials.
    let p = p_reached_hit(&out);
    let tol = crate::util::tol(0.75 * 0.25, 4000);
    assert!((p - 0.75).abs() < tol, "P(hit) = {p}, expected 0.75 +- {tol}");
    // `brink check` names the distribution.
    let text = ok(brink().arg("check").arg(&sc).arg("--params").arg(&pf));
    assert!(text.contains("beta"), "{text}");
    // The two-loop run draws it: without the params file the scenario has no distribution.
    let two = tmp.path().join("two");
    let run2 = |with: bool| {
        let mut c = brink();
        c.arg("run").arg(&sc).args(["--epistemic", "3", "--trials", "100", "--charts", "none", "--quiet"]);
        if with {
            c.arg("--params").arg(&pf);
        }
        c.arg("--out").arg(&two).output().unwrap()
    };
    assert_eq!(run2(false).status.code(), Some(2));
    let o = run2(true);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let draws = Table::read(&two.join("params.csv"));
    assert!(draws.headers.iter().any(|h| h == "p_hit"), "{:?}", draws.headers);
}

#[test]
fn errors_in_the_params_file_name_its_line_and_column() {
    let (tmp, sc, _) = fixture();
    let d = tmp.path();
    let args = |pf: &Path| -> Vec<std::ffi::OsString> {
        vec!["check".into(), sc.clone().into(), "--params".into(), pf.into()]
    };
    let err = |pf: &Path| bad_input(&args(pf).iter().map(|s| s.as_os_str()).collect::<Vec<_>>());
    // An unknown param: where, and what was meant.
    let pf = write(d, "typo.toml", "# fitted\n[params]\np_hti = 0.3\n");
    let e = err(&pf);
    assert!(e.contains(&format!("{}:3:1", pf.display())), "{e}");
    assert!(e.contains("`p_hti` is not a param") && e.contains("did you mean `p_hit`?"), "{e}");
    // TOML syntax.
    let pf = write(d, "syntax.toml", "[params]\np_hit = = 0.3\n");
    let e = err(&pf);
    assert!(e.contains(&format!("{}:2:9", pf.display())), "{e}");
    // A table other than [params].
    let pf = write(d, "other.toml", "[params]\np_hit = 0.3\n\n[scenario]\nname = \"x\"\n");
    let e = err(&pf);
    assert!(e.contains(&format!("{}:4:2", pf.display())) && e.contains("unknown field `scenario`"), "{e}");
    assert!(e.contains("only a [params] table"), "{e}");
    // No [params] at all.
    let pf = write(d, "empty.toml", "# nothing\n");
    let e = err(&pf);
    assert!(e.contains(&pf.display().to_string()) && e.contains("missing field `params`"), "{e}");
    // A missing file.
    let e = err(&d.join("nowhere.toml"));
    assert!(e.contains("cannot read params file") && e.contains("nowhere.toml"), "{e}");
    // A distribution not valid everywhere the param is used: located in the params file.
    let pf = write(d, "gamma.toml", "[params]\n\np_hit = { gamma = { mean = 0.5, shape = 2 } }\n");
    let e = err(&pf);
    assert!(e.contains(&format!("{}:3:9", pf.display())) && e.contains("can take the value"), "{e}");
    // A number not valid where the param is used: at the use, blamed on the params file.
    let pf = write(d, "two.toml", "[params]\np_hit = 2\n");
    let e = err(&pf);
    assert!(e.contains(&format!("as set by --params {}", pf.display())), "{e}");
    assert!(e.contains(&format!("{}:", sc.display())), "{e}");
}

#[test]
fn the_manifest_records_the_params_file() {
    use sha2::{Digest, Sha256};
    let (tmp, sc, pf) = fixture();
    let with = run(&sc, tmp.path(), "with", &["--params", pf.to_str().unwrap()]);
    let m = manifest(&with);
    let bytes = std::fs::read(&pf).unwrap();
    let hex: String = Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(m["params_file"]["file"], pf.display().to_string());
    assert_eq!(m["params_file"]["sha256"], hex);
    assert_eq!(m["params_file"]["params"], serde_json::json!(["p_hit"]));
    // The report says where the params came from, and reproduces the run with it.
    let report = std::fs::read_to_string(with.join("report.html")).unwrap();
    assert!(report.contains(&format!("--params {}", pf.display())), "the report's command lacks --params");
    assert!(report.contains("params from <code>"), "the report does not name the params file");
    // Without the option the manifest has no such field (tests/checksums.rs holds the bytes).
    let without = run(&sc, tmp.path(), "without", &[]);
    assert!(manifest(&without).get("params_file").is_none());
    // The folder kinds with a manifest of their own record it too.
    let sweep = tmp.path().join("sweep");
    ok(brink()
        .arg("sweep")
        .arg(&sc)
        .args(["--param", "rate=1:2:2", "--params", pf.to_str().unwrap(), "--trials", "50"])
        .args(["--charts", "none", "--quiet", "--out"])
        .arg(&sweep));
    assert_eq!(manifest(&sweep)["params_file"]["sha256"], hex);
    let sens = tmp.path().join("sens");
    ok(brink()
        .arg("sensitivity")
        .arg(&sc)
        .args(["--params", pf.to_str().unwrap(), "--trials", "50", "--charts", "none", "--quiet", "--out"])
        .arg(&sens));
    assert_eq!(manifest(&sens)["params_file"]["sha256"], hex);
}

#[test]
fn compare_applies_the_params_file_to_every_run() {
    let (tmp, sc, pf) = fixture();
    let out = tmp.path().join("cmp");
    ok(brink()
        .arg("compare")
        .arg(&sc)
        .args(["--variants", "baseline,v", "--params", pf.to_str().unwrap(), "--trials", "50"])
        .args(["--charts", "none", "--quiet", "--out"])
        .arg(&out));
    for run in ["baseline", "v"] {
        let m = manifest(&out.join(run));
        assert_eq!(m["params"]["p_hit"], 0.3, "{run}");
        assert_eq!(m["params_file"]["params"], serde_json::json!(["p_hit"]), "{run}");
    }
    // Results folders are compared as they are: a params file has nothing to apply to.
    let (a, b) = (run(&sc, tmp.path(), "a", &[]), run(&sc, tmp.path(), "b", &[]));
    let e = bad_input(&[
        "compare".as_ref(),
        a.as_os_str(),
        b.as_os_str(),
        "--params".as_ref(),
        pf.as_os_str(),
        "--out".as_ref(),
        tmp.path().join("ab").as_os_str(),
    ]);
    assert!(e.contains("--params"), "{e}");
}

#[test]
fn trace_uses_the_params_file() {
    let tmp = tempfile::tempdir().unwrap();
    let sc = write(tmp.path(), "pfix.toml", &SCENARIO.replace("p_hit = 0.1", "p_hit = 0"));
    let one = write(tmp.path(), "one.toml", "[params]\np_hit = 1\n");
    let text = ok(brink().arg("trace").arg(&sc).arg("--params").arg(&one).args(["--find", "hit"]));
    assert!(text.contains("shot.hit [spontaneous]; level calm -> hit"), "{text}");
    // p_hit = 0 without it: no trial reaches `hit`.
    let o = brink().arg("trace").arg(&sc).args(["--find", "hit"]).output().unwrap();
    assert!(!String::from_utf8_lossy(&o.stdout).contains("shot.hit"));
}

#[test]
fn shards_carry_the_params_file_and_merge_refuses_different_ones() {
    let (tmp, sc, pf) = fixture();
    let d = tmp.path();
    let other = write(d, "other.toml", "[params]\np_hit = { beta = [3, 7] }\n");
    let shard = |k: u64, pf: &Path| {
        let out = d.join(format!("shard-{k}-{}", pf.file_stem().unwrap().to_string_lossy()));
        ok(brink()
            .arg("run")
            .arg(&sc)
            .arg("--params")
            .arg(pf)
            .args(["--trials", "300", "--shard", &format!("{k}/2"), "--quiet", "--out"])
            .arg(&out));
        out
    };
    let (s0, s1) = (shard(0, &pf), shard(1, &pf));
    // The same params file: the merge is the single run, params_file included.
    let merged = d.join("merged");
    ok(brink().arg("merge").arg(&s0).arg(&s1).arg("--out").arg(&merged));
    let single = d.join("single");
    ok(brink()
        .arg("run")
        .arg(&sc)
        .arg("--params")
        .arg(&pf)
        .args(["--trials", "300", "--quiet", "--out"])
        .arg(&single));
    assert_same_folder(&single, &merged, "sharded with --params");
    assert_eq!(manifest(&merged)["params_file"], manifest(&single)["params_file"]);
    // A shard that used another params file is refused, by name.
    let s1_other = shard(1, &other);
    let e = refused(&[&s0, &s1_other], &d.join("mixed"));
    assert!(e.contains("--params file"), "{e}");
}

#[test]
fn compare_shards_merge_with_the_params_file() {
    let (tmp, sc, pf) = fixture();
    let d = tmp.path();
    let args = ["--variants", "baseline,v", "--trials", "300", "--charts", "none", "--quiet"];
    let shards: Vec<PathBuf> = (0..2)
        .map(|k| {
            let out = d.join(format!("cmp-{k}"));
            ok(brink()
                .arg("compare")
                .arg(&sc)
                .arg("--params")
                .arg(&pf)
                .args(args)
                .args(["--shard", &format!("{k}/2"), "--out"])
                .arg(&out));
            out
        })
        .collect();
    let merged = d.join("merged");
    ok(brink().arg("merge").args(&shards).args(["--charts", "none", "--out"]).arg(&merged));
    let single = d.join("single");
    ok(brink().arg("compare").arg(&sc).arg("--params").arg(&pf).args(args).arg("--out").arg(&single));
    assert_same_folder(&single, &merged, "compare sharded with --params");
    assert_eq!(manifest(&merged.join("v"))["params"]["p_hit"], 0.3);
}

#[test]
fn slurm_jobs_pass_a_relative_params_file_through() {
    let (tmp, _, _) = fixture();
    let d = tmp.path();
    let o = brink()
        .current_dir(d)
        .args(["slurm", "--shards", "2", "--dir", "job", "--", "run", "pfix.toml", "--params", "params.toml"])
        .args(["--trials", "300", "--charts", "none"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let job = d.join("job");
    // Each task and the merge run where `brink slurm` ran (#SBATCH --chdir), so the
    // relative path names the same file.
    for task in [Some(0), Some(1), None] {
        let script = job.join(if task.is_some() { "brink-array.sbatch" } else { "brink-merge.sbatch" });
        let mut c = std::process::Command::new("bash");
        c.arg(&script).current_dir(d).env_remove("SLURM_CPUS_PER_TASK");
        match task {
            Some(k) => c.env("SLURM_ARRAY_TASK_ID", k.to_string()),
            None => c.env_remove("SLURM_ARRAY_TASK_ID"),
        };
        let out = c.output().unwrap();
        assert!(out.status.success(), "{task:?}: {}", String::from_utf8_lossy(&out.stderr));
    }
    let m = manifest(&job.join("results"));
    assert_eq!(m["params"]["p_hit"], 0.3);
    assert_eq!(m["params_file"]["file"], "params.toml");
    // A params file that does not fit the scenario is refused before any job is written.
    write(d, "typo.toml", "[params]\np_hti = 0.3\n");
    let e = brink()
        .current_dir(d)
        .args(["slurm", "--shards", "2", "--dir", "job2", "--", "run", "pfix.toml", "--params", "typo.toml"])
        .output()
        .unwrap();
    assert_eq!(e.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&e.stderr).contains("typo.toml:2:1"));
    assert!(!d.join("job2").exists());
}

#[test]
fn backtest_takes_the_params_file_brink_fit_writes() {
    let tmp = tempfile::tempdir().unwrap();
    let pf = write(
        tmp.path(),
        "params.toml",
        "# brink fit scenarios/hindcast-2019-2021.toml --events data/events-iraq-2019-2021.csv --to 2020-07-01\n\
         [params]\n\
         # Poisson rate, exposure-weighted MLE 0.147/day [0.12, 0.18] (Garwood); Gamma posterior under Jeffreys' prior\n\
         rate_front_rockets = { gamma = { mean = 0.149, shape = 40.5 } }\n",
    );
    let out = tmp.path().join("bt");
    let data = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data");
    ok(brink()
        .arg("backtest")
        .arg(crate::util::bundled("hindcast-2019-2021.toml"))
        .arg("--observed")
        .arg(data.join("observed-2019-2021.csv"))
        .arg("--params")
        .arg(&pf)
        .args(["--trials", "200", "--seed", "7", "--charts", "none", "-q", "--out"])
        .arg(&out));
    let m = manifest(&out);
    assert_eq!(m["params_file"]["params"], serde_json::json!(["rate_front_rockets"]));
    // The report's parameter table shows the fitted distribution.
    let report = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(report.contains("gamma(mean 0.149, shape 40.5)"), "the fitted distribution is in the report");
}

/// `--params A --params B`: B's value stands where both set a param, A's where only A
/// does; a mistake in B is shown under a comment naming B's file and line; the manifest
/// records the layered file with each file's SHA-256.
#[test]
fn params_files_layer_in_order() {
    let (tmp, sc, a) = fixture();
    let d = tmp.path();
    let b = write(d, "b.toml", "[params]\n# hindsight\nrate = 6\n");
    let (a_s, b_s) = (a.to_str().unwrap(), b.to_str().unwrap());
    let out = run(&sc, d, "layered", &["--params", a_s, "--params", b_s]);
    assert_eq!(p_hit(&out), 0.3, "only A sets p_hit");
    assert_eq!(manifest(&out)["params"]["rate"], 6.0, "B sets rate");
    let c = write(d, "c.toml", "[params]\np_hit = 0.5\n");
    let out = run(&sc, d, "later-wins", &["--params", a_s, "--params", c.to_str().unwrap()]);
    assert_eq!(p_hit(&out), 0.5, "the later file's p_hit stands");
    let record = &manifest(&out)["params_file"];
    assert_eq!(record["file"], format!("{a_s} + {}", c.display()));
    // An entry written as a table of its own layers as well as an inline one.
    let table = write(d, "table.toml", "[params.p_hit]\nvalue = 0.6\nsource = \"judgement\"\n");
    let out = run(&sc, d, "table-form", &["--params", a_s, "--params", table.to_str().unwrap()]);
    assert_eq!(p_hit(&out), 0.6, "the table-form entry stands");
    let typo = write(d, "typo.toml", "[params]\n\np_hti = 0.3\n");
    let e = bad_input(&[
        "check".as_ref(),
        sc.as_os_str(),
        "--params".as_ref(),
        a.as_os_str(),
        "--params".as_ref(),
        typo.as_os_str(),
    ]);
    assert!(
        e.contains(&format!("# from {}:3", typo.display())) && e.contains("`p_hti` is not a param"),
        "{e}"
    );
}
