//! `admin_reports` (F42): every tenant's status and registration time, every subscription's
//! plan and status (derived exactly as the subscription aggregate derives it), and revenue
//! per month and currency. MRR, sign-ups and cancellations are computed from these when
//! read.

mod projection;

pub use projection::AdminReports;
#[cfg(test)]
mod tests;
