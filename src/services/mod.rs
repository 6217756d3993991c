//! Thin services between the pages and the outside world: the vault (through the storage
//! backend in [`crate::store`]), the browser platform, the service worker and the network.
//! They hold no interface state; pages call them and dispatch the outcome.

pub mod audit;
pub mod catalog;
pub mod consent;
pub mod issuance;
pub mod mandate;
pub mod net;
pub mod passkey;
pub mod pending;
pub mod platform;
pub mod presentation;
pub mod rng;
pub mod scan;
pub mod sw;
pub mod vault;
