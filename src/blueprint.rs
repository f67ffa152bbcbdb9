//! The solution folder blueprint (SPEC §7), as data in one place. (Lands with issue 3.)
