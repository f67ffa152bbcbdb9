//! The operator IAM policy (SPEC §8). (Lands with issue 3.)
