//! Random identifiers from the OS source, and the lower-case hex they are written in.

use anyhow::Context;

/// `bytes` random bytes from the OS source, as hex (twice as many characters).
///
/// # Errors
/// The OS random source failed.
pub fn random_hex(bytes: usize) -> anyhow::Result<String> {
    let mut random = vec![0u8; bytes];
    getrandom::fill(&mut random).context("Failed to read the OS random source")?;
    Ok(hex(&random))
}

/// `bytes` as lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_is_two_lower_case_digits_a_byte_and_random_ids_differ() {
        assert_eq!(hex(&[0x00, 0xab, 0x10]), "00ab10");
        let (a, b) = (random_hex(16).unwrap(), random_hex(16).unwrap());
        assert_eq!(a.len(), 32);
        assert_ne!(a, b);
    }
}
