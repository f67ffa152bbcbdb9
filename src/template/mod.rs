//! The CloudFormation template (SPEC §5), built from typed data. (Lands with issue 3.)
