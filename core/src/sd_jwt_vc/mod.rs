//! SD-JWT VC: the `dc+sd-jwt` credential profile and its type metadata.
