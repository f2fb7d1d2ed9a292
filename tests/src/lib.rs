//! giayto-e2e: cross-crate end-to-end tests; filled by the end-to-end issue.
