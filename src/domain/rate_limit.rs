//! Rate limits: requests counted per client and per minute (fixed windows aligned on the clock's
//! minutes), on this node, in memory. The HTTP side (who the client is, what is answered) is
//! `api::rate_limit`; sharing the counts between nodes is `jobs::rate_limits`.
//!
//! A count is what this node heard from the other nodes at the last exchange (`synced`), plus what
//! it sent since and has no answer for yet (`sending`), plus what it counted since (`pending`). So a
//! request costs one lock and one hash-map entry; the database is never on a request's path.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Mutex, MutexGuard, PoisonError};

/// The length of a window, in seconds.
pub const WINDOW_SECS: i64 = 60;

/// The most subjects a node counts in one window (about 100 bytes each). Past it, a request from a
/// new subject passes uncounted: a flood from that many addresses is a matter for the network, and
/// refusing strangers because the table is full would lock out everyone new.
pub const MAX_SUBJECTS: usize = 200_000;

/// Who a count is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Subject {
    /// Requests without a valid API key from a client address (an IPv6 client: its /64 network).
    Address(IpAddr),
    /// Requests from a client address whose API key did not authenticate. Past the anonymous limit,
    /// that address's keys are refused before they are looked up.
    FailedKeys(IpAddr),
    /// Requests authenticated by one token (the first half of its keyed hash).
    Token([u8; 16]),
}

impl Subject {
    /// The client at `ip`: an IPv4 address, or the /64 network of an IPv6 one (a single host is
    /// commonly handed a whole /64, and could otherwise take a new address for every request).
    pub fn address(ip: IpAddr) -> Subject {
        Subject::Address(client_network(ip))
    }

    pub fn failed_keys(ip: IpAddr) -> Subject {
        Subject::FailedKeys(client_network(ip))
    }

    /// The token whose keyed hash (hex, as `TokenKey::hash` gives it) is `hash`.
    pub fn token(hash: &str) -> Subject {
        let mut id = [0u8; 16];
        let _ = hex::decode_to_slice(hash.get(..32).unwrap_or_default(), &mut id);
        Subject::Token(id)
    }

    /// Its name in the shared table.
    pub fn key(&self) -> String {
        match self {
            Subject::Address(ip) => format!("ip:{ip}"),
            Subject::FailedKeys(ip) => format!("failed-key:{ip}"),
            Subject::Token(id) => format!("token:{}", hex::encode(id)),
        }
    }
}

/// An IPv4 address (IPv4-mapped IPv6 addresses included) as is; an IPv6 address's /64 network.
pub fn client_network(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => {
            let bits = u128::from(v6) & (u128::MAX << 64);
            IpAddr::V6(Ipv6Addr::from(bits))
        }
        v4 => v4,
    }
}

/// The window of a moment (seconds since the epoch): minutes since the epoch.
pub fn window_of(unix_secs: i64) -> i64 {
    unix_secs.div_euclid(WINDOW_SECS)
}

/// Seconds until the window of `unix_secs` ends (1 to 60).
fn reset_after(unix_secs: i64) -> u64 {
    (WINDOW_SECS - unix_secs.rem_euclid(WINDOW_SECS)) as u64
}

/// What a request's count came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    /// Requests allowed in the window.
    pub limit: u32,
    /// Requests counted in the window, this one included.
    pub count: u64,
    /// Seconds until the window ends (and the count starts again).
    pub reset: u64,
}

impl Decision {
    pub fn allowed(&self) -> bool {
        self.count <= u64::from(self.limit)
    }

    /// Requests left in the window.
    pub fn remaining(&self) -> u64 {
        u64::from(self.limit).saturating_sub(self.count)
    }
}

#[derive(Debug, Default)]
struct Count {
    window: i64,
    synced: u64,
    sending: u64,
    pending: u64,
}

impl Count {
    fn total(&self) -> u64 {
        self.synced + self.sending + self.pending
    }
}

/// Requests counted for a subject in a window since the last exchange, to add to the shared total.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Increment {
    pub subject: Subject,
    pub window: i64,
    pub hits: u64,
}

/// This node's counts: the subjects seen in the current window.
#[derive(Debug, Default)]
pub struct Counters {
    counts: Mutex<HashMap<Subject, Count>>,
}

impl Counters {
    pub fn new() -> Self {
        Counters::default()
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<Subject, Count>> {
        // Nothing panics while holding it; were it poisoned, the counts are still usable.
        self.counts.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Counts one request of `subject` at `now` (seconds since the epoch).
    pub fn hit(&self, subject: Subject, limit: u32, now: i64) -> Decision {
        let window = window_of(now);
        let mut counts = self.lock();
        let full = counts.len() >= MAX_SUBJECTS;
        let count = match counts.entry(subject) {
            Entry::Occupied(e) => {
                let c = e.into_mut();
                if c.window != window {
                    *c = Count {
                        window,
                        ..Count::default()
                    };
                }
                c.pending += 1;
                c.total()
            }
            Entry::Vacant(e) if !full => {
                e.insert(Count {
                    window,
                    pending: 1,
                    ..Count::default()
                });
                1
            }
            Entry::Vacant(_) => 1,
        };
        Decision {
            limit,
            count,
            reset: reset_after(now),
        }
    }

    /// What [`Counters::hit`] would answer, without counting.
    pub fn peek(&self, subject: Subject, limit: u32, now: i64) -> Decision {
        let window = window_of(now);
        let before = self
            .lock()
            .get(&subject)
            .filter(|c| c.window == window)
            .map_or(0, Count::total);
        Decision {
            limit,
            count: before + 1,
            reset: reset_after(now),
        }
    }

    /// Forgets the subjects of windows before the one of `now`: memory holds one minute's clients.
    pub fn evict(&self, now: i64) {
        let window = window_of(now);
        self.lock().retain(|_, c| c.window >= window);
    }

    /// What was counted since the last call, to add to the shared totals; it counts as `sending`
    /// until [`Counters::settle`] or [`Counters::unsend`].
    pub fn take_increments(&self) -> Vec<Increment> {
        let mut counts = self.lock();
        counts
            .iter_mut()
            .filter(|(_, c)| c.pending > 0)
            .map(|(subject, c)| {
                let hits = std::mem::take(&mut c.pending);
                c.sending += hits;
                Increment {
                    subject: *subject,
                    window: c.window,
                    hits,
                }
            })
            .collect()
    }

    /// The increments were added: each subject's count is now the shared total (`total_of`), which
    /// holds what every node sent, this one's increments included.
    pub fn settle(&self, sent: &[Increment], total_of: impl Fn(&Increment) -> Option<u64>) {
        let mut counts = self.lock();
        for inc in sent {
            let Some(c) = counts
                .get_mut(&inc.subject)
                .filter(|c| c.window == inc.window)
            else {
                continue;
            };
            c.sending = c.sending.saturating_sub(inc.hits);
            match total_of(inc) {
                Some(total) => c.synced = c.synced.max(total),
                None => c.pending += inc.hits,
            }
        }
    }

    /// The increments could not be added: they are sent again next time.
    pub fn unsend(&self, sent: &[Increment]) {
        self.settle(sent, |_| None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: i64 = 1_800_000_000; // a window's first second

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn a_window_counts_up_to_its_limit_then_starts_again() {
        let c = Counters::new();
        let s = Subject::address(ip("203.0.113.7"));
        let d = c.hit(s, 2, T);
        assert_eq!(
            (d.count, d.remaining(), d.reset, d.allowed()),
            (1, 1, 60, true)
        );
        assert!(c.hit(s, 2, T + 10).allowed());
        let d = c.hit(s, 2, T + 59);
        assert_eq!(
            (d.count, d.remaining(), d.reset, d.allowed()),
            (3, 0, 1, false)
        );
        assert_eq!(c.peek(s, 2, T + 59).count, 4);
        // The next minute starts from nothing.
        assert_eq!(c.peek(s, 2, T + 60).count, 1);
        assert!(c.hit(s, 2, T + 60).allowed());
        // Other subjects count apart.
        assert_eq!(c.hit(Subject::address(ip("203.0.113.8")), 2, T).count, 1);
    }

    #[test]
    fn ipv6_clients_count_by_their_64_network_and_mapped_ipv4_as_ipv4() {
        assert_eq!(
            Subject::address(ip("2001:db8:1:2:aaaa::1")),
            Subject::address(ip("2001:db8:1:2:bbbb::9"))
        );
        assert_ne!(
            Subject::address(ip("2001:db8:1:2::1")),
            Subject::address(ip("2001:db8:1:3::1"))
        );
        assert_eq!(
            Subject::address(ip("::ffff:192.0.2.1")),
            Subject::address(ip("192.0.2.1"))
        );
        assert_eq!(Subject::address(ip("2001:db8::7")).key(), "ip:2001:db8::");
    }

    #[test]
    fn shared_totals_replace_what_was_sent_and_failures_are_sent_again() {
        let c = Counters::new();
        let s = Subject::address(ip("192.0.2.1"));
        c.hit(s, 10, T);
        c.hit(s, 10, T);
        let sent = c.take_increments();
        assert_eq!(
            sent,
            [Increment {
                subject: s,
                window: window_of(T),
                hits: 2
            }]
        );
        // Counted while the increments are on their way: nothing is lost meanwhile.
        assert_eq!(c.hit(s, 10, T).count, 3);
        // Another node counted 5: the shared total is 2 (ours) + 5, plus the one counted since.
        c.settle(&sent, |_| Some(7));
        assert_eq!(c.peek(s, 10, T).count, 7 + 1 + 1);
        // A failed exchange: its increments go out again with the next one.
        let failed = c.take_increments();
        assert_eq!(failed.iter().map(|i| i.hits).sum::<u64>(), 1);
        c.hit(s, 10, T);
        c.unsend(&failed);
        assert_eq!(c.peek(s, 10, T).count, 7 + 2 + 1);
        let again = c.take_increments();
        assert_eq!(again.iter().map(|i| i.hits).sum::<u64>(), 2);
    }

    #[test]
    fn past_windows_are_forgotten() {
        let c = Counters::new();
        c.hit(Subject::address(ip("192.0.2.1")), 10, T);
        c.evict(T + 59);
        assert_eq!(c.lock().len(), 1);
        c.evict(T + 60);
        assert!(c.lock().is_empty());
    }

    #[test]
    fn token_subjects_come_from_the_keyed_hash() {
        let hash = "00112233445566778899aabbccddeeff0123456789abcdef0123456789abcdef";
        assert_eq!(
            Subject::token(hash).key(),
            "token:00112233445566778899aabbccddeeff"
        );
    }
}
