//! The runtime's integration tests: the one test binary of `pipec-runtime`, for what needs a
//! real external system (`bash scripts/test` starts them).

mod kafka_admin;
