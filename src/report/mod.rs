//! Reports of a run: the text timeline, canonical JSON Lines, a Mermaid sequence diagram and
//! a self-contained HTML report, all drawn from a [`view::View`].

pub mod diagnostic;
pub mod envelopes;
pub mod filename;
pub mod github;
pub mod html;
pub mod jsonl;
pub mod junit;
pub mod mermaid;
pub mod shell;
pub mod style;
pub mod term;
pub mod timeline;
pub mod view;

/// The widest a name column of terminal output grows: longer names overflow their column
/// instead of widening every row (and a format width past 65,535 would panic).
pub const NAME_COLUMN_MAX: usize = 60;
