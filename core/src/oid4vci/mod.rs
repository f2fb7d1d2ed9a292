//! The OpenID4VCI 1.0 client, sans-IO: parses offers and metadata, builds requests, checks responses.
