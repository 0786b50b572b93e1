//! The layering rule of docs/ARCHITECTURE.md, checked on the source: each layer of `src/`
//! may name only its own layer and the layers below it (`crate::LAYER` paths in code, not
//! in comments), so data flows one way and no import cycle can come back.

use crate::util::rust_files;
use std::path::{Path, PathBuf};

/// The layers, lowest first. A file in layer i may name layers 0..=i.
const LAYERS: [&str; 7] = ["sim", "scenario", "analysis", "output", "shard", "present", "cli"];

/// Paths a layer must not name although the order above allows it.
const FORBIDDEN: [(&str, &str, &str); 1] =
    [("output", "crate::sim::runner", "output writes and reads files; running trials is the caller's job")];

/// The code of a line without its `//` comment (strings holding `//` do not name modules).
fn code(line: &str) -> &str {
    line.find("//").map_or(line, |i| &line[..i])
}

/// Every `crate::NAME` in a line of code.
fn named_layers(line: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = line;
    while let Some(i) = rest.find("crate::") {
        let after = &rest[i + "crate::".len()..];
        let end = after.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(after.len());
        out.push(&after[..end]);
        rest = &after[end..];
    }
    out
}

/// The violations of the rule in the source tree under `src`.
fn violations(src: &Path) -> Vec<String> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    files.sort();
    let mut out = Vec::new();
    for file in files {
        let rel = file.strip_prefix(src).unwrap();
        let first = rel.components().next().unwrap().as_os_str().to_string_lossy().into_owned();
        let Some(rank) = LAYERS.iter().position(|l| *l == first) else {
            assert!(
                ["lib.rs", "main.rs"].contains(&first.as_str()),
                "src/{} is in no layer: put it in one of {LAYERS:?}",
                rel.display()
            );
            continue;
        };
        let text = std::fs::read_to_string(&file).unwrap();
        for (n, line) in text.lines().enumerate() {
            let line = code(line);
            for named in named_layers(line) {
                match LAYERS.iter().position(|l| *l == named) {
                    Some(r) if r > rank => out.push(format!(
                        "src/{}:{}: layer `{first}` names `crate::{named}`, a layer above it",
                        rel.display(),
                        n + 1
                    )),
                    Some(_) => {}
                    None => {
                        out.push(format!("src/{}:{}: `crate::{named}` is not a layer", rel.display(), n + 1))
                    }
                }
            }
            for (layer, path, why) in FORBIDDEN {
                if first == layer && line.contains(path) {
                    out.push(format!("src/{}:{}: `{layer}` names `{path}`: {why}", rel.display(), n + 1));
                }
            }
            // The Slurm planner takes a Plan from the CLI root; it never calls the commands.
            if rel == Path::new("cli/slurm.rs") {
                for cmd in ["run", "compare", "explore", "merge", "backtest", "epistemic", "trace"] {
                    if line.contains(&format!("super::{cmd}::")) {
                        out.push(format!(
                            "src/cli/slurm.rs:{}: the Slurm planner names the `{cmd}` command",
                            n + 1
                        ));
                    }
                }
            }
        }
    }
    out
}

#[test]
fn every_layer_names_only_itself_and_the_layers_below() {
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src");
    let found = violations(&src);
    assert!(found.is_empty(), "{} layering violations:\n{}", found.len(), found.join("\n"));
}

#[test]
fn the_check_sees_a_layer_naming_one_above_it() {
    let dir = tempfile::tempdir().unwrap();
    let sim = dir.path().join("sim");
    std::fs::create_dir(&sim).unwrap();
    std::fs::write(sim.join("engine.rs"), "// crate::cli in a comment is fine\nuse crate::sim::rng;\n")
        .unwrap();
    assert!(violations(dir.path()).is_empty());
    std::fs::write(sim.join("runner.rs"), "use crate::output::trials::TrialRows;\n").unwrap();
    let found = violations(dir.path());
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].contains("src/sim/runner.rs:1") && found[0].contains("crate::output"), "{found:?}");
}
