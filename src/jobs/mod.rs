//! Scheduled work. Each job takes a lease in the store so that one process runs it at a time.

pub mod purge;
pub mod uploads;
