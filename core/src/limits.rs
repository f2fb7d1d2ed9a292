//! Bounds on untrusted input: size limits and JSON nesting depth, checked before parsing.
