//! The citizen account's history (issue 14) as the vault knows it: when each document was
//! published, each new version and change of state the syncs saw, and each version this
//! wallet received. Syncs log the versions and states they see and the versions they
//! receive ([`AccountEvent`], kept in the vault, at most [`MAX_HISTORY_EVENTS`]); what a
//! vault written before the log holds (the last inbox read, the documents received through
//! the account) is read into events too, so an older wallet shows its history at once.

use serde::{Deserialize, Serialize};

use crate::oid4vci::inbox::{InboxEntry, Publisher};
use crate::vault::{StoredAccount, StoredCredential};

/// Most events the vault keeps (the oldest go first).
pub const MAX_HISTORY_EVENTS: usize = 2000;

/// What happened to a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountEventKind {
    /// The agency published it (its first version).
    Published,
    /// The agency reissued it: a new version.
    NewVersion,
    /// Its state changed (`revoked`, `suspended`, `valid` again).
    State,
    /// This wallet received a version of it.
    Received,
}

/// One event of a document of the account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountEvent {
    /// When, Unix seconds: the agency's time for what it did, the wallet's for a receipt.
    pub at: i64,
    /// What happened.
    pub kind: AccountEventKind,
    /// The publisher's own document id.
    pub document_id: String,
    /// The document type.
    pub vct: String,
    /// Who published it.
    pub publisher: Publisher,
    /// The version concerned.
    pub version: i64,
    /// The document's state then (`valid`, `suspended`, `revoked`).
    pub state: String,
    /// The child whose document it is, for a guardian's copy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_behalf_of: Option<String>,
}

impl AccountEvent {
    fn of(entry: &InboxEntry, kind: AccountEventKind, at: i64) -> AccountEvent {
        AccountEvent {
            at,
            kind,
            document_id: entry.document_id.clone(),
            vct: entry.vct.clone(),
            publisher: entry.publisher.clone(),
            version: entry.version,
            state: entry.state.clone(),
            on_behalf_of: entry.on_behalf_of.clone(),
        }
    }
}

/// The events a new inbox read shows against the previous one (`before`): a document not
/// seen before is published (and at a later version, reissued), a version not seen before
/// is new (and, when not valid, changed state), a state not seen before for the same
/// version changed at `updated_at`. Oldest first (the inbox lists newest first), so the
/// log's order is the order things happened.
///
/// The inbox gives one time per document (`updated_at`, its last change): a new version
/// whose state also changed since the last read gets that time too; when it was reissued
/// is not in the inbox.
pub fn inbox_events(before: &[InboxEntry], after: &[InboxEntry]) -> Vec<AccountEvent> {
    let mut out = Vec::new();
    for entry in after.iter().rev() {
        let previous = before
            .iter()
            .find(|p| p.publisher.id == entry.publisher.id && p.document_id == entry.document_id);
        match previous {
            None => out.extend(entry_events(entry)),
            Some(p) if p.version != entry.version => {
                out.push(AccountEvent::of(
                    entry,
                    AccountEventKind::NewVersion,
                    entry.updated_at,
                ));
                out.extend(not_valid(entry));
            }
            Some(p) if p.state != entry.state => {
                out.push(AccountEvent::of(
                    entry,
                    AccountEventKind::State,
                    entry.updated_at,
                ));
            }
            Some(_) => {}
        }
    }
    out
}

/// What one inbox entry says by itself: published at `published_at`; reissued (version
/// above 1) and not valid at `updated_at`.
fn entry_events(entry: &InboxEntry) -> Vec<AccountEvent> {
    let mut out = vec![AccountEvent::of(
        entry,
        AccountEventKind::Published,
        entry.published_at,
    )];
    if let Some(first) = out.first_mut()
        && entry.version > 1
    {
        // The first version's state then is not known: it was valid when published.
        first.version = 1;
        first.state = "valid".to_owned();
        out.push(AccountEvent::of(
            entry,
            AccountEventKind::NewVersion,
            entry.updated_at,
        ));
    }
    out.extend(not_valid(entry));
    out
}

/// The change of state of an entry that is not valid (at `updated_at`), if it is not.
fn not_valid(entry: &InboxEntry) -> Option<AccountEvent> {
    (entry.state != "valid")
        .then(|| AccountEvent::of(entry, AccountEventKind::State, entry.updated_at))
}

/// The receipt of `entry` at `now`.
pub fn received_event(entry: &InboxEntry, now: i64) -> AccountEvent {
    AccountEvent::of(entry, AccountEventKind::Received, now)
}

/// Appends `events` to the account's log, keeping the newest [`MAX_HISTORY_EVENTS`].
pub fn log(account: &mut StoredAccount, events: impl IntoIterator<Item = AccountEvent>) {
    account.history.extend(events);
    let excess = account.history.len().saturating_sub(MAX_HISTORY_EVENTS);
    account.history.drain(..excess);
}

/// Every event the vault knows for `account`, newest first (at equal times: received,
/// state, new version, published; then the later in the log first): its log, with what the
/// last inbox and `held` (the wallet's documents) say when the log does not have it.
pub fn history(account: &StoredAccount, held: &[StoredCredential]) -> Vec<AccountEvent> {
    let mut events = account.history.clone();
    let add = |event: AccountEvent, events: &mut Vec<AccountEvent>| {
        let known = events.iter().any(|e| {
            e.kind == event.kind
                && e.publisher.id == event.publisher.id
                && e.document_id == event.document_id
                && e.version == event.version
                && (e.kind != AccountEventKind::State || e.state == event.state)
        });
        if !known {
            events.push(event);
        }
    };
    // The inbox lists newest first: read oldest first, as the log is written.
    for entry in account.inbox.iter().rev() {
        for event in entry_events(entry) {
            add(event, &mut events);
        }
    }
    for stored in held {
        let Some(link) = &stored.account else {
            continue;
        };
        let entry = account
            .inbox
            .iter()
            .find(|e| e.publisher.id == link.publisher && e.document_id == link.document_id);
        if let Some(entry) = entry {
            let mut event = received_event(entry, stored.received_at);
            event.version = link.version;
            event.state = link.state.clone();
            add(event, &mut events);
        }
    }
    // Ties (the same second, the same kind) go by log order, the later first.
    let mut ordered: Vec<(usize, AccountEvent)> = events.into_iter().enumerate().collect();
    ordered.sort_by(|(i, a), (j, b)| b.at.cmp(&a.at).then(b.kind.cmp(&a.kind)).then(j.cmp(i)));
    ordered.into_iter().map(|(_, e)| e).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(version: i64, state: &str, updated_at: i64) -> InboxEntry {
        InboxEntry {
            credential_identifier: None,
            credential_configuration_id: "driving_licence".into(),
            vct: "https://giayto.gov.vn/vct/driving_licence".into(),
            document_id: "GPLX-1".into(),
            publisher: Publisher {
                id: "police".into(),
                name_vi: "Bộ Công an".into(),
                name_en: "Ministry of Public Security".into(),
                issuer: "https://police.example".into(),
            },
            state: state.into(),
            version,
            published_at: 1_000,
            updated_at,
            valid_until: 9_000_000_000,
            on_behalf_of: None,
        }
    }

    fn kinds(events: &[AccountEvent]) -> Vec<(i64, AccountEventKind, i64, &str)> {
        events
            .iter()
            .map(|e| (e.at, e.kind, e.version, e.state.as_str()))
            .collect()
    }

    fn account(history: Vec<AccountEvent>) -> StoredAccount {
        serde_json::from_value(serde_json::json!({
            "credential_issuer": "https://police.example",
            "token_endpoint": "https://police.example/token",
            "credential_endpoint": "https://police.example/credential",
            "inbox_endpoint": "https://police.example/inbox",
            "refresh_token": "r",
            "account_key_id": "account",
        }))
        .map(|mut a: StoredAccount| {
            a.history = history;
            a
        })
        .unwrap()
    }

    #[test]
    fn same_second_events_are_newest_first_in_log_order() {
        use AccountEventKind::*;
        let mut first = entry(1, "valid", 1_000);
        first.document_id = "GPLX-1".into();
        let mut second = first.clone();
        second.document_id = "GPLX-2".into();
        let mut third = first.clone();
        third.document_id = "GPLX-3".into();
        let log: Vec<AccountEvent> = [&first, &second, &third]
            .into_iter()
            .map(|e| received_event(e, 5_000))
            .collect();
        let shown: Vec<(AccountEventKind, String)> = history(&account(log), &[])
            .into_iter()
            .map(|e| (e.kind, e.document_id))
            .collect();
        assert_eq!(
            shown,
            [
                (Received, "GPLX-3".to_owned()),
                (Received, "GPLX-2".to_owned()),
                (Received, "GPLX-1".to_owned()),
            ]
        );
    }

    #[test]
    fn a_reissue_then_a_revocation_between_two_reads_logs_both() {
        use AccountEventKind::*;
        let v1 = entry(1, "valid", 1_000);
        let revoked_v2 = entry(2, "revoked", 3_000);
        assert_eq!(
            kinds(&inbox_events(
                std::slice::from_ref(&v1),
                std::slice::from_ref(&revoked_v2)
            )),
            [
                (3_000, NewVersion, 2, "revoked"),
                (3_000, State, 2, "revoked")
            ]
        );
    }

    #[test]
    fn an_inbox_read_is_logged_oldest_first() {
        let mut older = entry(1, "valid", 1_000);
        older.document_id = "GPLX-old".into();
        let mut newer = entry(1, "valid", 1_000);
        newer.document_id = "GPLX-new".into();
        // The inbox lists newest first.
        let logged: Vec<String> = inbox_events(&[], &[newer, older])
            .into_iter()
            .map(|e| e.document_id)
            .collect();
        assert_eq!(logged, ["GPLX-old", "GPLX-new"]);
    }

    #[test]
    fn each_sync_logs_what_changed() {
        use AccountEventKind::*;
        let v1 = entry(1, "valid", 1_000);
        assert_eq!(
            kinds(&inbox_events(&[], std::slice::from_ref(&v1))),
            [(1_000, Published, 1, "valid")]
        );
        let v2 = entry(2, "valid", 2_000);
        assert_eq!(
            kinds(&inbox_events(
                std::slice::from_ref(&v1),
                std::slice::from_ref(&v2)
            )),
            [(2_000, NewVersion, 2, "valid")]
        );
        let suspended = entry(2, "suspended", 3_000);
        assert_eq!(
            kinds(&inbox_events(
                std::slice::from_ref(&v2),
                std::slice::from_ref(&suspended)
            )),
            [(3_000, State, 2, "suspended")]
        );
        assert!(inbox_events(std::slice::from_ref(&v2), std::slice::from_ref(&v2)).is_empty());
        // A document first seen at version 3 and revoked: published, reissued, revoked.
        assert_eq!(
            kinds(&inbox_events(&[], &[entry(3, "revoked", 4_000)])),
            [
                (1_000, Published, 1, "valid"),
                (4_000, NewVersion, 3, "revoked"),
                (4_000, State, 3, "revoked")
            ]
        );
    }
}
