//! `brink graph`: the DOT output is parsed by a small parser of the DOT grammar
//! (graphviz.org/doc/info/lang.html), and rendered by Graphviz's `dot` when it is
//! installed (CI installs it). Every step, branch, trigger, modifier, level and schedule
//! entry of each bundled scenario must appear, with the trigger's p, delay and guards.
//! The Mermaid output is checked line by line for the same contents.

use crate::util::{brink, bundled, model};
use brink::sim::model::Model;
use std::collections::BTreeMap;
use std::process::{Command, Stdio};

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    /// An identifier, a numeral or a quoted string (unescaped).
    Id(String),
    /// An HTML string `<...>`, without the outer brackets.
    Html(String),
    Punct(char),
    /// `->` or `--`.
    EdgeOp(String),
}

fn lex(src: &str) -> Result<Vec<Tok>, String> {
    let c: Vec<char> = src.chars().collect();
    let mut i = 0;
    let mut out = Vec::new();
    let mut line_start = true;
    while i < c.len() {
        let ch = c[i];
        if ch == '\n' {
            line_start = true;
            i += 1;
            continue;
        }
        if ch.is_whitespace() {
            i += 1;
            continue;
        }
        if line_start && ch == '#' {
            while i < c.len() && c[i] != '\n' {
                i += 1;
            }
            continue;
        }
        line_start = false;
        if ch == '/' && c.get(i + 1) == Some(&'/') {
            while i < c.len() && c[i] != '\n' {
                i += 1;
            }
        } else if ch == '/' && c.get(i + 1) == Some(&'*') {
            i += 2;
            while i + 1 < c.len() && !(c[i] == '*' && c[i + 1] == '/') {
                i += 1;
            }
            i += 2;
        } else if ch == '"' {
            let mut s = String::new();
            i += 1;
            loop {
                match c.get(i) {
                    None => return Err("unterminated string".into()),
                    Some('"') => break,
                    Some('\\') => {
                        // `\"` is a quote; any other escape is kept as written.
                        match c.get(i + 1) {
                            Some('"') => s.push('"'),
                            Some(&x) => {
                                s.push('\\');
                                s.push(x);
                            }
                            None => return Err("unterminated string".into()),
                        }
                        i += 1;
                    }
                    Some(&x) => s.push(x),
                }
                i += 1;
            }
            i += 1;
            out.push(Tok::Id(s));
        } else if ch == '<' {
            let mut depth = 1;
            let mut s = String::new();
            i += 1;
            while depth > 0 {
                match c.get(i) {
                    None => return Err("unterminated HTML string".into()),
                    Some('<') => depth += 1,
                    Some('>') => depth -= 1,
                    _ => {}
                }
                if depth > 0 {
                    s.push(c[i]);
                }
                i += 1;
            }
            out.push(Tok::Html(s));
        } else if ch == '-' && matches!(c.get(i + 1), Some('>') | Some('-')) {
            out.push(Tok::EdgeOp(format!("-{}", c[i + 1])));
            i += 2;
        } else if "{}[]=;,:".contains(ch) {
            out.push(Tok::Punct(ch));
            i += 1;
        } else if ch.is_alphanumeric() || ch == '_' || ch == '.' || ch == '-' {
            let mut s = String::new();
            while i < c.len() && (c[i].is_alphanumeric() || c[i] == '_' || c[i] == '.' || c[i] == '-') {
                if c[i] == '-' && matches!(c.get(i + 1), Some('>') | Some('-')) {
                    break;
                }
                s.push(c[i]);
                i += 1;
            }
            let numeral = s.chars().all(|x| x.is_ascii_digit() || x == '.' || x == '-');
            let ident = s.chars().next().is_some_and(|x| x.is_alphabetic() || x == '_')
                && s.chars().all(|x| x.is_alphanumeric() || x == '_');
            if !numeral && !ident {
                return Err(format!("bad identifier `{s}`"));
            }
            out.push(Tok::Id(s));
        } else {
            return Err(format!("unexpected character `{ch}`"));
        }
    }
    Ok(out)
}

/// What the parser keeps of a graph: nodes with their attributes, edges with theirs.
#[derive(Debug, Default)]
struct Graph {
    directed: bool,
    nodes: BTreeMap<String, BTreeMap<String, String>>,
    edges: Vec<Edge>,
}

#[derive(Debug, Clone)]
struct Edge {
    from: String,
    from_port: Option<String>,
    to: String,
    attrs: BTreeMap<String, String>,
}

struct Parser {
    t: Vec<Tok>,
    i: usize,
    g: Graph,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.t.get(self.i)
    }
    fn next(&mut self) -> Result<Tok, String> {
        let t = self.t.get(self.i).cloned().ok_or("unexpected end")?;
        self.i += 1;
        Ok(t)
    }
    fn expect(&mut self, p: char) -> Result<(), String> {
        match self.next()? {
            Tok::Punct(x) if x == p => Ok(()),
            t => Err(format!("expected `{p}`, got {t:?} at token {}", self.i)),
        }
    }
    fn id(&mut self) -> Result<String, String> {
        match self.next()? {
            Tok::Id(s) | Tok::Html(s) => Ok(s),
            t => Err(format!("expected an ID, got {t:?} at token {}", self.i)),
        }
    }
    fn is(&self, p: char) -> bool {
        self.peek() == Some(&Tok::Punct(p))
    }

    fn graph(mut self) -> Result<Graph, String> {
        let mut kw = self.id()?.to_lowercase();
        if kw == "strict" {
            kw = self.id()?.to_lowercase();
        }
        self.g.directed = match kw.as_str() {
            "digraph" => true,
            "graph" => false,
            _ => return Err(format!("expected graph or digraph, got `{kw}`")),
        };
        if !self.is('{') {
            self.id()?;
        }
        self.expect('{')?;
        self.stmt_list()?;
        self.expect('}')?;
        if self.i != self.t.len() {
            return Err("tokens after the graph".into());
        }
        Ok(self.g)
    }

    fn stmt_list(&mut self) -> Result<(), String> {
        while !self.is('}') {
            self.stmt()?;
            if self.is(';') || self.is(',') {
                self.i += 1;
            }
        }
        Ok(())
    }

    fn attr_list(&mut self) -> Result<BTreeMap<String, String>, String> {
        let mut a = BTreeMap::new();
        while self.is('[') {
            self.i += 1;
            while !self.is(']') {
                let k = self.id()?;
                self.expect('=')?;
                let v = self.id()?;
                a.insert(k, v);
                if self.is(';') || self.is(',') {
                    self.i += 1;
                }
            }
            self.expect(']')?;
        }
        Ok(a)
    }

    /// A node id with an optional port (and compass point); or a subgraph, whose name
    /// is returned in brackets.
    fn endpoint(&mut self) -> Result<(String, Option<String>), String> {
        if matches!(self.peek(), Some(Tok::Id(s)) if s == "subgraph") || self.is('{') {
            return Ok((format!("[{}]", self.subgraph()?), None));
        }
        let id = self.id()?;
        let mut port = None;
        if self.is(':') {
            self.i += 1;
            port = Some(self.id()?);
            if self.is(':') {
                self.i += 1;
                self.id()?;
            }
        }
        Ok((id, port))
    }

    fn subgraph(&mut self) -> Result<String, String> {
        let mut name = String::new();
        if matches!(self.peek(), Some(Tok::Id(s)) if s == "subgraph") {
            self.i += 1;
            if !self.is('{') {
                name = self.id()?;
            }
        }
        self.expect('{')?;
        self.stmt_list()?;
        self.expect('}')?;
        Ok(name)
    }

    fn stmt(&mut self) -> Result<(), String> {
        if let Some(Tok::Id(k)) = self.peek() {
            let k = k.to_lowercase();
            if ["graph", "node", "edge"].contains(&k.as_str())
                && matches!(self.t.get(self.i + 1), Some(Tok::Punct('[')))
            {
                self.i += 1;
                self.attr_list()?;
                return Ok(());
            }
        }
        if matches!(self.t.get(self.i + 1), Some(Tok::Punct('='))) {
            self.id()?;
            self.i += 1;
            self.id()?;
            return Ok(());
        }
        let mut ends = vec![self.endpoint()?];
        while let Some(Tok::EdgeOp(op)) = self.peek() {
            let want = if self.g.directed { "->" } else { "--" };
            if op != want {
                return Err(format!("edge operator `{op}` in a graph that wants `{want}`"));
            }
            self.i += 1;
            ends.push(self.endpoint()?);
        }
        let attrs = self.attr_list()?;
        if ends.len() == 1 {
            let (id, _) = ends.pop().unwrap();
            if !id.starts_with('[') {
                self.g.nodes.entry(id).or_default().extend(attrs);
            }
        } else {
            for w in ends.windows(2) {
                for (n, _) in w {
                    if !n.starts_with('[') {
                        self.g.nodes.entry(n.clone()).or_default();
                    }
                }
                self.g.edges.push(Edge {
                    from: w[0].0.clone(),
                    from_port: w[0].1.clone(),
                    to: w[1].0.clone(),
                    attrs: attrs.clone(),
                });
            }
        }
        Ok(())
    }
}

fn parse_dot(src: &str) -> Result<Graph, String> {
    Parser { t: lex(src)?, i: 0, g: Graph::default() }.graph()
}

fn num(x: f64) -> String {
    let t = format!("{x:.6}");
    t.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// Checks that every part of the model appears in its DOT graph.
fn check_dot_covers(m: &Model, g: &Graph) {
    assert!(g.directed);
    for l in &m.levels {
        let node = g.nodes.get(&format!("l_{}", l.id)).unwrap_or_else(|| panic!("level {} missing", l.id));
        assert!(node["label"].contains(&l.id));
    }
    for w in m.levels.windows(2) {
        let (a, b) = (format!("l_{}", w[0].id), format!("l_{}", w[1].id));
        assert!(g.edges.iter().any(|e| e.from == a && e.to == b), "ladder edge {a} -> {b}");
    }
    for st in &m.steps {
        let node = g.nodes.get(&format!("s_{}", st.id)).unwrap_or_else(|| panic!("step {} missing", st.id));
        let label = &node["label"];
        assert!(label.contains(&format!("<b>{}</b>", st.id)), "{label}");
        if let Some(r) = st.rate {
            assert!(label.contains(&format!("rate {}/day", num(r))), "{} shows its rate: {label}", st.id);
        }
        for (bi, b) in st.branches.iter().enumerate() {
            let cell = format!("port=\"b{bi}\"");
            let at = label.find(&cell).unwrap_or_else(|| panic!("{}.{} has no row", st.id, b.id));
            let row = &label[at..label[at..].find("</tr>").map_or(label.len(), |e| at + e)];
            assert!(row.contains(&format!("{}  p={}", b.id, num(b.p))), "{}.{}: {row}", st.id, b.id);
        }
    }
    // One edge per trigger, from the branch row (or the step's header) to the step.
    let trigger_edges: Vec<_> = g
        .edges
        .iter()
        .filter(|e| e.attrs.get("tooltip").is_some_and(|t| t.starts_with("trigger ")))
        .collect();
    assert_eq!(trigger_edges.len(), m.triggers.len());
    for (ti, t) in m.triggers.iter().enumerate() {
        let e = trigger_edges
            .iter()
            .find(|e| e.attrs["tooltip"] == format!("trigger {ti}"))
            .expect("trigger edge");
        assert_eq!(e.from, format!("s_{}", m.steps[t.after].id));
        assert_eq!(e.from_port, Some(t.after_branch.map_or("step".to_owned(), |b| format!("b{b}"))));
        assert_eq!(e.to, format!("s_{}", m.steps[t.step].id));
        let label = &e.attrs["label"];
        assert!(label.contains(&format!("p={}", num(t.p))), "{label}");
        assert!(label.contains(&t.delay.describe()), "{label}");
        if let Some(l) = t.min_level {
            assert!(label.contains(&format!("if level >= {}", m.levels[l].id)), "{label}");
        }
        if let Some(l) = t.max_level {
            assert!(label.contains(&format!("if level <= {}", m.levels[l].id)), "{label}");
        }
    }
    let modifiers: usize = m.steps.iter().flat_map(|s| &s.branches).map(|b| b.modify.len()).sum();
    let dashed = g.edges.iter().filter(|e| e.attrs.get("style").is_some_and(|s| s == "dashed")).count();
    assert_eq!(dashed, modifiers);
    let excitations: usize = m.steps.iter().flat_map(|s| &s.branches).map(|b| b.excite.len()).sum();
    let dotted = g.edges.iter().filter(|e| e.attrs.get("style").is_some_and(|s| s == "dotted")).count();
    assert_eq!(dotted, excitations);
    for (i, e) in m.schedule.iter().enumerate() {
        let from = format!("sched_{i}");
        assert!(g.edges.iter().any(|x| x.from == from && x.to == format!("s_{}", m.steps[e.step].id)));
    }
}

fn graph_out(args: &[&str]) -> String {
    let out = brink().arg("graph").args(args).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

fn bundled_models() -> Vec<(String, Model)> {
    ["minimal.toml", "baghdad-2020.toml", "chain-2019.toml"]
        .iter()
        .map(|n| {
            let p = bundled(n);
            (p.to_str().unwrap().to_owned(), brink::scenario::load(&p, &Default::default()).unwrap().0)
        })
        .collect()
}

#[test]
fn dot_of_every_bundled_scenario_parses_and_shows_every_part() {
    for (path, m) in bundled_models() {
        let text = graph_out(&[&path]);
        assert_eq!(text, graph_out(&[&path, "--format", "dot"]), "dot is the default");
        let g = parse_dot(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
        check_dot_covers(&m, &g);
    }
}

#[test]
fn the_parser_rejects_broken_dot() {
    for bad in [
        "digraph { a -> }",
        "digraph { a -- b }",
        "digraph { a [label=\"x] }",
        "digraph { a [label=<<b>x</b>] }",
        "graph { a -> b }",
        "digraph { a; ",
        "digraph { 1x -> b }",
    ] {
        assert!(parse_dot(bad).is_err(), "accepted: {bad}");
    }
    let g = parse_dot(
        "digraph \"t\" { graph [rankdir=TB]; a:p1 -> b:n [label=\"x\\\"y\"]; c [label=<<b>c</b>>] }",
    )
    .unwrap();
    assert_eq!(g.edges[0].from_port.as_deref(), Some("p1"));
    assert_eq!(g.edges[0].attrs["label"], "x\"y");
    assert_eq!(g.nodes["c"]["label"], "<b>c</b>");
}

/// Text that needs escaping in every place it can appear.
const AWKWARD: &str = r#"
[scenario]
name = "awkward"
title = "Quotes \" and <angle> & ampersands"
horizon_days = 5

[[levels]]
id = "low"
label = "A \"low\" <level> & more"
[[levels]]
id = "high"
label = "back\\slash"
terminal = true

[tallies]
dead = "dead"

[[steps]]
id = "a"
actor = "the \"reds\" <&>"
label = "Step with \"quotes\""
rate = 0.5
windows = [ { from_day = 1, to_day = 2, rate_x = 2 } ]
  [[steps.branches]]
  id = "up"
  p = 0.25
  raise_to = "high"
  tally = { dead = { fixed = 1 } }
  modify = [ { step = "a", rate_x = 0.5, days = 1 } ]
  excite = [ { step = "b", n = 0.5, decay_days = 2 } ]
  [[steps.branches]]
  id = "stay"
  p = "rest"

[[steps]]
id = "b"
  [[steps.triggers]]
  after = "a.up"
  p = 0.5
  delay = { exponential = 2 }
  max_level = "low"
"#;

#[test]
fn awkward_text_is_escaped() {
    let m = model(AWKWARD);
    let text = brink::present::graph::dot(&m);
    let g = parse_dot(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    check_dot_covers(&m, &g);
    assert!(g.nodes["s_a"]["label"].contains("the &quot;reds&quot; &lt;&amp;&gt;"));
    let mm = brink::present::graph::mermaid(&m);
    assert!(mm.contains("the #quot;reds#quot; #lt;&#gt;"), "{mm}");
    assert!(mm.contains("if level #lt;= low"), "{mm}");
    assert!(mm.contains("s_a -.->|\"excites after up:<br/>n=0.5, decay 2 d\"| s_b"), "{mm}");
    let dot_edge = g.edges.iter().find(|e| e.attrs.get("style").is_some_and(|s| s == "dotted")).unwrap();
    assert_eq!((dot_edge.from.as_str(), dot_edge.to.as_str()), ("s_a", "s_b"));
}

/// Runs Graphviz on the DOT text, if it is installed; returns the SVG.
fn render(text: &str) -> Option<String> {
    let mut child = Command::new("dot")
        .arg("-Tsvg")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .ok()?;
    use std::io::Write;
    child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "dot failed: {}", String::from_utf8_lossy(&out.stderr));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("Warning") && !err.contains("Error"), "dot complained: {err}");
    Some(String::from_utf8(out.stdout).unwrap())
}

#[test]
fn graphviz_renders_the_dot_when_installed() {
    let mut texts: Vec<(String, Model)> =
        bundled_models().into_iter().map(|(_, m)| (brink::present::graph::dot(&m), m)).collect();
    let awkward = model(AWKWARD);
    texts.push((brink::present::graph::dot(&awkward), awkward));
    for (text, m) in &texts {
        let Some(svg) = render(text) else {
            eprintln!("graphviz `dot` is not installed: skipping the rendering check (CI installs it)");
            return;
        };
        let opts = roxmltree::ParsingOptions { allow_dtd: true, ..Default::default() };
        let doc = roxmltree::Document::parse_with_options(&svg, opts).expect("dot writes valid SVG");
        // Every step and branch id is drawn as text in the picture.
        let texts: Vec<&str> = doc.descendants().filter_map(|n| n.text()).collect();
        let all = texts.join(" ");
        for st in &m.steps {
            assert!(all.contains(&st.id), "{} not drawn", st.id);
            for b in &st.branches {
                assert!(all.contains(&b.id), "{}.{} not drawn", st.id, b.id);
            }
        }
    }
}

#[test]
fn mermaid_shows_every_step_branch_and_trigger() {
    for (path, m) in bundled_models() {
        let text = graph_out(&[&path, "--format", "mermaid"]);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "---");
        assert!(lines.contains(&"flowchart TB"));
        for line in &lines {
            // Labels never hold a raw quote: every line has balanced quotes.
            assert_eq!(line.matches('"').count() % 2, 0, "{line}");
        }
        for l in &m.levels {
            assert!(lines
                .iter()
                .any(|x| x.trim_start().starts_with(&format!("l_{}([\"<b>{}</b>", l.id, l.id))));
        }
        for st in &m.steps {
            let node = lines
                .iter()
                .find(|x| x.trim_start().starts_with(&format!("s_{}[\"", st.id)))
                .unwrap_or_else(|| panic!("{} has no node", st.id));
            for b in &st.branches {
                assert!(node.contains(&format!("• {} p={}", b.id, num(b.p))), "{}.{}: {node}", st.id, b.id);
            }
        }
        let edges: Vec<&&str> = lines.iter().filter(|x| x.contains(" -->|\"")).collect();
        assert_eq!(edges.len(), m.triggers.len());
        for (t, e) in m.triggers.iter().zip(&edges) {
            let want_start = format!("s_{} -->|\"", m.steps[t.after].id);
            assert!(e.trim_start().starts_with(&want_start), "{e}");
            assert!(e.ends_with(&format!("\"| s_{}", m.steps[t.step].id)), "{e}");
            assert!(e.contains(&format!("p={}", num(t.p))) && e.contains(&t.delay.describe()), "{e}");
            if let Some(b) = t.after_branch {
                assert!(e.contains(&format!("after {}<br/>", m.steps[t.after].branches[b].id)), "{e}");
            }
        }
        let modifiers: usize = m.steps.iter().flat_map(|s| &s.branches).map(|b| b.modify.len()).sum();
        assert_eq!(lines.iter().filter(|x| x.contains(" -.->|\"modifier after ")).count(), modifiers);
    }
}

#[test]
fn graph_of_a_bad_scenario_is_exit_code_2() {
    let out = brink().args(["graph", "no/such/file.toml"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = brink()
        .args(["graph", bundled("minimal.toml").to_str().unwrap(), "--format", "png"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

/// The report draws the chain from what `manifest.json` keeps of it: every step is drawn
/// in the report's chain figure, and the manifest holds every step and trigger.
#[test]
fn the_report_draws_the_chain_kept_in_the_manifest() {
    let tmp = tempfile::tempdir().unwrap();
    for (path, m) in bundled_models() {
        let out = tmp.path().join(&m.name);
        brink()
            .args(["run", &path, "--trials", "200", "--charts", "none", "--quiet", "--out"])
            .arg(&out)
            .assert()
            .success();
        let manifest: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
        let chain = &manifest["chain"];
        let steps: Vec<&str> =
            chain["steps"].as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap()).collect();
        assert_eq!(steps, m.steps.iter().map(|s| s.id.as_str()).collect::<Vec<_>>());
        let links = chain["links"].as_array().unwrap();
        let count = |kind: &str| links.iter().filter(|l| l["kind"] == kind).count();
        assert_eq!(count("trigger"), m.triggers.len());
        let modifiers: usize = m.steps.iter().flat_map(|s| &s.branches).map(|b| b.modify.len()).sum();
        assert_eq!(count("modifier"), modifiers);
        for (l, t) in links.iter().filter(|l| l["kind"] == "trigger").zip(&m.triggers) {
            assert_eq!(l["from"], m.steps[t.after].id.as_str());
            assert_eq!(l["to"], m.steps[t.step].id.as_str());
        }

        let html = std::fs::read_to_string(out.join("report.html")).unwrap();
        let at = html.find("<figure id=\"chain\">").expect("a chain figure");
        let figure = &html[at..at + html[at..].find("</figure>").unwrap()];
        let svg = &figure[figure.find("<svg").unwrap()..figure.rfind("</svg>").unwrap() + 6];
        let doc = roxmltree::Document::parse(svg).expect("valid SVG");
        let text: Vec<&str> = doc.descendants().filter_map(|n| n.text()).collect();
        for st in &m.steps {
            assert!(text.iter().any(|t| t.trim() == st.id), "{} not drawn in the report", st.id);
        }
        for l in &m.levels {
            assert!(text.iter().any(|t| t.trim() == l.id), "level {} not in the legend", l.id);
        }
    }
}
