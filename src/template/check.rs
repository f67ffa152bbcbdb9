//! The `validate-prov-template` rules (placeholder).
