//! `report.html` is built from maud templates that escape every spliced value, so no page
//! depends on remembering to escape: the source keeps no hand-written HTML, only the style
//! sheet and brink's own charts go in unescaped, and text from a scenario comes out escaped
//! exactly as before the templates (apostrophes as `&#39;`, which maud alone would not write).

use crate::util::{brink, bundled};
use std::path::Path;

/// Every source file of the templates (`src/present/report/`, one per page), as (path, text).
fn report_sources() -> Vec<(String, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/present/report");
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .expect("src/present/report/")
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".rs"))
        .collect();
    files.sort();
    assert!(files.iter().any(|f| f == "mod.rs"), "src/present/report/ has no mod.rs");
    files
        .into_iter()
        .map(|name| {
            let path = format!("src/present/report/{name}");
            let text = std::fs::read_to_string(dir.join(&name)).expect(&path);
            (path, text)
        })
        .collect()
}

/// The code of each line, comments dropped (doc comments may name what they forbid).
fn code_lines(text: &str) -> Vec<(usize, &str)> {
    text.lines().enumerate().map(|(n, l)| (n + 1, l.find("//").map_or(l, |i| &l[..i]))).collect()
}

#[test]
fn pages_come_from_templates_not_string_writes() {
    let mut writes = Vec::new();
    for (path, src) in report_sources() {
        writes.extend(
            code_lines(&src)
                .into_iter()
                .filter(|(_, l)| {
                    l.contains("write!(") || l.contains("writeln!(") || l.contains("push_str(\"<")
                })
                .map(|(n, l)| format!("{path}:{n}: {}", l.trim())),
        );
    }
    assert!(writes.is_empty(), "HTML written by hand instead of a template:\n{}", writes.join("\n"));
}

#[test]
fn only_the_style_sheet_and_charts_go_in_unescaped() {
    // The style sheet (compiled-in constants) and a chart brink drew (`InlineSvg`).
    let trusted = ["PreEscaped(CSS)", "PreEscaped(extra_css)", "PreEscaped(&self.0)"];
    let mut found = 0;
    for (path, src) in report_sources() {
        for (n, line) in code_lines(&src) {
            let mut rest = line;
            while let Some(i) = rest.find("PreEscaped(") {
                let here = &rest[i..];
                assert!(
                    trusted.iter().any(|t| here.starts_with(t)),
                    "{path}:{n}: unescaped markup that is neither the style sheet nor a chart: {}",
                    line.trim()
                );
                found += 1;
                rest = &here["PreEscaped(".len()..];
            }
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

/// Every kind of report brink writes, made small and fast, as (kind, report.html).
fn every_report(dir: &Path) -> Vec<(&'static str, std::path::PathBuf)> {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let data = |name: &str| repo.join("data").join(name);
    let out = |kind: &str| dir.join(kind);
    let run = |kind: &str, args: &[&str]| {
        brink()
            .args(args)
            .arg("--out")
            .arg(out(kind))
            .args(["--quiet", "--charts", "none"])
            .assert()
            .success();
    };
    let baghdad = bundled("baghdad-2020.toml");
    let minimal = bundled("minimal.toml");
    let hindcast = bundled("hindcast-2019-2021.toml");
    let s = |p: &Path| p.display().to_string();
    run("run", &["run", &s(&minimal), "--trials", "2000"]);
    run("spread", &["run", &s(&baghdad), "--trials", "1000", "--draws", "20", "--draw-trials", "500"]);
    run("two-loop", &["run", &s(&baghdad), "--trials", "300", "--epistemic", "10"]);
    run("compare", &["compare", &s(&minimal), "--variants", "baseline,hotline", "--trials", "2000"]);
    run(
        "backtest",
        &["backtest", &s(&hindcast), "--observed", &s(&data("observed-2019-2021.csv")), "--trials", "300"],
    );
    run(
        "score",
        &[
            "score",
            &s(&hindcast),
            "--events",
            &s(&data("events-iraq-2019-2021.csv")),
            "--params",
            &s(&data("hindcast-fit-2020-06-30.toml")),
            "--from",
            "2020-07-01",
            "--to",
            "2021-07-31",
            "--trials",
            "300",
        ],
    );
    ["run", "spread", "two-loop", "compare", "backtest", "score"]
        .into_iter()
        .map(|k| (k, out(k).join("report.html")))
        .collect()
}

/// A real browser lays out every kind of report at 1280 px: nothing overflows sideways
/// (the document is no wider than the window), the headline card is the first thing in
/// `<body>`, and no chart's text is clipped: with the appendix opened, every `<text>` of
/// every inline SVG chart lies within its SVG's viewport (to a pixel). A copy of each page
/// gets a script that writes what the browser measured into the DOM, which `--dump-dom`
/// prints; the reports themselves hold no script. The heights and the number of texts
/// checked are printed (`--nocapture`) for the record.
#[test]
fn every_report_opens_with_its_headline_and_fits_1280_px() {
    let Some(chrome) = crate::util::chromium() else {
        assert!(std::env::var_os("CI").is_none(), "CI installs chromium: the browser test must run there");
        eprintln!("chromium not installed: browser test skipped (CI runs it)");
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    // Measures the page as it opens, then opens the appendix and checks each chart's texts.
    let probe = "<script>window.addEventListener('load', () => { const d = document.documentElement; \
                 const f = document.body.firstElementChild; document.body.setAttribute('data-probe', \
                 d.scrollWidth + ' ' + d.scrollHeight + ' ' + f.tagName + '#' + f.id); \
                 document.querySelectorAll('details').forEach(e => e.open = true); \
                 const clipped = []; let texts = 0; \
                 document.querySelectorAll('svg').forEach(svg => { const v = svg.getBoundingClientRect(); \
                 svg.querySelectorAll('text').forEach(t => { const r = t.getBoundingClientRect(); \
                 if (r.width === 0 && r.height === 0) return; texts++; \
                 if (r.left < v.left - 1 || r.right > v.right + 1 || r.top < v.top - 1 || r.bottom > v.bottom + 1) \
                 clipped.push((svg.getAttribute('aria-label') || 'svg').slice(0, 60) + ': ' + t.textContent.trim().slice(0, 60)); }); }); \
                 document.body.setAttribute('data-texts', String(texts)); \
                 document.body.setAttribute('data-clipped', clipped.join(' | ')); });</script></body>";
    for (kind, page) in every_report(tmp.path()) {
        let html = std::fs::read_to_string(&page).unwrap_or_else(|e| panic!("{kind}: {e}"));
        assert!(!html.contains("<script"), "{kind}: report.html holds a script");
        let probed = page.with_file_name("probe.html");
        std::fs::write(&probed, html.replace("</body>", probe)).unwrap();
        let dom = std::process::Command::new(&chrome)
            .args(["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
            .args([
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--window-size=1280,900",
            ])
            .arg(format!("--user-data-dir={}", tmp.path().join("profile").display()))
            .arg("--dump-dom")
            .arg(format!("file://{}", probed.display()))
            .output()
            .expect("run chromium");
        let dom = String::from_utf8_lossy(&dom.stdout);
        let at = dom.find("data-probe=\"").unwrap_or_else(|| panic!("{kind}: the probe did not run:\n{dom}"));
        let rest = &dom[at + "data-probe=\"".len()..];
        let fields: Vec<&str> = rest[..rest.find('"').unwrap()].split(' ').collect();
        let (width, height): (u32, u32) = (fields[0].parse().unwrap(), fields[1].parse().unwrap());
        let attr = |name: &str| {
            let at = dom.find(&format!("{name}=\"")).unwrap_or_else(|| panic!("{kind}: no {name}:\n{dom}"));
            let rest = &dom[at + name.len() + 2..];
            rest[..rest.find('"').unwrap()].to_owned()
        };
        let texts: usize = attr("data-texts").parse().unwrap();
        eprintln!("{kind}: {width} x {height} px at a 1280 px window, {texts} chart texts");
        assert!(texts > 0, "{kind}: no chart text was laid out");
        let clipped = attr("data-clipped");
        assert!(clipped.is_empty(), "{kind}: chart text outside its SVG's viewport: {clipped}");
        assert!(width <= 1280, "{kind}: the page is {width} px wide at 1280 px (horizontal overflow)");
        assert_eq!(
            fields[2], "SECTION#headline",
            "{kind}: the first thing in <body> is not the headline card"
        );
        let body = &html[html.find("<body>").unwrap() + "<body>".len()..];
        assert!(
            body.trim_start().starts_with("<section class=\"headline\" id=\"headline\">"),
            "{kind}: report.html does not open with the headline card"
        );
        assert!(body.contains("<details class=\"appendix\">"), "{kind}: no appendix");
    }
}
