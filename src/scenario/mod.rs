//! Scenario files: reading, validating and compiling them into a [`Model`].
//!
//! Two stages, as in ripgrep's argument handling: [`raw`] mirrors the TOML exactly
//! (syntax, key names and value types are checked by serde with spans), then
//! [`compile`] checks meaning (references, ranges, sums, cycles), collecting every
//! problem it finds, and resolves ids to indices. Only a compiled [`Model`] reaches the
//! engine.

pub mod compile;
pub mod diag;
pub mod episodes;
pub mod input;
pub mod log;
pub mod params_file;
pub mod raw;
pub mod sources;

use crate::scenario::diag::{Diagnostic, Diagnostics};
use crate::sim::model::Model;
use crate::sim::params::ParamDist;
use std::path::Path;
use std::sync::Arc;

pub use params_file::ParamsFile;

/// Choices made outside the file: which variant, which params overridden on the CLI.
/// They apply in this order: the file's `[params]`, the variant, the params file, `--set`.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `[variants.NAME]` to apply (None or `"baseline"`: none).
    pub variant: Option<String>,
    /// `--set NAME=VALUE` pairs, applied last.
    pub sets: Vec<(String, f64)>,
    /// `--params FILE`: its `[params]` table, applied after the variant and before `--set`
    /// (shared, since a scenario is compiled several times with it).
    pub params: Option<Arc<ParamsFile>>,
    /// How `sets` were written, so that messages name them as their reader wrote them.
    pub sets_as: SetSyntax,
}

/// How a reader gave a param a value: `--set NAME=VALUE` on the command line, or
/// `set=NAME=VALUE` in a `brink serve` query (whose reader may never see a command line).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SetSyntax {
    /// `--set NAME=VALUE`.
    #[default]
    Cli,
    /// `set=NAME=VALUE` in a URL query.
    Query,
}

impl SetSyntax {
    /// How a set of param `name` is written, without its value: `--set NAME` or `set=NAME`.
    pub fn of(self, name: &str) -> String {
        match self {
            SetSyntax::Cli => format!("--set {name}"),
            SetSyntax::Query => format!("set={name}"),
        }
    }

    /// What a value out of range was "set by": `--set`, or `set=NAME=...`.
    pub fn by(self, name: &str) -> String {
        match self {
            SetSyntax::Cli => "--set".to_owned(),
            SetSyntax::Query => format!("set={name}=..."),
        }
    }

    /// Where the whole list of params is, for a list cut short (None: the scenario file,
    /// which the reader has).
    pub fn whole_list(self) -> Option<&'static str> {
        match self {
            SetSyntax::Cli => None,
            SetSyntax::Query => Some("GET /"),
        }
    }
}

/// Why a scenario could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file could not be read (missing, unreadable, too large, not text).
    #[error("{0}")]
    Read(#[from] crate::scenario::input::InputError),
    /// The file was read but is not a valid scenario.
    #[error("{0}")]
    Invalid(Diagnostics),
}

/// Reads, validates and compiles a scenario file.
pub fn load(path: &Path, overrides: &Overrides) -> Result<(Model, String), LoadError> {
    let name = path.display().to_string();
    let source = crate::scenario::input::read_text(path, "scenario file")?;
    let model = compile_str(&name, &source, overrides).map_err(LoadError::Invalid)?;
    Ok((model, source))
}

/// Validates and compiles scenario text; `file` names it in messages.
pub fn compile_str(file: &str, source: &str, overrides: &Overrides) -> Result<Model, Diagnostics> {
    let fail = |items| Diagnostics { file: file.to_owned(), source: source.to_owned(), items };
    let doc: raw::Document = match toml::from_str(source) {
        Ok(doc) => doc,
        Err(e) => {
            let message = e.message().trim().to_owned();
            let d = match e.span() {
                Some(span) => Diagnostic::at(span, message),
                None => Diagnostic::whole_file(message),
            };
            return Err(fail(vec![toml_help(d)]));
        }
    };
    // A name the params file gets wrong is reported at its own line, before compiling.
    if let Some(d) = overrides.params.as_ref().and_then(|p| p.check(&doc)) {
        return Err(d);
    }
    let mut model = compile::compile(&doc, overrides).map_err(fail)?;
    if !model.uncertain.is_empty() {
        resolve_uncertain(&doc, overrides, &mut model).map_err(|(items, from_params)| match from_params {
            Some(p) => p.diagnostics(items),
            None => fail(items),
        })?;
    }
    Ok(model)
}

/// The role of every param: for each param of `model` (compiled from `source` with
/// `overrides`), the fields it feeds, found by compiling once more with the param moved
/// and comparing. `brink fit` uses it to know what each param controls. A param that
/// cannot be moved (a whole number) gives the compiler's reason instead.
pub fn param_roles(
    source: &str,
    overrides: &Overrides,
    model: &Model,
) -> Vec<Result<Vec<crate::sim::model::Field>, String>> {
    let mut base = model.clone();
    let (numbers, fields) = (base.numbers(), base.fields());
    // The text compiled into `model`, so it parses; read it once for all the params.
    let doc: raw::Document = match toml::from_str(source) {
        Ok(doc) => doc,
        Err(e) => return model.params.iter().map(|_| Err(e.message().to_owned())).collect(),
    };
    model
        .params
        .iter()
        .map(|(name, value)| {
            // Halve it; where that breaks a rule (branch ps that must sum to 1), nudge it
            // by one part in 10^12, which a sum's tolerance absorbs.
            let moves = if *value != 0.0 { [value * 0.5, value * (1.0 - 1e-12)] } else { [0.5, 1e-12] };
            let mut why = String::new();
            for moved in moves {
                let mut o = overrides.clone();
                o.sets.retain(|(n, _)| n != name);
                o.sets.push((name.clone(), moved));
                match compile::compile(&doc, &o) {
                    Ok(mut m) => {
                        return Ok(changed(&numbers, &mut m).into_iter().map(|i| fields[i]).collect())
                    }
                    Err(d) => why = d.first().map(|d| d.message.clone()).unwrap_or_default(),
                }
            }
            Err(why)
        })
        .collect()
}

/// The numeric fields (indices in visiting order) whose value in `moved` differs from
/// `base`: what a param moved between the two compiles feeds.
fn changed(base: &[f64], moved: &mut Model) -> Vec<usize> {
    moved.numbers().iter().zip(base).enumerate().filter(|(_, (a, b))| a != b).map(|(i, _)| i).collect()
}

/// For each param given as a distribution: checks that every value of its support is
/// valid wherever the param is used (by compiling at both ends of the support), and
/// finds the model fields it feeds (by compiling at a second value and comparing), so
/// the engine can set them per trial. A failure is located in the params file when the
/// distributions at fault come from it (returned with it), else in the scenario.
fn resolve_uncertain(
    doc: &raw::Document,
    ov: &Overrides,
    model: &mut Model,
) -> Result<(), (Vec<Diagnostic>, Option<Arc<ParamsFile>>)> {
    let base = model.numbers();
    let mut errors = Vec::new();
    // Problems of distributions the params file gave, located there.
    let mut in_params_file = Vec::new();
    let mut owners = Vec::new();
    for k in 0..model.uncertain.len() {
        let (param, dist) = (model.uncertain[k].param, model.uncertain[k].dist);
        let name = model.params[param].0.clone();
        // The params file comes after the variant, and --set makes a param fixed: a
        // distribution the params file names is the params file's.
        let from_file = ov
            .params
            .as_ref()
            .and_then(|p| p.entries.iter().find(|(n, _)| n.get_ref() == &name).map(|(_, v)| v.span()));
        let span = from_file
            .clone()
            .or_else(|| doc.params.0.iter().find(|(n, _)| n.get_ref() == &name).map(|(_, v)| v.span()));
        let at = |message: String| match &span {
            Some(s) => Diagnostic::at(s.clone(), message),
            None => Diagnostic::whole_file(message),
        };
        let sink = if from_file.is_some() { &mut in_params_file } else { &mut errors };
        if model.param_uses[param].schedule {
            sink.push(
                at(format!("param `{name}` is a distribution but is used as a [[schedule]] day"))
                    .help("scheduled firings are ordered once per run: give the day a fixed number"),
            );
            continue;
        }
        if model.param_uses[param].whole {
            sink.push(at(format!("param `{name}` is a distribution but is used where a whole number is expected"))
                .help("give it a fixed whole number, or use it only for rates, probabilities, delays and multipliers"));
            continue;
        }
        let with = |x: f64| {
            let mut o = ov.clone();
            o.sets.push((name.clone(), x));
            compile::compile(doc, &o)
        };
        let (lo, hi) = dist.support();
        let mut valid = true;
        // Gamma and lognormal never take 0 itself, and have no upper end: probe just
        // above 0 and at a large value instead.
        let lo_probe =
            if matches!(dist, ParamDist::Gamma { .. } | ParamDist::Lognormal { .. }) { 1e-9 } else { lo };
        for probe in [lo_probe, if hi.is_finite() { hi } else { 1e9 }] {
            if let Err(d) = with(probe) {
                let set_by = format!(", as set by {}", ov.sets_as.by(&name));
                let why = d.first().map(|d| d.message.replace(&set_by, "")).unwrap_or_default();
                sink.push(
                    at(format!(
                        "param `{name}` = {} can take the value {probe}, which is not valid where it is used: {why}",
                        dist.describe()
                    ))
                    .help("choose a distribution whose every value fits: beta for a probability, gamma or lognormal for a rate or a delay"),
                );
                valid = false;
                break;
            }
        }
        if !valid {
            continue;
        }
        let mean = dist.mean();
        let other = if lo < mean { (lo + mean) / 2.0 } else { mean + 1.0 };
        if let Ok(mut m2) = with(other) {
            let fields = changed(&base, &mut m2);
            owners.extend(fields.iter().map(|&f| (f, k)));
            model.uncertain[k].fields = fields;
        }
    }
    if !in_params_file.is_empty() {
        return Err((in_params_file, ov.params.clone()));
    }
    if !errors.is_empty() {
        return Err((errors, None));
    }
    owners.sort_unstable();
    model.uncertain_fields = owners;
    Ok(())
}

/// Adds advice to serde's messages where a common mistake is likely.
fn toml_help(d: Diagnostic) -> Diagnostic {
    if d.message.starts_with("missing field `scenario`") {
        return d.help("a scenario file starts with a [scenario] table: name, horizon_days, ...");
    }
    if d.message.starts_with("unknown field") || d.message.starts_with("unexpected keys") {
        return d.help("check the spelling; docs/scenario-language.md lists every key");
    }
    if d.message.contains("wanted exactly 1 element") {
        return d.help(
            "a distribution is a table with exactly one key, e.g. { uniform = [1, 3] } or { poisson = 2 }",
        );
    }
    if d.message.contains(" as i128, expected") {
        // serde's words for an integer beyond 64 bits: say it is too large.
        return d.help("the number is too large: a whole number here is at most 9223372036854775807, and a count at most 2^53 = 9007199254740992");
    }
    if d.message.starts_with("unknown variant") {
        return d.help("delays: fixed, uniform, exponential, triangular, lognormal; tallies: fixed, poisson, poisson_at_least_one, uniform_int, binomial, negative_binomial");
    }
    d
}

#[cfg(test)]
mod patch_tests {
    use super::{compile_str, Overrides};

    /// Writing through [`Model::patch_slots`](crate::sim::model::Model::patch_slots) reaches the same number as the walk over
    /// every field does: each field of the dense benchmark (windows, every delay family,
    /// tallies, modifiers, excitations) patched with its own index reads back in order.
    #[test]
    fn patch_slots_address_every_field_in_visiting_order() {
        let text = include_str!("../../benches/scenarios/dense.toml");
        let mut m = compile_str("dense.toml", text, &Overrides::default()).expect("dense compiles");
        let n = m.numbers().len();
        assert!(n > 60, "dense has many numeric fields, got {n}");
        m.uncertain_fields = (0..n).map(|i| (i, i)).collect();
        let slots = m.patch_slots();
        let values: Vec<f64> = (0..n).map(|i| i as f64 + 0.5).collect();
        m.patch(&slots, &values);
        assert_eq!(m.numbers(), values);
        // The laws drawn from follow the patched amounts and excitations.
        let (mut amounts, mut excitations) = (0, 0);
        for b in m.steps.iter().flat_map(|s| &s.branches) {
            assert_eq!(b.laws.len(), b.tallies.len());
            for ((_, amount), law) in b.tallies.iter().zip(&b.laws) {
                assert_eq!(*law, amount.law(), "the law of {amount:?}");
                amounts += 1;
            }
            for x in &b.excite {
                assert_eq!(x.offspring, crate::sim::dist::PoissonLaw::new(x.n));
                excitations += 1;
            }
        }
        assert!(amounts > 10 && excitations > 0, "{amounts} amounts, {excitations} excitations");
    }

    /// Each field patched alone (a param feeding only that field) brings the laws drawn
    /// from up to date: patching every field at once cannot tell, since one field's
    /// recomputation of its branch also covers the branch's other fields (a dispersion
    /// after its mean, an excitation's n after the branch's amounts).
    #[test]
    fn patching_any_one_field_recomputes_the_laws_it_feeds() {
        let text = include_str!("../../benches/scenarios/dense.toml");
        let compiled = compile_str("dense.toml", text, &Overrides::default()).expect("dense compiles");
        let n = compiled.clone().numbers().len();
        for i in 0..n {
            let mut m = compiled.clone();
            m.uncertain_fields = vec![(i, 0)];
            let slots = m.patch_slots();
            let role = slots[0].0;
            // A value no field holds, valid for a probability and a mean alike.
            m.patch(&slots, &[0.37]);
            for (s, step) in m.steps.iter().enumerate() {
                for (bi, b) in step.branches.iter().enumerate() {
                    for ((_, amount), law) in b.tallies.iter().zip(&b.laws) {
                        assert_eq!(*law, amount.law(), "{role:?} patched: the law of {amount:?} ({s}, {bi})");
                    }
                    for x in &b.excite {
                        assert_eq!(
                            x.offspring,
                            crate::sim::dist::PoissonLaw::new(x.n),
                            "{role:?} patched: an excitation of ({s}, {bi})"
                        );
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod initial_level_tests {
    use super::{compile_str, Overrides};

    /// A trial ends when its level is at or above the lowest terminal level, so starting
    /// above a terminal level is starting on one (docs/scenario-language.md: "The initial
    /// level must not be terminal, or every trial would end at day 0"). Accepted, such a
    /// scenario's trials end at their first event: before `advance` skipped the end check
    /// after window edges and modifier ends (4dd332e), at the window edge of day 2, since
    /// at the first firing; its results changed although they were to stay the same.
    #[test]
    fn an_initial_level_above_a_terminal_one_is_refused() {
        let src = "[scenario]\nname = \"edge\"\nhorizon_days = 30\ninitial_level = \"after\"\n\
                   [[levels]]\nid = \"calm\"\n[[levels]]\nid = \"war\"\nterminal = true\n\
                   [[levels]]\nid = \"after\"\n\
                   [[steps]]\nid = \"incident\"\nrate = 0.05\n\
                   windows = [ { from_day = 2, to_day = 4, rate_x = 2.0 } ]\n";
        let Err(d) = compile_str("edge.toml", src, &Overrides::default()) else {
            panic!("a scenario that starts above a terminal level compiles")
        };
        let text = d.render();
        for want in
            ["edge.toml:4:17", "the initial level `after` is above the terminal level `war`", "on `calm`"]
        {
            assert!(text.contains(want), "`{want}` not in:\n{text}");
        }
    }
}
