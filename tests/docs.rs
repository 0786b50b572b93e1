//! Executable documentation: every ```` ```console ```` block of README.md and docs/*.md
//! runs here, so an example can never go stale.
//!
//! Each page runs in a temporary folder of its own that holds copies of `scenarios/` and
//! `data/`, its commands in the order the page gives them (so a page reads like a session
//! at the terminal: a later command may use the results of an earlier one). An example
//! that writes results needs its own `--out`, as a reader's would. In expected output,
//! `[..]` stands for any text within a line (times, trials/s) and a line `...` for any
//! number of lines. ```` ```text ```` blocks are illustrative and not run.
//!
//! To update the pages after an intended change of output, run
//! `TRYCMD=overwrite cargo test --test docs`: the changed pages are copied back. trycmd then
//! writes each failing example's whole output, without `...` and `[..]`: restore those from
//! the diff before committing.

use std::fs;
use std::path::{Path, PathBuf};

/// The pages whose examples run: README.md and every page under docs/.
fn pages(root: &Path) -> Vec<PathBuf> {
    let mut pages = vec![PathBuf::from("README.md")];
    let mut docs: Vec<PathBuf> = fs::read_dir(root.join("docs"))
        .expect("docs/ is readable")
        .map(|e| e.expect("a docs/ entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .map(|p| p.strip_prefix(root).expect("under the root").to_path_buf())
        .collect();
    docs.sort();
    pages.extend(docs);
    pages
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).expect("create the sandbox folder");
    for entry in fs::read_dir(from).expect("read a folder to copy") {
        let entry = entry.expect("a folder entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("a file type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).expect("copy a file into the sandbox");
        }
    }
}

#[test]
fn readme_and_docs_examples_run_as_shown() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let sandbox = tempfile::tempdir().expect("a temporary folder");
    let pages = pages(root);
    let cases = trycmd::TestCases::new();
    cases.register_bin("brink", Path::new(env!("CARGO_BIN_EXE_brink")));
    // The tutorial shows one results file with `cat`.
    if Path::new("/bin/cat").exists() {
        cases.register_bin("cat", Path::new("/bin/cat"));
    } else {
        cases.register_bin("cat", trycmd::schema::Bin::Ignore);
    }
    for page in &pages {
        // trycmd runs a page's commands in the folder `<page>.in` next to it.
        let copy = sandbox.path().join(page);
        fs::create_dir_all(copy.parent().expect("a page has a folder")).expect("mkdir");
        fs::copy(root.join(page), &copy).expect("copy the page");
        let work = copy.with_extension("in");
        copy_dir(&root.join("scenarios"), &work.join("scenarios"));
        copy_dir(&root.join("data"), &work.join("data"));
        cases.case(&copy);
    }
    cases.run();
    if std::env::var_os("TRYCMD").is_some_and(|m| m == "overwrite") {
        for page in &pages {
            let updated = fs::read(sandbox.path().join(page)).expect("read the updated page");
            if updated != fs::read(root.join(page)).expect("read the page") {
                fs::write(root.join(page), updated).expect("write the page back");
            }
        }
    }
}

/// The Mermaid diagram in docs/explaining.md is rendered by Markdown viewers, so it cannot
/// be a ```` ```console ```` block: compare it with what `brink graph` prints instead.
#[test]
fn the_mermaid_diagram_in_the_docs_is_what_brink_graph_prints() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let page = fs::read_to_string(root.join("docs/explaining.md")).expect("read the page");
    let start = page.find("```mermaid\n").expect("a mermaid block") + "```mermaid\n".len();
    let end = start + page[start..].find("```\n").expect("the block ends");
    let out = std::process::Command::new(Path::new(env!("CARGO_BIN_EXE_brink")))
        .current_dir(root)
        .args(["graph", "scenarios/baghdad-2020.toml", "--format", "mermaid"])
        .output()
        .expect("run brink graph");
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8(out.stdout).expect("UTF-8"),
        page[start..end],
        "docs/explaining.md's diagram differs from `brink graph scenarios/baghdad-2020.toml --format mermaid`"
    );
}
