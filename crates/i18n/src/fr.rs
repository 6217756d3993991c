//! Catalogue français (langue par défaut).

use crate::Text;

/// The text of `key`.
pub const fn text(key: Text) -> &'static str {
    match key {
        Text::AppName => "Souverain",
        Text::Tagline => "Votre portefeuille de données pour les services de votre commune",
        Text::SkipToContent => "Aller au contenu",
        Text::SwitchLanguage => "English",
        Text::SwitchLanguageLabel => "Switch to English",
        Text::Footer => "Souverain : vos données, votre commune, votre choix.",
        Text::Loading => "Chargement…",
        Text::NavLabel => "Navigation principale",
        Text::NavHome => "Accueil",
        Text::NavData => "Mes données",
        Text::NavJournal => "Journal",
        Text::NavSettings => "Réglages",
        Text::LockNow => "Verrouiller",
        Text::UpdateAvailable => "Une nouvelle version du portefeuille est disponible.",
        Text::UpdateReload => "Recharger",
        Text::KindError => "Erreur :",
        Text::KindWarning => "Attention :",
        Text::KindSuccess => "C'est fait :",
        Text::KindInfo => "Information :",
        Text::Back => "Retour",
        Text::Delete => "Supprimer",
        Text::Minutes => "{n} minutes",
        Text::MinutesOne => "{n} minute",
        Text::WelcomeTitle => "Bienvenue dans votre portefeuille",
        Text::WelcomeIntro => {
            "Cantine, périscolaire, associations sportives, aide à domicile : vos données restent chez vous, chiffrées sur cet appareil."
        }
        Text::WelcomePromise => {
            "Vous choisissez ce que vous montrez, à quel service, pour quoi et pour combien de temps. Vous pouvez retirer votre accord à tout moment."
        }
        Text::WelcomeCreate => "Créer mon portefeuille",
        Text::WelcomeRestore => "Restaurer une sauvegarde",
        Text::WalletDeleted => "Le portefeuille a été effacé de ce navigateur.",
        Text::CreateTitle => "Créer votre portefeuille",
        Text::CreateIntro => {
            "Choisissez une phrase de passe. Elle chiffre vos données sur cet appareil : personne d'autre ne la connaît, pas même la mairie."
        }
        Text::PassphraseLabel => "Phrase de passe",
        Text::PassphraseHint => {
            "Au moins 12 caractères. Plusieurs mots au hasard sont faciles à retenir et difficiles à deviner."
        }
        Text::PassphraseConfirmLabel => "Confirmez la phrase de passe",
        Text::CreateSubmit => "Créer le portefeuille",
        Text::StrengthLabel => "Solidité estimée :",
        Text::StrengthTooWeak => "trop faible",
        Text::StrengthFair => "correcte, mais pourrait être plus longue",
        Text::StrengthGood => "bonne",
        Text::StrengthStrong => "très bonne",
        Text::Deriving => "Calcul de la clé en cours… (quelques instants)",
        Text::CodeShownOnce => "Votre clé de secours n'est affichée qu'une seule fois.",
        Text::CodeExplain => {
            "Si vous oubliez votre phrase de passe, cette clé est le seul moyen d'ouvrir votre portefeuille ou une sauvegarde. Imprimez-la ou recopiez-la, et gardez-la en lieu sûr."
        }
        Text::CodeLabel => "Clé de secours, en 14 groupes de 4 caractères",
        Text::CodePrintTitle => "Souverain : clé de secours de mon portefeuille",
        Text::CodePrint => "Imprimer la clé",
        Text::CodeConfirmTitle => "Vérifions que vous l'avez notée",
        Text::CodeConfirmIntro => "Recopiez les deux groupes demandés.",
        Text::CodeGroupLabel => "Groupe n° {n}",
        Text::CodeConfirmSubmit => "J'ai noté ma clé, continuer",
        Text::CreatedNotice => "Votre portefeuille est prêt.",
        Text::UnlockTitle => "Déverrouiller votre portefeuille",
        Text::UnlockSubmit => "Déverrouiller",
        Text::UseRecovery => "J'ai oublié ma phrase de passe",
        Text::UsePassphrase => "Utiliser ma phrase de passe",
        Text::RecoverIntro => "Saisissez votre clé de secours et choisissez une nouvelle phrase de passe.",
        Text::RecoveryCodeLabel => "Clé de secours",
        Text::NewPassphraseLabel => "Nouvelle phrase de passe",
        Text::LockedInactivity => "Le portefeuille s'est verrouillé après un moment d'inactivité.",
        Text::LockedByYou => "Le portefeuille est verrouillé.",
        Text::RestoreTitle => "Restaurer une sauvegarde",
        Text::RestoreIntro => {
            "Choisissez le fichier de sauvegarde, puis ouvrez-le avec la phrase de passe de cette sauvegarde ou avec votre clé de secours."
        }
        Text::BackupFileLabel => "Fichier de sauvegarde",
        Text::RestoreWith => "Ouvrir avec",
        Text::RestoreReplaceWarning => {
            "Un portefeuille existe déjà dans ce navigateur. Le restaurer le remplacera entièrement."
        }
        Text::RestoreReplaceConfirm => "Je veux remplacer le portefeuille existant",
        Text::RestoreSubmit => "Restaurer",
        Text::RestoredNotice => "Votre sauvegarde a été restaurée.",
        Text::HomeTitle => "Qui détient mes données",
        Text::HomeServices => "Services qui détiennent vos données",
        Text::HomeNoServices => "Aucun service ne détient de données de votre portefeuille pour l'instant.",
        Text::CardPurpose => "Pour quoi",
        Text::CardData => "Données transmises",
        Text::CardUntil => "Jusqu'au",
        Text::CardErasedBy => "Effacement au plus tard le",
        Text::CardState => "État",
        Text::CardWithdrawn => "Consentement retiré ; le service a signé sa date d'effacement",
        Text::CardWithdrawalQueued => "Retrait enregistré, envoi au retour du réseau",
        Text::HomePending => "Demandes en attente",
        Text::HomeNoPending => "Aucune demande en attente.",
        Text::PendingUnverified => "Service non vérifié par la commune",
        Text::PendingPurpose => "Finalité annoncée",
        Text::PendingExpires => "Répondre avant le",
        Text::PendingAnswer => "Voir la demande et répondre",
        Text::StorageNotPersistent => {
            "Ce navigateur n'a pas accordé de stockage durable : il pourrait effacer vos données s'il manque de place. Faites une sauvegarde et gardez-la en lieu sûr."
        }
        Text::StorageMakeBackup => "Faire une sauvegarde",
        Text::DataTitle => "Mes données",
        Text::DataIntro => {
            "Ces informations restent chiffrées sur cet appareil. Chacune indique si vous l'avez déclarée vous-même ou si elle est attestée par un justificatif."
        }
        Text::CatProfile => "Identité",
        Text::CatContact => "Coordonnées",
        Text::CatHousehold => "Foyer et enfants",
        Text::CatDietary => "Régime alimentaire",
        Text::CatHealth => "Santé",
        Text::Sensitive => "Donnée sensible",
        Text::SensitiveExplain => {
            "Ces données sont particulièrement protégées par la loi. Elles ne sont jamais transmises sans votre accord explicite."
        }
        Text::SelfDeclared => "Déclaré par vous",
        Text::AttestedBy => "Attesté par",
        Text::DataEmpty => "Rien pour l'instant.",
        Text::DataAddTitle => "Ajouter une information",
        Text::DataCategoryLabel => "Catégorie",
        Text::DataFieldLabel => "Intitulé",
        Text::DataFieldHint => "Par exemple : Prénom, Téléphone, Allergie.",
        Text::DataValueLabel => "Valeur",
        Text::DataAddSubmit => "Enregistrer",
        Text::DataSaved => "L'information est enregistrée.",
        Text::DataDeleted => "L'information est supprimée.",
        Text::JournalTitle => "Journal",
        Text::JournalIntro => {
            "Tout ce qui a été partagé, reçu ou modifié, avec qui et pourquoi. Le journal est chaîné et signé : toute modification serait détectée."
        }
        Text::ChainVerified => "Journal vérifié : {n} entrées, aucune modification détectée.",
        Text::ChainVerifiedOne => "Journal vérifié : {n} entrée, aucune modification détectée.",
        Text::ChainBroken => "Le journal a été modifié : l'entrée n° {n} a été altérée, supprimée ou déplacée.",
        Text::ChainHead => "Le journal ne correspond pas à sa signature : des entrées manquent ou ont été changées.",
        Text::ChainRolledBack => "Le journal a été remplacé par une version plus ancienne.",
        Text::ChainUnreadable => "Une entrée du journal ne peut pas être lue.",
        Text::JournalFilters => "Filtres du journal",
        Text::FilterService => "Service",
        Text::FilterKind => "Type",
        Text::FilterAll => "Tous",
        Text::JournalShown => "{n} entrées affichées",
        Text::JournalShownOne => "{n} entrée affichée",
        Text::EntryDetails => "Identifiants techniques",
        Text::EntryNumber => "entrée n° {n}",
        Text::EntryService => "Service :",
        Text::EntryPurpose => "Motif :",
        Text::EntryClaims => "Données concernées :",
        Text::KindIssuance => "Justificatif reçu",
        Text::KindDisclosure => "Données transmises",
        Text::KindGrant => "Accord donné",
        Text::KindWithdrawal => "Accord retiré",
        Text::KindReceipt => "Accusé de réception",
        Text::KindImport => "Import",
        Text::KindExport => "Export",
        Text::KindDataChange => "Modification de données",
        Text::KindJournalDeleted => "Effacement du journal",
        Text::KindOther => "Autre",
        Text::PurposePersonalData => "vos données personnelles",
        Text::PurposeSettings => "réglages",
        Text::PurposePendingRequest => "demande reçue, en attente de votre réponse",
        Text::PurposeRequestClosed => "demande close : réponse donnée",
        Text::PurposeRequestExpired => "demande expirée sans réponse",
        Text::PurposeTrustList => "clé de la commune enregistrée",
        Text::PurposeAudit => "journal de la commune vérifié",
        Text::PurposeBackup => "sauvegarde",
        Text::PurposeRestore => "restauration d'une sauvegarde",
        Text::PurposePortability => "export de vos données (portabilité)",
        Text::PurposeJournal => "export du journal",
        Text::JournalExport => "Exporter le journal",
        Text::JournalExported => "Le journal a été exporté.",
        Text::JournalDeleteTitle => "Effacer le journal",
        Text::JournalDeleteExplain => {
            "Les entrées effacées ne se retrouvent que dans une sauvegarde ou un export antérieurs : exportez le journal d'abord si vous voulez le garder. L'effacement lui-même reste noté. Vos données et vos consentements ne changent pas."
        }
        Text::JournalDeleteConfirm => "Je veux effacer toutes les entrées du journal",
        Text::JournalDeleteSubmit => "Effacer le journal",
        Text::JournalDeletedNotice => "Les entrées ont été effacées du journal.",
        Text::SettingsTitle => "Réglages",
        Text::SetLanguage => "Langue",
        Text::SetAutolock => "Verrouillage automatique",
        Text::AutolockLabel => "Verrouiller après une inactivité de",
        Text::AutolockSaved => "Le délai de verrouillage est enregistré.",
        Text::SetPassphrase => "Changer de phrase de passe",
        Text::CurrentPassphraseLabel => "Phrase de passe actuelle",
        Text::ChangePassphraseSubmit => "Changer la phrase de passe",
        Text::PassphraseChanged => "La phrase de passe a été changée.",
        Text::SetBackup => "Sauvegarde",
        Text::BackupExplain => {
            "La sauvegarde est un fichier chiffré : elle s'ouvre avec votre phrase de passe ou votre clé de secours. Gardez-la hors de ce navigateur."
        }
        Text::BackupExport => "Télécharger une sauvegarde",
        Text::BackupDone => "La sauvegarde a été téléchargée.",
        Text::SetGdpr => "Exporter mes données (portabilité)",
        Text::GdprExplain => {
            "Un fichier lisible avec toutes vos données, vos justificatifs, vos accords et votre journal. Attention : ce fichier n'est pas chiffré."
        }
        Text::GdprConfirm => "Je comprends que ce fichier n'est pas chiffré",
        Text::GdprExport => "Exporter en clair",
        Text::GdprDone => "Vos données ont été exportées.",
        Text::SetStorage => "Stockage",
        Text::StoragePersistence => "Stockage durable",
        Text::StoragePersistent => "accordé par le navigateur",
        Text::StorageEvictable => "non accordé : faites des sauvegardes",
        Text::StorageUsage => "Espace utilisé",
        Text::StorageUsageValue => "{used} Mio sur {quota} Mio",
        Text::SetDelete => "Effacer le portefeuille",
        Text::DeleteExplain => {
            "Tout sera effacé de ce navigateur : données, justificatifs, journal et fichiers de l'application. Sans sauvegarde, rien ne pourra être récupéré."
        }
        Text::DeleteConfirm => "Je veux effacer définitivement ce portefeuille",
        Text::DeleteSubmit => "Effacer le portefeuille",
        Text::NotFoundTitle => "Page introuvable",
        Text::NotFoundText => "Cette adresse ne correspond à aucune page du portefeuille.",
        Text::ErrWrongSecret => "Phrase de passe ou clé de secours incorrecte. Rien n'a été modifié.",
        Text::ErrBadRecoveryCode => "Cette clé de secours est mal saisie : vérifiez chaque groupe.",
        Text::ErrBadBackup => "Ce fichier n'est pas une sauvegarde Souverain, ou il est abîmé. Rien n'a été importé.",
        Text::ErrNotEmpty => "Un portefeuille existe déjà ici : cochez la case pour le remplacer.",
        Text::ErrQuota => "Le navigateur manque de place. Rien n'a été modifié.",
        Text::ErrConflict => "Le portefeuille a été modifié dans un autre onglet. Rechargez la page.",
        Text::ErrUnavailable => "Ce navigateur ne permet pas de stocker le portefeuille (navigation privée ?).",
        Text::ErrDamaged => "Un élément du portefeuille est illisible ; les autres restent disponibles.",
        Text::ErrBusy => "Une autre opération est en cours, ou le portefeuille est verrouillé.",
        Text::ErrOtherWallet => "Sauvegarde d'un autre portefeuille : elle peut seulement le remplacer.",
        Text::RestoreMode => "Avec le portefeuille présent",
        Text::RestoreMerge => "Fusionner : tout garder et ajouter ce qui manque (conseillé)",
        Text::RestoreReplace => "Remplacer par la sauvegarde",
        Text::RestoreMergeNeedsUnlock => "Pour fusionner, déverrouillez d'abord.",
        Text::RestoreBackupDate => "Sauvegarde du {date}.",
        Text::RestoreLosesGrants => "Remplacer ferait perdre {n} consentements donnés ou retirés depuis le {date} :",
        Text::RestoreLosesGrantsOne => "Remplacer ferait perdre {n} consentement donné ou retiré depuis le {date} :",
        Text::RestoreMayLoseGrants => "Remplacer ferait perdre tout consentement donné ou retiré depuis le {date}.",
        Text::RestoreMerged => "Sauvegarde fusionnée, rien n'a été effacé.",
        Text::ErrOther => "Une erreur inattendue s'est produite. Rien n'a été modifié.",
        Text::UnlockWithPasskey => "Déverrouiller avec une clé d'accès",
        Text::SetPasskeys => "Clés d'accès",
        Text::PasskeysOpen => "Gérer mes clés d'accès",
        Text::PasskeyAddedDone => "Clé d'accès ajoutée : elle déverrouille désormais ce portefeuille.",
        Text::PasskeyRemovedDone => "Clé d'accès retirée : elle ne déverrouille plus ce portefeuille.",
        Text::ErrPasskeyRefused => {
            "La clé d'accès n'a pas pu être utilisée (demande annulée, ou clé qui n'est pas ou plus celle de ce portefeuille). Rien n'a été modifié."
        }
        Text::ErrPasskeyWithoutPrf => {
            "Cette clé d'accès ne sait pas déverrouiller un portefeuille (extension PRF absente). Utilisez-en une autre ou votre phrase de passe."
        }
        Text::ErrPasskeyKnown => "Cette clé d'accès est déjà enregistrée.",
        Text::ErrBadPasskeyLabel => "Donnez à la clé d'accès un nom de 1 à 64 caractères.",
        Text::ErrTooManyPasskeys => "Ce portefeuille a déjà 10 clés d'accès : retirez-en une d'abord.",
        Text::ErrTooWeak => "Cette phrase de passe est trop facile à deviner. Allongez-la.",
        Text::ErrMismatch => "Les deux phrases de passe ne sont pas identiques.",
        Text::ErrCodeMismatch => "Ces groupes ne correspondent pas à votre clé. Vérifiez votre copie.",
        Text::ErrNoFile => "Choisissez d'abord un fichier de sauvegarde.",
        Text::ErrFieldsRequired => "Remplissez l'intitulé et la valeur.",
        Text::ErrConfirmFirst => "Cochez d'abord la case de confirmation.",
        Text::NavCredentials => "Justificatifs",
        Text::NavConsents => "Consentements",
        Text::CredentialsTitle => "Mes justificatifs",
        Text::CredentialsIntro => {
            "Les justificatifs sont délivrés par la mairie et signés par elle. Ils restent sur cet appareil ; vous choisissez ce que vous en montrez."
        }
        Text::OfferLabel => "Lien d'offre de justificatif",
        Text::OfferSubmit => "Recevoir le justificatif",
        Text::Receiving => "Réception et vérification du justificatif…",
        Text::ReceivedNotice => "Justificatif reçu et enregistré.",
        Text::TxCodePrompt => "Code remis par la mairie :",
        Text::CredentialsEmpty => "Aucun justificatif pour l'instant.",
        Text::VcIssuer => "Émetteur",
        Text::VcExpires => "Expire le",
        Text::VcStatus => "État",
        Text::VcClaims => "Informations attestées",
        Text::StatusValid => "Valide",
        Text::StatusExpired => "Expiré",
        Text::StatusRevoked => "Révoqué par l'émetteur",
        Text::StatusUnknown => "État inconnu (réseau indisponible)",
        Text::StatusChecking => "Vérification…",
        Text::CredentialDeleted => "Justificatif supprimé.",
        Text::ErrNotAnOffer => "Ce lien n'est pas une offre de justificatif.",
        Text::ErrNetwork => "Le service n'a pas pu être joint ou a refusé. Réessayez plus tard.",
        Text::ErrInvalidAnswer => "La réponse du service n'a pas pu être vérifiée : elle a été refusée.",
        Text::RequestTitle => "Demande d'un service",
        Text::RequestNone => "Aucune demande en cours. Vous pouvez coller le lien d'une demande.",
        Text::RequestLinkLabel => "Lien de la demande",
        Text::RequestOpen => "Ouvrir la demande",
        Text::RequestLoading => "Lecture et vérification de la demande…",
        Text::ServiceVerified => "Service vérifié par la commune :",
        Text::ServiceUnknown => {
            "Service inconnu : il ne figure pas sur la liste de confiance de la commune. Ne partagez rien en cas de doute."
        }
        Text::ServiceBadSignature => {
            "La signature de la demande n'est pas valide : elle a pu être modifiée. Vous ne pouvez pas y répondre."
        }
        Text::ServiceBadResponseUri => {
            "Votre réponse irait à une adresse que la commune n'a pas autorisée pour ce service. Vous ne pouvez pas y répondre."
        }
        Text::TrustPinned => {
            "Clé de la commune enregistrée lors de la première utilisation ({key}) : les listes suivantes devront être signées par elle."
        }
        Text::TrustUnavailable => {
            "La liste de confiance de la commune n'a pas pu être obtenue : le service ne peut pas être identifié."
        }
        Text::RequestPurpose => "Pour quoi",
        Text::RequestRetention => "Conservation",
        Text::RetentionDays => "{n} jours",
        Text::RetentionDaysOne => "{n} jour",
        Text::RequestRecipients => "Autres destinataires",
        Text::RecipientsNone => "Aucun",
        Text::RequestController => "Responsable",
        Text::RequestClaims => "Ce qui quittera cet appareil",
        Text::ClaimRequired => "nécessaire à la démarche",
        Text::ClaimOptional => "facultatif : vous pouvez refuser",
        Text::ClaimExcess => {
            "demande excessive : la commune n'autorise pas ce service à la demander ; refusée par défaut"
        }
        Text::OverAsking => {
            "Ce service demande plus que ce que la commune l'autorise à demander. L'excédent est refusé par défaut."
        }
        Text::TrustInvalid => "La liste de confiance de la commune ne se vérifie pas : réponse impossible.",
        Text::RetentionExceeded => {
            "Conservation demandée : {asked} jours ; la commune en autorise {max} au plus. Réponse impossible."
        }
        Text::PurposesUnregistered => "Finalités non enregistrées pour ce service : {purposes}. Réponse impossible.",
        Text::ClaimShare => "Partager :",
        Text::RequestMissing => "Il vous manque un justificatif demandé : {vct}",
        Text::Approve => "Accepter et envoyer",
        Text::Decline => "Refuser",
        Text::Sending => "Envoi…",
        Text::RequestSent => "Vos données ont été envoyées et le service a signé un accusé de réception, vérifié.",
        Text::ScanStart => "Scanner un code QR",
        Text::ScanStop => "Arrêter la caméra",
        Text::ScanHint => "Placez le code QR devant la caméra. Vous pouvez aussi coller le lien.",
        Text::ScanVideo => "Image de la caméra",
        Text::ErrCameraDenied => {
            "L'accès à la caméra a été refusé. Autorisez-le dans les réglages du navigateur, ou collez le lien."
        }
        Text::ErrNoCamera => "Aucune caméra n'a été trouvée sur cet appareil. Collez le lien à la place.",
        Text::ErrCameraBusy => "La caméra est utilisée par une autre application. Fermez-la, ou collez le lien.",
        Text::ErrScanFailed => "La caméra n'a pas pu être ouverte. Collez le lien à la place.",
        Text::QrShowAgent => "Montrer à un agent",
        Text::QrCheckLabel => "Code QR pour vérifier ce consentement",
        Text::QrCheckHint => {
            "L'agent scanne ce code pour savoir si votre consentement est toujours en vigueur. \
             Il contient seulement l'identifiant du consentement et sa finalité."
        }
        Text::QrCheckUrl => "Adresse de vérification",
        Text::RequestDeclined => "Demande refusée : rien n'a été envoyé.",
        Text::ErrRequest => "La demande n'a pas pu être lue, ou elle a expiré.",
        Text::ErrCannotDecline => {
            "Ce choix n'est pas accepté par le service : il faut partager au moins ce qui est nécessaire."
        }
        Text::ConsentsTitle => "Mes consentements",
        Text::ConsentsEmpty => "Vous n'avez donné aucun consentement.",
        Text::ConsentActive => "Actif",
        Text::ConsentObjected => "Opposition : le service ne l'utilise plus",
        Text::ConsentWithdrawn => "Retiré",
        Text::ConsentExpired => "Expiré",
        Text::ConsentQueued => "Retrait enregistré, envoi au retour du réseau",
        Text::ConsentGiven => "Donné le",
        Text::ConsentUntil => "Jusqu'au",
        Text::Withdraw => "Retirer mon consentement",
        Text::WithdrawnNotice => "Consentement retiré. Le reçu signé du service est vérifié.",
        Text::WithdrawQueued => {
            "Vous êtes hors ligne : le retrait est enregistré et sera envoyé dès le retour du réseau."
        }
        Text::ReceiptVerified => "Reçu signé du service (vérifié)",
        Text::ErasureBy => "Effacement au plus tard le",
        Text::ConsentSending => "En cours d'envoi",
        Text::ConsentRefused => "Refusé par le service",
        Text::ConsentSendingHint => {
            "Réponse du service pas encore reçue : elle sera renvoyée. Vous pouvez déjà retirer ce consentement."
        }
        Text::AuditRun => "Vérifier le journal de la commune",
        Text::UsesJournalTitle => "Ce que les services ont fait de vos données",
        Text::MandatesTitle => "Procurations et droits",
        Text::MandatesOpen => "Mes procurations, mes droits",
        Text::StudiesTitle => "Études",
        Text::ConsentActedBy => "Donné pour vous par {name}",
        Text::ConsentActingFor => "Donné par vous pour {name}",
        Text::PurposeMandateGiven => "Procuration donnée",
        Text::PurposeMandateReceived => "Procuration reçue",
        Text::PurposeMandateRevoked => "Procuration révoquée",
        Text::PurposeMandateAct => "Fait en votre nom par votre mandataire",
        Text::PurposeActingFor => "Fait par vous pour votre mandant",
        Text::PurposeRightsAccess => "Droit d'accès : export signé du service reçu",
        Text::PurposeRightsErasure => "Droit à l'effacement : reçu signé du service, données effacées",
        Text::PurposeRightsObjection => "Droit d\'opposition : reçu signé du service, plus aucun usage",
        Text::PurposeRightsRectification => "Droit de rectification : décision signée du service reçue",
        Text::PurposeRightsUnanswered => "Demande RGPD restée sans réponse : gardée avec sa date",
        Text::PurposeStudyDeclined => "Étude déclinée",
        Text::PurposeStudyWaiting => "Réponse à une étude gardée, à renvoyer",
        Text::PurposeRequestDeclined => "demande déclinée par vous : rien n'a été envoyé",
        Text::PurposeRequestFailed => {
            "demande rejetée par votre portefeuille (invalide ou mal signée) : rien n'a été envoyé"
        }
        Text::DeliveredNotice => "Réponse reçue par le service, reçu signé vérifié.",
        Text::RefusedNotice => "Une réponse a été refusée par le service.",
        Text::PurposeConsentRefused => "réponse refusée par le service",
        Text::VctResidence => "Justificatif de domicile",
        Text::VctHousehold => "Composition du foyer",
        Text::VctFamilyQuotient => "Tranche de quotient familial",
        Text::ClaimGivenName => "Prénom",
        Text::ClaimFamilyName => "Nom",
        Text::ClaimAddress => "Adresse",
        Text::ClaimStreetAddress => "Rue",
        Text::ClaimLocality => "Commune",
        Text::ClaimPostalCode => "Code postal",
        Text::ClaimSince => "Depuis le",
        Text::ClaimChildren => "Enfants",
        Text::ClaimBirthdate => "Date de naissance",
        Text::ClaimSchool => "École",
        Text::ClaimBracket => "Tranche",
        Text::ClaimReferenceYear => "Année de référence",
    }
}
