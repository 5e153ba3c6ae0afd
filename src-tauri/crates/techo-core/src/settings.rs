//! The vault's settings: small values the app keeps with the record (in `vault_meta`, so
//! they are encrypted like everything else and travel with the vault).

use crate::{Error, Result, Vault};
use rusqlite::{params, OptionalExtension};

/// The settings a vault keeps. Keys are fixed here, so a typo cannot invent a setting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Setting {
    /// Minutes between the app's background syncs; absent = no scheduled sync.
    SyncIntervalMinutes,
    /// The endpoint id of the app's built-in demo hospital, once added.
    DemoEndpoint,
    /// The home blood-pressure target as `SYS/DIA` (absent: 135/85).
    BpTarget,
    /// Days a record waits before a research copy may be made (absent: 30).
    ResearchDelayDays,
    /// Minutes without use after which the app locks the vault, 1–120 (absent: 10).
    AutoLockMinutes,
    /// The app's colours: `light`, `dark` or `system` (absent: system).
    Theme,
    /// The app's language: `ja` or `en` (absent: en).
    Language,
}

impl Setting {
    fn key(self) -> &'static str {
        match self {
            Setting::SyncIntervalMinutes => "setting.sync_interval_minutes",
            Setting::DemoEndpoint => "setting.demo_endpoint",
            Setting::BpTarget => "setting.bp_target",
            Setting::ResearchDelayDays => "setting.research_delay_days",
            Setting::AutoLockMinutes => "setting.auto_lock_minutes",
            Setting::Theme => "setting.theme",
            Setting::Language => "setting.language",
        }
    }
}

impl Vault {
    /// A setting's value, if set.
    pub fn setting(&self, s: Setting) -> Result<Option<String>> {
        Ok(self.conn.query_row("SELECT value FROM vault_meta WHERE key = ?1", [s.key()], |r| r.get(0)).optional()?)
    }

    /// A setting read as a whole number; a stored value that is not one reads as unset.
    pub fn setting_i64(&self, s: Setting) -> Result<Option<i64>> {
        Ok(self.setting(s)?.and_then(|v| v.parse().ok()))
    }

    /// Sets (or with `None`, clears) a setting.
    pub fn set_setting(&mut self, s: Setting, value: Option<&str>) -> Result<()> {
        match value {
            Some(v) if v.chars().count() > 1000 => return Err(Error::InvalidInput("a setting holds at most 1000 characters".into())),
            Some(v) => self.conn.execute(
                "INSERT INTO vault_meta(key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                params![s.key(), v],
            )?,
            None => self.conn.execute("DELETE FROM vault_meta WHERE key = ?1", [s.key()])?,
        };
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::Setting;

    /// The keys are a stored format: each setting has its own, and they never change.
    #[test]
    fn setting_keys_are_distinct_and_stable() {
        let all = [
            Setting::SyncIntervalMinutes,
            Setting::DemoEndpoint,
            Setting::BpTarget,
            Setting::ResearchDelayDays,
            Setting::AutoLockMinutes,
            Setting::Theme,
            Setting::Language,
        ];
        let mut keys: Vec<&str> = all.iter().map(|s| s.key()).collect();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), all.len());
        assert_eq!(Setting::AutoLockMinutes.key(), "setting.auto_lock_minutes");
        assert_eq!(Setting::Theme.key(), "setting.theme");
        assert_eq!(Setting::Language.key(), "setting.language");
    }
}
