//! Damage for scenario files: the mutations the robustness properties and the CLI fuzz
//! test apply to the bundled scenarios (line deletions and duplications, number swaps,
//! id swaps, truncation, bit flips, very long ids and labels).

use proptest::prelude::*;

/// A number to put in place of another: ordinary, negative, huge, tiny, or not finite.
pub fn number() -> impl Strategy<Value = String> {
    prop_oneof![
        (-1.0e6f64..1.0e6).prop_map(|x| format!("{x:?}")),
        (0u32..2000).prop_map(|x| x.to_string()),
        prop::sample::select(vec![
            "0",
            "1",
            "-1",
            "0.0",
            "-0.5",
            "1.5",
            "1e300",
            "-1e300",
            "1e-300",
            "nan",
            "inf",
            "-inf",
            "1e15",
            "4294967296",
            "9007199254740993",
            "1e19",
        ])
        .prop_map(str::to_owned),
    ]
}

#[derive(Debug, Clone)]
pub enum Mutation {
    /// Removes line i (mod the line count).
    DeleteLine(usize),
    /// Writes line i twice.
    DuplicateLine(usize),
    /// Puts a number in place of the i-th number outside comments and strings.
    ReplaceNumber(usize, String),
    /// Puts the j-th quoted id in place of the i-th.
    ReplaceId(usize, usize),
    /// Cuts the file after byte i.
    Truncate(usize),
    /// Flips one bit of byte i (the result may not be UTF-8: written as bytes).
    FlipBit(usize, u8),
    /// Repeats the i-th quoted id's text until it is `len` characters long.
    LongId(usize, usize),
    /// Replaces the i-th quoted string (a label, a note, an id) with `len` characters.
    LongText(usize, usize),
}

pub fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        any::<usize>().prop_map(Mutation::DeleteLine),
        any::<usize>().prop_map(Mutation::DuplicateLine),
        (any::<usize>(), number()).prop_map(|(i, x)| Mutation::ReplaceNumber(i, x)),
        (any::<usize>(), any::<usize>()).prop_map(|(i, j)| Mutation::ReplaceId(i, j)),
        any::<usize>().prop_map(Mutation::Truncate),
        (any::<usize>(), 0u8..8).prop_map(|(i, b)| Mutation::FlipBit(i, b)),
        (any::<usize>(), prop::sample::select(vec![64, 65, 1_000, 70_000]))
            .prop_map(|(i, n)| Mutation::LongId(i, n)),
        (any::<usize>(), prop::sample::select(vec![200, 100_000]))
            .prop_map(|(i, n)| Mutation::LongText(i, n)),
    ]
}

/// Byte ranges of the numbers in `s` outside comments and strings: runs of digits,
/// `.` and `e` that start a token.
pub fn numbers(s: &str) -> Vec<std::ops::Range<usize>> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let (mut i, mut in_string) = (0, false);
    while i < b.len() {
        match b[i] {
            b'"' => in_string = !in_string,
            b'#' if !in_string => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            c if !in_string
                && c.is_ascii_digit()
                && (i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_')) =>
            {
                let start = i;
                while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'.' || b[i] == b'e') {
                    i += 1;
                }
                out.push(start..i);
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    out
}

/// Byte ranges of the quoted ids in `s` (`"[a-z_][a-z0-9_]*"`, quotes excluded).
pub fn ids(s: &str) -> Vec<std::ops::Range<usize>> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'"' {
            let start = i + 1;
            let mut j = start;
            while j < b.len() && (b[j].is_ascii_lowercase() || b[j].is_ascii_digit() || b[j] == b'_') {
                j += 1;
            }
            if j > start && j < b.len() && b[j] == b'"' {
                out.push(start..j);
                i = j + 1;
                continue;
            }
        }
        i += 1;
    }
    out
}

/// Byte ranges of the contents of the quoted strings in `s` (quotes excluded), outside comments.
pub fn strings(s: &str) -> Vec<std::ops::Range<usize>> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'#' => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'"' => {
                let start = i + 1;
                let mut j = start;
                while j < b.len() && b[j] != b'"' && b[j] != b'\n' {
                    j += 1;
                }
                if j < b.len() && b[j] == b'"' {
                    out.push(start..j);
                }
                i = j + 1;
            }
            _ => i += 1,
        }
    }
    out
}

/// Applies a mutation to file bytes: text mutations to the text (lossily decoded, which
/// only matters after a bit flip), bit flips to the bytes.
pub fn apply_bytes(src: &[u8], m: &Mutation) -> Vec<u8> {
    match m {
        Mutation::FlipBit(i, bit) => {
            let mut v = src.to_vec();
            if !v.is_empty() {
                let k = i % v.len();
                v[k] ^= 1 << bit;
            }
            v
        }
        _ => apply(&String::from_utf8_lossy(src), m).into_bytes(),
    }
}

/// Applies a text mutation (a bit flip is applied by [`apply_bytes`] and is a no-op here).
pub fn apply(src: &str, m: &Mutation) -> String {
    let lines: Vec<&str> = src.split_inclusive('\n').collect();
    match m {
        Mutation::DeleteLine(i) => {
            let k = i % lines.len();
            lines.iter().enumerate().filter(|&(j, _)| j != k).map(|(_, l)| *l).collect()
        }
        Mutation::DuplicateLine(i) => {
            let k = i % lines.len();
            let mut v = lines.clone();
            v.insert(k, lines[k]);
            v.concat()
        }
        Mutation::ReplaceNumber(i, x) => {
            let nums = numbers(src);
            if nums.is_empty() {
                return src.to_owned();
            }
            let r = nums[i % nums.len()].clone();
            format!("{}{}{}", &src[..r.start], x, &src[r.end..])
        }
        Mutation::ReplaceId(i, j) => {
            let all = ids(src);
            if all.is_empty() {
                return src.to_owned();
            }
            let target = all[i % all.len()].clone();
            let with = &src[all[j % all.len()].clone()];
            format!("{}{}{}", &src[..target.start], with, &src[target.end..])
        }
        Mutation::FlipBit(..) => src.to_owned(),
        Mutation::LongId(i, len) => {
            let all = ids(src);
            if all.is_empty() {
                return src.to_owned();
            }
            let r = all[i % all.len()].clone();
            let id = &src[r.clone()];
            let long: String = id.chars().cycle().take(*len).collect();
            format!("{}{}{}", &src[..r.start], long, &src[r.end..])
        }
        Mutation::LongText(i, len) => {
            let all = strings(src);
            if all.is_empty() {
                return src.to_owned();
            }
            let r = all[i % all.len()].clone();
            let long: String = "Long label, ".chars().cycle().take(*len).collect();
            format!("{}{}{}", &src[..r.start], long, &src[r.end..])
        }
        Mutation::Truncate(i) => {
            let mut k = i % (src.len() + 1);
            while !src.is_char_boundary(k) {
                k -= 1;
            }
            src[..k].to_owned()
        }
    }
}

#[test]
fn mutation_helpers_find_numbers_ids_and_strings() {
    let s = "[scenario]\nname = \"ab3\" # 17\nhorizon_days = 90 # 2 days\nx = 1.5e3\n[[levels]]\nid = \"calm_2\"\n";
    let nums: Vec<&str> = numbers(s).into_iter().map(|r| &s[r]).collect();
    assert_eq!(nums, ["90", "1.5e3"]);
    let found: Vec<&str> = ids(s).into_iter().map(|r| &s[r]).collect();
    assert_eq!(found, ["ab3", "calm_2"]);
    assert_eq!(apply(s, &Mutation::ReplaceNumber(0, "nan".into())), s.replace("90", "nan"));
    assert_eq!(apply("ab\ncd\n", &Mutation::DeleteLine(1)), "ab\n");
    assert_eq!(apply("ab\ncd\n", &Mutation::DuplicateLine(3)), "ab\ncd\ncd\n");
    assert_eq!(apply("é", &Mutation::Truncate(1)), "");
    assert_eq!(apply("id = \"ab\"\n", &Mutation::LongId(0, 5)), "id = \"ababa\"\n");
    let found: Vec<&str> = strings(s).into_iter().map(|r| &s[r]).collect();
    assert_eq!(found, ["ab3", "calm_2"]);
    assert_eq!(apply("x = \"a\"\n", &Mutation::LongText(0, 3)), "x = \"Lon\"\n");
    assert_eq!(apply_bytes(b"a", &Mutation::FlipBit(7, 1)), b"c");
}
