//! The sources screen's words (hospitals and clinics, sign-in, sync, the schedule, the reports)
//! in English and Japanese: `tr(lang, key)`, and `trf(lang, key, args)` for sentences with `{}`
//! holes. Pure, so unit-tested natively. The shell's own sentences and names stay as they are.

use crate::i18n_vitals::fill;
use std::fmt::Display;
use techo_ipc::Language;

/// (key, English, 日本語)
const TABLE: &[(&str, &str, &str)] = &[
    // The page.
    ("back", "← Back to persons", "← 一覧に戻る"),
    ("title", "Sources", "医療機関"),
    ("subtitle", "The hospitals and clinics Techo copies your records from", "Techo が記録をコピーする病院・診療所"),
    ("loading", "Loading your sources…", "医療機関の一覧を読み込み中…"),
    ("empty", "No sources yet. Add the demo hospital to try Techo, or add the FHIR address your hospital or clinic gave you.", "医療機関はまだ登録されていません。デモ病院を追加して Techo を試すか、病院・診療所から案内された FHIR アドレスを追加してください。"),
    // Notes.
    ("signed_out", "Signed out of {}. Its records stay in your vault.", "{}からサインアウトしました。記録は保管庫に残ります。"),
    ("added", "Added {}. {}", "{}を追加しました。{}"),
    ("next_sign_in", "Next: sign in to it, then sync.", "次にサインインしてから同期してください。"),
    ("next_sync", "You can sync it now.", "すぐに同期できます。"),
    // Sign-in.
    ("signing_in", "Signing in to {}: finish in your browser, then come back here.", "{}にサインインしています。ブラウザーで手続きを済ませてから、この画面に戻ってください。"),
    ("signed_in_to", "Signed in to {}. You can sync it now.", "{}にサインインしました。すぐに同期できます。"),
    ("sign_in_failed", "Signing in to {} did not work.", "{}へのサインインに失敗しました。"),
    ("sign_in_hint", "If your browser did not open, open this address (click it to select it, then copy it into your browser):", "ブラウザーが開かない場合は、次のアドレスを開いてください(クリックして選択し、ブラウザーに貼り付けてください):"),
    ("close", "Close", "閉じる"),
    // Sync and the schedule.
    ("schedule", "Sync automatically", "同期の間隔"),
    ("syncing", "Syncing…", "同期中…"),
    ("sync_all", "Sync all now", "すべて今すぐ同期"),
    ("progress_head", "Syncing: copying your records from each source…", "同期中: 各医療機関から記録をコピーしています…"),
    ("latest", "Latest syncs", "最近の同期"),
    ("off", "Off", "オフ"),
    ("every_minute", "every minute", "1 分ごと"),
    ("every_minutes", "every {} minutes", "{} 分ごと"),
    ("every_hour", "every hour", "1 時間ごと"),
    ("every_hours", "every {} hours", "{} 時間ごと"),
    ("every_day", "every day", "毎日"),
    ("every_days", "every {} days", "{} 日ごと"),
    ("next_sync_in", "next sync in {}", "次の同期まで {}"),
    ("under_a_minute", "less than a minute", "1 分未満"),
    ("minute", "1 minute", "1 分"),
    ("minutes", "{} minutes", "{} 分"),
    ("hour", "1 hour", "1 時間"),
    ("hours", "{} hours", "{} 時間"),
    ("dur_s", "{} s", "{} 秒"),
    ("dur_min", "{} min", "{} 分"),
    ("dur_min_s", "{} min {} s", "{} 分 {} 秒"),
    ("dur_h", "{} h", "{} 時間"),
    ("dur_h_min", "{} h {} min", "{} 時間 {} 分"),
    // The demo hospital and adding a source.
    ("demo_offer", "Want to try it first? The demo hospital is built into Techo and holds made-up (synthetic) records: add it, sign in, then sync.", "まず試してみませんか? デモ病院は Techo に組み込まれた病院で、架空の(合成)記録が入っています。追加してサインインし、同期してください。"),
    ("demo_for", "For", "対象"),
    ("add_demo", "Add the demo hospital", "デモ病院を追加"),
    ("add_title", "Add a source", "医療機関を追加"),
    ("add_intro", "Your hospital or clinic can give you the address of its FHIR server (it starts with https://).", "FHIR サーバーのアドレス(https:// で始まります)は、病院・診療所にお問い合わせください。"),
    ("url", "FHIR address", "FHIR アドレス"),
    ("name", "Name (optional)", "名前(任意)"),
    ("name_placeholder", "e.g. City Hospital", "例: 市民病院"),
    ("whose", "Whose records", "誰の記録"),
    ("patient", "Patient ID (optional, for servers without sign-in)", "患者 ID(任意。サインイン不要のサーバー用)"),
    ("add", "Add source", "追加する"),
    // An endpoint's card.
    ("demo", "demo", "デモ"),
    ("facility", "Facility", "施設"),
    ("address", "Address", "アドレス"),
    ("sign_in_row", "Sign-in", "サインイン"),
    ("not_needed", "not needed", "不要"),
    ("signed_in", "signed in", "サインイン済み"),
    ("not_signed_in", "not signed in", "未サインイン"),
    ("last_sync", "Last sync", "最終同期"),
    ("never", "never", "未同期"),
    ("sign_in", "Sign in", "サインイン"),
    ("sync_now", "Sync now", "今すぐ同期"),
    ("sign_out", "Sign out", "サインアウト"),
    ("person_n", "person {}", "利用者 {}"),
    ("state.ready", "Ready", "同期できます"),
    ("state.needs_sign_in", "Needs sign-in", "サインインが必要"),
    ("state.error", "Problem", "問題があります"),
    // A report.
    ("outcome.ok", "Synced", "同期しました"),
    ("outcome.partial", "Partly synced", "一部のみ同期"),
    ("outcome.failed", "Sync failed", "同期に失敗"),
    ("outcome.needs_sign_in", "Needs sign-in", "サインインが必要"),
    ("summary", "{} received: {} new, {} updated, {} unchanged", "{} 件受信: 新規 {} · 更新 {} · 変更なし {}"),
    ("summary_refused", ", {} refused", " · 受け付けず {}"),
    ("started_took", "Started {} · took {}", "開始 {} · 所要時間 {}"),
    ("more_errors", "and {} more", "ほか {} 件"),
    ("progress_total", "{} received in all", "合計 {} 件受信"),
    ("progress_starting", "{}: starting · {}", "{}: 開始しています · {}"),
    ("progress_page", "{}: {}, page {} ({} so far) · {}", "{}: {}、{} ページ目(これまで {} 件)· {}"),
];

/// The text of `key` in `lang`; `"?"` when the table lacks it (a bug the tests catch).
pub fn tr(lang: Language, key: &str) -> &'static str {
    crate::i18n::lookup(TABLE, lang, key)
}

/// The sentence of `key` in `lang` with its holes filled in order.
pub fn trf(lang: Language, key: &str, args: &[&dyn Display]) -> String {
    fill(tr(lang, key), args)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_has_both_languages_once() {
        crate::i18n::check_table(TABLE);
        assert_eq!(tr(Language::Ja, "title"), "医療機関");
        assert_eq!(tr(Language::En, "title"), "Sources");
        assert_eq!(tr(Language::Ja, "no.such.key"), "?");
    }

    #[test]
    fn sentences() {
        assert_eq!(trf(Language::Ja, "added", &[&"デモ病院", &tr(Language::Ja, "next_sign_in")]), "デモ病院を追加しました。次にサインインしてから同期してください。");
        assert_eq!(trf(Language::En, "signed_out", &[&"Demo"]), "Signed out of Demo. Its records stay in your vault.");
        assert_eq!(trf(Language::Ja, "more_errors", &[&2]), "ほか 2 件");
    }
}
