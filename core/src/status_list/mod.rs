//! Token Status List: bit-packed, zlib-compressed status lists, `statuslist+jwt` tokens and a freshness-aware cache.
