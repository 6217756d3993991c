//! English catalog.

use crate::Text;

/// The text of `key`.
pub const fn text(key: Text) -> &'static str {
    match key {
        Text::AppName => "Souverain",
        Text::Tagline => "Your data wallet for your commune's services",
        Text::SkipToContent => "Skip to content",
        Text::SwitchLanguage => "Français",
        Text::SwitchLanguageLabel => "Passer en français",
        Text::Footer => "Souverain: your data, your commune, your choice.",
        Text::Loading => "Loading…",
        Text::NavLabel => "Main navigation",
        Text::NavHome => "Home",
        Text::NavData => "My data",
        Text::NavJournal => "Journal",
        Text::NavSettings => "Settings",
        Text::LockNow => "Lock",
        Text::UpdateAvailable => "A new version of the wallet is available.",
        Text::UpdateReload => "Reload",
        Text::KindError => "Error:",
        Text::KindWarning => "Warning:",
        Text::KindSuccess => "Done:",
        Text::KindInfo => "Note:",
        Text::Back => "Back",
        Text::Delete => "Delete",
        Text::Minutes => "{n} minutes",
        Text::MinutesOne => "{n} minute",
        Text::WelcomeTitle => "Welcome to your wallet",
        Text::WelcomeIntro => {
            "School canteen, after-school care, sports clubs, home help: your data stays with you, encrypted on this device."
        }
        Text::WelcomePromise => {
            "You choose what you show, to which service, for what and for how long. You can withdraw your consent at any time."
        }
        Text::WelcomeCreate => "Create my wallet",
        Text::WelcomeRestore => "Restore a backup",
        Text::WalletDeleted => "The wallet was erased from this browser.",
        Text::CreateTitle => "Create your wallet",
        Text::CreateIntro => {
            "Choose a passphrase. It encrypts your data on this device: nobody else knows it, not even the town hall."
        }
        Text::PassphraseLabel => "Passphrase",
        Text::PassphraseHint => "At least 12 characters. Several random words are easy to remember and hard to guess.",
        Text::PassphraseConfirmLabel => "Confirm the passphrase",
        Text::CreateSubmit => "Create the wallet",
        Text::StrengthLabel => "Estimated strength:",
        Text::StrengthTooWeak => "too weak",
        Text::StrengthFair => "fair, but could be longer",
        Text::StrengthGood => "good",
        Text::StrengthStrong => "strong",
        Text::Deriving => "Deriving the key… (a few moments)",
        Text::CodeShownOnce => "Your recovery key is shown only once.",
        Text::CodeExplain => {
            "If you forget your passphrase, this key is the only way to open your wallet or a backup. Print it or copy it down, and keep it somewhere safe."
        }
        Text::CodeLabel => "Recovery key, in 14 groups of 4 characters",
        Text::CodePrintTitle => "Souverain: my wallet's recovery key",
        Text::CodePrint => "Print the key",
        Text::CodeConfirmTitle => "Let's check you wrote it down",
        Text::CodeConfirmIntro => "Type the two groups asked for.",
        Text::CodeGroupLabel => "Group number {n}",
        Text::CodeConfirmSubmit => "I wrote my key down, continue",
        Text::CreatedNotice => "Your wallet is ready.",
        Text::UnlockTitle => "Unlock your wallet",
        Text::UnlockSubmit => "Unlock",
        Text::UseRecovery => "I forgot my passphrase",
        Text::UsePassphrase => "Use my passphrase",
        Text::RecoverIntro => "Type your recovery key and choose a new passphrase.",
        Text::RecoveryCodeLabel => "Recovery key",
        Text::NewPassphraseLabel => "New passphrase",
        Text::LockedInactivity => "The wallet locked itself after a period of inactivity.",
        Text::LockedByYou => "The wallet is locked.",
        Text::RestoreTitle => "Restore a backup",
        Text::RestoreIntro => {
            "Choose the backup file, then open it with that backup's passphrase or with your recovery key."
        }
        Text::BackupFileLabel => "Backup file",
        Text::RestoreWith => "Open with",
        Text::RestoreReplaceWarning => "A wallet already exists in this browser. Restoring will replace it entirely.",
        Text::RestoreReplaceConfirm => "I want to replace the existing wallet",
        Text::RestoreSubmit => "Restore",
        Text::RestoredNotice => "Your backup was restored.",
        Text::HomeTitle => "Who holds my data",
        Text::HomeServices => "Services holding your data",
        Text::HomeNoServices => "No service holds data from your wallet yet.",
        Text::CardPurpose => "What for",
        Text::CardData => "Data shared",
        Text::CardUntil => "Until",
        Text::CardErasedBy => "Erased by",
        Text::CardState => "State",
        Text::CardWithdrawn => "Consent withdrawn; the service signed its erasure date",
        Text::CardWithdrawalQueued => "Withdrawal recorded, sent when the network is back",
        Text::HomePending => "Pending requests",
        Text::HomeNoPending => "No pending request.",
        Text::PendingUnverified => "Service not verified by the commune",
        Text::PendingPurpose => "Stated purpose",
        Text::PendingExpires => "Answer before",
        Text::PendingAnswer => "See the request and answer",
        Text::StorageNotPersistent => {
            "This browser did not grant persistent storage: it may erase your data if it runs out of space. Make a backup and keep it somewhere safe."
        }
        Text::StorageMakeBackup => "Make a backup",
        Text::DataTitle => "My data",
        Text::DataIntro => {
            "This information stays encrypted on this device. Each item says whether you declared it yourself or whether a credential attests it."
        }
        Text::CatProfile => "Identity",
        Text::CatContact => "Contact details",
        Text::CatHousehold => "Household and children",
        Text::CatDietary => "Dietary needs",
        Text::CatHealth => "Health",
        Text::Sensitive => "Sensitive data",
        Text::SensitiveExplain => {
            "The law protects this data specially. It is never shared without your explicit consent."
        }
        Text::SelfDeclared => "Declared by you",
        Text::AttestedBy => "Attested by",
        Text::DataEmpty => "Nothing yet.",
        Text::DataAddTitle => "Add an item",
        Text::DataCategoryLabel => "Category",
        Text::DataFieldLabel => "Name of the item",
        Text::DataFieldHint => "For example: First name, Phone, Allergy.",
        Text::DataValueLabel => "Value",
        Text::DataAddSubmit => "Save",
        Text::DataSaved => "The item is saved.",
        Text::DataDeleted => "The item is deleted.",
        Text::JournalTitle => "Journal",
        Text::JournalIntro => {
            "Everything shared, received or changed, with whom and why. The journal is chained and signed: any tampering would be detected."
        }
        Text::ChainVerified => "Journal verified: {n} entries, no tampering detected.",
        Text::ChainVerifiedOne => "Journal verified: {n} entry, no tampering detected.",
        Text::ChainBroken => "The journal was tampered with: entry number {n} was altered, removed or moved.",
        Text::ChainHead => "The journal does not match its signature: entries are missing or changed.",
        Text::ChainRolledBack => "The journal was replaced by an older version.",
        Text::ChainUnreadable => "A journal entry cannot be read.",
        Text::JournalFilters => "Journal filters",
        Text::FilterService => "Service",
        Text::FilterKind => "Kind",
        Text::FilterAll => "All",
        Text::JournalShown => "{n} entries shown",
        Text::JournalShownOne => "{n} entry shown",
        Text::EntryDetails => "Technical identifiers",
        Text::EntryNumber => "entry number {n}",
        Text::EntryService => "Service:",
        Text::EntryPurpose => "Purpose:",
        Text::EntryClaims => "Data concerned:",
        Text::KindIssuance => "Credential received",
        Text::KindDisclosure => "Data shared",
        Text::KindGrant => "Consent given",
        Text::KindWithdrawal => "Consent withdrawn",
        Text::KindReceipt => "Receipt",
        Text::KindImport => "Import",
        Text::KindExport => "Export",
        Text::KindDataChange => "Data changed",
        Text::KindJournalDeleted => "Journal deleted",
        Text::KindOther => "Other",
        Text::PurposePersonalData => "your personal data",
        Text::PurposeSettings => "settings",
        Text::PurposePendingRequest => "request received, waiting for your answer",
        Text::PurposeRequestClosed => "request closed: answered",
        Text::PurposeRequestExpired => "request expired unanswered",
        Text::PurposeTrustList => "commune's key recorded",
        Text::PurposeAudit => "commune's log checked",
        Text::PurposeBackup => "backup",
        Text::PurposeRestore => "restoring a backup",
        Text::PurposePortability => "export of your data (portability)",
        Text::PurposeJournal => "journal export",
        Text::JournalExport => "Export the journal",
        Text::JournalExported => "The journal was exported.",
        Text::JournalDeleteTitle => "Delete the journal",
        Text::JournalDeleteExplain => {
            "Deleted entries can only be found again in an earlier backup or export: export the journal first if you want to keep it. The deletion itself stays in the journal. Your data and your consents do not change."
        }
        Text::JournalDeleteConfirm => "I want to delete every journal entry",
        Text::JournalDeleteSubmit => "Delete the journal",
        Text::JournalDeletedNotice => "The entries were deleted from the journal.",
        Text::SettingsTitle => "Settings",
        Text::SetLanguage => "Language",
        Text::SetAutolock => "Automatic lock",
        Text::AutolockLabel => "Lock after inactivity of",
        Text::AutolockSaved => "The lock delay is saved.",
        Text::SetPassphrase => "Change the passphrase",
        Text::CurrentPassphraseLabel => "Current passphrase",
        Text::ChangePassphraseSubmit => "Change the passphrase",
        Text::PassphraseChanged => "The passphrase was changed.",
        Text::SetBackup => "Backup",
        Text::BackupExplain => {
            "The backup is an encrypted file: it opens with your passphrase or your recovery key. Keep it outside this browser."
        }
        Text::BackupExport => "Download a backup",
        Text::BackupDone => "The backup was downloaded.",
        Text::SetGdpr => "Export my data (portability)",
        Text::GdprExplain => {
            "A readable file with all your data, credentials, consents and journal. Warning: this file is not encrypted."
        }
        Text::GdprConfirm => "I understand this file is not encrypted",
        Text::GdprExport => "Export unencrypted",
        Text::GdprDone => "Your data was exported.",
        Text::SetStorage => "Storage",
        Text::StoragePersistence => "Persistent storage",
        Text::StoragePersistent => "granted by the browser",
        Text::StorageEvictable => "not granted: make backups",
        Text::StorageUsage => "Space used",
        Text::StorageUsageValue => "{used} MiB of {quota} MiB",
        Text::SetDelete => "Delete the wallet",
        Text::DeleteExplain => {
            "Everything will be erased from this browser: data, credentials, journal and the app's files. Without a backup, nothing can be recovered."
        }
        Text::DeleteConfirm => "I want to erase this wallet for good",
        Text::DeleteSubmit => "Delete the wallet",
        Text::NotFoundTitle => "Page not found",
        Text::NotFoundText => "This address matches no page of the wallet.",
        Text::ErrWrongSecret => "Wrong passphrase or recovery key. Nothing was changed.",
        Text::ErrBadRecoveryCode => "This recovery key is mistyped: check each group.",
        Text::ErrBadBackup => "This file is not a Souverain backup, or it is damaged. Nothing was imported.",
        Text::ErrNotEmpty => "A wallet already exists here: tick the box to replace it.",
        Text::ErrQuota => "The browser is out of space. Nothing was changed.",
        Text::ErrConflict => "The wallet was changed in another tab. Reload the page.",
        Text::ErrUnavailable => "This browser cannot store the wallet (private browsing?).",
        Text::ErrDamaged => "An item of the wallet cannot be read; the others remain available.",
        Text::ErrBusy => "Another operation is under way, or the wallet is locked.",
        Text::ErrOtherWallet => "Another wallet's backup: it can only replace this one.",
        Text::RestoreMode => "With the wallet here",
        Text::RestoreMerge => "Merge: keep everything, add what is missing (advised)",
        Text::RestoreReplace => "Replace with the backup",
        Text::RestoreMergeNeedsUnlock => "To merge, unlock first.",
        Text::RestoreBackupDate => "Backup of {date}.",
        Text::RestoreLosesGrants => "Replacing would lose {n} consents given or withdrawn since {date}:",
        Text::RestoreLosesGrantsOne => "Replacing would lose {n} consent given or withdrawn since {date}:",
        Text::RestoreMayLoseGrants => "Replacing would lose any consent given or withdrawn since {date}.",
        Text::RestoreMerged => "Backup merged, nothing erased.",
        Text::ErrOther => "An unexpected error occurred. Nothing was changed.",
        Text::UnlockWithPasskey => "Unlock with a passkey",
        Text::SetPasskeys => "Passkeys",
        Text::PasskeysOpen => "Manage my passkeys",
        Text::PasskeyAddedDone => "Passkey added: it now unlocks this wallet.",
        Text::PasskeyRemovedDone => "Passkey removed: it no longer unlocks this wallet.",
        Text::ErrPasskeyRefused => {
            "The passkey could not be used (the request was cancelled, or it is not, or no longer, one of this wallet's). Nothing was changed."
        }
        Text::ErrPasskeyWithoutPrf => {
            "This passkey cannot unlock a wallet (it lacks the PRF extension). Use another one or your passphrase."
        }
        Text::ErrPasskeyKnown => "This passkey is already registered.",
        Text::ErrBadPasskeyLabel => "Give the passkey a name of 1 to 64 characters.",
        Text::ErrTooManyPasskeys => "This wallet already has 10 passkeys: remove one first.",
        Text::ErrTooWeak => "This passphrase is too easy to guess. Make it longer.",
        Text::ErrMismatch => "The two passphrases differ.",
        Text::ErrCodeMismatch => "These groups do not match your key. Check your copy.",
        Text::ErrNoFile => "Choose a backup file first.",
        Text::ErrFieldsRequired => "Fill in the name and the value.",
        Text::ErrConfirmFirst => "Tick the confirmation box first.",
        Text::NavCredentials => "Credentials",
        Text::NavConsents => "Consents",
        Text::CredentialsTitle => "My credentials",
        Text::CredentialsIntro => {
            "Credentials are issued and signed by the town hall. They stay on this device; you choose what you show of them."
        }
        Text::OfferLabel => "Credential offer link",
        Text::OfferSubmit => "Receive the credential",
        Text::Receiving => "Receiving and checking the credential…",
        Text::ReceivedNotice => "Credential received and stored.",
        Text::TxCodePrompt => "Code given by the town hall:",
        Text::CredentialsEmpty => "No credentials yet.",
        Text::VcIssuer => "Issuer",
        Text::VcExpires => "Expires on",
        Text::VcStatus => "Status",
        Text::VcClaims => "Attested information",
        Text::StatusValid => "Valid",
        Text::StatusExpired => "Expired",
        Text::StatusRevoked => "Revoked by the issuer",
        Text::StatusUnknown => "Status unknown (network unavailable)",
        Text::StatusChecking => "Checking…",
        Text::CredentialDeleted => "Credential deleted.",
        Text::ErrNotAnOffer => "This link is not a credential offer.",
        Text::ErrNetwork => "The service could not be reached or refused. Try again later.",
        Text::ErrInvalidAnswer => "The service's answer could not be verified: it was refused.",
        Text::RequestTitle => "A service's request",
        Text::RequestNone => "No request pending. You can paste a request link.",
        Text::RequestLinkLabel => "Request link",
        Text::RequestOpen => "Open the request",
        Text::RequestLoading => "Reading and checking the request…",
        Text::ServiceVerified => "Service verified by the commune:",
        Text::ServiceUnknown => {
            "Unknown service: it is not on the commune's trust list. Do not share anything if in doubt."
        }
        Text::ServiceBadSignature => {
            "The request's signature is not valid: it may have been altered. You cannot answer it."
        }
        Text::ServiceBadResponseUri => {
            "Your answer would go to an address the commune has not allowed for this service. You cannot answer it."
        }
        Text::TrustPinned => "The commune's key was recorded on first use ({key}): later lists must be signed by it.",
        Text::TrustUnavailable => "The commune's trust list could not be fetched: the service cannot be identified.",
        Text::RequestPurpose => "What for",
        Text::RequestRetention => "Kept for",
        Text::RetentionDays => "{n} days",
        Text::RetentionDaysOne => "{n} day",
        Text::RequestRecipients => "Other recipients",
        Text::RecipientsNone => "None",
        Text::RequestController => "Controller",
        Text::RequestClaims => "What will leave this device",
        Text::ClaimRequired => "needed for this service",
        Text::ClaimOptional => "optional: you may refuse",
        Text::ClaimExcess => "over-asking: the commune does not allow this service to ask for it; refused by default",
        Text::OverAsking => {
            "This service asks for more than the commune allows it to. The excess is refused by default."
        }
        Text::TrustInvalid => "The commune's trust list does not verify: no answer possible.",
        Text::RetentionExceeded => {
            "Retention asked: {asked} days; the commune allows {max} at most. No answer possible."
        }
        Text::PurposesUnregistered => "Purposes not registered for this service: {purposes}. No answer possible.",
        Text::ClaimShare => "Share:",
        Text::RequestMissing => "You lack a requested credential: {vct}",
        Text::Approve => "Accept and send",
        Text::Decline => "Decline",
        Text::Sending => "Sending…",
        Text::RequestSent => "Your data was sent and the service signed an acknowledgement, which was verified.",
        Text::ScanStart => "Scan a QR code",
        Text::ScanStop => "Stop the camera",
        Text::ScanHint => "Hold the QR code in front of the camera. You can also paste the link.",
        Text::ScanVideo => "Camera view",
        Text::ErrCameraDenied => "Camera access was refused. Allow it in the browser's settings, or paste the link.",
        Text::ErrNoCamera => "No camera was found on this device. Paste the link instead.",
        Text::ErrCameraBusy => "The camera is used by another application. Close it, or paste the link.",
        Text::ErrScanFailed => "The camera could not be opened. Paste the link instead.",
        Text::QrShowAgent => "Show to an agent",
        Text::QrCheckLabel => "QR code to check this consent",
        Text::QrCheckHint => {
            "The agent scans this code to see whether your consent still stands. \
             It holds only the consent's identifier and its purpose."
        }
        Text::QrCheckUrl => "Check address",
        Text::RequestDeclined => "Request declined: nothing was sent.",
        Text::ErrRequest => "The request could not be read, or it has expired.",
        Text::ErrCannotDecline => "The service does not accept this choice: at least what is needed must be shared.",
        Text::ConsentsTitle => "My consents",
        Text::ConsentsEmpty => "You have not given any consent.",
        Text::ConsentActive => "Active",
        Text::ConsentObjected => "Objected to: the service no longer uses it",
        Text::ConsentWithdrawn => "Withdrawn",
        Text::ConsentExpired => "Expired",
        Text::ConsentQueued => "Withdrawal recorded, sent when the network is back",
        Text::ConsentGiven => "Given on",
        Text::ConsentUntil => "Until",
        Text::Withdraw => "Withdraw my consent",
        Text::WithdrawnNotice => "Consent withdrawn. The service's signed receipt is verified.",
        Text::WithdrawQueued => {
            "You are offline: the withdrawal is recorded and will be sent when the network is back."
        }
        Text::ReceiptVerified => "The service's signed receipt (verified)",
        Text::ErasureBy => "Erased by",
        Text::ConsentSending => "Being sent",
        Text::ConsentRefused => "Refused by the service",
        Text::ConsentSendingHint => {
            "The service's reply has not arrived: the answer will be sent again. You can already withdraw this consent."
        }
        Text::AuditRun => "Check the commune's log",
        Text::UsesJournalTitle => "What the services did with your data",
        Text::MandatesTitle => "Mandates and rights",
        Text::MandatesOpen => "My mandates, my rights",
        Text::StudiesTitle => "Studies",
        Text::ConsentActedBy => "Given for you by {name}",
        Text::ConsentActingFor => "Given by you for {name}",
        Text::PurposeMandateGiven => "Mandate given",
        Text::PurposeMandateReceived => "Mandate received",
        Text::PurposeMandateRevoked => "Mandate revoked",
        Text::PurposeMandateAct => "Done in your name under your mandate",
        Text::PurposeActingFor => "Done by you under a mandate",
        Text::PurposeRightsAccess => "Right of access: the service's signed export received",
        Text::PurposeRightsErasure => "Right to erasure: the service's signed receipt, data erased",
        Text::PurposeRightsObjection => "Right to object: the service\'s signed receipt, no further use",
        Text::PurposeRightsRectification => "Right to rectification: the service\'s signed decision received",
        Text::PurposeRightsUnanswered => "GDPR request left unanswered: kept with its date",
        Text::PurposeStudyDeclined => "Study declined",
        Text::PurposeStudyWaiting => "Answer to a study kept, to be sent again",
        Text::PurposeRequestDeclined => "request declined by you: nothing sent",
        Text::PurposeRequestFailed => "request refused by your wallet (invalid or wrongly signed): nothing sent",
        Text::DeliveredNotice => "Answer received by the service, signed receipt verified.",
        Text::RefusedNotice => "An answer was refused by the service.",
        Text::PurposeConsentRefused => "answer refused by the service",
        Text::VctResidence => "Proof of residence",
        Text::VctHousehold => "Household composition",
        Text::VctFamilyQuotient => "Family quotient bracket",
        Text::ClaimGivenName => "First name",
        Text::ClaimFamilyName => "Last name",
        Text::ClaimAddress => "Address",
        Text::ClaimStreetAddress => "Street",
        Text::ClaimLocality => "Town",
        Text::ClaimPostalCode => "Postcode",
        Text::ClaimSince => "Since",
        Text::ClaimChildren => "Children",
        Text::ClaimBirthdate => "Date of birth",
        Text::ClaimSchool => "School",
        Text::ClaimBracket => "Bracket",
        Text::ClaimReferenceYear => "Reference year",
    }
}
