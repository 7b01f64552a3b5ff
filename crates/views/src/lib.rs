//! Per-agency views (work in progress for issue 4). `child` folds one
//! child's events from all three agencies into one state, in event time,
//! so the result never depends on the order the topics delivered them.

pub mod api;
pub mod child;
pub mod policy;
pub mod sqlite;

pub use child::ChildState;
pub use sqlite::SqliteViews;
