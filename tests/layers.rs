//! The layering rule of docs/ARCHITECTURE.md, checked on the source: each layer of `src/`
//! may name only its own layer and the layers before it (paths from `crate::` or climbing
//! out with `super::`, in code, not in comments or strings), so data flows one way; and no
//! two modules name each other, directly or around a longer loop.

use crate::util::rust_files;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The layers, lowest first. A file in layer i may name layers 0..=i.
const LAYERS: [&str; 7] = ["sim", "scenario", "analysis", "output", "shard", "present", "cli"];

/// A module the `output` layer must not name although the order allows it.
const OUTPUT_MUST_NOT_NAME: &str = "runner";

/// The commands `cli/slurm.rs` must not name: each gives the CLI root a `Plan` instead.
const COMMANDS: [&str; 10] =
    ["run", "compare", "explore", "merge", "backtest", "epistemic", "trace", "check", "plot", "graph"];

/// The source with comments and the contents of string and char literals blanked out, so
/// that only code can name a module. Line breaks are kept, so line numbers stay right.
fn code_only(src: &str) -> String {
    let b = src.as_bytes();
    let mut out = String::with_capacity(src.len());
    let mut i = 0;
    while i < b.len() {
        let c = b[i] as char;
        let next = b.get(i + 1).map(|&x| x as char);
        if c == '/' && next == Some('/') {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            i += 2;
            while i < b.len() && !(b[i] == b'*' && b.get(i + 1) == Some(&b'/')) {
                if b[i] == b'\n' {
                    out.push('\n');
                }
                i += 1;
            }
            i += 2;
        } else if c == '"' || (c == 'r' && (next == Some('"') || next == Some('#'))) {
            // A string, plain or raw (r"..", r#".."#): keep only its line breaks.
            let (raw, mut hashes) = (c == 'r', 0);
            if raw {
                i += 1;
                while b.get(i) == Some(&b'#') {
                    hashes += 1;
                    i += 1;
                }
                if b.get(i) != Some(&b'"') {
                    out.push('r');
                    continue;
                }
            }
            i += 1;
            out.push(' ');
            while i < b.len() {
                if !raw && b[i] == b'\\' {
                    i += 2;
                    continue;
                }
                if b[i] == b'"' && (0..hashes).all(|h| b.get(i + 1 + h) == Some(&b'#')) {
                    i += 1 + hashes;
                    break;
                }
                if b[i] == b'\n' {
                    out.push('\n');
                }
                i += 1;
            }
            out.push(' ');
        } else if c == '\'' && b.get(i + 2) == Some(&b'\'') {
            out.push_str("' '");
            i += 3;
        } else if c == '\'' && next == Some('\\') {
            // An escaped char literal such as '\n' or '\''.
            i += 2;
            while i < b.len() && b[i] != b'\'' {
                i += 1;
            }
            i += 1;
            out.push_str("' '");
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

/// An identifier starting at `s`.
fn ident(s: &str) -> &str {
    &s[..s.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(s.len())]
}

/// The module paths a line of code names, from the crate root: `crate::a::b` as written,
/// `super::` resolved from `module` (the file's own path), a group `{x, y::z}` opened right
/// after a prefix expanded into one path per member.
fn named_paths(line: &str, module: &[String]) -> Vec<(Vec<String>, bool)> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < line.len() {
        let rest = &line[at..];
        let from_super = rest.find("super::").is_some_and(|s| rest.find("crate::").is_none_or(|c| s < c));
        let (start, mut base): (usize, Vec<String>) = match (rest.find("crate::"), rest.find("super::")) {
            (None, None) => break,
            (Some(c), s) if s.is_none_or(|s| c < s) => (c + "crate::".len(), Vec::new()),
            (_, Some(s)) => {
                // Climb one level per `super::`, from the file's module.
                let mut up = module.to_vec();
                let mut j = s;
                while rest[j..].starts_with("super::") {
                    up.pop();
                    j += "super::".len();
                }
                (j, up)
            }
            (Some(_), None) => unreachable!("covered by the arm above"),
        };
        // A `crate::` inside a longer identifier (`mycrate::`) is not a path.
        let before = rest[..start].trim_end_matches("crate::").chars().last();
        if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') && base.is_empty() {
            at += start;
            continue;
        }
        let mut j = start;
        loop {
            let s = &rest[j..];
            if let Some(group) = s.strip_prefix('{') {
                let end = group.find('}').unwrap_or(group.len());
                for member in group[..end].split(',') {
                    let mut path = base.clone();
                    path.extend(
                        member
                            .trim()
                            .split("::")
                            .map(|p| ident(p.trim()).to_owned())
                            .filter(|p| !p.is_empty()),
                    );
                    out.push((path, from_super));
                }
                j += 1 + end;
                break;
            }
            let name = ident(s);
            if name.is_empty() {
                out.push((base.clone(), from_super));
                break;
            }
            base.push(name.to_owned());
            j += name.len();
            if rest[j..].starts_with("::") {
                j += 2;
            } else {
                out.push((base.clone(), from_super));
                break;
            }
        }
        at += j.max(1);
    }
    out
}

/// A file's module path: `sim/engine.rs` is `[sim, engine]`, `sim/mod.rs` is `[sim]`.
fn module_of(rel: &Path) -> Vec<String> {
    let mut parts: Vec<String> =
        rel.with_extension("").components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    parts
}

/// The violations of the rules in the source tree under `src`.
fn violations(src: &Path) -> Vec<String> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    files.sort();
    // Module nodes for the cycle check: a layer's files and folders (two levels deep).
    let modules: BTreeSet<Vec<String>> =
        files.iter().map(|f| module_of(f.strip_prefix(src).unwrap()).into_iter().take(2).collect()).collect();
    let node = |path: &[String]| -> Vec<String> {
        let two: Vec<String> = path.iter().take(2).cloned().collect();
        if modules.contains(&two) {
            two
        } else {
            path.iter().take(1).cloned().collect()
        }
    };
    let mut edges: BTreeMap<Vec<String>, BTreeMap<Vec<String>, String>> = BTreeMap::new();
    let mut out = Vec::new();
    for file in files {
        let rel = file.strip_prefix(src).unwrap();
        let module = module_of(rel);
        let first = module.first().cloned().unwrap_or_default();
        let Some(rank) = LAYERS.iter().position(|l| *l == first) else {
            assert!(
                ["lib", "main"].contains(&first.as_str()),
                "src/{} is in no layer: put it in one of {LAYERS:?}",
                rel.display()
            );
            continue;
        };
        let text = code_only(&std::fs::read_to_string(&file).unwrap());
        for (n, line) in text.lines().enumerate() {
            let at = format!("src/{}:{}", rel.display(), n + 1);
            for (path, from_super) in named_paths(line, &module) {
                let Some(layer) = path.first() else { continue };
                match LAYERS.iter().position(|l| l == layer) {
                    Some(r) if r > rank => out.push(format!(
                        "{at}: layer `{first}` names `crate::{}`, a layer after it",
                        path.join("::")
                    )),
                    // `super::` out of an inline `mod tests` can climb past a file's
                    // module: a name that is no layer is such a path, not a violation.
                    _ => {}
                }
                if first == "output" && path.len() > 1 && path[0] == "sim" && path[1] == OUTPUT_MUST_NOT_NAME
                {
                    out.push(format!(
                        "{at}: `output` names `crate::sim::runner`: output writes and reads files; \
                         running trials is the caller's job"
                    ));
                }
                if rel == Path::new("cli/slurm.rs")
                    && path.len() > 1
                    && path[0] == "cli"
                    && COMMANDS.contains(&path[1].as_str())
                {
                    out.push(format!("{at}: the Slurm planner names the `{}` command", path[1]));
                }
                // Loops are looked for among `crate::` paths: `super::` names the
                // module's own parent (or, from an inline `mod tests`, the module itself).
                if !from_super && LAYERS.contains(&layer.as_str()) {
                    let (from, to) = (node(&module), node(&path));
                    if from != to {
                        edges.entry(from).or_default().entry(to).or_insert_with(|| at.clone());
                    }
                }
            }
            // `use crate::sim;` then `sim::runner::...`: output may not name the module at all.
            if first == "output"
                && line
                    .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .any(|w| w == OUTPUT_MUST_NOT_NAME)
            {
                out.push(format!("{at}: `output` names `{OUTPUT_MUST_NOT_NAME}`"));
            }
        }
    }
    out.extend(cycles(&edges));
    out.dedup();
    out
}

/// Every loop of modules naming each other, each with one line where it closes.
fn cycles(edges: &BTreeMap<Vec<String>, BTreeMap<Vec<String>, String>>) -> Vec<String> {
    // Depth-first search with three colours; a grey target closes a loop.
    fn visit(
        v: &Vec<String>,
        edges: &BTreeMap<Vec<String>, BTreeMap<Vec<String>, String>>,
        colour: &mut BTreeMap<Vec<String>, u8>,
        stack: &mut Vec<Vec<String>>,
        out: &mut Vec<String>,
    ) {
        colour.insert(v.clone(), 1);
        stack.push(v.clone());
        for (w, at) in edges.get(v).into_iter().flatten() {
            match colour.get(w).copied().unwrap_or(0) {
                0 => visit(w, edges, colour, stack, out),
                1 => {
                    let from = stack.iter().position(|s| s == w).unwrap_or(0);
                    let names: Vec<String> = stack[from..].iter().map(|m| m.join("::")).collect();
                    out.push(format!(
                        "{at}: modules name each other in a loop: {} -> {}",
                        names.join(" -> "),
                        w.join("::")
                    ));
                }
                _ => {}
            }
        }
        stack.pop();
        colour.insert(v.clone(), 2);
    }
    let mut colour = BTreeMap::new();
    let mut out = Vec::new();
    for v in edges.keys() {
        if colour.get(v).copied().unwrap_or(0) == 0 {
            visit(v, edges, &mut colour, &mut Vec::new(), &mut out);
        }
    }
    out
}

#[test]
fn every_layer_names_only_itself_and_the_layers_before_it() {
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src");
    let found = violations(&src);
    assert!(found.is_empty(), "{} layering violations:\n{}", found.len(), found.join("\n"));
}

/// Writes `files` (path, text) into a fresh tree and returns its violations.
fn check(files: &[(&str, &str)]) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    for (path, text) in files {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    violations(dir.path())
}

#[test]
fn the_check_sees_every_way_of_naming_a_later_layer() {
    let fine = "// crate::cli in a comment\nconst S: &str = \"crate::cli:: http://x\";\n/* crate::cli */ use crate::sim::rng;\n";
    assert!(
        check(&[("sim/engine.rs", fine), ("sim/rng.rs", "")]).is_empty(),
        "{:?}",
        check(&[("sim/engine.rs", fine)])
    );
    let cases = [
        (
            "sim/runner.rs",
            "use crate::output::trials::TrialRows;\n",
            "src/sim/runner.rs:1: layer `sim` names `crate::output::trials::TrialRows`",
        ),
        ("sim/mod.rs", "use super::cli::main;\n", "src/sim/mod.rs:1: layer `sim` names `crate::cli::main`"),
        (
            "sim/engine.rs",
            "fn f() { super::super::present::x(); }\n",
            "src/sim/engine.rs:1: layer `sim` names `crate::present::x`",
        ),
        (
            "sim/engine.rs",
            "use crate::{sim::rng, cli::main};\n",
            "src/sim/engine.rs:1: layer `sim` names `crate::cli::main`",
        ),
        (
            "sim/engine.rs",
            "let s = \"http://x\"; crate::cli::main()\n",
            "src/sim/engine.rs:1: layer `sim` names `crate::cli::main`",
        ),
        (
            "output/trials.rs",
            "use crate::sim::{runner::run_set, stats};\n",
            "src/output/trials.rs:1: `output` names `crate::sim::runner`",
        ),
        (
            "output/trials.rs",
            "use crate::sim;\nfn f() { sim::runner::run(); }\n",
            "src/output/trials.rs:2: `output` names `runner`",
        ),
        (
            "cli/slurm.rs",
            "use crate::cli::explore::sweep_plan;\n",
            "src/cli/slurm.rs:1: the Slurm planner names the `explore` command",
        ),
        (
            "cli/slurm.rs",
            "use super::{run, compare};\n",
            "src/cli/slurm.rs:1: the Slurm planner names the `run` command",
        ),
    ];
    for (path, text, want) in cases {
        let found = check(&[(path, text)]);
        assert!(
            found.iter().any(|f| f.starts_with(want)),
            "{path}: {text:?}\nwant {want:?}\nfound {found:#?}"
        );
    }
}

#[test]
fn the_check_sees_modules_that_name_each_other() {
    let found = check(&[
        ("sim/model.rs", "use crate::sim::params::ParamDist;\n"),
        ("sim/params.rs", "\nuse crate::sim::model::Model;\n"),
    ]);
    assert!(
        found.iter().any(|f| f.contains("modules name each other in a loop: sim::model -> sim::params -> sim::model")),
        "{found:#?}"
    );
}
