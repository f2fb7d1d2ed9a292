//! Secrets and data at rest: a master key is never made over a database holding material
//! of another one, a wrong key is refused (on SQLite and PostgreSQL), and the SQLite files
//! are private whatever the umask; with `server::open` and with the built binary.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use giayto_server::config::Config;
use giayto_server::domain::agencies;
use giayto_server::server::{self, ServeError};
use giayto_server::unlock::UnlockError;

fn config(dir: &Path, database_url: &str) -> Config {
    Config {
        database_url: database_url.to_owned(),
        database_max_connections: 2,
        master_key_file: dir.join("master.key"),
        public_url: common::PUBLIC_URL.into(),
        status_list_size: 1024,
        ..Config::default()
    }
}

fn sqlite_url(dir: &Path) -> String {
    format!("sqlite://{}?mode=rwc", dir.join("giayto.db").display())
}

fn write_private(path: &Path, bytes: &[u8]) {
    std::fs::write(path, bytes).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
}

async fn master_key_is_never_replaced(database_url: &str) {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("master.key");
    let config = config(dir.path(), database_url);
    let services = server::open(config.clone()).await.unwrap();
    let seeded = giayto_server::demo::seed(&services).await.unwrap();
    let api_key = seeded[0].1.secret.clone();
    services.db.close().await;

    // The key moved away: refused, with the reason, and no new key file (demo on or off).
    let saved = dir.path().join("master.key.saved");
    std::fs::rename(&key, &saved).unwrap();
    for demo in [false, true] {
        let e = server::open(Config {
            demo,
            ..config.clone()
        })
        .await
        .unwrap_err();
        assert!(
            matches!(e, ServeError::Unlock(UnlockError::KeyMissing { .. })),
            "{e}"
        );
        assert!(e.to_string().contains("missing"), "{e}");
        assert!(!key.exists(), "no key file may be created");
    }
    // Another key: refused.
    write_private(&key, &[7u8; 32]);
    let e = server::open(config.clone()).await.unwrap_err();
    assert!(
        matches!(e, ServeError::Unlock(UnlockError::WrongKey { .. })),
        "{e}"
    );
    // A database set up before the check value existed: the wrong key fails to unwrap a
    // signing key; the right one opens it and the check value is written.
    std::fs::remove_file(&key).unwrap();
    std::fs::rename(&saved, &key).unwrap();
    let services = server::open(config.clone()).await.unwrap();
    sqlx::query("DELETE FROM master_key_check")
        .execute(services.db.writer())
        .await
        .unwrap();
    services.db.close().await;
    std::fs::rename(&key, &saved).unwrap();
    write_private(&key, &[7u8; 32]);
    let e = server::open(config.clone()).await.unwrap_err();
    assert!(
        matches!(e, ServeError::Unlock(UnlockError::WrongKey { .. })),
        "{e}"
    );
    std::fs::remove_file(&key).unwrap();
    std::fs::rename(&saved, &key).unwrap();
    let services = server::open(config).await.unwrap();
    let checks: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM master_key_check")
        .fetch_one(services.db.pool())
        .await
        .unwrap();
    assert_eq!(checks, 1);
    // The right key still opens everything: the agency's API key authenticates.
    assert!(
        agencies::authenticate(&services, &api_key)
            .await
            .unwrap()
            .is_some()
    );
    services.db.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn master_key_is_never_replaced_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    master_key_is_never_replaced(&sqlite_url(dir.path())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn master_key_is_never_replaced_postgres() {
    if let Some(admin) = common::postgres_url() {
        let db = common::fresh_postgres_database(&admin).await;
        master_key_is_never_replaced(&db.url).await;
    }
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_files_are_private_and_wider_modes_refused() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), &sqlite_url(dir.path()));
    let services = server::open(config.clone()).await.unwrap();
    giayto_server::demo::seed(&services).await.unwrap();
    // While the pool is open the WAL and shared-memory files exist: all three private.
    for file in ["giayto.db", "giayto.db-wal", "giayto.db-shm"] {
        assert_eq!(mode(&dir.path().join(file)), 0o600, "{file}");
    }
    services.db.close().await;
    let db = dir.path().join("giayto.db");
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).unwrap();
    let e = server::open(config).await.unwrap_err();
    assert!(e.to_string().contains("chmod 600"), "{e}");
}

/// `giayto-server args...` in `dir` with a umask of 000, the database and key in `dir`;
/// waits with a generous bound (a server that starts instead of refusing is killed, and the
/// test fails on its exit status).
#[cfg(unix)]
fn server_bin(dir: &Path, args: &[&str], demo: bool) -> Output {
    let mut child = Command::new("sh")
        .arg("-c")
        .arg("umask 000; exec \"$0\" \"$@\"")
        .arg(env!("CARGO_BIN_EXE_giayto-server"))
        .args(args)
        .current_dir(dir)
        .env("GIAYTO_DATABASE_URL", sqlite_url(dir))
        .env("GIAYTO_MASTER_KEY_FILE", dir.join("master.key"))
        .env("GIAYTO_BIND", "127.0.0.1:0")
        .env("GIAYTO_DEMO", if demo { "true" } else { "false" })
        .env("GIAYTO_PUBLIC_URL", common::PUBLIC_URL)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    while child.try_wait().unwrap().is_none() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    child.wait_with_output().unwrap()
}

#[cfg(unix)]
#[test]
fn binary_creates_private_files_and_refuses_without_its_key() {
    let dir = tempfile::tempdir().unwrap();
    let key: PathBuf = dir.path().join("master.key");
    // First start (an admin command opens like `serve`): database and key 0600 under umask 0.
    let out = server_bin(dir.path(), &["agency", "list"], true);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(mode(&dir.path().join("giayto.db")), 0o600);
    assert_eq!(mode(&key), 0o600);
    let out = server_bin(dir.path(), &["trust-list", "publish"], false);
    assert!(out.status.success(), "{out:?}");
    // Key moved away: `serve` refuses, says why, and leaves no new key behind.
    std::fs::rename(&key, dir.path().join("saved.key")).unwrap();
    for demo in [false, true] {
        let out = server_bin(dir.path(), &["serve"], demo);
        assert_eq!(out.status.code(), Some(1), "{out:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("master key file"), "{stderr}");
        assert!(!key.exists(), "demo={demo}: a new key file was created");
    }
    // A wrong key: refused.
    write_private(&key, &[9u8; 32]);
    let out = server_bin(dir.path(), &["serve"], false);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("does not open this database"));
    // /dev/zero as the key: refused at once, not read until memory runs out.
    let out = Command::new(env!("CARGO_BIN_EXE_giayto-server"))
        .args(["agency", "list"])
        .env("GIAYTO_DATABASE_URL", sqlite_url(dir.path()))
        .env("GIAYTO_MASTER_KEY_FILE", "/dev/zero")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a regular file"));
}
