//! `SmtpSink`: a real SMTP peer for tests. It listens on a random local port, speaks enough
//! SMTP for a client such as lettre (EHLO/HELO, MAIL FROM, RCPT TO, DATA with dot-unstuffing,
//! RSET, NOOP, QUIT) and records every message it accepts. It can be told to refuse the next
//! DATA commands with a transient 451, to exercise retries.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio::task::JoinHandle;

/// A message the sink accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedMail {
    /// The envelope sender (`MAIL FROM`), without angle brackets.
    pub mail_from: String,
    /// The envelope recipients (`RCPT TO`), without angle brackets.
    pub rcpt_to: Vec<String>,
    /// The message as transmitted, dot-unstuffed, with CRLF line ends.
    pub data: Vec<u8>,
}

impl ReceivedMail {
    /// The message, parsed.
    pub fn parsed(&self) -> anyhow::Result<mailparse::ParsedMail<'_>> {
        Ok(mailparse::parse_mail(&self.data)?)
    }

    /// The first header `name`, decoded.
    pub fn header(&self, name: &str) -> Option<String> {
        use mailparse::MailHeaderMap;
        self.parsed().ok()?.headers.get_first_value(name)
    }

    /// The decoded body of the first part whose content type is `mime` (`text/plain`,
    /// `text/html`), searching nested parts.
    pub fn body(&self, mime: &str) -> Option<String> {
        fn find(part: &mailparse::ParsedMail<'_>, mime: &str) -> Option<String> {
            if part.ctype.mimetype.eq_ignore_ascii_case(mime) {
                return part.get_body().ok();
            }
            part.subparts.iter().find_map(|p| find(p, mime))
        }
        find(&self.parsed().ok()?, mime)
    }
}

#[derive(Debug, Default)]
struct State {
    received: Vec<ReceivedMail>,
    refuse_data: u32,
    refused: u32,
}

/// A running SMTP sink; it stops when dropped.
#[derive(Debug)]
pub struct SmtpSink {
    port: u16,
    state: Arc<Mutex<State>>,
    arrived: Arc<Notify>,
    task: JoinHandle<()>,
}

impl SmtpSink {
    /// Starts a sink on `127.0.0.1` and a random port.
    pub async fn start() -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let port = listener.local_addr()?.port();
        let state = Arc::new(Mutex::new(State::default()));
        let arrived = Arc::new(Notify::new());
        let task = tokio::spawn({
            let state = state.clone();
            let arrived = arrived.clone();
            async move {
                while let Ok((stream, _)) = listener.accept().await {
                    let (state, arrived) = (state.clone(), arrived.clone());
                    tokio::spawn(async move {
                        if let Err(e) = session(stream, &state, &arrived).await {
                            tracing::debug!(error = %e, "an SMTP sink session ended with an error");
                        }
                    });
                }
            }
        });
        Ok(Self {
            port,
            state,
            arrived,
            task,
        })
    }

    /// `smtp://127.0.0.1:<port>`: plain SMTP, as `SMTP_URL` takes it.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Answers the next `times` DATA commands with `451` (a transient refusal).
    pub fn refuse_data(&self, times: u32) {
        lock(&self.state).refuse_data = times;
    }

    /// How many DATA commands were refused so far.
    pub fn refused(&self) -> u32 {
        lock(&self.state).refused
    }

    /// Every message accepted so far, in arrival order.
    pub fn received(&self) -> Vec<ReceivedMail> {
        lock(&self.state).received.clone()
    }

    /// Waits until at least `count` messages arrived, or `timeout` passes; returns what
    /// arrived either way.
    pub async fn wait_for(&self, count: usize, timeout: Duration) -> Vec<ReceivedMail> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.arrived.notified();
            let received = self.received();
            if received.len() >= count {
                return received;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return self.received();
            }
        }
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Strips `FROM:` / `TO:`, angle brackets and any parameters after the address.
fn path_argument(arg: &str) -> String {
    let after_colon = arg.split_once(':').map_or(arg, |(_, rest)| rest).trim();
    let address = match after_colon.strip_prefix('<') {
        Some(rest) => rest.split('>').next().unwrap_or(""),
        None => after_colon.split_whitespace().next().unwrap_or(""),
    };
    address.to_owned()
}

async fn session(stream: TcpStream, state: &Mutex<State>, arrived: &Notify) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    write.write_all(b"220 sink ESMTP ready\r\n").await?;
    let mut mail_from: Option<String> = None;
    let mut rcpt_to: Vec<String> = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let command = line.trim_end_matches(['\r', '\n']);
        let verb = command
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_ascii_uppercase();
        let reply: &[u8] = match verb.as_str() {
            "EHLO" => b"250-sink greets you\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n",
            "HELO" => b"250 sink\r\n",
            "MAIL" => {
                mail_from = Some(path_argument(&command[4..]));
                rcpt_to.clear();
                b"250 OK\r\n"
            }
            "RCPT" if mail_from.is_some() => {
                rcpt_to.push(path_argument(&command[4..]));
                b"250 OK\r\n"
            }
            "RCPT" => b"503 MAIL first\r\n",
            "DATA" if rcpt_to.is_empty() => b"503 RCPT first\r\n",
            "DATA" => {
                let refuse = {
                    let mut s = lock(state);
                    let refuse = s.refuse_data > 0;
                    if refuse {
                        s.refuse_data -= 1;
                        s.refused += 1;
                    }
                    refuse
                };
                if refuse {
                    mail_from = None;
                    rcpt_to.clear();
                    write.write_all(b"451 4.3.0 try again later\r\n").await?;
                    continue;
                }
                write
                    .write_all(b"354 end data with <CR><LF>.<CR><LF>\r\n")
                    .await?;
                let data = read_data(&mut lines).await?;
                let mail = ReceivedMail {
                    mail_from: mail_from.take().unwrap_or_default(),
                    rcpt_to: std::mem::take(&mut rcpt_to),
                    data,
                };
                lock(state).received.push(mail);
                arrived.notify_waiters();
                b"250 OK queued\r\n"
            }
            "RSET" => {
                mail_from = None;
                rcpt_to.clear();
                b"250 OK\r\n"
            }
            "NOOP" => b"250 OK\r\n",
            "QUIT" => {
                write.write_all(b"221 bye\r\n").await?;
                return Ok(());
            }
            _ => b"502 command not implemented\r\n",
        };
        write.write_all(reply).await?;
    }
}

/// Reads message lines up to the lone `.`, undoing dot-stuffing.
async fn read_data<R: tokio::io::AsyncBufRead + Unpin>(lines: &mut R) -> std::io::Result<Vec<u8>> {
    let mut data = Vec::new();
    let mut line = Vec::new();
    loop {
        line.clear();
        if lines.read_until(b'\n', &mut line).await? == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "the client hung up inside DATA",
            ));
        }
        let content = line.strip_suffix(b"\r\n").unwrap_or(&line);
        if content == b"." {
            return Ok(data);
        }
        let unstuffed = content.strip_prefix(b".").unwrap_or(content);
        data.extend_from_slice(unstuffed);
        data.extend_from_slice(b"\r\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn dot_stuffed_lines_are_unstuffed_and_the_lone_dot_ends_the_data() {
        let input: &[u8] = b"Subject: x\r\n\r\n..leading dot\r\nplain\r\n.\r\nNOOP\r\n";
        let mut reader = BufReader::new(input);
        let data = read_data(&mut reader).await.ok();
        assert_eq!(
            data.as_deref(),
            Some(&b"Subject: x\r\n\r\n.leading dot\r\nplain\r\n"[..])
        );
    }

    #[test]
    fn envelope_paths_lose_brackets_and_parameters() {
        assert_eq!(path_argument("FROM:<a@b.example> SIZE=10"), "a@b.example");
        assert_eq!(path_argument("TO: <c@d.example>"), "c@d.example");
        assert_eq!(path_argument("FROM:<>"), "");
    }
}
