//! The wallet's vault format: key derivation and wrapping, encrypted records, journal, backup.
