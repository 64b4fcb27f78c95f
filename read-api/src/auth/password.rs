//! Password hashing, the password policy and generated passwords: the write side's, so the
//! provisioning saga in `workers` creates owners with the same hashes the API checks.

pub use commands::users::password::*;
