//! The application's state: one value, changed only through [`Action`]s by [`AppState::reduce`],
//! and shared with every page through a Yew context ([`AppContext`]).
//!
//! Pages read the state and dispatch actions; they never change it directly, so what the
//! interface shows always follows from the actions that happened.

use std::rc::Rc;

use yew::prelude::*;

use crate::components::AlertKind;
use crate::i18n::{Lang, Text};
use crate::route::Route;
use crate::services::vault::Session;

/// Where the wallet stands with its vault.
#[derive(Clone, PartialEq)]
pub enum Phase {
    /// Looking for a vault in this browser.
    Loading,
    /// No vault here yet: welcome, create or restore.
    NoVault,
    /// A vault exists and is locked.
    Locked,
    /// Unlocked: the session holds the keys until it is locked.
    Unlocked(Session),
}

/// The whole app state.
#[derive(Clone, PartialEq)]
pub struct AppState {
    /// The interface language.
    pub lang: Lang,
    /// The route in the address bar.
    pub route: Route,
    /// The vault's state.
    pub phase: Phase,
    /// A new version of the wallet is installed and waits for a reload.
    pub update_ready: bool,
    /// Why the wallet was last locked, shown on the unlock page.
    pub lock_reason: Option<Text>,
    /// Minutes of inactivity before the wallet locks itself.
    pub autolock_minutes: u32,
    /// A short message about the last action and how it is shown: a failure as an error alert
    /// (announced at once), a change as a success.
    pub notice: Option<(AlertKind, Text)>,
    /// Bumped whenever the vault's content changes, so pages reload what they show.
    pub revision: u64,
    /// The page the wallet was opened on (a same-device link, for example), shown once it is
    /// unlocked instead of the home page.
    pub pending: Option<Route>,
}

/// The default auto-lock delay, in minutes.
pub const DEFAULT_AUTOLOCK_MINUTES: u32 = 5;
/// The delays offered in the settings, in minutes.
pub const AUTOLOCK_CHOICES: [u32; 6] = [1, 2, 5, 10, 15, 30];

impl AppState {
    /// The state at start: looking for a vault, on the route in the address bar.
    pub fn new(lang: Lang, route: Route) -> AppState {
        AppState {
            lang,
            route,
            phase: Phase::Loading,
            update_ready: false,
            lock_reason: None,
            autolock_minutes: DEFAULT_AUTOLOCK_MINUTES,
            notice: None,
            revision: 0,
            pending: matches!(route, Route::Credentials | Route::Request).then_some(route),
        }
    }

    /// The open session, if unlocked.
    pub fn session(&self) -> Option<&Session> {
        match &self.phase {
            Phase::Unlocked(session) => Some(session),
            _ => None,
        }
    }

    /// The page actually shown: a route the vault's state does not allow falls back to the page
    /// that makes sense (unlock when locked, welcome when there is no vault, home once unlocked).
    pub fn page(&self) -> Route {
        match (&self.phase, self.route) {
            (Phase::Loading, _) => Route::Welcome,
            (Phase::NoVault, Route::Create | Route::Restore | Route::NotFound) => self.route,
            (Phase::NoVault, _) => Route::Welcome,
            (Phase::Locked, Route::Restore) => Route::Restore,
            (Phase::Locked, _) => Route::Unlock,
            (Phase::Unlocked(_), Route::Welcome | Route::Create | Route::Unlock) => Route::Home,
            (Phase::Unlocked(_), route) => route,
        }
    }
}

/// Everything that can happen to the state.
pub enum Action {
    /// The citizen chose a language.
    SetLang(Lang),
    /// The address bar's route changed.
    Navigate(Route),
    /// The vault lookup finished: `true` when one exists.
    VaultFound(bool),
    /// A session was opened (created, restored or unlocked).
    Unlocked(Session),
    /// The wallet was locked, for the given reason.
    Lock(Text),
    /// The wallet and its data were deleted from this browser.
    Deleted,
    /// A new version is waiting.
    UpdateReady,
    /// The auto-lock delay changed.
    SetAutolock(u32),
    /// An action failed: its reason, shown as an error. Pages reload what they show, since a
    /// failure may have changed part of it (a grant the service refused is marked so).
    Failed(Text),
    /// The vault's content changed.
    Changed(Text),
}

impl Reducible for AppState {
    type Action = Action;

    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        let mut next = (*self).clone();
        match action {
            Action::SetLang(lang) => next.lang = lang,
            Action::Navigate(route) => {
                // Unlocking goes home; a page the wallet was opened on comes first.
                let pending = if route == Route::Home && matches!(next.phase, Phase::Unlocked(_)) {
                    next.pending.take()
                } else {
                    None
                };
                next.route = pending.unwrap_or(route);
                next.notice = None;
            }
            Action::VaultFound(found) => {
                if matches!(next.phase, Phase::Loading) {
                    next.phase = if found { Phase::Locked } else { Phase::NoVault };
                }
            }
            Action::Unlocked(session) => {
                if let Phase::Unlocked(old) = &next.phase
                    && *old != session
                {
                    old.lock();
                }
                next.phase = Phase::Unlocked(session);
                next.lock_reason = None;
            }
            Action::Lock(reason) => {
                // Pages and their tasks hold clones of the session: forgetting it here would leave
                // the keys alive behind them. Every way of locking comes through here.
                if let Phase::Unlocked(session) = &next.phase {
                    session.lock();
                    next.phase = Phase::Locked;
                    next.lock_reason = Some(reason);
                    next.notice = None;
                }
            }
            Action::Deleted => {
                if let Phase::Unlocked(session) = &next.phase {
                    session.lock();
                }
                next.phase = Phase::NoVault;
                next.lock_reason = None;
                next.notice = Some((AlertKind::Success, Text::WalletDeleted));
                next.autolock_minutes = DEFAULT_AUTOLOCK_MINUTES;
            }
            Action::UpdateReady => next.update_ready = true,
            Action::SetAutolock(minutes) => next.autolock_minutes = minutes,
            Action::Failed(text) | Action::Changed(text) => {
                let kind = if matches!(action, Action::Failed(_)) { AlertKind::Error } else { AlertKind::Success };
                next.revision = next.revision.wrapping_add(1);
                next.notice = Some((kind, text));
            }
        }
        Rc::new(next)
    }
}

/// The state and its dispatcher, as pages receive them.
pub type AppContext = UseReducerHandle<AppState>;

/// The app's context, from any component under the root.
#[hook]
pub fn use_app() -> AppContext {
    // The root always provides the context. Hooks cannot be called conditionally, so the inert
    // fallback (for a component rendered outside the root, a programming error) is always built.
    let fallback = use_reducer(|| AppState::new(Lang::default(), Route::Welcome));
    use_context::<AppContext>().unwrap_or(fallback)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reduce(state: AppState, action: Action) -> AppState {
        (*Rc::new(state).reduce(action)).clone()
    }

    #[test]
    fn the_page_follows_the_vault_state() {
        let mut state = AppState::new(Lang::Fr, Route::Data);
        assert_eq!(state.page(), Route::Welcome, "loading");
        state = reduce(state, Action::VaultFound(false));
        assert!(matches!(state.phase, Phase::NoVault));
        assert_eq!(state.page(), Route::Welcome, "no vault: data needs one");
        state = reduce(state, Action::Navigate(Route::Create));
        assert_eq!(state.page(), Route::Create);

        let mut locked = reduce(AppState::new(Lang::Fr, Route::Journal), Action::VaultFound(true));
        assert_eq!(locked.page(), Route::Unlock, "locked: the journal needs the key");
        locked = reduce(locked, Action::Navigate(Route::Create));
        assert_eq!(locked.page(), Route::Unlock, "no second wallet over an existing one");
        locked = reduce(locked, Action::Navigate(Route::Restore));
        assert_eq!(locked.page(), Route::Restore);
    }

    #[test]
    fn a_late_lookup_does_not_override_and_lock_needs_a_session() {
        let state = reduce(AppState::new(Lang::En, Route::Home), Action::VaultFound(false));
        let state = reduce(state, Action::VaultFound(true));
        assert!(matches!(state.phase, Phase::NoVault), "only the first lookup counts");
        let state = reduce(state, Action::Lock(Text::LockedInactivity));
        assert!(matches!(state.phase, Phase::NoVault));
        assert_eq!(state.lock_reason, None);
    }

    #[test]
    fn a_link_page_waits_for_the_unlock() {
        let state = AppState::new(Lang::Fr, Route::Request);
        assert_eq!(state.pending, Some(Route::Request));
        let state = reduce(state, Action::VaultFound(true));
        assert_eq!(state.page(), Route::Unlock);
        // Locked, going home does not use up the pending page.
        let state = reduce(state, Action::Navigate(Route::Home));
        assert_eq!(state.pending, Some(Route::Request));
        assert_eq!(AppState::new(Lang::Fr, Route::Home).pending, None);
    }

    #[test]
    fn changes_bump_the_revision_and_navigation_clears_the_notice() {
        let state = reduce(AppState::new(Lang::Fr, Route::Home), Action::Changed(Text::DataSaved));
        assert_eq!(state.revision, 1);
        assert_eq!(state.notice, Some((AlertKind::Success, Text::DataSaved)));
        let state = reduce(state, Action::Navigate(Route::Journal));
        assert_eq!(state.notice, None);
        assert_eq!(state.revision, 1);
        let state = reduce(state, Action::SetAutolock(10));
        assert_eq!(state.autolock_minutes, 10);
        let state = reduce(state, Action::Deleted);
        assert_eq!(state.autolock_minutes, DEFAULT_AUTOLOCK_MINUTES);
        assert_eq!(state.notice, Some((AlertKind::Success, Text::WalletDeleted)));
    }

    #[test]
    fn a_failure_is_an_error_alert() {
        let state = reduce(AppState::new(Lang::Fr, Route::Settings), Action::Failed(Text::ErrConfirmFirst));
        assert_eq!(state.notice, Some((AlertKind::Error, Text::ErrConfirmFirst)));
        assert_eq!(state.revision, 1);
        let state = reduce(state, Action::Changed(Text::BackupDone));
        assert_eq!(state.notice, Some((AlertKind::Success, Text::BackupDone)));
    }
}
