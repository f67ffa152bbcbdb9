//! Engine tests against mocked AWS clients (aws-smithy-mocks).
