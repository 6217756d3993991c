//! Public-interest statistics from citizens' data without anyone seeing an answer (issue 18).
//!
//! The commune publishes a signed [`study`]; a citizen who chooses to take part has the wallet
//! compute the answer from the vault and split it ([`report`]) between two aggregators run by
//! different parties: the commune's (the leader, in the guichet) and an independent one (the
//! helper, `souverain aggregator`). Each sees only a random-looking share; together they check
//! the report is well formed and add it up ([`aggregate`]), and only once at least the study's
//! minimum of contributions is reached can the commune collect the total, with differential-privacy
//! noise if the study promised it. The commune then signs the result and what it did with it.
//!
//! The protocol is DAP-09 with Prio3 (VDAF-08), as Janus 0.7 speaks it; [`dap`] is the one
//! module naming those drafts. Pure: no I/O; time and randomness are passed in (prio draws the
//! aggregators' noise from the operating system).

#![forbid(unsafe_code)]

pub mod aggregate;
pub mod dap;
pub mod report;
pub mod study;
pub mod token;
pub mod vdaf;
