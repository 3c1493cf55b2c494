//! Reports of a run: the text timeline, canonical JSON Lines, a Mermaid sequence diagram and
//! a self-contained HTML report, all drawn from a [`view::View`].

pub mod envelopes;
pub mod filename;
pub mod github;
pub mod html;
pub mod jsonl;
pub mod junit;
pub mod mermaid;
pub mod shell;
pub mod timeline;
pub mod view;
