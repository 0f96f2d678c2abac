//! The integration tests of `pipec`: golden diagnostics, the command line, and properties
//! that no input makes the checker panic.

mod cli;
mod golden;
mod igot;
mod no_panic;
mod support;
mod validate_events;
