//! Shard K of N: parsing `K/N` and the contiguous range of trials (or grid points) it
//! covers, `[K*T/N, (K+1)*T/N)`.

use std::ops::Range;

/// Shard `index` of `count` (written `K/N`, K from 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// K, in `0..count`.
    pub index: u64,
    /// N, at least 1.
    pub count: u64,
}

impl Shard {
    /// Parses `K/N` with `0 <= K < N`.
    pub fn parse(s: &str) -> Result<Shard, String> {
        let (k, n) = s.split_once('/').ok_or_else(|| format!("expected K/N such as 0/4, got `{s}`"))?;
        let index: u64 = k.trim().parse().map_err(|_| format!("`{k}` is not a shard number (in {s})"))?;
        let count: u64 = n.trim().parse().map_err(|_| format!("`{n}` is not a shard count (in {s})"))?;
        if count == 0 {
            return Err(format!("the shard count must be at least 1 (in {s})"));
        }
        if index >= count {
            return Err(format!(
                "shard {index} does not exist in {count} shards: they are numbered 0 to {}",
                count - 1
            ));
        }
        Ok(Shard { index, count })
    }

    /// The trials of this shard among `total`: `[K*T/N, (K+1)*T/N)`.
    pub fn range(self, total: u64) -> Range<u64> {
        let at = |k: u64| (u128::from(k) * u128::from(total) / u128::from(self.count)) as u64;
        at(self.index)..at(self.index + 1)
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::Shard;

    #[test]
    fn shards_cover_every_trial_once() {
        for total in [0u64, 1, 5, 2048, 10_001, 100_000] {
            for count in [1u64, 2, 3, 7, 13, 64] {
                let mut next = 0;
                for index in 0..count {
                    let r = Shard { index, count }.range(total);
                    assert_eq!(r.start, next, "{index}/{count} of {total}");
                    assert!(r.end >= r.start);
                    let len = r.end - r.start;
                    assert!(
                        len == total / count || len == total / count + 1,
                        "{index}/{count} of {total}: {len}"
                    );
                    next = r.end;
                }
                assert_eq!(next, total);
            }
        }
        assert_eq!(Shard { index: 0, count: 3 }.range(10_001), 0..3333);
        assert_eq!(Shard { index: 2, count: 3 }.range(10_001), 6667..10_001);
        let big = Shard { index: 1, count: 2 }.range(u64::MAX);
        assert_eq!(big.end, u64::MAX);
    }

    #[test]
    fn shard_text_is_checked() {
        assert_eq!(Shard::parse("0/4"), Ok(Shard { index: 0, count: 4 }));
        assert_eq!(Shard::parse(" 3 / 4 "), Ok(Shard { index: 3, count: 4 }));
        assert!(Shard::parse("4/4").unwrap_err().contains("numbered 0 to 3"));
        assert!(Shard::parse("0/0").is_err());
        assert!(Shard::parse("1").is_err());
        assert!(Shard::parse("a/2").is_err());
        assert_eq!(Shard { index: 2, count: 5 }.to_string(), "2/5");
    }
}
