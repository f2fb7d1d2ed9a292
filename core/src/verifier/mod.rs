//! The offline verifier: one call from a presentation to a verdict a person can read.
