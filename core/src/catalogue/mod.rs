//! The document catalogue: each document type giayto knows, its `vct`, claim schema, vi/en labels, disclosure presets and issuer role.
