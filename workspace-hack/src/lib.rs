//! giayto-workspace-hack: no code. Its dependencies' features make a build of
//! `giayto-server` alone resolve the same features as a whole-workspace build (see its
//! Cargo.toml).
