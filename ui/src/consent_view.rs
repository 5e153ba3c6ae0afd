//! Pure helpers for the consent screen and the audit view: no browser APIs, tested natively.
//! Everything here is words (English and Japanese side by side) for states, counts and the
//! forms' fields; nothing reads or formats record content (the audit log holds none).

use crate::view::format_count;
use techo_ipc::{AuditVerdict, ConsentChangeRequest, IpcError, ResearchStatusView, CAREGIVER_ACCESS, CONSENT_CATEGORIES};

/// Audit entries asked for per page.
pub const AUDIT_PAGE: u32 = 50;

/// A caregiver grant's state in words: (English, Japanese).
pub fn caregiver_state_label(state: &str) -> (&'static str, &'static str) {
    match state {
        "active" => ("active", "有効"),
        "expired" => ("expired", "期限切れ"),
        "revoked" => ("revoked", "取り消し済み"),
        "not_yet_active" => ("not yet active", "開始前"),
        _ => ("unknown", "不明"),
    }
}

/// An access level in words: (English, Japanese).
pub fn access_label(code: &str) -> (&'static str, &'static str) {
    CAREGIVER_ACCESS.iter().find(|(c, _, _)| *c == code).map_or(("unknown", "不明"), |(_, en, ja)| (*en, *ja))
}

/// The category select's options: (code, "日本語 / English").
pub fn category_options() -> Vec<(&'static str, String)> {
    CONSENT_CATEGORIES.iter().map(|(code, en, ja)| (*code, format!("{ja} / {en}"))).collect()
}

/// What research use means, with the delay: (English, Japanese).
pub fn research_explainer(delay_days: i64) -> (String, String) {
    let days = if delay_days == 1 { "1 day".to_string() } else { format!("{delay_days} days") };
    (
        format!(
            "After {days}, Techo makes a pseudonymised copy of each new record for medical research: names, addresses, phone numbers and ids are removed. You can opt out at any time; an opt-out stops every later copy, including copies made but not yet sent."
        ),
        format!(
            "記録が届いてから{delay_days}日後に、医学研究のための仮名化したコピー(氏名・住所・電話番号・IDを削除)が作られます。いつでも拒否できます。拒否すると、まだ送信されていないコピーを含め、以後のコピーはすべて止まります。"
        ),
    )
}

/// The research state in words: (English, Japanese).
pub fn research_state_label(permitted: bool) -> (&'static str, &'static str) {
    if permitted {
        ("Research use is permitted.", "研究への二次利用を許可しています。")
    } else {
        ("Research use is refused: no copies are made.", "研究への二次利用を拒否しています。コピーは作られません。")
    }
}

/// The confirmation asked before a research choice: (English, Japanese).
pub fn research_confirm_text(opt_out: bool) -> (&'static str, &'static str) {
    if opt_out {
        (
            "Opt out of research use? Copies not yet sent are withdrawn and no later copy is made.",
            "研究への二次利用を拒否しますか?未送信のコピーは取り下げられ、以後コピーは作られません。",
        )
    } else {
        (
            "Opt back in? Only records that arrive from now on will be copied; records that arrived while you had opted out never are.",
            "再び許可しますか?今後届く記録だけがコピーの対象になります。拒否していた間に届いた記録はコピーされません。",
        )
    }
}

/// The research queue in one line.
pub fn queue_line(s: &ResearchStatusView) -> String {
    format!(
        "Waiting to be sent / 送信待ち {} · sent / 送信済み {} · failed / 失敗 {} · withdrawn / 取り下げ {}",
        format_count(s.pending),
        format_count(s.sent),
        format_count(s.failed),
        format_count(s.withdrawn)
    )
}

/// What a saved change says: the change, and how many research copies an opt-out withdrew.
pub fn changed_note(change: &str, withdrawn: u64) -> String {
    let mut note = format!("Saved / 保存しました: {change}");
    if withdrawn > 0 {
        note.push_str(&format!(" {} research cop{} not yet sent withdrawn / 未送信のコピー{}件を取り下げました。", format_count(withdrawn), if withdrawn == 1 { "y" } else { "ies" }, withdrawn));
    }
    note
}

/// The verify button's answer.
pub fn verdict_text(v: &AuditVerdict) -> String {
    match &v.problem {
        None => format!(
            "The log holds: {} entries, each linked to the one before. / 監査ログは改ざんされていません({}件)。",
            format_count(v.entries),
            format_count(v.entries)
        ),
        Some(p) => format!(
            "The log was changed at entry {}: {} Restore the vault from a backup. / 監査ログの第{}件に改ざんが見つかりました。",
            p.seq, p.what, p.seq
        ),
    }
}

/// An audit row's kind: "English / 日本語".
pub fn audit_kind_text(kind: &str) -> String {
    let (en, ja) = techo_ipc::audit_kind_label(kind);
    format!("{en} / {ja}")
}

/// The caregiver grant form's fields → the request (trimmed; a blank expiry is none).
pub fn grant_request(id: &str, name: &str, relationship: &str, access: &str, expires: &str) -> ConsentChangeRequest {
    let expires = expires.trim();
    ConsentChangeRequest::GrantCaregiver {
        id: id.trim().to_string(),
        display_name: name.trim().to_string(),
        relationship: relationship.trim().to_string(),
        access: if access.is_empty() { "read_only".to_string() } else { access.to_string() },
        expires_on: (!expires.is_empty()).then(|| expires.to_string()),
    }
}

/// The record-exception form's field → the request.
pub fn record_request(text: &str) -> Result<ConsentChangeRequest, IpcError> {
    let record_id = text.trim().parse::<i64>().map_err(|_| IpcError::invalid_input("Give the record's number (a whole number above 0)."))?;
    Ok(ConsentChangeRequest::DenyRecord { record_id })
}

/// The guardian field: `None` when blank.
pub fn guardian(text: &str) -> Option<String> {
    let t = text.trim();
    (!t.is_empty()).then(|| t.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use techo_ipc::{validate_consent_change, AuditProblem};

    #[test]
    fn states_and_levels_have_words_in_both_languages() {
        for s in ["active", "expired", "revoked", "not_yet_active"] {
            let (en, ja) = caregiver_state_label(s);
            assert!(en != "unknown" && !ja.is_empty(), "{s}");
        }
        assert_eq!(access_label("read_only"), ("read only", "閲覧のみ"));
        assert_eq!(access_label("full").1, "閲覧・記入");
        let options = category_options();
        assert_eq!(options.len(), 5);
        assert_eq!(options[0], ("mental_health", "精神・心の健康 / mental health".to_string()));
    }

    #[test]
    fn research_is_explained_with_the_delay() {
        let (en, ja) = research_explainer(30);
        assert!(en.contains("After 30 days") && en.contains("names, addresses, phone numbers and ids are removed"));
        assert!(ja.contains("30日後") && ja.contains("仮名化"));
        assert!(research_explainer(1).0.contains("After 1 day,"));
        assert!(research_state_label(false).0.contains("refused"));
        assert!(research_confirm_text(true).0.starts_with("Opt out"));
        let q = queue_line(&ResearchStatusView { pending: 1234, sent: 2, failed: 0, withdrawn: 3, delay_days: 30 });
        assert!(q.contains("送信待ち 1,234") && q.contains("withdrawn / 取り下げ 3"), "{q}");
    }

    #[test]
    fn notes_and_verdicts_are_sentences() {
        assert_eq!(changed_note("Research opt-out (by the person).", 0), "Saved / 保存しました: Research opt-out (by the person).");
        assert!(changed_note("x.", 2).contains("2 research copies not yet sent withdrawn"));
        assert!(changed_note("x.", 1).contains("1 research copy not yet"));
        let ok = AuditVerdict { entries: 3, ok: true, problem: None };
        assert!(verdict_text(&ok).starts_with("The log holds: 3 entries"));
        let bad = AuditVerdict { entries: 3, ok: false, problem: Some(AuditProblem { seq: 2, what: "This entry was changed.".into() }) };
        assert!(verdict_text(&bad).starts_with("The log was changed at entry 2: This entry was changed."));
        assert_eq!(audit_kind_text("consent-change"), "Consent change / 同意の変更");
    }

    #[test]
    fn form_fields_become_checked_requests() {
        let g = grant_request(" hanako ", " 山田 花子 ", "娘", "", " ");
        assert_eq!(
            g,
            ConsentChangeRequest::GrantCaregiver { id: "hanako".into(), display_name: "山田 花子".into(), relationship: "娘".into(), access: "read_only".into(), expires_on: None }
        );
        assert!(validate_consent_change(&g).is_ok());
        let g = grant_request("hanako", "山田 花子", "娘", "full", "2027-03-31");
        assert!(matches!(&g, ConsentChangeRequest::GrantCaregiver { expires_on: Some(d), access, .. } if d == "2027-03-31" && access == "full"));
        assert_eq!(record_request(" 42 ").unwrap(), ConsentChangeRequest::DenyRecord { record_id: 42 });
        assert!(record_request("forty-two").is_err());
        assert!(validate_consent_change(&record_request("0").unwrap()).is_err());
        assert_eq!(guardian("  "), None);
        assert_eq!(guardian(" 山田 太郎 ").as_deref(), Some("山田 太郎"));
    }
}
