//! The progress of long operator commands (`purge`, `generate`, `checks run`) on stderr: a bar
//! redrawn in place (indicatif) when stderr is a terminal, then its final count as a line;
//! otherwise a plain line each time the count moves by a hundredth of the total (and at the end),
//! which a log or a CI job keeps readable. stdout keeps only what a script reads (the report).

use std::io::{IsTerminal, Write};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

pub struct Progress {
    what: &'static str,
    total: u64,
    done: u64,
    /// The count at the last plain line.
    shown: Option<u64>,
    bar: Option<ProgressBar>,
}

impl Progress {
    /// Progress of `total` steps of `what` (e.g. `"datasets purged"`), shown on stderr.
    pub fn new(what: &'static str, total: u64) -> Progress {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
            let style = ProgressStyle::with_template(
                "{msg} [{elapsed_precise}] [{bar:30}] {pos}/{len} ({eta} left)",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("#>-");
            bar.set_style(style);
            bar.set_message(what);
            bar
        });
        Progress {
            what,
            total,
            done: 0,
            shown: None,
            bar,
        }
    }

    /// `done` steps of the total are done.
    pub fn set(&mut self, done: u64) {
        self.done = done;
        match &self.bar {
            Some(bar) => bar.set_position(done),
            None => {
                let step = (self.total / 100).max(1);
                if self
                    .shown
                    .is_none_or(|s| done >= s + step || done >= self.total)
                {
                    self.line();
                }
            }
        }
    }

    /// The end: the bar is replaced by a plain line of the final count (a finished bar leaves the
    /// cursor on its own line, where the report would follow it); a last plain line if the count
    /// moved since the previous one.
    pub fn finish(self) {
        match &self.bar {
            Some(bar) => {
                bar.finish_and_clear();
                self.line_at(self.done);
            }
            None if self.shown != Some(self.done) => self.line_at(self.done),
            None => {}
        }
    }

    fn line(&mut self) {
        self.line_at(self.done);
        self.shown = Some(self.done);
    }

    fn line_at(&self, done: u64) {
        let _ = writeln!(
            std::io::stderr().lock(),
            "{}: {done}/{}",
            self.what,
            self.total
        );
    }
}
