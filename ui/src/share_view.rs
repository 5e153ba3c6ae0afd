//! The Share screen's and the viewer's words in English and Japanese, and the form's values
//! turned into the shell's arguments. Pure, so unit-tested natively (the components are in
//! `share.rs`).

use techo_ipc::{Language, ShareContent, ShareCreateArgs, ShareRecipient};

/// (key, English, 日本語)
const TABLE: &[(&str, &str, &str)] = &[
    ("back", "← Back", "← 戻る"),
    ("toolbar.share", "Share", "共有"),
    ("toolbar.open_package", "Open a package", "パッケージを開く"),
    ("toolbar.open_package_no_vault", "Open a package someone shared with you (no vault needed)", "共有されたパッケージを開く(保管庫は不要)"),
    ("shared_by", " · shared by {}", " · {}さんから共有"),
    ("title", "Share your record", "記録を共有"),
    ("intro", "Make an encrypted package for a doctor or a caregiver. Your consent settings decide what may leave; the audit log records every share. Give the link (or QR code) separately from the file: the link holds the key.", "医師や家族のための暗号化パッケージを作ります。何を共有できるかは同意の設定で決まり、共有はすべて監査ログに記録されます。リンク(または QR コード)はファイルとは別に渡してください。リンクに鍵が含まれています。"),
    ("person", "Whose record", "誰の記録"),
    ("content", "What to share", "共有する内容"),
    ("content.summary", "Patient summary (IPS) for a doctor", "患者サマリー(IPS・医師向け)"),
    ("content.jp", "Japanese six-item summary (傷病名・アレルギー・感染症・薬剤禁忌・検査・処方)", "6 情報サマリー(傷病名・アレルギー・感染症・薬剤禁忌・検査・処方)"),
    ("content.records", "The records themselves (e.g. for a caregiver to keep)", "記録そのもの(家族が保管する場合など)"),
    ("to", "Who receives it", "受け取る人"),
    ("to.provider", "A doctor or hospital", "医師・医療機関"),
    ("to.caregiver", "A caregiver (by their access id)", "家族・介護者(アクセス ID)"),
    ("to.name", "Hospital or clinic name, or the caregiver's access id", "医療機関名、または家族のアクセス ID"),
    ("from", "Records from (optional)", "対象期間の開始(任意)"),
    ("until", "Records until (optional)", "対象期間の終了(任意)"),
    ("label", "A note for the recipient (optional)", "受け取る人へのメモ(任意)"),
    ("expires", "The link expires", "リンクの有効期限"),
    ("expires.never", "Never", "なし"),
    ("expires.days", "After {} days", "{} 日後"),
    ("passcode", "Passcode (optional, at least 6 characters; only Techo opens such packages)", "パスコード(任意・6 文字以上。Techo でのみ開けます)"),
    ("relay", "Share relay (optional, https://…): upload the encrypted package there instead of saving a file; the link is then all the recipient needs", "共有リレー(任意・https://…): ファイルに保存する代わりに暗号化パッケージをアップロードします。受け取る人はリンクだけで開けます"),
    ("create", "Make the package", "パッケージを作成"),
    ("creating", "Making the package…", "作成中…"),
    ("made", "The package is saved to {}: made from {} records, {} held back by your consent.", "パッケージを {} に保存しました。{} 件の記録から作成、同意により除外 {} 件。"),
    ("link", "The link (it holds the key: send it separately from the file)", "リンク(鍵を含みます。ファイルとは別に送ってください)"),
    ("link_expires", "The link expires on {}.", "リンクの有効期限: {}"),
    ("with_passcode", "Tell the recipient the passcode separately too.", "パスコードも別の方法で伝えてください。"),
    ("print_summary", "Printable summary…", "印刷用サマリー…"),
    ("making_summary", "Making the summary…", "サマリーを作成中…"),
    ("print_view", "Print view", "印刷プレビュー"),
    ("print", "Print…", "印刷…"),
    ("exit_print", "Leave print view", "プレビューを閉じる"),
    // The viewer.
    ("viewer.title", "Open a shared package", "共有パッケージを開く"),
    ("viewer.intro", "Paste the link you received, then choose the package file (a link to a relay brings its package by itself). It opens read-only, in memory: nothing is written to this computer, and closing the viewer forgets it.", "受け取ったリンクを貼り付けて、パッケージのファイルを選んでください(リレーへのリンクならファイルは不要です)。読み取り専用でメモリ上に開きます。このコンピューターには何も書き込まれず、閉じると消去されます。"),
    ("viewer.link", "Link (shlink:/…)", "リンク(shlink:/…)"),
    ("viewer.passcode", "Passcode (if the package has one)", "パスコード(ある場合)"),
    ("viewer.open", "Open the package…", "パッケージを開く…"),
    ("viewer.opening", "Opening…", "開いています…"),
    ("viewer.close", "Close the package", "パッケージを閉じる"),
    ("viewer.read_only", "Read-only: viewing a package changes nothing on this computer.", "読み取り専用: 閲覧してもこのコンピューターには何も保存されません。"),
    ("viewer.label", "Note", "メモ"),
    ("viewer.patient", "Patient", "患者"),
    ("viewer.expires", "Link expires", "リンクの有効期限"),
    ("viewer.sources", "Sources", "情報源"),
    ("viewer.withheld", "Some information was withheld at the person's request.", "ご本人の希望により、一部の情報は共有されていません。"),
    ("viewer.summary", "Summary", "サマリー"),
    ("viewer.details", "All {} resources", "全 {} 件のリソース"),
    ("viewer.more", "Show more", "さらに表示"),
    ("viewer.keep", "Keep in my vault (as a family member's record)", "自分の保管庫に保存(家族の記録として)"),
    ("viewer.kept_new", "Kept as a new person: {} records.", "新しい人として保存しました: {} 件。"),
    ("viewer.kept_again", "Updated the record shared before: {} new, {} updated, {} unchanged.", "以前に共有された記録を更新しました: 新規 {} 件、更新 {} 件、変更なし {} 件。"),
];

/// "shared by …" beside a person kept from packages.
pub fn shared_by(lang: Language, who: &str) -> String {
    trf(lang, "shared_by", &[&who])
}

pub fn tr(lang: Language, key: &str) -> &'static str {
    crate::i18n::lookup(TABLE, lang, key)
}

pub fn trf(lang: Language, key: &str, args: &[&dyn std::fmt::Display]) -> String {
    crate::i18n::fill(tr(lang, key), args)
}

pub fn nonempty(s: String) -> Option<String> {
    let s = s.trim().to_owned();
    (!s.is_empty()).then_some(s)
}

/// Arguments of `share_create` from the form's values.
#[allow(clippy::too_many_arguments)]
pub fn create_args(
    lang: Language,
    person_id: i64,
    content: &str,
    to_kind: &str,
    to_name: &str,
    from: String,
    until: String,
    label: String,
    expires: &str,
    passcode: String,
    relay: String,
) -> ShareCreateArgs {
    let content = match content {
        "jp" => ShareContent::JapaneseSummary,
        "records" => ShareContent::Records,
        _ => ShareContent::Summary,
    };
    let name = to_name.trim().to_owned();
    let recipient = if to_kind == "caregiver" { ShareRecipient::Caregiver { grant_id: name } } else { ShareRecipient::Provider { facility: name } };
    ShareCreateArgs {
        person_id,
        recipient,
        content,
        categories: vec![],
        from: nonempty(from),
        to: nonempty(until),
        lang: lang.as_str().to_owned(),
        label: nonempty(label),
        expires_days: expires.parse().ok(),
        passcode: nonempty(passcode),
        relay: nonempty(relay),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_has_both_languages_once() {
        crate::i18n::check_table(TABLE);
        assert_eq!(tr(Language::Ja, "title"), "記録を共有");
        assert_eq!(trf(Language::En, "made", &[&"/x.jwe", &3, &1]), "The package is saved to /x.jwe: made from 3 records, 1 held back by your consent.");
    }

    #[test]
    fn the_form_becomes_the_shells_arguments() {
        let a = create_args(Language::Ja, 2, "records", "caregiver", " hanako ", "2024-01-01".into(), " ".into(), "".into(), "30", "".into(), "".into());
        assert_eq!(a.recipient, ShareRecipient::Caregiver { grant_id: "hanako".into() });
        assert_eq!(a.content, ShareContent::Records);
        assert_eq!((a.from.as_deref(), a.to.as_deref(), a.label.as_deref()), (Some("2024-01-01"), None, None));
        assert_eq!((a.expires_days, a.passcode.as_deref(), a.lang.as_str()), (Some(30), None, "ja"));
        let b = create_args(Language::En, 1, "summary", "provider", "Sakura Hospital", "".into(), "".into(), "For Dr. Sato".into(), "", "secret-pass".into(), " https://relay.example/shl ".into());
        assert_eq!(b.recipient, ShareRecipient::Provider { facility: "Sakura Hospital".into() });
        assert_eq!((b.content, b.expires_days, b.passcode.as_deref()), (ShareContent::Summary, None, Some("secret-pass")));
        assert_eq!(b.relay.as_deref(), Some("https://relay.example/shl"));
        assert_eq!(create_args(Language::En, 1, "jp", "provider", "x", "".into(), "".into(), "".into(), "7", "".into(), "".into()).content, ShareContent::JapaneseSummary);
    }
}
