//! Credentials: password hashing and policy, and the key that signs tokens.

pub mod password;
pub mod signing_key;
