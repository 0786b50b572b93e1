//! Charts and the report: files exist with the asked size, are not blank, SVG is
//! well-formed, `brink plot` reproduces them byte for byte, text renders without system
//! fonts, and a real browser renders the report (where Chromium is installed; CI
//! installs it and this test then insists on it).

use assert_cmd::Command;
use std::path::{Path, PathBuf};

const CHARTS: [&str; 5] = ["levels", "time_to_level", "occupancy", "tallies", "paths"];

fn brink() -> Command {
    Command::cargo_bin("brink").expect("binary")
}

fn run_minimal(dir: &Path, extra: &[&str]) -> PathBuf {
    let out = dir.join("res");
    let mut cmd = brink();
    cmd.args(["run", "--trials", "4000", "--seed", "3", "--quiet", "--force", "--out"])
        .arg(&out)
        .arg(crate::util::bundled("minimal.toml"))
        .args(extra);
    cmd.assert().success();
    out
}

/// Decoded RGB pixels and size of a PNG.
fn pixels(path: &Path) -> (u32, u32, Vec<u8>) {
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(path).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    buf.truncate(info.buffer_size());
    assert_eq!(info.color_type, png::ColorType::Rgb, "{}", path.display());
    (info.width, info.height, buf)
}

/// Share of non-white pixels in rows `y0..y1`.
fn ink(w: u32, px: &[u8], y0: u32, y1: u32) -> f64 {
    let row = (w * 3) as usize;
    let part = &px[y0 as usize * row..y1 as usize * row];
    let dark = part.chunks(3).filter(|p| p.iter().any(|&c| c < 200)).count();
    dark as f64 / (part.len() / 3) as f64
}

#[test]
fn charts_have_the_asked_size_and_are_not_blank() {
    let tmp = tempfile::tempdir().unwrap();
    for (size, (w, h)) in [("1200x800", (1200, 800)), ("800x500", (800, 500))] {
        let out = run_minimal(tmp.path(), &["--chart-size", size]);
        for name in CHARTS {
            let (pw, ph, px) = pixels(&out.join(format!("{name}.png")));
            assert_eq!((pw, ph), (w, h), "{name} at {size}");
            let all = ink(pw, &px, 0, ph);
            // The levels chart is a dot plot (issue 17), mostly white by design (1.9% ink for
            // minimal at 1200x800), and the title band alone inks 0.85%: so the body below
            // the band is checked on its own.
            assert!(all > 0.01, "{name} at {size} is nearly blank: {all}");
            let body = ink(pw, &px, ph / 10, ph);
            assert!(body > 0.005, "{name} at {size}: nearly blank below the title: {body}");
            // The title band holds text.
            assert!(ink(pw, &px, 0, ph / 14) > 0.005, "{name} at {size}: no title text");
            let svg = std::fs::read_to_string(out.join(format!("{name}.svg"))).unwrap();
            let doc = roxmltree::Document::parse(&svg).unwrap_or_else(|e| panic!("{name}.svg: {e}"));
            assert_eq!(doc.root_element().tag_name().name(), "svg");
            assert_eq!(doc.root_element().attribute("width"), Some(w.to_string().as_str()));
            assert!(svg.contains("minimal"), "{name}.svg names the scenario");
        }
    }
}

#[test]
fn chart_formats_are_selectable() {
    let tmp = tempfile::tempdir().unwrap();
    let out = run_minimal(tmp.path(), &["--charts", "svg"]);
    assert!(out.join("levels.svg").exists());
    assert!(!out.join("levels.png").exists());
    let out = run_minimal(tmp.path(), &["--charts", "none"]);
    assert!(!out.join("levels.svg").exists() && !out.join("levels.png").exists());
    assert!(out.join("report.html").exists(), "the report is written without chart files");
    brink()
        .args(["run", "--chart-size", "10x10"])
        .arg(crate::util::bundled("minimal.toml"))
        .assert()
        .code(2)
        .stderr(predicates::str::contains("chart size"));
}

#[test]
fn plot_reproduces_charts_and_report_byte_for_byte() {
    let tmp = tempfile::tempdir().unwrap();
    let out = run_minimal(tmp.path(), &[]);
    let mut names: Vec<String> =
        CHARTS.iter().flat_map(|c| [format!("{c}.png"), format!("{c}.svg")]).collect();
    names.push("report.html".into());
    let before: Vec<Vec<u8>> = names.iter().map(|n| std::fs::read(out.join(n)).unwrap()).collect();
    for n in &names {
        std::fs::remove_file(out.join(n)).unwrap();
    }
    brink().arg("plot").arg(&out).assert().success();
    for (n, b) in names.iter().zip(&before) {
        assert_eq!(&std::fs::read(out.join(n)).unwrap(), b, "{n} differs after brink plot");
    }
    // Another size changes the pictures but not the tables.
    brink().arg("plot").arg(&out).args(["--chart-size", "800x500"]).assert().success();
    assert_eq!(pixels(&out.join("levels.png")).0, 800);
}

#[test]
fn plot_names_a_missing_or_malformed_file() {
    let tmp = tempfile::tempdir().unwrap();
    let out = run_minimal(tmp.path(), &[]);
    std::fs::remove_file(out.join("daily.csv")).unwrap();
    brink()
        .arg("plot")
        .arg(&out)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("daily.csv"))
        .stderr(predicates::str::contains("brink run"));
    let out = run_minimal(tmp.path(), &[]);
    let levels = std::fs::read_to_string(out.join("levels.csv")).unwrap();
    let broken = levels.replacen("false", "maybe", 1);
    std::fs::write(out.join("levels.csv"), broken).unwrap();
    brink()
        .arg("plot")
        .arg(&out)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("levels.csv"))
        .stderr(predicates::str::contains("line 2"));
    brink().arg("plot").arg(tmp.path().join("nope")).assert().code(2);
}

#[test]
fn report_holds_every_chart_and_table() {
    let tmp = tempfile::tempdir().unwrap();
    let out = run_minimal(tmp.path(), &["--set", "incident_rate=0.12"]);
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    for name in CHARTS {
        assert!(html.contains(&format!("<figure id=\"{name}\">")), "report lacks {name}");
    }
    // The charts, and the chain diagram (drawn from the manifest, not a chart file).
    assert!(html.contains("<figure id=\"chain\">"), "report lacks the chain");
    assert_eq!(html.matches("<svg").count(), CHARTS.len() + 1);
    for heading in [
        "Escalation levels",
        "Tallies",
        "Steps",
        "Escalation paths",
        "Escalation chain",
        "Parameters",
        "Manifest",
    ] {
        assert!(html.contains(&format!("<h2>{heading}</h2>")), "report lacks {heading}");
    }
    assert!(html.contains("incident_rate=0.12"), "the report shows --set overrides");
    assert!(!html.contains("<script"), "no scripts");
    assert!(!html.contains("http://") || !html.contains("src=\"http"), "no network resources");
    // Levels, in ladder order, each once in the levels table.
    let levels = std::fs::read_to_string(out.join("levels.csv")).unwrap();
    for line in levels.lines().skip(1) {
        let id = line.split(',').next().unwrap();
        assert!(html.contains(&format!("<code>{id}</code>")), "report lacks level {id}");
    }
}

/// The binary links neither fontconfig nor freetype, and charts keep their text with an
/// empty fontconfig configuration and no font folders.
#[test]
fn text_renders_without_system_fonts() {
    let bin = assert_cmd::cargo::cargo_bin("brink");
    if let Ok(out) = std::process::Command::new("ldd").arg(&bin).output() {
        let libs = String::from_utf8_lossy(&out.stdout);
        assert!(!libs.contains("fontconfig") && !libs.contains("freetype"), "{libs}");
    }
    let tmp = tempfile::tempdir().unwrap();
    let conf = tmp.path().join("empty.conf");
    std::fs::write(&conf, "<?xml version=\"1.0\"?>\n<fontconfig></fontconfig>\n").unwrap();
    let out = tmp.path().join("res");
    brink()
        .env("FONTCONFIG_FILE", &conf)
        .env("FONTCONFIG_PATH", tmp.path())
        .env("XDG_DATA_HOME", tmp.path())
        .env("HOME", tmp.path())
        .args(["run", "--trials", "500", "--quiet", "--charts", "png", "--out"])
        .arg(&out)
        .arg(crate::util::bundled("minimal.toml"))
        .assert()
        .success();
    let (w, h, px) = pixels(&out.join("levels.png"));
    assert!(ink(w, &px, 0, h / 14) > 0.005, "title text missing without system fonts");
}

/// A real browser renders report.html offline: the DOM holds every chart, and a
/// screenshot of the page is not blank.
#[test]
fn a_browser_renders_the_report() {
    let Some(chrome) = crate::util::chromium() else {
        assert!(std::env::var_os("CI").is_none(), "CI installs chromium: the browser test must run there");
        eprintln!("chromium not installed: browser test skipped (CI runs it)");
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let out = run_minimal(tmp.path(), &[]);
    let page = format!("file://{}", out.join("report.html").display());
    let profile = tmp.path().join("profile");
    let common = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
    ];
    let dom = std::process::Command::new(&chrome)
        .args(common)
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--dump-dom")
        .arg(&page)
        .output()
        .expect("run chromium");
    let dom = String::from_utf8_lossy(&dom.stdout);
    for name in CHARTS {
        let at = dom.find(&format!("<figure id=\"{name}\">")).unwrap_or_else(|| panic!("DOM lacks {name}"));
        assert!(dom[at..].trim_start_matches(|c| c != '<').contains("<svg"), "{name} has no svg");
    }
    assert_eq!(dom.matches("<svg").count(), CHARTS.len() + 1, "the charts and the chain");
    let shot = tmp.path().join("shot.png");
    let status = std::process::Command::new(&chrome)
        .args(common)
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--window-size=1200,2400")
        .arg(format!("--screenshot={}", shot.display()))
        .arg(&page)
        .output()
        .expect("run chromium");
    assert!(shot.exists(), "no screenshot: {}", String::from_utf8_lossy(&status.stderr));
    let (w, h, px) = pixels_any(&shot);
    // The headline card and the levels chart sit in the top half, the appendix is closed.
    // The levels chart is a dot plot (issue 17), mostly white: 1% ink is far from blank.
    assert!(ink(w, &px, 0, h) > 0.01, "screenshot nearly blank");
    assert!(ink(w, &px, h / 8, h / 2) > 0.01, "chart region blank");
}

/// Decodes a PNG of any colour type to RGB.
fn pixels_any(path: &Path) -> (u32, u32, Vec<u8>) {
    let mut decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(path).unwrap()));
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    let px: Vec<u8> = match info.color_type {
        png::ColorType::Rgba => {
            buf[..info.buffer_size()].chunks(4).flat_map(|p| [p[0], p[1], p[2]]).collect()
        }
        png::ColorType::Rgb => buf[..info.buffer_size()].to_vec(),
        other => panic!("unexpected colour type {other:?}"),
    };
    (info.width, info.height, px)
}
