//! The stream through a real Kafka-protocol broker (tansu, started per test on a free port):
//! the relay, consumer groups, and read models equal to the in-process path's.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod compose;
mod end_to_end;
mod groups;
mod outage;
mod relay;
mod replay;
mod support;
