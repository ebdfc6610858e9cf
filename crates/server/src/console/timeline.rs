//! The events timeline of the emulator controls: the last changes this instance wrote or heard,
//! in words, on the virtual clock. It listens on the event bus like any cache; it keeps ids and
//! counts, never a token.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use graphtoken_core::clock::Clock;
use graphtoken_core::events::{Change, Event, Item, LoginStep, Subscriber};
use graphtoken_core::model::Unix;

/// How many events the timeline keeps.
const KEPT: usize = 200;

/// The last events, newest first.
pub struct Timeline {
    clock: Arc<dyn Clock>,
    events: Mutex<VecDeque<(Unix, Line)>>,
}

/// What the timeline keeps of an event.
enum Line {
    /// An event of the issuing path, as it came: its words are written when the page is drawn.
    /// Tokens and sessions come thousands a second under load, and writing each one's words as
    /// it came was 2% of the server's time in the dialog's code exchange (docs/benchmarks.md).
    Later(Event),
    /// Words written as the event came: it may carry a list, which is not worth keeping.
    Now(String),
}

impl Timeline {
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        Timeline {
            clock,
            events: Mutex::default(),
        }
    }

    /// The newest `n` events: when, and what.
    pub fn recent(&self, n: usize) -> Vec<(Unix, String)> {
        let events = match self.events.lock() {
            Ok(e) => e,
            Err(p) => p.into_inner(),
        };
        events
            .iter()
            .take(n)
            .map(|(at, line)| {
                let words = match line {
                    Line::Later(e) => words(e).unwrap_or_default(),
                    Line::Now(w) => w.clone(),
                };
                (*at, words)
            })
            .collect()
    }
}

impl Subscriber for Timeline {
    fn on(&self, event: &Event) {
        let line = match event {
            Event::SessionStarted { .. }
            | Event::TokenIssued { .. }
            | Event::Login {
                step: LoginStep::CodeRedeemed { .. },
                ..
            } => Line::Later(event.clone()),
            _ => match words(event) {
                Some(w) => Line::Now(w),
                None => return,
            },
        };
        let now = self.clock.now();
        let mut events = match self.events.lock() {
            Ok(e) => e,
            Err(p) => p.into_inner(),
        };
        events.push_front((now, line));
        events.truncate(KEPT);
    }
}

fn plural(n: usize, one: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {one}s")
    }
}

/// An event in words (`None`: bookkeeping not worth a line).
fn words(e: &Event) -> Option<String> {
    Some(match e {
        Event::SessionStarted { user, app, .. } => format!("person {user} logged in to app {app}"),
        Event::TokenIssued {
            user,
            app,
            page: Some(page),
            ..
        } => format!("a Page token of {page} for person {user}, app {app}"),
        Event::TokenIssued { user, app, .. } => {
            format!("another token for person {user}, app {app}")
        }
        Event::SessionsEnded {
            user,
            sessions,
            reason,
        } => format!(
            "{} of person {user} ended (190/{})",
            plural(sessions.len(), "session"),
            reason.subcode()
        ),
        Event::TokensEnded {
            user,
            tokens,
            reason,
        } => format!(
            "{} of person {user} ended (190/{})",
            plural(tokens.len(), "token"),
            reason.subcode()
        ),
        Event::GrantChanged { user, app } => {
            format!("person {user}'s permissions for app {app} changed")
        }
        Event::AppUninstalled {
            user, app, reason, ..
        } => format!(
            "app {app} removed for person {user} (190/{})",
            reason.subcode()
        ),
        Event::DataDeletionRequested { user, app, .. } => {
            format!("person {user} asked app {app} to delete their data")
        }
        Event::PersonChanged { user } => format!("person {user} changed"),
        Event::PasswordChanged { user, sessions } => format!(
            "person {user} changed their password: {} ended (190/460)",
            plural(sessions.len(), "session")
        ),
        Event::TestUserCreated { user, app } => format!("test user {user} made for app {app}"),
        Event::PersonDeleted { user, .. } => format!("person {user} deleted"),
        Event::AppSecretReset { app } => format!("app {app}'s secret was reset"),
        Event::AppBudgetsChanged { app } => format!("app {app}'s call budgets were changed"),
        Event::PageTasksChanged { page, user } => {
            format!("person {user}'s tasks on Page {page} changed")
        }
        Event::PageChanged { page } => format!("Page {page} changed"),
        Event::WorldApplied(t) => format!(
            "a seed was applied: {}, {}, {}",
            plural(t.apps.len(), "app"),
            plural(t.users.len(), "person"),
            plural(t.pages.len(), "Page")
        ),
        Event::ContentChanged { page, item, change } => {
            let what = match item {
                Item::Post(_) => "a post",
                Item::Comment(_) => "a comment",
                Item::Message(_) => "a message",
                Item::CallToAction(_) => "a button",
                Item::InstantArticle(_) => "an article",
            };
            let how = match change {
                Change::Created => "made",
                Change::Updated => "changed",
                Change::Deleted => "deleted",
            };
            format!("{what} on Page {page} {how}")
        }
        Event::Login { app, step } => match step {
            LoginStep::CodeRedeemed { user } => {
                format!("a login code of app {app} was redeemed (person {user})")
            }
            LoginStep::DeviceLoginStarted => format!("a device login for app {app} started"),
            _ => return None,
        },
        Event::BrowserSignIn { user, on: true } => format!("person {user} signed in"),
        Event::BrowserSignIn { user, on: false } => format!("person {user} signed out"),
        Event::ClockMoved { now, offset } => format!(
            "the clock moved to {} ({:+.2} days from real time)",
            graphtoken_core::timefmt::utc(*now),
            *offset as f64 / 86_400.0
        ),
        Event::FaultsChanged => "the faults changed".to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use graphtoken_core::clock::SystemClock;
    use graphtoken_core::model::{AppId, SessionId, UserId};

    #[test]
    fn events_read_in_words_newest_first_and_bookkeeping_is_left_out() {
        let t = Timeline::new(Arc::new(SystemClock));
        let (user, app) = (UserId(7), AppId(9));
        t.on(&Event::SessionStarted {
            session: SessionId(1),
            user,
            app,
        });
        t.on(&Event::Login {
            app,
            step: LoginStep::CodeIssued { user },
        });
        t.on(&Event::Login {
            app,
            step: LoginStep::CodeRedeemed { user },
        });
        t.on(&Event::SessionsEnded {
            user,
            sessions: vec![SessionId(1), SessionId(2)],
            reason: graphtoken_core::model::Reason::LoggedOut,
        });
        let words: Vec<String> = t.recent(10).into_iter().map(|(_, w)| w).collect();
        assert_eq!(
            words,
            [
                "2 sessions of person 7 ended (190/467)",
                "a login code of app 9 was redeemed (person 7)",
                "person 7 logged in to app 9",
            ]
        );
        assert_eq!(t.recent(1).len(), 1);
    }
}
