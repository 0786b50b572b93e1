//! The scenario file as written: serde types that mirror the TOML one to one.
//!
//! Nothing here is checked beyond TOML syntax, key names and value types; every value
//! keeps its byte span so that validation ([`super::compile`]) can point at it.

use crate::sim::params::ParamDist;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use std::fmt;
use std::marker::PhantomData;
use toml::value::Datetime;
use toml::Spanned;

/// A number written in place, or the name of a `[params]` entry.
#[derive(Debug, Clone, PartialEq)]
pub enum NumRef {
    /// A literal number.
    Num(f64),
    /// A name: a param, or `"rest"` where a branch p is expected.
    Name(String),
}

impl<'de> Deserialize<'de> for NumRef {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = NumRef;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a number or the name of a param (a string)")
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<NumRef, E> {
                Ok(NumRef::Num(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<NumRef, E> {
                Ok(NumRef::Num(v as f64))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<NumRef, E> {
                Ok(NumRef::Num(v as f64))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<NumRef, E> {
                Ok(NumRef::Name(v.to_owned()))
            }
        }
        d.deserialize_any(V)
    }
}

/// A table whose entries keep the order of the file (serde maps would sort or hash them).
#[derive(Debug, Clone)]
pub struct Entries<K, V>(pub Vec<(K, V)>);

impl<K, V> Default for Entries<K, V> {
    fn default() -> Self {
        Entries(Vec::new())
    }
}

impl<'de, K: Deserialize<'de>, V: Deserialize<'de>> Deserialize<'de> for Entries<K, V> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct EV<K, V>(PhantomData<(K, V)>);
        impl<'de, K: Deserialize<'de>, V: Deserialize<'de>> Visitor<'de> for EV<K, V> {
            type Value = Entries<K, V>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a table")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = map.next_entry()? {
                    out.push((k, v));
                }
                Ok(Entries(out))
            }
        }
        d.deserialize_map(EV(PhantomData))
    }
}

/// A value in a `[variants.*]` table: `description` is text, everything else a number
/// or a param distribution.
#[derive(Debug, Clone, PartialEq)]
pub enum VariantValue {
    /// A number (a param override).
    Num(f64),
    /// A distribution (a param override).
    Dist(ParamDist),
    /// Text (only valid for `description`).
    Text(String),
}

impl<'de> Deserialize<'de> for VariantValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = toml::Value::deserialize(d)?;
        match &v {
            toml::Value::String(s) => Ok(VariantValue::Text(s.clone())),
            toml::Value::Float(x) => Ok(VariantValue::Num(*x)),
            toml::Value::Integer(i) => Ok(VariantValue::Num(*i as f64)),
            toml::Value::Table(_) => {
                ParamDist::from_value(&v).map(VariantValue::Dist).map_err(de::Error::custom)
            }
            _ => Err(de::Error::custom(
                "a variant value is a number, a distribution table, or text for `description`",
            )),
        }
    }
}

/// A `[params]` entry: a number, a distribution, or a table with `value` (either) and
/// its provenance (`source`, `note`).
#[derive(Debug, Clone, PartialEq)]
pub struct ParamSpec {
    /// The value: a number or a distribution.
    pub value: ParamValue,
    /// Where the value comes from.
    pub source: Option<String>,
    /// A remark.
    pub note: Option<String>,
}

/// A param's value as written.
#[derive(Debug, Clone, PartialEq)]
pub enum ParamValue {
    /// A fixed number.
    Num(f64),
    /// Uncertain: drawn per trial.
    Dist(ParamDist),
}

fn param_value(v: &toml::Value) -> Result<ParamValue, String> {
    match v {
        toml::Value::Float(x) => Ok(ParamValue::Num(*x)),
        toml::Value::Integer(i) => Ok(ParamValue::Num(*i as f64)),
        toml::Value::Table(_) => ParamDist::from_value(v).map(ParamValue::Dist),
        _ => Err("a param is a number or a distribution such as { beta = [4, 1] }".into()),
    }
}

impl<'de> Deserialize<'de> for ParamSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = toml::Value::deserialize(d)?;
        let table = match &v {
            toml::Value::Table(t) if t.contains_key("value") => t,
            _ => {
                return Ok(ParamSpec {
                    value: param_value(&v).map_err(de::Error::custom)?,
                    source: None,
                    note: None,
                })
            }
        };
        let text = |k: &str| -> Result<Option<String>, D::Error> {
            match table.get(k) {
                None => Ok(None),
                Some(toml::Value::String(s)) => Ok(Some(s.clone())),
                Some(_) => Err(de::Error::custom(format!("`{k}` must be text"))),
            }
        };
        if let Some(k) = table.keys().find(|k| !["value", "source", "note"].contains(&k.as_str())) {
            return Err(de::Error::custom(format!(
                "unknown key `{k}` in a param table: use value, source, note"
            )));
        }
        Ok(ParamSpec {
            value: param_value(&table["value"]).map_err(de::Error::custom)?,
            source: text("source")?,
            note: text("note")?,
        })
    }
}

/// One `[variants.NAME]` table: key = value pairs in file order.
pub(crate) type VariantTable = Entries<Spanned<String>, Spanned<VariantValue>>;

/// The whole file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)] // fields are the keys of docs/scenario-language.md, one to one
pub struct Document {
    pub scenario: Spanned<Header>,
    #[serde(default)]
    pub params: Entries<Spanned<String>, Spanned<ParamSpec>>,
    #[serde(default)]
    pub levels: Vec<Spanned<Level>>,
    #[serde(default)]
    pub tallies: Entries<Spanned<String>, Spanned<String>>,
    #[serde(default)]
    pub steps: Vec<Spanned<Step>>,
    #[serde(default)]
    pub schedule: Vec<Spanned<Scheduled>>,
    #[serde(default)]
    pub variants: Entries<Spanned<String>, Spanned<VariantTable>>,
    #[serde(default)]
    pub questions: Vec<Spanned<Question>>,
}

/// `[[questions]]`: a forecast question, written down before its outcome is known.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)] // fields are the keys of docs/scenario-language.md, one to one
pub struct Question {
    pub id: Spanned<String>,
    pub kind: Option<Spanned<String>>,
    pub text: String,
    pub target: Spanned<String>,
    pub at_least: Option<Spanned<i64>>,
    pub days: Option<Spanned<i64>>,
    pub note: Option<String>,
}

/// `[scenario]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)] // fields are the keys of docs/scenario-language.md, one to one
pub struct Header {
    pub name: Spanned<String>,
    pub title: Option<String>,
    pub description: Option<String>,
    pub start: Option<Spanned<Datetime>>,
    pub horizon_days: Spanned<i64>,
    pub initial_level: Option<Spanned<String>>,
    pub trials: Option<Spanned<i64>>,
    pub seed: Option<Spanned<i64>>,
    pub max_events: Option<Spanned<i64>>,
    pub sources: Option<Spanned<String>>,
}

/// `[[levels]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)] // fields are the keys of docs/scenario-language.md, one to one
pub struct Level {
    pub id: Spanned<String>,
    pub label: Option<String>,
    pub description: Option<String>,
    #[serde(default)]
    pub terminal: bool,
}

/// `[[steps]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)] // fields are the keys of docs/scenario-language.md, one to one
pub struct Step {
    pub id: Spanned<String>,
    pub label: Option<String>,
    pub actor: Option<String>,
    pub description: Option<String>,
    pub rate: Option<Spanned<NumRef>>,
    #[serde(default)]
    pub windows: Vec<Spanned<Window>>,
    pub max: Option<Spanned<NumRef>>,
    #[serde(default)]
    pub branches: Vec<Spanned<Branch>>,
    #[serde(default)]
    pub triggers: Vec<Spanned<Trigger>>,
    pub source: Option<Spanned<String>>,
    pub note: Option<String>,
}

/// An entry of `windows`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)] // fields are the keys of docs/scenario-language.md, one to one
pub struct Window {
    pub from: Option<Spanned<Datetime>>,
    pub to: Option<Spanned<Datetime>>,
    pub from_day: Option<Spanned<NumRef>>,
    pub to_day: Option<Spanned<NumRef>>,
    pub rate_x: Spanned<NumRef>,
}

/// `[[steps.branches]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)] // fields are the keys of docs/scenario-language.md, one to one
pub struct Branch {
    pub id: Spanned<String>,
    pub label: Option<String>,
    pub p: Spanned<NumRef>,
    #[serde(default)]
    pub tally: Entries<Spanned<String>, Spanned<Dist>>,
    pub raise_to: Option<Spanned<String>>,
    pub lower_to: Option<Spanned<String>>,
    #[serde(default)]
    pub modify: Vec<Spanned<Modifier>>,
    #[serde(default)]
    pub excite: Vec<Spanned<Excite>>,
    pub source: Option<Spanned<String>>,
    pub note: Option<String>,
}

/// An entry of `excite`: self-excitation (a Hawkes kernel) of a step's rate.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)] // fields are the keys of docs/scenario-language.md, one to one
pub struct Excite {
    pub step: Spanned<String>,
    pub n: Spanned<NumRef>,
    pub decay_days: Spanned<NumRef>,
}

/// An entry of `modify`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)] // fields are the keys of docs/scenario-language.md, one to one
pub struct Modifier {
    pub step: Spanned<String>,
    pub rate_x: Option<Spanned<NumRef>>,
    pub p_x: Option<Spanned<NumRef>>,
    pub days: Spanned<NumRef>,
}

/// `[[steps.triggers]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)] // fields are the keys of docs/scenario-language.md, one to one
pub struct Trigger {
    pub after: Spanned<String>,
    pub p: Option<Spanned<NumRef>>,
    pub delay: Option<Spanned<Dist>>,
    pub min_level: Option<Spanned<String>>,
    pub max_level: Option<Spanned<String>>,
    pub source: Option<Spanned<String>>,
    pub note: Option<String>,
}

/// `[[schedule]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)] // fields are the keys of docs/scenario-language.md, one to one
pub struct Scheduled {
    pub step: Spanned<String>,
    pub branch: Option<Spanned<String>>,
    pub date: Option<Spanned<Datetime>>,
    pub day: Option<Spanned<NumRef>>,
    pub source: Option<Spanned<String>>,
    pub note: Option<String>,
}

/// Any distribution, delay or tally: which kind fits where is checked in validation, so
/// that `{ poisson = 2 }` as a delay gets a message that says why, not "unknown variant".
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
#[allow(missing_docs)] // variants are the distributions of docs/scenario-language.md, one to one
pub enum Dist {
    Fixed(Spanned<NumRef>),
    Uniform(Vec<Spanned<NumRef>>),
    Exponential(Spanned<NumRef>),
    Triangular(Vec<Spanned<NumRef>>),
    Lognormal { median: Spanned<NumRef>, sigma: Spanned<NumRef> },
    Poisson(Spanned<NumRef>),
    PoissonAtLeastOne(Spanned<NumRef>),
    UniformInt(Vec<Spanned<NumRef>>),
    Binomial { n: Spanned<NumRef>, p: Spanned<NumRef> },
    NegativeBinomial { mean: Spanned<NumRef>, dispersion: Spanned<NumRef> },
}

impl Dist {
    /// The key the user wrote, for messages.
    pub fn name(&self) -> &'static str {
        match self {
            Dist::Fixed(_) => "fixed",
            Dist::Uniform(_) => "uniform",
            Dist::Exponential(_) => "exponential",
            Dist::Triangular(_) => "triangular",
            Dist::Lognormal { .. } => "lognormal",
            Dist::Poisson(_) => "poisson",
            Dist::PoissonAtLeastOne(_) => "poisson_at_least_one",
            Dist::UniformInt(_) => "uniform_int",
            Dist::Binomial { .. } => "binomial",
            Dist::NegativeBinomial { .. } => "negative_binomial",
        }
    }
}
