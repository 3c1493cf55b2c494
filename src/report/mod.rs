//! Reports of a run: the text timeline and canonical JSON Lines.

pub mod jsonl;
pub mod timeline;
