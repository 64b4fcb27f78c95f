//! Black-box tests of the HTTP API against a server on a random port.

mod health;
mod helpers;
