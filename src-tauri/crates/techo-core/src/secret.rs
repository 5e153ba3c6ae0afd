//! Secret types: redacted `Debug`, never `Serialize`, zeroized on drop.

use rand::RngCore;
use zeroize::{Zeroize, ZeroizeOnDrop};

/// A 256-bit key: the vault's data key, or a key-encryption key.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct Key32([u8; 32]);

impl Key32 {
    pub fn random() -> Self {
        let mut k = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut k);
        Key32(k)
    }
    pub(crate) fn from_bytes(b: &[u8]) -> Option<Self> {
        let mut k = [0u8; 32];
        if b.len() != 32 {
            return None;
        }
        k.copy_from_slice(b);
        Some(Key32(k))
    }
    pub(crate) fn expose(&self) -> &[u8; 32] {
        &self.0
    }
    /// `x'…'` blob literal for SQLCipher's raw-key PRAGMA. Zeroized by the caller's drop.
    pub(crate) fn sqlcipher_literal(&self) -> zeroize::Zeroizing<String> {
        zeroize::Zeroizing::new(format!("x'{}'", hex::encode(self.0)))
    }
    pub(crate) fn to_hex(&self) -> zeroize::Zeroizing<String> {
        zeroize::Zeroizing::new(hex::encode(self.0))
    }
    pub(crate) fn from_hex(s: &str) -> Option<Self> {
        let mut b = zeroize::Zeroizing::new(hex::decode(s.trim()).ok()?);
        let k = Self::from_bytes(&b);
        b.zeroize();
        k
    }
}

impl std::fmt::Debug for Key32 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Key32([REDACTED])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_redacted() {
        let k = Key32::from_bytes(&[0xAB; 32]).unwrap();
        let d = format!("{k:?}");
        assert!(!d.to_lowercase().contains("ab"), "{d}");
        assert!(d.contains("REDACTED"));
    }

    #[test]
    fn random_keys_differ() {
        assert_ne!(Key32::random().expose(), Key32::random().expose());
    }
}
