//! Scheduled work inside `serve`: when each job runs. What a run does is an operation (`ops`), so
//! that `rudata purge` and the tests run exactly the same code; each run takes a lease in the store
//! so that one process runs it at a time.

pub mod checks;
pub mod purge;
pub mod rate_limits;
pub mod uploads;
