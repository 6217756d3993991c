//! What a page reads from the vault, read again each time the vault changes: one hook instead of
//! the same effect written in every page, and one way of showing "loading" and a failure.
//!
//! A read that ends after a newer one began is dropped: when the vault changes twice in quick
//! succession, a slow first read must not replace what the second found.

use std::cell::Cell;
use std::future::Future;
use std::rc::Rc;

use yew::prelude::*;

use crate::components::{AlertKind, alert_text};
use crate::i18n::{Lang, Text};

/// What a page has read: `None` while reading, then the value or why it could not be read.
pub type Loaded<T> = Option<Result<T, Text>>;

/// Numbers the reads of one hook, so that only the latest may set its outcome.
#[derive(Debug, Default)]
pub struct Latest(Cell<u64>);

/// One read's number, from [`Latest::begin`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ticket(u64);

impl Latest {
    /// A read begins: every earlier one is now stale.
    pub fn begin(&self) -> Ticket {
        let next = self.0.get().wrapping_add(1);
        self.0.set(next);
        Ticket(next)
    }

    /// Whether no read began after the one holding `ticket`.
    pub fn is_current(&self, ticket: Ticket) -> bool {
        self.0.get() == ticket.0
    }
}

/// Reads with `read` when the hook is first used and each time `deps` change (a page passes the
/// app's revision, which every change of the vault bumps), and keeps the latest read's outcome.
/// `read` is `None` when there is nothing to read with (no session): nothing is read, and the
/// page keeps what it had.
#[hook]
pub fn use_loaded<T, D, F, Fut>(deps: D, read: Option<F>) -> UseStateHandle<Loaded<T>>
where
    T: 'static,
    D: PartialEq + 'static,
    F: FnOnce() -> Fut + 'static,
    Fut: Future<Output = Result<T, Text>> + 'static,
{
    let loaded = use_state(|| None);
    let latest = use_mut_ref(Latest::default);
    {
        let (loaded, latest) = (loaded.clone(), Rc::clone(&latest));
        use_effect_with(deps, move |_| {
            if let Some(read) = read {
                let ticket = latest.borrow().begin();
                wasm_bindgen_futures::spawn_local(async move {
                    let outcome = read().await;
                    if latest.borrow().is_current(ticket) {
                        loaded.set(Some(outcome));
                    }
                });
            }
        });
    }
    loaded
}

/// `ready` with the value once read; until then "loading", or the failure as an error alert.
pub fn show<T>(l: Lang, loaded: Option<&Result<T, Text>>, ready: impl FnOnce(&T) -> Html) -> Html {
    match loaded {
        Some(Ok(value)) => ready(value),
        Some(Err(failure)) => waiting(l, Some(*failure)),
        None => waiting(l, None),
    }
}

/// Not generic, so the wasm holds one copy for every page.
fn waiting(l: Lang, failure: Option<Text>) -> Html {
    match failure {
        Some(text) => alert_text(AlertKind::Error, l, text),
        None => html! { <p>{ l.t(Text::Loading) }</p> },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_latest_read_is_current() {
        let latest = Latest::default();
        let first = latest.begin();
        assert!(latest.is_current(first));
        let second = latest.begin();
        assert!(!latest.is_current(first), "a read begun before another is stale");
        assert!(latest.is_current(second));
    }
}
