//! What can go wrong while driving a journey, each with its cause.

/// A step of a journey that failed.
#[derive(Debug, thiserror::Error)]
pub enum HarnessError {
    /// Building or starting the server binary failed.
    #[error("server process: {0}")]
    Process(String),
    /// A file or socket operation failed.
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    /// An HTTP exchange failed at the transport level.
    #[error("http {url}: {reason}")]
    Http {
        /// The URL, without its query.
        url: String,
        /// Why.
        reason: String,
    },
    /// The server answered with an unexpected status.
    #[error("{url} answered {status}: {body}")]
    Status {
        /// The URL, without its query.
        url: String,
        /// The HTTP status.
        status: u16,
        /// The start of the body.
        body: String,
    },
    /// A body was not the JSON expected.
    #[error("unexpected response: {0}")]
    Unexpected(String),
    /// The database could not be prepared or inspected.
    #[error("database: {0}")]
    Database(String),
    /// A core operation failed.
    #[error("{context}: {reason}")]
    Core {
        /// Which step.
        context: &'static str,
        /// The core error.
        reason: String,
    },
}

/// Shorthand for mapping any displayable error into [`HarnessError::Core`].
pub trait CoreContext<T> {
    /// Labels the error with `context`.
    fn ctx(self, context: &'static str) -> Result<T, HarnessError>;
}

impl<T, E: std::fmt::Display> CoreContext<T> for Result<T, E> {
    fn ctx(self, context: &'static str) -> Result<T, HarnessError> {
        self.map_err(|e| HarnessError::Core {
            context,
            reason: e.to_string(),
        })
    }
}
