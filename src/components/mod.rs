//! Presentational pieces: they receive text and callbacks and hold no business logic.

mod alert;
mod busy;
mod confirmed;
mod field;
mod scanner;
mod strength_meter;

pub use alert::{Alert, AlertKind, alert_text};
pub use busy::Busy;
pub use confirmed::{Confirmed, ConfirmedProps};
pub use field::{Field, SecretText, input_value};
pub use scanner::{Scanner, ScannerProps};
pub use strength_meter::StrengthMeter;
