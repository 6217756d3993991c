//! The wallet's text, French first and English second: every string the citizen reads is a
//! [`Text`] key, and each catalog is an exhaustive `match`, so a key missing from either language
//! does not compile.
//!
//! A crate of its own so that the wallet's first load carries the French catalog only: the
//! English one is compiled into the wallet's second wasm module, which hands it over as a table
//! ([`Text::ALL`] order) when the citizen chooses English (see the wallet's `services::catalog`).

#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;

use alloc::string::String;

pub mod en;
pub mod fr;

/// Declares [`Text`] and [`Text::ALL`] from one list, so that the table the second module hands
/// over and the keys the first load indexes it with cannot disagree on the order.
///
/// A key whose text has placeholders declares them (`ChainBroken { n },`): the macro makes a
/// struct of the same name in [`fill`] with one field per placeholder, so a misspelt or missing
/// placeholder at a call site does not compile, and checks at compile time that each catalog's
/// text names exactly those placeholders, so a typo in a catalog does not compile either.
macro_rules! texts {
    ($($(#[$doc:meta])* $name:ident $({ $($placeholder:ident),* })?,)*) => {
        /// Every piece of text the app shows.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Text {
            $($(#[$doc])* $name,)*
        }

        impl Text {
            /// Every key, in declaration order: `ALL[key as usize] == key`.
            pub const ALL: &'static [Text] = &[$(Text::$name,)*];

            /// The placeholders the key's text names, as declared.
            pub const fn placeholders(self) -> &'static [&'static str] {
                match self {
                    $(Text::$name => &[$($(stringify!($placeholder)),*)?],)*
                }
            }
        }

        /// The placeholders of each key that has some: fill one with [`fill`](crate::fill).
        pub mod fill {
            use super::{Fill, Text};
            use core::fmt::Display;

            $($(
                #[doc = concat!("The placeholders of [`Text::", stringify!($name), "`].")]
                pub struct $name<'a> {
                    $(
                        #[doc = concat!("What replaces `{", stringify!($placeholder), "}`.")]
                        pub $placeholder: &'a dyn Display,
                    )*
                }

                impl Fill for $name<'_> {
                    fn key(&self) -> Text {
                        Text::$name
                    }

                    fn value(&self, name: &str) -> Option<&dyn Display> {
                        match name {
                            $(stringify!($placeholder) => Some(self.$placeholder),)*
                            _ => None,
                        }
                    }
                }
            )?)*
        }

        $(
            const _: () = assert!(
                placeholders_agree(fr::text(Text::$name), Text::$name.placeholders())
                    && placeholders_agree(en::text(Text::$name), Text::$name.placeholders()),
                concat!("a catalog's text of Text::", stringify!($name), " does not name exactly its declared placeholders"),
            );
        )*
    };
}

/// A key's placeholders with their values: the structs of [`fill`].
///
/// A call site names each placeholder as a field, so a misspelt one does not compile:
///
/// ```compile_fail
/// let _ = souverain_i18n::fill::ChainBroken { nb: &3 };
/// ```
///
/// nor does a forgotten one:
///
/// ```compile_fail
/// let _ = souverain_i18n::fill::RetentionExceeded { asked: &40 };
/// ```
///
/// while the right ones do, and fill the text:
///
/// ```
/// use souverain_i18n::{Fill, fill, fr};
/// let args = fill::RetentionExceeded { asked: &40, max: &30 };
/// assert_eq!(
///     souverain_i18n::fill(fr::text(args.key()), &args),
///     fr::text(args.key()).replace("{asked}", "40").replace("{max}", "30"),
/// );
/// ```
pub trait Fill {
    /// The key whose text is filled.
    fn key(&self) -> Text;
    /// The value of placeholder `name`, if the key declares it.
    fn value(&self, name: &str) -> Option<&dyn core::fmt::Display>;
}

/// Whether `text` names exactly the placeholders `declared` (each at least once, no other, every
/// brace part of one): the compile-time check of the catalogs. Used in a constant, a text that
/// disagrees stops the build:
///
/// ```compile_fail
/// const _: () = assert!(souverain_i18n::placeholders_agree("entrée n° {nn}", &["n"]));
/// ```
///
/// ```
/// const _: () = assert!(souverain_i18n::placeholders_agree("entrée n° {n}", &["n"]));
/// ```
pub const fn placeholders_agree(text: &str, declared: &[&str]) -> bool {
    const MAX: usize = 8;
    let bytes = text.as_bytes();
    let mut used = [false; MAX];
    if declared.len() > MAX {
        return false;
    }
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'}' {
            return false;
        }
        if bytes[i] != b'{' {
            i += 1;
            continue;
        }
        let start = i + 1;
        let mut end = start;
        while end < bytes.len() && bytes[end] != b'}' {
            end += 1;
        }
        if end == bytes.len() {
            return false;
        }
        let mut found = false;
        let mut k = 0;
        while k < declared.len() {
            if same(bytes, start, end, declared[k].as_bytes()) {
                used[k] = true;
                found = true;
            }
            k += 1;
        }
        if !found {
            return false;
        }
        i = end + 1;
    }
    let mut k = 0;
    while k < declared.len() {
        if !used[k] {
            return false;
        }
        k += 1;
    }
    true
}

/// Whether `bytes[start..end]` is `name` (slicing is not `const`).
const fn same(bytes: &[u8], start: usize, end: usize, name: &[u8]) -> bool {
    if end - start != name.len() {
        return false;
    }
    let mut i = 0;
    while i < name.len() {
        if bytes[start + i] != name[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// `template` (a catalog's text of `args.key()`) with each `{name}` replaced by its value.
pub fn fill(template: &str, args: &dyn Fill) -> String {
    use core::fmt::Write as _;
    let mut out = String::with_capacity(template.len() + 16);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else { break };
        out.push_str(&rest[..open]);
        match args.value(&after[..close]) {
            Some(value) => {
                let _ = write!(out, "{value}");
            }
            // Cannot happen for a catalog's text (checked at compile time); kept as written.
            None => out.push_str(&rest[open..open + close + 2]),
        }
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    out
}

texts! {
    /// The app's name.
    AppName,
    /// One-line description under the name.
    Tagline,
    /// Label of the link that skips to the main content.
    SkipToContent,
    /// The language switch's visible text: the name of the *other* language, in that language.
    SwitchLanguage,
    /// Accessible label of the language switch.
    SwitchLanguageLabel,
    /// Footer line.
    Footer,
    /// Shown while something loads.
    Loading,
    /// Accessible name of the main navigation.
    NavLabel,
    /// Navigation: home.
    NavHome,
    /// Navigation: my data.
    NavData,
    /// Navigation: journal.
    NavJournal,
    /// Navigation: settings.
    NavSettings,
    /// Button that locks the wallet.
    LockNow,
    /// A new version is installed and waiting.
    UpdateAvailable,
    /// Button that switches to the new version.
    UpdateReload,
    /// Word before an error message.
    KindError,
    /// Word before a warning.
    KindWarning,
    /// Word before a success message.
    KindSuccess,
    /// Word before an information.
    KindInfo,
    /// Back link.
    Back,
    /// Delete button.
    Delete,
    /// A number of minutes; {n} is the number.
    Minutes { n },
    /// [`Text::Minutes`] for one.
    MinutesOne { n },
    /// Heading of the welcome page.
    WelcomeTitle,
    /// First paragraph of the welcome page.
    WelcomeIntro,
    /// Second paragraph: the promise about data.
    WelcomePromise,
    /// Button: create a wallet.
    WelcomeCreate,
    /// Link: restore from a backup.
    WelcomeRestore,
    /// Notice after deleting the wallet.
    WalletDeleted,
    /// Heading of the create page.
    CreateTitle,
    /// Create page introduction.
    CreateIntro,
    /// Label of the passphrase field.
    PassphraseLabel,
    /// Help under a new passphrase.
    PassphraseHint,
    /// Label of the confirmation field.
    PassphraseConfirmLabel,
    /// Create button.
    CreateSubmit,
    /// Before the strength level.
    StrengthLabel,
    /// Strength level.
    StrengthTooWeak,
    /// Strength level.
    StrengthFair,
    /// Strength level.
    StrengthGood,
    /// Strength level.
    StrengthStrong,
    /// Shown while the key is derived.
    Deriving,
    /// Warning that the recovery key is shown once.
    CodeShownOnce,
    /// What the recovery key is for.
    CodeExplain,
    /// Accessible name of the recovery code.
    CodeLabel,
    /// Title printed above the code.
    CodePrintTitle,
    /// Print button.
    CodePrint,
    /// Heading of the recovery key check.
    CodeConfirmTitle,
    /// Instructions of the check.
    CodeConfirmIntro,
    /// Label of a group to retype; {n} is its number.
    CodeGroupLabel { n },
    /// Confirm button.
    CodeConfirmSubmit,
    /// Notice after creation.
    CreatedNotice,
    /// Heading of the unlock page.
    UnlockTitle,
    /// Unlock button.
    UnlockSubmit,
    /// Switch to the recovery key.
    UseRecovery,
    /// Switch back to the passphrase.
    UsePassphrase,
    /// Recovery explanation.
    RecoverIntro,
    /// Label of the recovery code field.
    RecoveryCodeLabel,
    /// Label of a new passphrase.
    NewPassphraseLabel,
    /// Why the wallet is locked: inactivity.
    LockedInactivity,
    /// Why the wallet is locked: by the citizen.
    LockedByYou,
    /// Heading of the restore page.
    RestoreTitle,
    /// Restore page introduction.
    RestoreIntro,
    /// Label of the file input.
    BackupFileLabel,
    /// Legend of the secret choice.
    RestoreWith,
    /// Warning before replacing a wallet.
    RestoreReplaceWarning,
    /// Checkbox confirming replacement.
    RestoreReplaceConfirm,
    /// Restore button.
    RestoreSubmit,
    /// Notice after a restore.
    RestoredNotice,
    /// Heading of the home page.
    HomeTitle,
    /// Heading of the service cards.
    HomeServices,
    /// No service yet.
    HomeNoServices,
    /// Card: purpose.
    CardPurpose,
    /// Card: data shared.
    CardData,
    /// Card: until when.
    CardUntil,
    /// Card: label before the erasure date of a withdrawn consent.
    CardErasedBy,
    /// Card: label before the consent's state when it is not simply running.
    CardState,
    /// Card: the consent was withdrawn and the service acknowledged it.
    CardWithdrawn,
    /// Card: the withdrawal waits to be sent.
    CardWithdrawalQueued,
    /// Heading of pending requests.
    HomePending,
    /// No pending request.
    HomeNoPending,
    /// Shown instead of a name for a pending request from a service the commune does not list.
    PendingUnverified,
    /// Label before a pending request's purpose.
    PendingPurpose,
    /// Label before a pending request's expiry time.
    PendingExpires,
    /// Button opening a pending request to answer it.
    PendingAnswer,
    /// Warning: storage may be evicted.
    StorageNotPersistent,
    /// Link to make a backup.
    StorageMakeBackup,
    /// Heading of my data.
    DataTitle,
    /// My data introduction.
    DataIntro,
    /// Category.
    CatProfile,
    /// Category.
    CatContact,
    /// Category.
    CatHousehold,
    /// Category.
    CatDietary,
    /// Category.
    CatHealth,
    /// Badge: sensitive data.
    Sensitive,
    /// Why sensitive.
    SensitiveExplain,
    /// Badge: self-declared.
    SelfDeclared,
    /// Badge: attested, followed by the issuer.
    AttestedBy,
    /// No item in a category.
    DataEmpty,
    /// Heading of the add form.
    DataAddTitle,
    /// Label of the category select.
    DataCategoryLabel,
    /// Label of the item name.
    DataFieldLabel,
    /// Hint for the item name.
    DataFieldHint,
    /// Label of the value.
    DataValueLabel,
    /// Add button.
    DataAddSubmit,
    /// Notice after saving.
    DataSaved,
    /// Notice after deleting.
    DataDeleted,
    /// Heading of the journal.
    JournalTitle,
    /// Journal introduction.
    JournalIntro,
    /// Chain verified; {n} entries.
    ChainVerified { n },
    /// [`Text::ChainVerified`] for one.
    ChainVerifiedOne { n },
    /// Chain broken at entry {n}.
    ChainBroken { n },
    /// Signed head mismatch.
    ChainHead,
    /// Rollback.
    ChainRolledBack,
    /// An entry cannot be read.
    ChainUnreadable,
    /// Accessible name of the filters.
    JournalFilters,
    /// Filter: service.
    FilterService,
    /// Filter: kind.
    FilterKind,
    /// Filter: all.
    FilterAll,
    /// Number of entries shown; {n}.
    JournalShown { n },
    /// The count of entries shown, for one (CLDR "one": 0 and 1 in French, 1 in English).
    JournalShownOne { n },
    /// Summary of the disclosure holding an entry's identifiers.
    EntryDetails,
    /// Entry number {n}.
    EntryNumber { n },
    /// Before the service.
    EntryService,
    /// Before the purpose.
    EntryPurpose,
    /// Before the claims.
    EntryClaims,
    /// Journal kind.
    KindIssuance,
    /// Journal kind.
    KindDisclosure,
    /// Journal kind.
    KindGrant,
    /// Journal kind.
    KindWithdrawal,
    /// Journal kind.
    KindReceipt,
    /// Journal kind.
    KindImport,
    /// Journal kind.
    KindExport,
    /// Journal kind.
    KindDataChange,
    /// Journal kind: the citizen deleted older entries.
    KindJournalDeleted,
    /// Journal kind unknown to this version.
    KindOther,
    /// Journal purpose written by the wallet.
    PurposePersonalData,
    /// Journal purpose written by the wallet.
    PurposeSettings,
    /// Journal purpose: a service's request was received and waits for an answer.
    PurposePendingRequest,
    /// Journal purpose: a pending request was answered or declined.
    PurposeRequestClosed,
    /// Journal purpose: a pending request expired unanswered.
    PurposeRequestExpired,
    /// Journal purpose: the commune's key was pinned from its trust list.
    PurposeTrustList,
    /// Journal purpose written by the wallet.
    PurposeBackup,
    /// Journal purpose written by the wallet.
    PurposeRestore,
    /// Journal purpose written by the wallet.
    PurposePortability,
    /// Journal purpose written by the wallet.
    PurposeJournal,
    /// Export button.
    JournalExport,
    /// Notice after export.
    JournalExported,
    /// Section: deleting the journal's older entries.
    JournalDeleteTitle,
    /// What deleting does and does not do.
    JournalDeleteExplain,
    /// Confirmation box.
    JournalDeleteConfirm,
    /// Button.
    JournalDeleteSubmit,
    /// Notice after deleting.
    JournalDeletedNotice,
    /// Heading of the settings.
    SettingsTitle,
    /// Section: language.
    SetLanguage,
    /// Section: auto-lock.
    SetAutolock,
    /// Label of the delay.
    AutolockLabel,
    /// Notice.
    AutolockSaved,
    /// Section: passphrase.
    SetPassphrase,
    /// Label.
    CurrentPassphraseLabel,
    /// Button.
    ChangePassphraseSubmit,
    /// Notice.
    PassphraseChanged,
    /// Section: backup.
    SetBackup,
    /// Backup explanation.
    BackupExplain,
    /// Button.
    BackupExport,
    /// Notice.
    BackupDone,
    /// Section: portability.
    SetGdpr,
    /// Explanation.
    GdprExplain,
    /// Checkbox.
    GdprConfirm,
    /// Button.
    GdprExport,
    /// Notice.
    GdprDone,
    /// Section: storage.
    SetStorage,
    /// Term.
    StoragePersistence,
    /// Value.
    StoragePersistent,
    /// Value.
    StorageEvictable,
    /// Term.
    StorageUsage,
    /// Usage; {used} and {quota} in MiB.
    StorageUsageValue { used, quota },
    /// Section: delete.
    SetDelete,
    /// Explanation.
    DeleteExplain,
    /// Checkbox.
    DeleteConfirm,
    /// Button.
    DeleteSubmit,
    /// Heading.
    NotFoundTitle,
    /// Text.
    NotFoundText,
    /// Error.
    ErrWrongSecret,
    /// Error.
    ErrBadRecoveryCode,
    /// Error.
    ErrBadBackup,
    /// Error.
    ErrNotEmpty,
    /// Error.
    ErrQuota,
    /// Error.
    ErrConflict,
    /// Error.
    ErrUnavailable,
    /// Error.
    ErrDamaged,
    /// Error.
    ErrBusy,
    /// Error: a backup of another wallet cannot be merged into this one.
    ErrOtherWallet,
    /// Restore: the choice between merging and replacing (legend).
    RestoreMode,
    /// Restore: merge (the default).
    RestoreMerge,
    /// Restore: replace.
    RestoreReplace,
    /// Restore: merging needs the wallet unlocked.
    RestoreMergeNeedsUnlock,
    /// Restore: the backup's date; {date}.
    RestoreBackupDate { date },
    /// Restore warning: grants a replacement would lose; {n} and {date}, the list follows.
    RestoreLosesGrants { n, date },
    /// [`Text::RestoreLosesGrants`] for one.
    RestoreLosesGrantsOne { n, date },
    /// Restore warning: a locked wallet cannot list them; {date}.
    RestoreMayLoseGrants { date },
    /// Notice: a backup was merged.
    RestoreMerged,
    /// Error.
    ErrOther,
    /// Button: unlock with a passkey.
    UnlockWithPasskey,
    /// Section: passkeys.
    SetPasskeys,
    /// Button: open the passkeys panel.
    PasskeysOpen,
    /// Notice.
    PasskeyAddedDone,
    /// Notice.
    PasskeyRemovedDone,
    /// Error.
    ErrPasskeyRefused,
    /// Error.
    ErrPasskeyWithoutPrf,
    /// Error.
    ErrPasskeyKnown,
    /// Error.
    ErrBadPasskeyLabel,
    /// Error.
    ErrTooManyPasskeys,
    /// Error.
    ErrTooWeak,
    /// Error.
    ErrMismatch,
    /// Error.
    ErrCodeMismatch,
    /// Error.
    ErrNoFile,
    /// Error.
    ErrFieldsRequired,
    /// Error.
    ErrConfirmFirst,
    /// Navigation: my credentials.
    NavCredentials,
    /// Navigation: my consents.
    NavConsents,
    /// Heading of the credentials page.
    CredentialsTitle,
    /// Credentials page introduction.
    CredentialsIntro,
    /// Label of the offer link field.
    OfferLabel,
    /// Button: receive the offered credential.
    OfferSubmit,
    /// While a credential is received.
    Receiving,
    /// Notice after receiving credentials.
    ReceivedNotice,
    /// Asks for the code an agent gave by another channel than the offer link.
    TxCodePrompt,
    /// No credential yet.
    CredentialsEmpty,
    /// Label: the issuer.
    VcIssuer,
    /// Label: expiry date.
    VcExpires,
    /// Label: status.
    VcStatus,
    /// Label: the attested claims.
    VcClaims,
    /// Credential status.
    StatusValid,
    /// Credential status.
    StatusExpired,
    /// Credential status.
    StatusRevoked,
    /// Credential status.
    StatusUnknown,
    /// Credential status.
    StatusChecking,
    /// Notice after deleting a credential.
    CredentialDeleted,
    /// Error.
    ErrNotAnOffer,
    /// Error.
    ErrNetwork,
    /// Error.
    ErrInvalidAnswer,
    /// Heading of the request page.
    RequestTitle,
    /// No request pending.
    RequestNone,
    /// Label of the request link field.
    RequestLinkLabel,
    /// Button: open a pasted request.
    RequestOpen,
    /// While a request is read.
    RequestLoading,
    /// Before the service's name when it is on the trust list.
    ServiceVerified,
    /// Warning: not on the trust list.
    ServiceUnknown,
    /// Warning: invalid signature.
    ServiceBadSignature,
    /// Warning: response address not allowed.
    ServiceBadResponseUri,
    /// The commune key pinned on first use; {key} is its short form.
    TrustPinned { key },
    /// Warning: the trust list could not be fetched.
    TrustUnavailable,
    /// Label.
    RequestPurpose,
    /// Label.
    RequestRetention,
    /// {n} days.
    RetentionDays { n },
    /// [`Text::RetentionDays`] for one.
    RetentionDaysOne { n },
    /// Label.
    RequestRecipients,
    /// No other recipient.
    RecipientsNone,
    /// Label.
    RequestController,
    /// Heading: claims that leave the device.
    RequestClaims,
    /// A required claim.
    ClaimRequired,
    /// An optional claim.
    ClaimOptional,
    /// An excess claim.
    ClaimExcess,
    /// Warning about excess claims.
    OverAsking,
    /// Error: the trust list was fetched but does not verify; the request cannot be answered.
    TrustInvalid,
    /// Error: retention beyond the registered one; {asked} and {max} are days.
    RetentionExceeded { asked, max },
    /// Error: purposes the list does not register for this service; {purposes} lists them.
    PurposesUnregistered { purposes },
    /// Switch label prefix.
    ClaimShare,
    /// A requested credential is missing; {vct} is its type.
    RequestMissing { vct },
    /// Button.
    Approve,
    /// Button.
    Decline,
    /// While sending.
    Sending,
    /// After a successful presentation.
    RequestSent,
    /// Button that opens the camera to read a QR code.
    ScanStart,
    /// The same button while the camera is on: stops it.
    ScanStop,
    /// Under the camera view: what to do, and that pasting stays possible.
    ScanHint,
    /// Accessible name of the camera view.
    ScanVideo,
    /// The camera was refused.
    ErrCameraDenied,
    /// No camera on the device.
    ErrNoCamera,
    /// The camera is used by another application.
    ErrCameraBusy,
    /// The camera could not be opened for another reason.
    ErrScanFailed,
    /// Disclosure on a consent card revealing the QR code for an agent.
    QrShowAgent,
    /// Accessible name of that QR code.
    QrCheckLabel,
    /// What the agent does with it, and what it contains.
    QrCheckHint,
    /// Label of the check address shown as text beside the code.
    QrCheckUrl,
    /// After declining.
    RequestDeclined,
    /// Error.
    ErrRequest,
    /// Error.
    ErrCannotDecline,
    /// Heading of the consents page.
    ConsentsTitle,
    /// No consent yet.
    ConsentsEmpty,
    /// Consent state.
    ConsentActive,
    /// Consent state: running, but objected to (GDPR art. 21): the service no longer uses it.
    ConsentObjected,
    /// Consent state.
    ConsentWithdrawn,
    /// Consent state.
    ConsentExpired,
    /// Consent state.
    ConsentQueued,
    /// Label.
    ConsentGiven,
    /// Label.
    ConsentUntil,
    /// Button.
    Withdraw,
    /// Notice.
    WithdrawnNotice,
    /// Notice.
    WithdrawQueued,
    /// Label: the verified receipt.
    ReceiptVerified,
    /// Label.
    ErasureBy,
    /// Consent state: kept and sent, the service's receipt not received yet (sent again).
    ConsentSending,
    /// Consent state: the service refused the answer for good.
    ConsentRefused,
    /// Explanation under a consent being sent.
    ConsentSendingHint,
    /// Button: check the commune's log.
    AuditRun,
    /// Journal heading of what the services did with the citizen's data.
    UsesJournalTitle,
    /// The mandates page's title.
    MandatesTitle,
    /// Button opening the mandates section.
    MandatesOpen,
    /// The studies page's title and its link in the navigation.
    StudiesTitle,
    /// A consent given for me by my carer; `{name}` is the carer.
    ConsentActedBy { name },
    /// A consent I gave for a person; `{name}` is that person.
    ConsentActingFor { name },
    /// Journal: a mandate given.
    PurposeMandateGiven,
    /// Journal: a mandate received.
    PurposeMandateReceived,
    /// Journal: a mandate revoked.
    PurposeMandateRevoked,
    /// Journal: done in my name by my carer.
    PurposeMandateAct,
    /// Journal: done by me for a person.
    PurposeActingFor,
    /// Journal purpose: a service's signed answer to my right of access.
    PurposeRightsAccess,
    /// Journal purpose: a service's signed receipt for my request to erase my data now.
    PurposeRightsErasure,
    /// Journal: the right to object exercised (the service's signed receipt).
    PurposeRightsObjection,
    /// Journal: the right to rectification (the service's signed decision).
    PurposeRightsRectification,
    /// Journal purpose: a rights request the service did not answer, kept with its date.
    PurposeRightsUnanswered,
    /// Journal purpose: the citizen declined a study.
    PurposeStudyDeclined,
    /// Journal purpose: an answer to a study kept to be sent again.
    PurposeStudyWaiting,
    /// Journal purpose: the citizen declined a service's request.
    PurposeRequestDeclined,
    /// Journal purpose: a service's request the wallet could not verify.
    PurposeRequestFailed,
    /// Journal purpose: the audit's state kept.
    PurposeAudit,
    /// Notice: an answer sent again was acknowledged.
    DeliveredNotice,
    /// Notice: an answer sent again was refused.
    RefusedNotice,
    /// Journal purpose: the service refused an answer.
    PurposeConsentRefused,
    /// Name of the residence credential type.
    VctResidence,
    /// Name of the household credential type.
    VctHousehold,
    /// Name of the family quotient credential type.
    VctFamilyQuotient,
    /// Claim name `given_name`.
    ClaimGivenName,
    /// Claim name `family_name`.
    ClaimFamilyName,
    /// Claim name `address`.
    ClaimAddress,
    /// Claim name `street_address`.
    ClaimStreetAddress,
    /// Claim name `locality`.
    ClaimLocality,
    /// Claim name `postal_code`.
    ClaimPostalCode,
    /// Claim name `since`.
    ClaimSince,
    /// Claim name `children`.
    ClaimChildren,
    /// Claim name `birthdate`.
    ClaimBirthdate,
    /// Claim name `school`.
    ClaimSchool,
    /// Claim name `bracket`.
    ClaimBracket,
    /// Claim name `reference_year`.
    ClaimReferenceYear,
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn placeholders_must_agree_exactly() {
        assert!(placeholders_agree("{n} minutes", &["n"]));
        assert!(placeholders_agree("no placeholder", &[]));
        assert!(placeholders_agree("{date}: {n} ({n})", &["n", "date"]));
        assert!(!placeholders_agree("{nn} minutes", &["n"]), "a misspelt placeholder");
        assert!(!placeholders_agree("minutes", &["n"]), "a forgotten placeholder");
        assert!(!placeholders_agree("{n} {max}", &["n"]), "an undeclared placeholder");
        assert!(!placeholders_agree("{n minutes", &["n"]), "an unclosed brace");
        assert!(!placeholders_agree("n} minutes", &["n"]), "a stray brace");
        assert!(!placeholders_agree("{} minutes", &["n"]), "an empty placeholder");
    }

    #[test]
    fn every_key_of_both_catalogs_names_exactly_its_placeholders() {
        // Also checked at compile time; here so a failure names the key.
        for key in Text::ALL {
            assert!(placeholders_agree(fr::text(*key), key.placeholders()), "fr {key:?}");
            assert!(placeholders_agree(en::text(*key), key.placeholders()), "en {key:?}");
        }
        assert_eq!(Text::RestoreLosesGrants.placeholders(), ["n", "date"]);
        assert_eq!(Text::AppName.placeholders(), [] as [&str; 0]);
    }

    #[test]
    fn fill_replaces_each_placeholder_by_its_value() {
        let n = 12;
        let args = fill::ChainBroken { n: &n };
        assert_eq!(args.key(), Text::ChainBroken);
        let text = super::fill(fr::text(args.key()), &args);
        assert!(text.contains("n° 12") && !text.contains('{'), "{text}");
        let args = fill::StorageUsageValue { used: &"1,5 Mio", quota: &"2 Gio" };
        assert_eq!(super::fill("{used} sur {quota}, {used}", &args), "1,5 Mio sur 2 Gio, 1,5 Mio");
        // A brace that names nothing is kept as written; an unclosed one ends the text as is.
        assert_eq!(super::fill("{x} {used", &args), "{x} {used");
        assert_eq!(args.value("quota").map(ToString::to_string).as_deref(), Some("2 Gio"));
        assert!(args.value("n").is_none());
    }
}
