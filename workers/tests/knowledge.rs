//! Knowledge retrieval against real PostgreSQL, the wire protocol of Qdrant (a real server
//! with `QDRANT_URL`, else the in-test gRPC server) and a faked embeddings endpoint.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

#[path = "knowledge/base.rs"]
mod base;
#[path = "knowledge/fake_qdrant.rs"]
mod fake_qdrant;
#[path = "knowledge/openai.rs"]
mod openai;
#[path = "knowledge/qdrant.rs"]
mod qdrant;
#[path = "knowledge/support.rs"]
mod support;
