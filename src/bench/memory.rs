//! This process's memory as Linux reports it in `/proc/self/status`.

/// A `kB` line of `/proc/self/status`, in bytes.
fn status_kb(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb * 1024)
}

/// Resident memory now.
pub fn rss_bytes() -> Option<u64> {
    status_kb("VmRSS")
}

/// The highest resident memory since the process started or [`reset_peak`].
pub fn peak_rss_bytes() -> Option<u64> {
    status_kb("VmHWM")
}

/// Restarts the peak from the current resident memory (`clear_refs`, Linux ≥ 4.0), so a
/// benchmark reports the peak of its measured part, not of its set-up. False if refused.
pub fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// Bytes as MB (2^20).
pub fn mb(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}
