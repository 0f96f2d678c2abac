//! Tests of the workflow summary against Sunbird's own test inputs.
