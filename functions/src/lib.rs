//! The Lambda functions (built in their own issue).
