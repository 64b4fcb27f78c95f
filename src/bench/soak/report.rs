//! What a soak's per-minute samples say: RSS growth after the warm-up, and whether the
//! consumers' lag, the answers waiting in the job queues and the webhooks' p99 stay flat.
//! Pure, so the judgement is tested apart from a half-hour run.

use serde::Serialize;

/// One minute of a soak, taken at its end.
#[derive(Debug, Clone, Serialize)]
pub struct Sample {
    /// 1-based: the sample at the end of the soak's first minute is minute 1.
    pub minute: u32,
    /// Resident memory of the process running `serve`, in bytes.
    pub rss_bytes: u64,
    /// Connections to the product's database (`pg_stat_activity`).
    pub db_connections: i64,
    /// Open sockets of the process (the load's own HTTP connections included).
    pub sockets: u64,
    /// HTTP connections the API holds open (server side).
    pub http_connections: u64,
    /// The largest lag among the stream consumers, in events.
    pub lag_max: i64,
    /// The consumer with that lag.
    pub lag_consumer: String,
    /// Bursts of customer messages waiting for the AI's answer (their window still open, or
    /// due): a job queue, so not in any consumer's lag.
    pub bursts_waiting: i64,
    /// Replies waiting to be sent (the sender's job queue).
    pub replies_pending: i64,
    /// Webhooks answered in this minute.
    pub webhooks: u64,
    /// Webhooks that failed (no 2xx) in this minute.
    pub errors: u64,
    /// Median webhook latency of this minute, milliseconds (from its scheduled send).
    pub p50_ms: f64,
    /// 99th percentile of the same.
    pub p99_ms: f64,
}

/// The run's verdict, printed as JSON.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// Minutes sampled.
    pub minutes: u32,
    /// The minute whose RSS is the baseline (the end of the warm-up).
    pub baseline_minute: u32,
    /// Whether the run was too short for the asked warm-up, so an earlier baseline served.
    pub warmup_shortened: bool,
    /// RSS at the baseline, MB.
    pub rss_baseline_mb: f64,
    /// RSS at the last minute, MB.
    pub rss_final_mb: f64,
    /// Growth from the baseline to the last minute, %.
    pub rss_growth_final_pct: f64,
    /// Growth from the baseline to the highest RSS after it, %: what the target is judged on.
    pub rss_growth_peak_pct: f64,
    /// Least-squares slope of the largest consumer lag after the baseline, events per minute.
    pub lag_slope_per_minute: f64,
    /// That slope over the window: how much the lag rose (negative: fell).
    pub lag_fitted_rise: f64,
    /// The rise that still counts as flat.
    pub lag_tolerance: f64,
    /// Least-squares slope of the job queues' backlog (bursts waiting for the AI plus replies
    /// waiting to be sent) after the baseline, per minute.
    pub backlog_slope_per_minute: f64,
    /// That slope over the window.
    pub backlog_fitted_rise: f64,
    /// The rise that still counts as flat.
    pub backlog_tolerance: f64,
    /// Least-squares slope of the per-minute p99 after the baseline, ms per minute.
    pub p99_slope_ms_per_minute: f64,
    /// That slope over the window, ms.
    pub p99_fitted_rise_ms: f64,
    /// The rise that still counts as flat, ms.
    pub p99_tolerance_ms: f64,
    /// The targets.
    pub targets: Targets,
}

/// The soak targets of issue 19, each judged after the warm-up.
#[derive(Debug, Clone, Serialize)]
pub struct Targets {
    /// Peak RSS growth after the warm-up ≤ [`RSS_GROWTH_LIMIT_PCT`].
    pub rss_growth_ok: bool,
    /// The lag's fitted rise ≤ its tolerance.
    pub lag_flat: bool,
    /// The job queues' backlog rises no more than the lag may: a product that takes the
    /// messages in but cannot answer them grows this, not the consumers' lag.
    pub backlog_flat: bool,
    /// The p99's fitted rise ≤ its tolerance.
    pub p99_flat: bool,
    /// All four.
    pub all_met: bool,
}

/// The RSS growth allowed after the warm-up, %.
pub const RSS_GROWTH_LIMIT_PCT: f64 = 10.0;
/// A lag is flat while its fitted rise stays within this share of its mean…
const LAG_RELATIVE: f64 = 0.25;
/// …or within this many seconds of arrivals (a paced consumer's lag swings by a batch).
const LAG_ARRIVAL_SECONDS: f64 = 1.0;
/// A p99 is flat while its fitted rise stays within this share of its median…
const P99_RELATIVE: f64 = 0.2;
/// …or within this many milliseconds (single minutes of a busy machine jump by that).
const P99_ABSOLUTE_MS: f64 = 2.0;

/// Judges `samples` (in minute order) of a run at `rate` webhooks/s, the first
/// `warmup_minutes` not counted. `None` without samples.
pub fn summarize(samples: &[Sample], warmup_minutes: u32, rate: f64) -> Option<Summary> {
    let last = samples.last()?;
    // The baseline is the sample at the end of the warm-up; a run too short to leave two
    // samples after it takes the earliest that does.
    let wanted = warmup_minutes.max(1) as usize;
    let index = wanted.min(samples.len().saturating_sub(2).max(1)) - 1;
    let baseline = &samples[index];
    let window = &samples[index..];
    let mb = |b: u64| b as f64 / (1024.0 * 1024.0);
    let base = baseline.rss_bytes.max(1) as f64;
    let growth = |b: u64| (b as f64 - base) * 100.0 / base;
    let peak = window.iter().map(|s| s.rss_bytes).max().unwrap_or(0);
    let span = window.len().saturating_sub(1) as f64;

    let lags: Vec<f64> = window.iter().map(|s| s.lag_max as f64).collect();
    let lag_slope = slope(&lags);
    let lag_tolerance = (LAG_RELATIVE * mean(&lags)).max(LAG_ARRIVAL_SECONDS * rate);
    let backlogs: Vec<f64> = window
        .iter()
        .map(|s| (s.bursts_waiting + s.replies_pending) as f64)
        .collect();
    let backlog_slope = slope(&backlogs);
    let backlog_tolerance = (LAG_RELATIVE * mean(&backlogs)).max(LAG_ARRIVAL_SECONDS * rate);
    let p99s: Vec<f64> = window.iter().map(|s| s.p99_ms).collect();
    let p99_slope = slope(&p99s);
    let p99_tolerance = (P99_RELATIVE * median(&p99s)).max(P99_ABSOLUTE_MS);

    let rss_growth_ok = growth(peak) <= RSS_GROWTH_LIMIT_PCT;
    let lag_flat = lag_slope * span <= lag_tolerance;
    let backlog_flat = backlog_slope * span <= backlog_tolerance;
    let p99_flat = p99_slope * span <= p99_tolerance;
    Some(Summary {
        minutes: last.minute,
        baseline_minute: baseline.minute,
        warmup_shortened: index + 1 < wanted,
        rss_baseline_mb: mb(baseline.rss_bytes),
        rss_final_mb: mb(last.rss_bytes),
        rss_growth_final_pct: growth(last.rss_bytes),
        rss_growth_peak_pct: growth(peak),
        lag_slope_per_minute: lag_slope,
        lag_fitted_rise: lag_slope * span,
        lag_tolerance,
        backlog_slope_per_minute: backlog_slope,
        backlog_fitted_rise: backlog_slope * span,
        backlog_tolerance,
        p99_slope_ms_per_minute: p99_slope,
        p99_fitted_rise_ms: p99_slope * span,
        p99_tolerance_ms: p99_tolerance,
        targets: Targets {
            rss_growth_ok,
            lag_flat,
            backlog_flat,
            p99_flat,
            all_met: rss_growth_ok && lag_flat && backlog_flat && p99_flat,
        },
    })
}

/// The least-squares slope of `ys` against their index; 0 for fewer than two points.
pub fn slope(ys: &[f64]) -> f64 {
    let n = ys.len() as f64;
    if ys.len() < 2 {
        return 0.0;
    }
    let mean_x = (n - 1.0) / 2.0;
    let mean_y = mean(ys);
    let (mut num, mut den) = (0.0, 0.0);
    for (i, y) in ys.iter().enumerate() {
        let dx = i as f64 - mean_x;
        num += dx * (y - mean_y);
        den += dx * dx;
    }
    num / den
}

fn mean(ys: &[f64]) -> f64 {
    if ys.is_empty() {
        return 0.0;
    }
    ys.iter().sum::<f64>() / ys.len() as f64
}

fn median(ys: &[f64]) -> f64 {
    let mut sorted = ys.to_vec();
    sorted.sort_by(f64::total_cmp);
    match sorted.len() {
        0 => 0.0,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MB: u64 = 1024 * 1024;

    fn sample(minute: u32, rss_mb: u64, lag: i64, p99_ms: f64) -> Sample {
        Sample {
            minute,
            rss_bytes: rss_mb * MB,
            db_connections: 20,
            sockets: 40,
            http_connections: 8,
            lag_max: lag,
            lag_consumer: "conversations".into(),
            bursts_waiting: 1_500,
            replies_pending: 10,
            webhooks: 30_000,
            errors: 0,
            p50_ms: 3.0,
            p99_ms,
        }
    }

    /// Ten minutes: RSS per minute, lag and p99 constant unless given.
    fn run(rss: [u64; 10]) -> Vec<Sample> {
        (1..=10)
            .map(|m| sample(m, rss[m as usize - 1], 500, 20.0))
            .collect()
    }

    #[test]
    fn growth_is_measured_from_the_end_of_the_warm_up_not_from_the_start() {
        // Doubling during the warm-up does not count; 5% after it does.
        let s = summarize(
            &run([100, 150, 180, 195, 200, 202, 204, 206, 208, 210]),
            5,
            500.0,
        )
        .unwrap();
        assert_eq!(s.baseline_minute, 5);
        assert!((s.rss_growth_final_pct - 5.0).abs() < 1e-9);
        assert!(s.targets.rss_growth_ok);
        assert!(s.targets.all_met);
    }

    #[test]
    fn the_target_is_judged_on_the_peak_after_the_warm_up_even_if_memory_falls_back() {
        let s = summarize(
            &run([100, 100, 100, 100, 100, 104, 115, 111, 105, 104]),
            5,
            500.0,
        )
        .unwrap();
        assert!((s.rss_growth_final_pct - 4.0).abs() < 1e-9);
        assert!((s.rss_growth_peak_pct - 15.0).abs() < 1e-9);
        assert!(!s.targets.rss_growth_ok);
        assert!(!s.targets.all_met);
    }

    #[test]
    fn exactly_ten_percent_growth_still_meets_the_target() {
        let s = summarize(
            &run([90, 95, 100, 100, 100, 102, 104, 106, 108, 110]),
            5,
            500.0,
        )
        .unwrap();
        assert!((s.rss_growth_peak_pct - 10.0).abs() < 1e-9);
        assert!(s.targets.rss_growth_ok);
    }

    #[test]
    fn a_run_shorter_than_the_warm_up_takes_its_first_minute_as_baseline_and_says_so() {
        let samples: Vec<Sample> = (1..=3).map(|m| sample(m, 100, 10, 5.0)).collect();
        let s = summarize(&samples, 5, 100.0).unwrap();
        assert_eq!(s.baseline_minute, 1);
        assert!(s.warmup_shortened);
        assert_eq!(s.minutes, 3);
        assert!(summarize(&[], 5, 100.0).is_none());
    }

    #[test]
    fn a_lag_that_grows_every_minute_is_not_flat_and_a_noisy_bounded_one_is() {
        let growing: Vec<Sample> = (1..=10)
            .map(|m| sample(m, 100, i64::from(m) * 2_000, 20.0))
            .collect();
        let s = summarize(&growing, 5, 500.0).unwrap();
        assert!((s.lag_slope_per_minute - 2_000.0).abs() < 1e-6);
        assert!(!s.targets.lag_flat);

        let noisy = [300, 900, 200, 800, 400, 700, 100, 900, 300, 500];
        let bounded: Vec<Sample> = (1..=10)
            .map(|m| sample(m, 100, noisy[m as usize - 1], 20.0))
            .collect();
        assert!(summarize(&bounded, 5, 500.0).unwrap().targets.lag_flat);
    }

    #[test]
    fn answers_falling_behind_are_not_flat_though_every_consumer_keeps_up() {
        // The AI's queue grows by 3,000 bursts a minute; the consumers' lag stays at 500.
        let behind: Vec<Sample> = (1..=10)
            .map(|m| Sample {
                bursts_waiting: i64::from(m) * 3_000,
                ..sample(m, 100, 500, 20.0)
            })
            .collect();
        let s = summarize(&behind, 5, 500.0).unwrap();
        assert!(s.targets.lag_flat);
        assert!((s.backlog_slope_per_minute - 3_000.0).abs() < 1e-6);
        assert!(!s.targets.backlog_flat);
        assert!(!s.targets.all_met);

        // Replies piling up at the sender count the same.
        let unsent: Vec<Sample> = (1..=10)
            .map(|m| Sample {
                replies_pending: i64::from(m) * 3_000,
                ..sample(m, 100, 500, 20.0)
            })
            .collect();
        assert!(!summarize(&unsent, 5, 500.0).unwrap().targets.backlog_flat);

        // A queue that swings with the burst window but does not grow is flat.
        let swinging = [
            1_200, 1_800, 1_300, 1_700, 1_500, 1_600, 1_400, 1_500, 1_700, 1_300,
        ];
        let steady: Vec<Sample> = (1..=10)
            .map(|m| Sample {
                bursts_waiting: swinging[m as usize - 1],
                ..sample(m, 100, 500, 20.0)
            })
            .collect();
        let s = summarize(&steady, 5, 500.0).unwrap();
        assert!(s.targets.backlog_flat);
        assert!(s.targets.all_met);
    }

    #[test]
    fn a_p99_creeping_up_by_more_than_a_fifth_over_the_window_is_not_flat() {
        // 20 ms rising 1 ms a minute over the five minutes after the baseline: +5 ms > 4.5 ms.
        let rising: Vec<Sample> = (1..=10)
            .map(|m| sample(m, 100, 500, 20.0 + f64::from(m.saturating_sub(5))))
            .collect();
        let s = summarize(&rising, 5, 500.0).unwrap();
        assert!((s.p99_fitted_rise_ms - 5.0).abs() < 1e-9);
        assert!(!s.targets.p99_flat);

        let steady: Vec<Sample> = (1..=10)
            .map(|m| sample(m, 100, 500, if m % 2 == 0 { 21.0 } else { 19.0 }))
            .collect();
        assert!(summarize(&steady, 5, 500.0).unwrap().targets.p99_flat);
    }

    #[test]
    fn the_slope_of_a_line_is_its_step_and_of_one_point_zero() {
        assert!((slope(&[1.0, 3.0, 5.0, 7.0]) - 2.0).abs() < 1e-12);
        assert_eq!(slope(&[4.0]), 0.0);
        assert_eq!(median(&[3.0, 1.0, 2.0, 10.0]), 2.5);
    }
}
