//! The audit's sentences, in French and in English: this module's part of the wallet's catalogs,
//! loaded with it (the wallet's own catalogs are in its first load).

use serde::Deserialize;

use crate::LogProblem;

/// The citizen's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum Lang {
    /// French, the default.
    #[serde(rename = "fr")]
    Fr,
    /// English.
    #[serde(rename = "en")]
    En,
}

/// Something the audit says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Said<'a> {
    /// The log verified.
    Verified {
        /// Entries in the log.
        size: u64,
        /// Witnesses whose cosignature verified.
        cosigned: usize,
        /// Witnesses the trust list names.
        witnesses: usize,
        /// Cosignatures required.
        quorum: usize,
    },
    /// One event of a grant.
    Event {
        /// The event's kind (see [`crate::Found::kind`]).
        kind: &'a str,
        /// The agent or recipient.
        who: Option<&'a str>,
        /// The purpose, as the citizen read it.
        purpose: Option<String>,
        /// Its number.
        seq: u64,
    },
    /// Numbers missing below the highest found.
    Missing(Vec<u64>),
    /// Numbers found more than once.
    Repeated(Vec<u64>),
    /// A leaf with the grant's tag whose event does not open.
    Unreadable,
    /// The withdrawal was processed but is not in the log.
    WithdrawalNotLogged,
    /// The erasure date is past, the erasure is not in the log.
    ErasureNotLogged(i64),
    /// The grant's keys are malformed.
    BadKeys,
    /// The grant is in another log than the one the trust list names.
    OtherLog,
    /// The log no longer extends the checkpoint kept.
    Fork,
    /// The log is smaller than the checkpoint kept.
    Rollback,
    /// The log could not be checked.
    Problem(LogProblem),
    /// The heading above a grant's findings.
    Title,
    /// A grant with no use in the log.
    NoUse,
    /// The word before an alarm.
    KindError,
    /// The word before a problem.
    KindWarning,
    /// The link that downloads the proof.
    Proof,
    /// No consent carries log keys, or no commune key is pinned yet.
    Nothing,
}

fn numbers(list: &[u64]) -> String {
    list.iter().map(u64::to_string).collect::<Vec<_>>().join(", ")
}

/// An English count: CLDR's "one" is 1 only.
fn plural(n: usize, one: &str, other: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { other })
}

impl Lang {
    /// The sentence for `said`.
    pub fn say(self, said: &Said<'_>) -> String {
        match self {
            Lang::Fr => fr(said),
            Lang::En => en(said),
        }
    }
}

fn fr(said: &Said<'_>) -> String {
    // A French count: CLDR's "one" is 0 and 1.
    let fr_plural = |n: usize, one: &str, other: &str| format!("{n} {}", if n <= 1 { one } else { other });
    match said {
        Said::Title => "Ce que la commune a fait de mes données".to_owned(),
        Said::NoUse => "Aucune utilisation inscrite au journal.".to_owned(),
        Said::KindError => "Erreur :".to_owned(),
        Said::KindWarning => "Attention :".to_owned(),
        Said::Nothing => "Aucun consentement à vérifier : aucun service ne vous a remis de clés pour son journal des \
                          utilisations."
            .to_owned(),
        Said::Proof => "Télécharger la preuve (les deux versions signées du journal)".to_owned(),
        Said::Verified { size, cosigned, witnesses, quorum } => {
            let entries = fr_plural(usize::try_from(*size).unwrap_or(usize::MAX), "entrée", "entrées");
            if *witnesses == 0 {
                format!(
                    "Journal de la commune vérifié : {entries}, signé par la commune. La commune ne désigne \
                     aucun témoin : rien ne garantit que tout le monde voit le même journal."
                )
            } else {
                format!(
                    "Journal de la commune vérifié : {entries}, signé par la commune et contresigné par {} \
                     sur {} (il en faut {quorum}).",
                    fr_plural(*cosigned, "témoin", "témoins"),
                    witnesses
                )
            }
        }
        Said::Event { kind, who, purpose, seq } => {
            let why = purpose.as_ref().map(|p| format!(" — motif : {p}")).unwrap_or_default();
            let who = who.unwrap_or("?");
            match *kind {
                "agent_read" => format!("Consulté par {who}{why}"),
                "transfer" => format!("Transmis à {who}{why}"),
                "erasure" => "Vos données ont été effacées".to_owned(),
                "withdrawal_processed" => "Votre retrait de consentement a été traité".to_owned(),
                "agent_rectification" => format!("Rectifié à votre demande par {who}"),
                "erased" => {
                    format!("Utilisation n° {seq} : le détail a été effacé par la commune à la fin de la conservation")
                }
                _ => format!("Utilisation n° {seq} : illisible"),
            }
        }
        Said::Missing(list) => format!(
            "Alerte : utilisation n° {} absente du journal, alors qu'une utilisation suivante y figure. \
             Une utilisation de vos données a pu être cachée.",
            numbers(list)
        ),
        Said::Repeated(list) => {
            format!("Alerte : utilisation n° {} inscrite plusieurs fois au journal.", numbers(list))
        }
        Said::Unreadable => "Alerte : une entrée à votre nom ne s'ouvre pas avec votre clé.".to_owned(),
        Said::WithdrawalNotLogged => {
            "Alerte : le service a accusé réception de votre retrait, mais son traitement n'est pas au journal."
                .to_owned()
        }
        Said::ErasureNotLogged(_) => {
            "Alerte : la date d'effacement promise est passée, et aucun effacement n'est au journal.".to_owned()
        }
        Said::BadKeys => "Les clés de ce consentement pour le journal sont illisibles.".to_owned(),
        Said::OtherLog => "Ce consentement est inscrit dans un autre journal que celui de la commune.".to_owned(),
        Said::Fork => "Alerte : le journal de la commune ne prolonge plus celui que votre portefeuille a vérifié \
                       la dernière fois : son histoire a été réécrite. Les deux versions signées sont gardées \
                       comme preuve."
            .to_owned(),
        Said::Rollback => "Alerte : le journal de la commune a moins d'entrées que lors de la dernière \
                           vérification. Les deux versions signées sont gardées comme preuve."
            .to_owned(),
        Said::Problem(problem) => match problem {
            LogProblem::Unreachable(_) => {
                "Le journal de la commune n'a pas pu être lu (hors connexion ?). Réessayez plus tard.".to_owned()
            }
            LogProblem::BadTrustList => {
                "Alerte : la liste de confiance de la commune n'est pas signée par la clé enregistrée.".to_owned()
            }
            LogProblem::NoLog => "La commune ne publie pas de journal des utilisations.".to_owned(),
            LogProblem::BadLogMember => {
                "La description du journal dans la liste de confiance est illisible.".to_owned()
            }
            LogProblem::BadCheckpoint => {
                "Alerte : l'état du journal n'est pas signé par la clé de journal de la commune.".to_owned()
            }
            LogProblem::BelowQuorum { found, quorum } => format!(
                "Le journal n'est contresigné que par {} sur les {quorum} requis : il ne peut pas être \
                 vérifié maintenant.",
                fr_plural(*found, "témoin", "témoins")
            ),
            LogProblem::BadBundle => {
                "Alerte : les entrées servies ne correspondent pas à l'état signé du journal.".to_owned()
            }
        },
    }
}

fn en(said: &Said<'_>) -> String {
    match said {
        Said::Title => "What the commune did with my data".to_owned(),
        Said::NoUse => "No use recorded in the log.".to_owned(),
        Said::KindError => "Error:".to_owned(),
        Said::KindWarning => "Warning:".to_owned(),
        Said::Nothing => "No consent to check: no service gave you keys to its data-use log.".to_owned(),
        Said::Proof => "Download the proof (both signed versions of the log)".to_owned(),
        Said::Verified { size, cosigned, witnesses, quorum } => {
            let entries = plural(usize::try_from(*size).unwrap_or(usize::MAX), "entry", "entries");
            if *witnesses == 0 {
                format!(
                    "The commune's log verified: {entries}, signed by the commune. The commune names no \
                     witness: nothing ensures everyone sees the same log."
                )
            } else {
                format!(
                    "The commune's log verified: {entries}, signed by the commune and cosigned by {} of {} \
                     ({quorum} required).",
                    plural(*cosigned, "witness", "witnesses"),
                    witnesses
                )
            }
        }
        Said::Event { kind, who, purpose, seq } => {
            let why = purpose.as_ref().map(|p| format!(" — purpose: {p}")).unwrap_or_default();
            let who = who.unwrap_or("?");
            match *kind {
                "agent_read" => format!("Looked at by {who}{why}"),
                "transfer" => format!("Sent to {who}{why}"),
                "erasure" => "Your data was erased".to_owned(),
                "withdrawal_processed" => "Your withdrawal of consent was processed".to_owned(),
                "agent_rectification" => format!("Corrected at your request by {who}"),
                "erased" => format!("Use no. {seq}: the commune erased its details at the end of retention"),
                _ => format!("Use no. {seq}: unreadable"),
            }
        }
        Said::Missing(list) => format!(
            "Alert: use no. {} is missing from the log while a later one is there. A use of your data may \
             have been hidden.",
            numbers(list)
        ),
        Said::Repeated(list) => format!("Alert: use no. {} is in the log more than once.", numbers(list)),
        Said::Unreadable => "Alert: an entry in your name does not open with your key.".to_owned(),
        Said::WithdrawalNotLogged => {
            "Alert: the service acknowledged your withdrawal, but processing it is not in the log.".to_owned()
        }
        Said::ErasureNotLogged(_) => {
            "Alert: the promised erasure date has passed and no erasure is in the log.".to_owned()
        }
        Said::BadKeys => "This consent's log keys are unreadable.".to_owned(),
        Said::OtherLog => "This consent is in another log than the commune's.".to_owned(),
        Said::Fork => "Alert: the commune's log no longer extends the one your wallet verified last time: its \
                       history was rewritten. Both signed versions are kept as proof."
            .to_owned(),
        Said::Rollback => "Alert: the commune's log has fewer entries than at the last check. Both signed \
                           versions are kept as proof."
            .to_owned(),
        Said::Problem(problem) => match problem {
            LogProblem::Unreachable(_) => "The commune's log could not be read (offline?). Try again later.".to_owned(),
            LogProblem::BadTrustList => {
                "Alert: the commune's trust list is not signed by the key on record.".to_owned()
            }
            LogProblem::NoLog => "The commune publishes no data-use log.".to_owned(),
            LogProblem::BadLogMember => "The trust list's description of the log is unreadable.".to_owned(),
            LogProblem::BadCheckpoint => "Alert: the log's state is not signed by the commune's log key.".to_owned(),
            LogProblem::BelowQuorum { found, quorum } => format!(
                "The log is cosigned by {} of the {quorum} required: it cannot be verified now.",
                plural(*found, "witness", "witnesses")
            ),
            LogProblem::BadBundle => "Alert: the entries served do not match the log's signed state.".to_owned(),
        },
    }
}
