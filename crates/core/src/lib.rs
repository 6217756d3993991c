//! # souverain-core
//!
//! The protocol library under every part of Souverain: the wallet in the browser, the commune's
//! guichet and the `souverain` command line all speak through it.
//!
//! It is pure on purpose: no I/O, no clock, no global randomness. Time is passed in as Unix
//! seconds and randomness as a `rand_core` generator, so the same code runs natively and in
//! `wasm32-unknown-unknown`, and every test is deterministic.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod b64;
