//! giayto-cli: the `giayto` command; filled by the QR and CLI issue.
