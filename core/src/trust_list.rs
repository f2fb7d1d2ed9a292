//! The trust list: a JWT signed by the national trust anchor naming each issuer, its keys and the document types it may issue.
