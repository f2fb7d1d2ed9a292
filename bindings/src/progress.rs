//! Progress of the long operations (receiving a document, syncing or refreshing many
//! status lists),
//! reported to the app through the foreign [`ProgressListener`] so it can show a progress
//! bar or the step it is waiting on.

use std::sync::Arc;

use crate::GiaytoError;

/// Which step a long operation is starting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum ProgressStage {
    /// Fetching a credential offer given by reference (OpenID4VCI 1.0 §4.1.3).
    CredentialOffer,
    /// Fetching the Credential Issuer Metadata (OpenID4VCI 1.0 §12.2).
    IssuerMetadata,
    /// Fetching the Authorization Server Metadata (OpenID4VCI 1.0 §12.3, RFC 8414).
    AuthorizationServerMetadata,
    /// Redeeming the pre-authorized code at the Token Endpoint (OpenID4VCI 1.0 §6).
    Token,
    /// Fetching a `c_nonce` from the Nonce Endpoint (OpenID4VCI 1.0 §7).
    Nonce,
    /// Signing the key proof and requesting the credential (OpenID4VCI 1.0 §8); the holder
    /// key's `sign` (and any biometric prompt) happens here.
    Credential,
    /// Requesting a batch of one purpose credential configuration (OpenID4VCI 1.0 §8.2,
    /// one key proof per credential; `item` is the configuration id); each new key's
    /// `sign` happens here.
    PurposeCredentials,
    /// Storing the document in the vault.
    Storing,
    /// Downloading the trust list (`item` is its URL).
    TrustList,
    /// Downloading one issuer's Status List Aggregation (Token Status List §9; `item` is
    /// its URI).
    StatusListAggregation,
    /// Downloading one Status List Token (Token Status List §8.1; `item` is its URI).
    StatusList,
    /// Finished: `completed == total`.
    Done,
}

/// One progress report: `stage` is starting, `completed` of `total` steps are behind it.
/// (Not called `Progress`, which Swift apps already have from Foundation.)
/// Steps a particular run does not need (an offer given by value, an issuer without a
/// Nonce Endpoint) count as completed, so `completed / total` only grows.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ProgressReport {
    /// The step starting now.
    pub stage: ProgressStage,
    /// Steps finished so far.
    pub completed: u32,
    /// Steps in the whole operation.
    pub total: u32,
    /// What the step works on, when there are many of the same stage (a status list URI).
    pub item: Option<String>,
}

/// Receives the progress of a long call. Called on the thread that runs the call, between
/// its steps: return quickly (post to the UI thread). An exception thrown here is ignored:
/// a broken progress bar never fails the call.
#[uniffi::export(with_foreign)]
pub trait ProgressListener: Send + Sync {
    /// One step is starting.
    fn on_progress(&self, progress: ProgressReport) -> Result<(), GiaytoError>;
}

/// Reports to an optional listener.
pub(crate) struct Reporter {
    listener: Option<Arc<dyn ProgressListener>>,
    total: u32,
}

impl Reporter {
    /// Reports to `listener`, if any, for an operation of `total` steps.
    pub(crate) fn new(listener: Option<Arc<dyn ProgressListener>>, total: u32) -> Self {
        Reporter { listener, total }
    }

    /// `stage` starts with `completed` steps behind it.
    pub(crate) fn report(&self, stage: ProgressStage, completed: u32, item: Option<&str>) {
        if let Some(listener) = &self.listener {
            // Ignored on purpose: see `ProgressListener`.
            let _ = listener.on_progress(ProgressReport {
                stage,
                completed: completed.min(self.total),
                total: self.total,
                item: item.map(str::to_owned),
            });
        }
    }

    /// `steps` more steps than announced: the operation learnt them before its second
    /// report (the further configurations of an offer fetched by reference), so that
    /// `completed / total` still only grows.
    pub(crate) fn add_steps(&mut self, steps: u32) {
        self.total = self.total.saturating_add(steps);
    }

    /// The operation finished.
    pub(crate) fn done(&self) {
        self.report(ProgressStage::Done, self.total, None);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    /// Records every report, then fails, as a broken progress bar might.
    #[derive(Default)]
    struct Failing {
        seen: Mutex<Vec<ProgressReport>>,
    }

    impl ProgressListener for Failing {
        fn on_progress(&self, progress: ProgressReport) -> Result<(), GiaytoError> {
            self.seen.lock().unwrap().push(progress);
            Err(GiaytoError::Callback {
                reason: "the progress bar is gone".into(),
            })
        }
    }

    #[test]
    fn reports_reach_the_listener_in_order_and_its_failures_are_ignored() {
        let listener = Arc::new(Failing::default());
        let reporter = Reporter::new(Some(listener.clone()), 2);
        reporter.report(ProgressStage::StatusList, 0, Some("https://a.example/1"));
        reporter.report(ProgressStage::StatusList, 1, Some("https://a.example/2"));
        reporter.done();
        let seen = listener.seen.lock().unwrap();
        let got: Vec<_> = seen
            .iter()
            .map(|p| (p.stage, p.completed, p.total, p.item.as_deref()))
            .collect();
        assert_eq!(
            got,
            [
                (ProgressStage::StatusList, 0, 2, Some("https://a.example/1")),
                (ProgressStage::StatusList, 1, 2, Some("https://a.example/2")),
                (ProgressStage::Done, 2, 2, None),
            ]
        );
    }

    #[test]
    fn completed_never_exceeds_total_and_no_listener_is_fine() {
        let listener = Arc::new(Failing::default());
        Reporter::new(Some(listener.clone()), 3).report(ProgressStage::Storing, 9, None);
        assert_eq!(listener.seen.lock().unwrap()[0].completed, 3);
        Reporter::new(None, 3).done();
    }
}
