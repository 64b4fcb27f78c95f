//! Closed-loop load: N concurrent writers, each issuing operations back to back.

use hdrhistogram::Histogram;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Throughput and latency of one load run.
#[derive(Debug, Clone)]
pub struct Measurement {
    /// Concurrent writers.
    pub writers: usize,
    /// Operations completed in the measured window.
    pub ops: u64,
    /// Operations per second.
    pub ops_per_sec: f64,
    /// Median latency in milliseconds.
    pub p50_ms: f64,
    /// 99th-percentile latency in milliseconds.
    pub p99_ms: f64,
}

/// Runs `op(writer, n)` from `writers` tasks for `warmup` (discarded) then `window`.
///
/// Each writer gets its own index so operations can target distinct aggregates, and its
/// own counter `n` so every operation is unique.
pub async fn measure<F, Fut>(
    writers: usize,
    warmup: Duration,
    window: Duration,
    op: F,
) -> anyhow::Result<Measurement>
where
    F: Fn(usize, u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = anyhow::Result<()>> + Send,
{
    let op = Arc::new(op);
    let start = Instant::now();
    let measure_from = start + warmup;
    let end = measure_from + window;
    let tasks: Vec<_> = (0..writers)
        .map(|w| {
            let op = op.clone();
            tokio::spawn(async move {
                let mut hist = Histogram::<u64>::new(3)?;
                let mut n = 0u64;
                loop {
                    let t0 = Instant::now();
                    if t0 >= end {
                        break;
                    }
                    op(w, n).await?;
                    n += 1;
                    let t1 = Instant::now();
                    // Only operations that both start and finish inside the window count.
                    if t0 >= measure_from && t1 <= end {
                        hist.record(t1.duration_since(t0).as_micros() as u64)?;
                    }
                }
                anyhow::Ok(hist)
            })
        })
        .collect();
    let mut all = Histogram::<u64>::new(3)?;
    for t in tasks {
        all.add(t.await??)?;
    }
    let secs = window.as_secs_f64();
    Ok(Measurement {
        writers,
        ops: all.len(),
        ops_per_sec: all.len() as f64 / secs,
        p50_ms: all.value_at_quantile(0.50) as f64 / 1000.0,
        p99_ms: all.value_at_quantile(0.99) as f64 / 1000.0,
    })
}
