//! `report.html` is built from maud templates that escape every spliced value, so no page
//! depends on remembering to escape: the source keeps no hand-written HTML, only the style
//! sheet and brink's own charts go in unescaped, and text from a scenario comes out escaped
//! exactly as before the templates (apostrophes as `&#39;`, which maud alone would not write).

use crate::util::{brink, bundled};
use std::path::Path;

fn report_source() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/present/report.rs");
    std::fs::read_to_string(path).expect("src/present/report.rs")
}

/// The code of each line, comments dropped (doc comments may name what they forbid).
fn code_lines(text: &str) -> Vec<(usize, &str)> {
    text.lines().enumerate().map(|(n, l)| (n + 1, l.find("//").map_or(l, |i| &l[..i]))).collect()
}

#[test]
fn pages_come_from_templates_not_string_writes() {
    let src = report_source();
    let writes: Vec<String> = code_lines(&src)
        .into_iter()
        .filter(|(_, l)| l.contains("write!(") || l.contains("writeln!(") || l.contains("push_str(\"<"))
        .map(|(n, l)| format!("src/present/report.rs:{n}: {}", l.trim()))
        .collect();
    assert!(writes.is_empty(), "HTML written by hand instead of a template:\n{}", writes.join("\n"));
}

#[test]
fn only_the_style_sheet_and_charts_go_in_unescaped() {
    let src = report_source();
    // The style sheet (compiled-in constants) and a chart brink drew (`InlineSvg`).
    let trusted = ["PreEscaped(CSS)", "PreEscaped(extra_css)", "PreEscaped(&self.0)"];
    let mut found = 0;
    for (n, line) in code_lines(&src) {
        let mut rest = line;
        while let Some(i) = rest.find("PreEscaped(") {
            let here = &rest[i..];
            assert!(
                trusted.iter().any(|t| here.starts_with(t)),
                "src/present/report.rs:{n}: unescaped markup that is neither the style sheet nor a chart: {}",
                line.trim()
            );
            found += 1;
            rest = &here["PreEscaped(".len()..];
        }
    }
    assert_eq!(found, trusted.len(), "each trusted kind of markup is spliced in one place");
}

#[test]
fn scenario_text_is_escaped_in_the_report() {
    let src = std::fs::read_to_string(bundled("minimal.toml"))
        .unwrap()
        .replace(
            "title = \"Border incidents between two neighbours (tutorial)\"",
            "title = \"Tom's <b>border</b> & \\\"friends\\\"\"\ndescription = \"First <p> & Tom's.\\n\\nSecond.\"",
        )
        .replace("label = \"Clash: soldiers killed at the border\"", "label = \"Clash <i>'&'</i>\"");
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("hostile.toml");
    std::fs::write(&scenario, src).unwrap();
    let out = dir.path().join("out");
    brink()
        .arg("run")
        .arg(&scenario)
        .args(["--trials", "200", "--charts", "none", "--quiet", "--out"])
        .arg(&out)
        .assert()
        .success();
    let page = std::fs::read_to_string(out.join("report.html")).unwrap();
    for want in [
        "<title>minimal [baseline]: brink report</title>",
        "<h1>Tom&#39;s &lt;b&gt;border&lt;/b&gt; &amp; &quot;friends&quot;</h1>\n",
        "<p>First &lt;p&gt; &amp; Tom&#39;s.</p>\n<p>Second.</p>\n",
        "<td>Clash &lt;i&gt;&#39;&amp;&#39;&lt;/i&gt;</td>",
    ] {
        assert!(page.contains(want), "report.html lacks {want:?}");
    }
    for raw in ["<b>border", "<i>'", "Tom's", "<p> &"] {
        assert!(!page.contains(raw), "report.html holds unescaped {raw:?}");
    }
}
