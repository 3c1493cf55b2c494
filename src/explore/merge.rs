//! Joining the outputs of sharded sweeps.
//!
//! Shards write their failures in the order they committed them; merging sorts by (file,
//! scenario, variant, strategy, seed) and drops exact duplicates (a shard run twice), so
//! merging the shards of a sweep gives the same lines as merging the unsharded sweep's file.
//!
//! A sweep writes at most `keep` failures per (pair, first broken check), its first by seed;
//! merging keeps the first `keep` of each again. Each of the unsharded sweep's first `keep` is
//! among the first `keep` of its own shard, so the merged shards are still the unsharded file.

use crate::engine::replay::Failure;
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::PathBuf;

/// Where one failure lies in the inputs of [`merge_files`], and what it sorts by.
struct Entry {
    /// Ranks of file, scenario, variant and strategy among every such string (interned).
    names: [u32; 4],
    seed: u64,
    input: usize,
    offset: u64,
    len: usize,
}

/// Interned strings: ids in order of arrival, ranked in sorted order after the first pass.
#[derive(Default)]
struct Names(BTreeMap<String, u32>);

impl Names {
    fn id(&mut self, s: &str) -> u32 {
        if let Some(&id) = self.0.get(s) {
            return id;
        }
        let id = self.0.len() as u32;
        self.0.insert(s.to_owned(), id);
        id
    }

    /// `rank[id]`: the position of string `id` in sorted order.
    fn ranks(&self) -> Vec<u32> {
        let mut rank = vec![0; self.0.len()];
        for (i, id) in self.0.values().enumerate() {
            rank[*id as usize] = i as u32;
        }
        rank
    }
}

/// The failures of the files `paths` (each one failure, or JSON Lines of them as sweeps
/// write), sorted by (file, scenario, variant, strategy, seed), exact duplicates dropped, and
/// at most `keep` per (pair, strategy, first broken check) (`None`: all), written to `out` one
/// line each, without holding the inputs in memory: the first pass
/// keeps a small key per failure, the second reads each failure again where it lies.
/// Returns (failures read, failures written); errors name the file and line.
pub fn merge_files(paths: &[PathBuf], out: &mut dyn Write, keep: Option<u64>) -> Result<(u64, u64), String> {
    let mut names = Names::default();
    let mut entries: Vec<Entry> = Vec::new();
    for (input, path) in paths.iter().enumerate() {
        let cannot = |e: std::io::Error| format!("{}: cannot read: {e}", path.display());
        let mut reader = BufReader::new(File::open(path).map_err(cannot)?);
        let mut line = String::new();
        let (mut offset, mut number) = (0u64, 0usize);
        let before = entries.len();
        loop {
            line.clear();
            let len = reader.read_line(&mut line).map_err(cannot)?;
            if len == 0 {
                break;
            }
            number += 1;
            if !line.trim().is_empty() {
                match serde_json::from_str::<Failure>(&line) {
                    Ok(f) => entries.push(Entry {
                        names: [names.id(&f.file), names.id(&f.scenario), names.id(&f.variant), names.id(&f.strategy)],
                        seed: f.seed,
                        input,
                        offset,
                        len,
                    }),
                    // Not JSON Lines: one (pretty) failure file, read whole as `load_all` does.
                    Err(_) if entries.len() == before => {
                        let f = Failure::load(path)?;
                        let len = std::fs::metadata(path).map_err(cannot)?.len();
                        entries.push(Entry {
                            names: [
                                names.id(&f.file),
                                names.id(&f.scenario),
                                names.id(&f.variant),
                                names.id(&f.strategy),
                            ],
                            seed: f.seed,
                            input,
                            offset: 0,
                            len: usize::try_from(len).map_err(|_| format!("{}: too large", path.display()))?,
                        });
                        break;
                    }
                    Err(e) => {
                        return Err(format!(
                            "{}:{number}:{}: not a racelab failure line: {e}",
                            path.display(),
                            e.column()
                        ));
                    }
                }
            }
            offset += len as u64;
        }
    }
    let rank = names.ranks();
    let key = |e: &Entry| (e.names.map(|id| rank[id as usize]), e.seed);
    entries.sort_by_key(|e| key(e));

    let mut files: Vec<File> = paths.iter().map(File::open).collect::<Result<_, _>>().map_err(|e| e.to_string())?;
    let mut read_one = |e: &Entry| -> Result<(String, String), String> {
        let path = &paths[e.input];
        let file = &mut files[e.input];
        let mut buf = vec![0u8; e.len];
        file.seek(SeekFrom::Start(e.offset))
            .and_then(|_| file.read_exact(&mut buf))
            .map_err(|err| format!("{}: cannot read again: {err}", path.display()))?;
        let f: Failure =
            serde_json::from_slice(&buf).map_err(|err| format!("{}: changed while merging: {err}", path.display()))?;
        Ok((f.to_line(), f.verdict.failed_check().unwrap_or_default().to_owned()))
    };
    let mut kept: BTreeMap<([u32; 4], String), u64> = BTreeMap::new();
    let mut written = 0u64;
    let mut i = 0;
    while i < entries.len() {
        // Failures of one (file, scenario, variant, strategy, seed): sorted by line, duplicates dropped.
        let j = (i..entries.len()).find(|&j| key(&entries[j]) != key(&entries[i])).unwrap_or(entries.len());
        let mut lines = entries[i..j].iter().map(&mut read_one).collect::<Result<Vec<_>, _>>()?;
        lines.sort();
        lines.dedup();
        for (l, check) in lines {
            let n = kept.entry((entries[i].names, check)).or_default();
            *n += 1;
            if keep.is_some_and(|k| *n > k) {
                continue;
            }
            out.write_all(l.as_bytes()).and_then(|_| out.write_all(b"\n")).map_err(|e| format!("cannot write: {e}"))?;
            written += 1;
        }
        i = j;
    }
    Ok((entries.len() as u64, written))
}
