//! A small translation table for the screens of first run, import and settings: `t(lang, key)`
//! gives the English or Japanese text. (The rest of the app is translated separately.) Pure, so
//! it is unit-tested natively.

use techo_ipc::{Language, StrengthHint};

/// (key, English, 日本語)
const TABLE: &[(&str, &str, &str)] = &[
    // First run.
    ("first.title", "Welcome to Techo", "Techo へようこそ"),
    ("first.intro", "Techo keeps your health records encrypted on this computer. First, create your vault: it is locked with a recovery passphrase that only you know.", "Techo はあなたの健康記録をこのコンピューターに暗号化して保管します。まず保管庫を作りましょう。保管庫はあなただけが知る回復用パスフレーズで守られます。"),
    ("first.where", "Your vault will be created here:", "保管庫の作成場所:"),
    ("first.choose", "Choose a passphrase", "パスフレーズを自分で決める"),
    ("first.generate", "Generate a recovery key for me", "回復キーを自動生成する"),
    ("first.passphrase", "Recovery passphrase", "回復用パスフレーズ"),
    ("first.repeat", "Type it again", "もう一度入力"),
    ("first.passphrase_help", "A few unrelated words make a strong passphrase that is easy to remember. Techo cannot recover it for you.", "関係のない単語をいくつか並べると、覚えやすく強いパスフレーズになります。Techo はこれを復元できません。"),
    ("first.mismatch", "The two passphrases differ.", "2 つのパスフレーズが一致しません。"),
    ("first.create", "Create my vault", "保管庫を作成"),
    ("first.creating", "Creating…", "作成中…"),
    ("first.key_intro", "Techo makes a random recovery key (150 bits). It is shown only this once and is not stored anywhere: write it down on paper and keep it somewhere safe.", "Techo がランダムな回復キー(150 ビット)を作ります。表示は今回限りで、どこにも保存されません。紙に書き写して安全な場所に保管してください。"),
    ("first.make_key", "Generate my recovery key", "回復キーを生成"),
    ("first.your_key", "Your recovery key", "あなたの回復キー"),
    ("first.write_down", "Write it down now. Without it (and without this computer's keyring) nobody can open your vault, not even Techo.", "今すぐ書き写してください。これがないと(このコンピューターのキーリングもない場合)、Techo を含め誰も保管庫を開けません。"),
    ("first.confirm", "Type your recovery key back (all of it, or its last two groups)", "確認のため回復キーを入力(全部、または最後の 2 グループ)"),
    ("first.confirm_wrong", "That does not match the key shown above.", "上に表示されたキーと一致しません。"),
    ("first.new_key", "Generate another key", "別のキーを生成"),
    ("first.keyring_yes", "Your vault is ready. This computer's keyring holds a key for it, so Techo unlocks it by itself when you start it here. Keep your recovery passphrase safe: you need it on another computer or if the keyring is lost.", "保管庫ができました。このコンピューターのキーリングに鍵を保存したので、ここでは Techo 起動時に自動で解錠されます。回復用パスフレーズは大切に保管してください(別のコンピューターやキーリングを失ったときに必要です)。"),
    ("first.keyring_no", "Your vault is ready. No keyring is available on this computer, so Techo will ask for your recovery passphrase each time it starts.", "保管庫ができました。このコンピューターではキーリングを使えないため、Techo は起動のたびに回復用パスフレーズを求めます。"),
    ("strength", "Strength", "強度"),
    ("strength.0", "Too easy to guess", "推測されやすすぎます"),
    ("strength.1", "Weak", "弱い"),
    ("strength.2", "Fair", "普通"),
    ("strength.3", "Strong", "強い"),
    ("strength.4", "Very strong", "とても強い"),
    ("hint.too_short", "Use at least 8 characters.", "8 文字以上にしてください。"),
    ("hint.too_long", "Use at most 1024 bytes.", "1024 バイト以内にしてください。"),
    ("hint.edge_space", "Do not start or end with a space.", "先頭や末尾に空白を入れないでください。"),
    ("hint.common", "Avoid common passwords.", "よく使われるパスワードは避けてください。"),
    ("hint.repeats", "Avoid repeated characters.", "同じ文字の繰り返しは避けてください。"),
    ("hint.sequence", "Avoid sequences like abcd or 1234.", "abcd や 1234 のような並びは避けてください。"),
    ("hint.one_kind", "Mix kinds of characters, or use several words.", "文字の種類を混ぜるか、複数の単語を使ってください。"),
    ("hint.longer", "Longer is stronger: add another word.", "長いほど強くなります。単語をもう 1 つ足しましょう。"),
    // Import.
    ("import.title", "Import records", "記録の取り込み"),
    ("import.intro", "Choose FHIR files (a Bundle, NDJSON or a single resource, e.g. a hospital's export). Techo reads them one by one; a file that cannot be read stores nothing and the others go on.", "FHIR ファイル(Bundle、NDJSON、単一リソース。病院からのエクスポートなど)を選んでください。1 ファイルずつ読み込みます。読めないファイルは何も保存されず、他のファイルは続けて取り込まれます。"),
    ("import.for", "Into whose record", "誰の記録に"),
    ("import.auto", "Whoever the file names (a new person if nobody matches)", "ファイルに記載された患者(該当者がいなければ新しい人)"),
    ("import.pick", "Choose files…", "ファイルを選ぶ…"),
    ("import.choosing", "Choose the files in the dialog…", "ダイアログでファイルを選んでください…"),
    ("import.running", "Importing…", "取り込み中…"),
    ("import.cancelled", "No files were chosen.", "ファイルが選ばれませんでした。"),
    ("import.done", "Import finished.", "取り込みが完了しました。"),
    ("import.waiting", "waiting", "待機中"),
    ("import.reading", "reading…", "読み込み中…"),
    ("import.stopped", "not imported: the vault was locked", "未取り込み:保管庫がロックされました"),
    ("import.new", "new", "新規"),
    ("import.updated", "updated", "更新"),
    ("import.unchanged", "unchanged", "変更なし"),
    ("import.merged", "merged", "統合"),
    ("import.skipped", "skipped", "スキップ"),
    ("import.resources", "resources", "件"),
    ("back", "Back", "戻る"),
    // Settings.
    ("settings.title", "Settings", "設定"),
    ("settings.auto_lock", "Lock the vault after this many minutes without use", "未使用時に保管庫をロックするまでの時間(分)"),
    ("settings.auto_lock_override", "TECHO_AUTOLOCK_SECONDS overrides this setting for now (seconds):", "現在は TECHO_AUTOLOCK_SECONDS がこの設定より優先されています(秒):"),
    ("settings.theme", "Theme", "テーマ"),
    ("theme.light", "Light", "ライト"),
    ("theme.dark", "Dark", "ダーク"),
    ("theme.system", "Same as the system", "システムに合わせる"),
    ("settings.language", "Language", "言語"),
    ("settings.language_note", "For now the first-run, import and settings screens are translated; the rest follows.", "現在は初回設定・取り込み・設定の画面が翻訳されています。その他の画面は順次対応します。"),
    ("settings.save", "Save settings", "設定を保存"),
    ("settings.saved", "Settings saved.", "設定を保存しました。"),
    ("settings.minutes_range", "Choose 1 to 120 minutes.", "1〜120 分の範囲で指定してください。"),
    ("toolbar.import", "Import", "取り込み"),
    ("toolbar.settings", "Settings", "設定"),
];

/// The text of `key` in `lang`; the key itself when the table lacks it (a bug the tests catch).
pub fn t(lang: Language, key: &str) -> &'static str {
    crate::i18n::lookup(TABLE, lang, key)
}

/// One screen's words: (key, English, 日本語).
pub type Table = [(&'static str, &'static str, &'static str)];

/// The text of `key` in `lang` from `table`; `?` when the table lacks it (a bug the tests catch).
pub fn lookup(table: &'static Table, lang: Language, key: &str) -> &'static str {
    match table.iter().find(|(k, _, _)| *k == key) {
        Some((_, en, ja)) => match lang {
            Language::En => en,
            Language::Ja => ja,
        },
        None => "?",
    }
}

/// `template` with each `{}` replaced by the next of `args` (a missing one leaves `{}`).
pub fn fill(template: &str, args: &[&dyn std::fmt::Display]) -> String {
    let mut out = String::with_capacity(template.len() + 16);
    let mut rest = template;
    let mut args = args.iter();
    while let Some(i) = rest.find("{}") {
        out.push_str(&rest[..i]);
        match args.next() {
            Some(a) => out.push_str(&a.to_string()),
            None => out.push_str("{}"),
        }
        rest = &rest[i + 2..];
    }
    out.push_str(rest);
    out
}

/// Every key once, both languages present and different, the same holes in both.
#[cfg(test)]
pub fn check_table(table: &Table) {
    let mut keys: Vec<&str> = table.iter().map(|(k, _, _)| *k).collect();
    keys.sort_unstable();
    let n = keys.len();
    keys.dedup();
    assert_eq!(keys.len(), n, "a key is listed twice");
    for (k, en, ja) in table {
        assert!(!en.is_empty() && !ja.is_empty(), "{k}");
        assert_ne!(en, ja, "{k} is not translated");
        assert_eq!(en.matches("{}").count(), ja.matches("{}").count(), "{k}: the holes differ");
    }
}

/// The strength meter's word for a score 0–4.
pub fn strength_label(lang: Language, score: u8) -> &'static str {
    t(lang, ["strength.0", "strength.1", "strength.2", "strength.3", "strength.4"][usize::from(score.min(4))])
}

/// The strength meter's advice.
pub fn hint(lang: Language, h: StrengthHint) -> &'static str {
    t(
        lang,
        match h {
            StrengthHint::TooShort => "hint.too_short",
            StrengthHint::TooLong => "hint.too_long",
            StrengthHint::EdgeSpace => "hint.edge_space",
            StrengthHint::Common => "hint.common",
            StrengthHint::Repeats => "hint.repeats",
            StrengthHint::Sequence => "hint.sequence",
            StrengthHint::OneKind => "hint.one_kind",
            StrengthHint::Longer => "hint.longer",
        },
    )
}

/// One file's counts: `300 resources: new 300 · updated 0 · unchanged 0 · merged 0`.
pub fn import_counts(lang: Language, resources: u64, new: u64, updated: u64, unchanged: u64, merged: u64, skipped: u64) -> String {
    let mut s = format!(
        "{resources} {}: {} {new} · {} {updated} · {} {unchanged} · {} {merged}",
        t(lang, "import.resources"),
        t(lang, "import.new"),
        t(lang, "import.updated"),
        t(lang, "import.unchanged"),
        t(lang, "import.merged"),
    );
    if skipped > 0 {
        s.push_str(&format!(" · {} {skipped}", t(lang, "import.skipped")));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_has_both_languages_once() {
        crate::i18n::check_table(TABLE);
        assert_eq!(t(Language::Ja, "settings.title"), "設定");
        assert_eq!(t(Language::En, "settings.title"), "Settings");
        assert_eq!(t(Language::En, "no.such.key"), "?");
    }

    #[test]
    fn meter_words_and_counts() {
        for score in 0..=5 {
            assert_ne!(strength_label(Language::Ja, score), "?");
        }
        for h in [
            StrengthHint::TooShort,
            StrengthHint::TooLong,
            StrengthHint::EdgeSpace,
            StrengthHint::Common,
            StrengthHint::Repeats,
            StrengthHint::Sequence,
            StrengthHint::OneKind,
            StrengthHint::Longer,
        ] {
            assert_ne!(hint(Language::En, h), "?");
            assert_ne!(hint(Language::Ja, h), "?");
        }
        assert_eq!(import_counts(Language::En, 3, 2, 0, 1, 0, 0), "3 resources: new 2 · updated 0 · unchanged 1 · merged 0");
        assert!(import_counts(Language::Ja, 3, 2, 0, 1, 0, 4).ends_with("スキップ 4"));
    }
}
