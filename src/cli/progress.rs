//! Progress of the long commands (`replay`, `backup`, `restore`, `privacy export`,
//! `audit verify`, the benchmarks' fills), drawn on stderr when it is a terminal.
//!
//! A command run by a script (stderr piped or redirected) draws nothing: its stdout keeps
//! only the JSON result and its stderr only the logs. On a terminal, log lines are written
//! around the bars (see [`LogWriter`]) rather than through them.

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressFinish, ProgressStyle};
use std::io::{IsTerminal, Write};
use std::sync::LazyLock;
use std::time::Duration;

/// Every bar of the process, drawn together; hidden unless stderr is a terminal.
static BARS: LazyLock<MultiProgress> = LazyLock::new(|| {
    MultiProgress::with_draw_target(if std::io::stderr().is_terminal() {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    })
});

/// One long step's progress: a spinner until its total is known, then a bar with the rate
/// and the time left. Cheap to clone (clones share the bar).
#[derive(Debug, Clone)]
pub struct Bar(ProgressBar);

impl Bar {
    /// A step named `what` counting `unit`s (`events`, `links`): a spinner with the time
    /// spent until [`stream::Progress::total`] is told, a bar after.
    pub fn new(what: &str, unit: &'static str) -> Self {
        Self::start(what, unit, spinner_style())
    }

    /// A step whose total is known from the start.
    pub fn of(what: &str, unit: &'static str, total: u64) -> Self {
        let bar = Self::start(what, unit, bar_style());
        bar.0.set_length(total);
        bar
    }

    /// A step counting bytes written, of a size not known ahead (a dump).
    pub fn bytes(what: &str) -> Self {
        Self::start(
            what,
            "",
            style("{spinner} {msg} {binary_bytes} · {binary_bytes_per_sec} · {elapsed}"),
        )
    }

    /// A bar drawn nowhere (the library-style callers of a watched function).
    pub fn hidden() -> Self {
        Self(ProgressBar::hidden())
    }

    fn start(what: &str, unit: &'static str, style: ProgressStyle) -> Self {
        // A bar dropped unfinished (an error returned early) leaves the screen, so the
        // error is not printed under a frozen bar.
        let bar = BARS.add(ProgressBar::no_length().with_finish(ProgressFinish::AndClear));
        bar.set_style(style);
        bar.set_prefix(unit);
        bar.set_message(what.to_owned());
        bar.enable_steady_tick(Duration::from_millis(120));
        Self(bar)
    }

    /// Adds `n` to the work done.
    pub fn inc(&self, n: u64) {
        self.0.inc(n);
    }

    /// Sets the work done (bytes written, for [`Bar::bytes`]).
    pub fn set(&self, done: u64) {
        self.0.set_position(done);
    }

    /// Names what the step is doing now.
    pub fn say(&self, what: &str) {
        self.0.set_message(what.to_owned());
    }

    /// Removes the bar: the result follows on stdout.
    pub fn finish(&self) {
        self.0.finish_and_clear();
    }
}

impl stream::Progress for Bar {
    fn total(&self, total: u64) {
        self.0.set_style(bar_style());
        self.0.set_length(total);
    }

    fn done(&self, done: u64) {
        // Callers may overshoot an estimated total (a replay reads events committed after
        // it started): the bar grows rather than sticking at 100 %.
        if self.0.length().is_some_and(|len| done > len) {
            self.0.set_length(done);
        }
        self.0.set_position(done);
    }
}

fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar())
}

fn spinner_style() -> ProgressStyle {
    style("{spinner} {msg} · {elapsed}")
}

fn bar_style() -> ProgressStyle {
    style("{msg} [{bar:30}] {human_pos}/{human_len} {prefix} · {per_sec} · {eta} left")
        .progress_chars("=> ")
}

/// Where the logs go: stderr, with the bars lifted while a line is written so neither
/// garbles the other.
#[derive(Debug, Clone, Copy, Default)]
pub struct LogWriter;

impl Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        BARS.suspend(|| std::io::stderr().write(buf))
    }

    fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        BARS.suspend(|| std::io::stderr().write_all(buf))
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogWriter {
    type Writer = LogWriter;

    fn make_writer(&'a self) -> Self::Writer {
        *self
    }
}
