//! giayto-bindings: the thin UniFFI layer over giayto-core; filled by the bindings issue.
