//! The real `giayto-server` binary: built once per test run with cargo, started on a free
//! port in a temporary folder over SQLite or a fresh PostgreSQL database, stopped with
//! SIGTERM, killed with SIGKILL, restarted on the same database and master key, and its
//! admin subcommands run against the same configuration.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::HarnessError;
use crate::http::Client;

/// The environment variable naming a PostgreSQL role that may `CREATE DATABASE`.
pub const POSTGRES_URL_VAR: &str = "GIAYTO_TEST_POSTGRES_URL";

/// The demo agencies the server seeds on an empty database.
pub const DEMO_AGENCIES: [&str; 3] = ["police", "justice", "social-insurance"];

/// Builds `giayto-server` (same profile as the running test) once and returns its path.
pub fn binary() -> Result<PathBuf, HarnessError> {
    static BINARY: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    BINARY
        .get_or_init(|| build_binary("giayto-server", "giayto-server"))
        .clone()
        .map_err(HarnessError::Process)
}

/// Builds the `giayto` command (same profile as the running test) once and returns its path.
pub fn giayto_binary() -> Result<PathBuf, HarnessError> {
    static BINARY: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    BINARY
        .get_or_init(|| build_binary("giayto-cli", "giayto"))
        .clone()
        .map_err(HarnessError::Process)
}

/// Builds `giayto-verifier` (same profile as the running test) once and returns its path.
pub fn verifier_binary() -> Result<PathBuf, HarnessError> {
    static BINARY: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    BINARY
        .get_or_init(|| build_binary("giayto-verifier", "giayto-verifier"))
        .clone()
        .map_err(HarnessError::Process)
}

fn build_binary(package: &str, bin: &str) -> Result<PathBuf, String> {
    // The test executable lives in target/<profile>/deps/.
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .ok_or("cannot locate the target directory")?
        .to_path_buf();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("../Cargo.toml");
    let mut cmd = Command::new(cargo);
    cmd.args(["build", "--quiet", "-p", package, "--bin", bin])
        .arg("--manifest-path")
        .arg(&manifest);
    if profile_dir.file_name().is_some_and(|n| n == "release") {
        cmd.arg("--release");
    }
    if let Some(target) = profile_dir.parent() {
        cmd.env("CARGO_TARGET_DIR", target);
    }
    // The variables cargo sets for this test process would change the fingerprints of
    // crates that read them at compile time, forcing a rebuild on every run.
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        if name.starts_with("CARGO_") && !matches!(&*name, "CARGO_HOME" | "CARGO_TARGET_DIR") {
            cmd.env_remove(&*name);
        }
    }
    let status = cmd.status().map_err(|e| format!("running cargo: {e}"))?;
    if !status.success() {
        return Err(format!("cargo build -p {package} failed: {status}"));
    }
    let bin = profile_dir.join(bin);
    if bin.is_file() {
        Ok(bin)
    } else {
        Err(format!("{} was not built", bin.display()))
    }
}

/// Which database a server runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// An embedded SQLite file.
    Sqlite,
    /// A fresh database on the PostgreSQL server of [`POSTGRES_URL_VAR`].
    Postgres,
}

/// The PostgreSQL admin URL; `None` (with a note) when unset outside CI, an error in CI.
pub fn postgres_admin_url() -> Result<Option<String>, HarnessError> {
    match std::env::var(POSTGRES_URL_VAR)
        .ok()
        .filter(|u| !u.is_empty())
    {
        Some(url) => Ok(Some(url)),
        None if std::env::var_os("CI").is_some() => Err(HarnessError::Database(format!(
            "CI must run the PostgreSQL journey: set {POSTGRES_URL_VAR} (scripts/test.sh does)"
        ))),
        None => {
            eprintln!("{POSTGRES_URL_VAR} is not set: the PostgreSQL journey is not run here");
            Ok(None)
        }
    }
}

/// A single-threaded runtime for the few database statements the harness runs itself.
fn block_on<F: std::future::Future>(future: F) -> Result<F::Output, HarnessError> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    Ok(rt.block_on(future))
}

fn db_error(e: sqlx::Error) -> HarnessError {
    HarnessError::Database(e.to_string())
}

/// Creates an empty database on the PostgreSQL server; returns its URL and name.
fn fresh_postgres_database(admin_url: &str) -> Result<(String, String), HarnessError> {
    use sqlx::{Connection as _, Executor as _};
    // Unique per process and call: the process id and the clock in nanoseconds.
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let name = format!("giayto_e2e_{}_{nanos}", std::process::id());
    block_on(async {
        let mut conn = sqlx::PgConnection::connect(admin_url)
            .await
            .map_err(db_error)?;
        conn.execute(format!("CREATE DATABASE {name}").as_str())
            .await
            .map_err(db_error)?;
        conn.close().await.map_err(db_error)
    })??;
    let mut url = url::Url::parse(admin_url).map_err(|e| HarnessError::Database(e.to_string()))?;
    url.set_path(&format!("/{name}"));
    Ok((url.to_string(), name))
}

/// Drops a database created by [`fresh_postgres_database`].
fn drop_postgres_database(admin_url: &str, name: &str) -> Result<(), HarnessError> {
    use sqlx::{Connection as _, Executor as _};
    block_on(async {
        let mut conn = sqlx::PgConnection::connect(admin_url)
            .await
            .map_err(db_error)?;
        conn.execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
            .await
            .map_err(db_error)?;
        conn.close().await.map_err(db_error)
    })?
}

/// A free TCP port on the loopback interface.
fn free_port() -> Result<u16, HarnessError> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// A `giayto-server` process with its folder, database and the demo agencies' API keys.
pub struct Server {
    binary: PathBuf,
    dir: tempfile::TempDir,
    port: u16,
    database_url: String,
    child: Option<Child>,
    starts: u32,
    /// For PostgreSQL: the admin URL and the database to drop at the end.
    postgres: Option<(String, String)>,
    /// API key of each demo agency (printed once, at the first start).
    pub api_keys: HashMap<String, String>,
    /// The HTTP client used for calls.
    pub client: Client,
}

impl Server {
    /// Starts a server on a fresh database of `backend`; `None` when PostgreSQL is not
    /// configured outside CI.
    pub fn start(backend: Backend) -> Result<Option<Server>, HarnessError> {
        let binary = binary()?;
        let dir = tempfile::tempdir()?;
        let (database_url, postgres) = match backend {
            Backend::Sqlite => (
                format!(
                    "sqlite://{}?mode=rwc",
                    dir.path().join("giayto.db").display()
                ),
                None,
            ),
            Backend::Postgres => match postgres_admin_url()? {
                Some(admin) => {
                    let (url, name) = fresh_postgres_database(&admin)?;
                    (url, Some((admin, name)))
                }
                None => return Ok(None),
            },
        };
        let mut server = Server {
            binary,
            port: free_port()?,
            dir,
            database_url,
            child: None,
            starts: 0,
            postgres,
            api_keys: HashMap::new(),
            client: Client::new(),
        };
        server.spawn()?;
        Ok(Some(server))
    }

    /// The public base URL (`http://127.0.0.1:PORT`).
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// `base_url` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url())
    }

    /// The database URL the server uses.
    pub fn database_url(&self) -> &str {
        &self.database_url
    }

    /// The API key of a demo agency.
    pub fn api_key(&self, agency: &str) -> Result<&str, HarnessError> {
        self.api_keys
            .get(agency)
            .map(String::as_str)
            .ok_or_else(|| HarnessError::Process(format!("no API key for {agency}")))
    }

    fn command(&self) -> Command {
        let mut cmd = Command::new(&self.binary);
        cmd.current_dir(self.dir.path())
            .env("GIAYTO_BIND", format!("127.0.0.1:{}", self.port))
            .env("GIAYTO_PUBLIC_URL", self.base_url())
            .env("GIAYTO_DATABASE_URL", &self.database_url)
            .env("GIAYTO_DATABASE_MAX_CONNECTIONS", "4")
            .env("GIAYTO_MASTER_KEY_FILE", self.dir.path().join("master.key"))
            .env("GIAYTO_DEMO", "true")
            .env("GIAYTO_SHUTDOWN_GRACE_SECS", "5")
            .env("GIAYTO_LOG", "warn");
        cmd
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join(format!("server-{}.log", self.starts))
    }

    /// The server's log of its latest start (stderr), for failure messages.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    fn spawn(&mut self) -> Result<(), HarnessError> {
        self.starts += 1;
        let log = std::fs::File::create(self.log_path())?;
        let mut child = self
            .command()
            .arg("serve")
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()?;
        // The demo keys are printed on stdout before serving; a reader thread collects
        // them and keeps draining the pipe.
        let (tx, rx) = std::sync::mpsc::channel::<(String, String)>();
        if let Some(stdout) = child.stdout.take() {
            std::thread::spawn(move || {
                for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                    let mut words = line.split_whitespace();
                    if let (Some(agency), Some(key), None) =
                        (words.next(), words.next(), words.next())
                        && DEMO_AGENCIES.contains(&agency)
                    {
                        let _ = tx.send((agency.to_owned(), key.to_owned()));
                    }
                }
            });
        }
        self.child = Some(child);
        self.wait_ready()?;
        if self.api_keys.is_empty() {
            while self.api_keys.len() < DEMO_AGENCIES.len() {
                let (agency, key) = rx.recv_timeout(Duration::from_secs(10)).map_err(|_| {
                    HarnessError::Process("the demo API keys were not printed".into())
                })?;
                self.api_keys.insert(agency, key);
            }
        }
        Ok(())
    }

    fn wait_ready(&mut self) -> Result<(), HarnessError> {
        let deadline = Instant::now() + Duration::from_secs(60);
        let url = self.url("/readyz");
        loop {
            if let Some(child) = self.child.as_mut()
                && let Some(status) = child.try_wait()?
            {
                return Err(HarnessError::Process(format!(
                    "server exited with {status}:\n{}",
                    self.log()
                )));
            }
            if let Ok(reply) = self.client.get(&url, None)
                && reply.status == 200
            {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(HarnessError::Process(format!(
                    "server not ready after 60 s:\n{}",
                    self.log()
                )));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Stops the server with SIGTERM (graceful shutdown) and waits for it to exit.
    pub fn stop(&mut self) -> Result<(), HarnessError> {
        if let Some(mut child) = self.child.take() {
            let status = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status()?;
            if !status.success() {
                return Err(HarnessError::Process("kill -TERM failed".into()));
            }
            let exit = child.wait()?;
            if !exit.success() {
                return Err(HarnessError::Process(format!(
                    "server exited with {exit} on SIGTERM:\n{}",
                    self.log()
                )));
            }
        }
        Ok(())
    }

    /// Kills the server with SIGKILL: no shutdown code runs.
    pub fn kill(&mut self) -> Result<(), HarnessError> {
        if let Some(mut child) = self.child.take() {
            child.kill()?; // SIGKILL on Unix
            child.wait()?;
        }
        Ok(())
    }

    /// Starts the server again on the same port, database and master key.
    pub fn restart(&mut self) -> Result<(), HarnessError> {
        self.stop()?;
        self.spawn()
    }

    /// Starts a stopped or killed server again.
    pub fn start_again(&mut self) -> Result<(), HarnessError> {
        if self.child.is_some() {
            return Err(HarnessError::Process("the server is still running".into()));
        }
        self.spawn()
    }

    /// Runs an admin subcommand (`agency rotate-key --id police`, ...) on the same
    /// configuration; returns its stdout.
    pub fn admin(&self, args: &[&str]) -> Result<String, HarnessError> {
        let out = self.command().args(args).output()?;
        if !out.status.success() {
            return Err(HarnessError::Process(format!(
                "giayto-server {} failed: {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr)
            )));
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// Rows of the `documents` table of `agency`: (all, distinct document ids).
    pub fn count_documents(&self, agency: &str) -> Result<(i64, i64), HarnessError> {
        use sqlx::Row as _;
        let agency = agency.to_owned();
        self.with_pool(|pool| async move {
            let row = sqlx::query(
                "SELECT COUNT(*) AS n, COUNT(DISTINCT external_id) AS d FROM documents WHERE agency_id = $1",
            )
            .bind(agency)
            .fetch_one(&pool)
            .await
            .map_err(db_error)?;
            Ok((
                row.try_get::<i64, _>("n").map_err(db_error)?,
                row.try_get::<i64, _>("d").map_err(db_error)?,
            ))
        })
    }

    /// Runs one SQL statement on the server's database (to break things on purpose);
    /// returns the rows affected.
    pub fn execute(&self, sql: &str) -> Result<u64, HarnessError> {
        let sql = sql.to_owned();
        self.with_pool(|pool| async move {
            let done = sqlx::query(&sql).execute(&pool).await.map_err(db_error)?;
            Ok(done.rows_affected())
        })
    }

    /// Runs `work` on a one-connection pool to the server's database, closed afterwards.
    fn with_pool<T, F>(&self, work: impl FnOnce(sqlx::AnyPool) -> F) -> Result<T, HarnessError>
    where
        F: std::future::Future<Output = Result<T, HarnessError>>,
    {
        sqlx::any::install_default_drivers();
        let url = self.database_url.clone();
        block_on(async move {
            let pool = sqlx::any::AnyPoolOptions::new()
                .max_connections(1)
                .connect(&url)
                .await
                .map_err(db_error)?;
            let result = work(pool.clone()).await;
            pool.close().await;
            result
        })?
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        if let Some((admin, name)) = self.postgres.take()
            && let Err(e) = drop_postgres_database(&admin, &name)
        {
            eprintln!("could not drop test database {name}: {e}");
        }
    }
}
