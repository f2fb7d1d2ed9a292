//! Helpers shared by core's integration tests.
#![allow(dead_code, clippy::expect_used)]

use std::path::{Path, PathBuf};

/// The `shared/` folder of the project (standards texts and vectors), found by walking up
/// from this crate: CI clones the repository beside `shared/`, and worktrees sit deeper.
pub fn shared_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .map(|dir| dir.join("shared"))
        .find(|dir| dir.join("vectors").is_dir())
        .expect("the shared/ folder with vectors/ beside the repository")
}
