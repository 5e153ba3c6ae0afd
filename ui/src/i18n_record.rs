//! The words of the app shell (unlock, toolbar, persons), a person's record (timeline, filters,
//! search, a record's detail) and the lab results view, in English and Japanese: `tr(lang, key)`,
//! `trf(lang, key, args)` for sentences with `{}` holes, and the Japanese forms of dates, counts,
//! categories, relationships and resource types. Pure, so unit-tested natively. Record data
//! (names, displays, values, JSON) is never translated; the shell's errors are, by their
//! codes, in `i18n_errors.rs`.

use crate::view::format_count;
use std::fmt::Display;
use techo_ipc::{Language, RecordCategory};

/// (key, English, 日本語)
const TABLE: &[(&str, &str, &str)] = &[
    // The app shell.
    ("app.tagline", "personal health vault", "あなたの健康記録の保管庫"),
    ("app.opening", "Opening your vault…", "保管庫を開いています…"),
    ("app.no_vault", "No vault found", "保管庫が見つかりません"),
    ("app.no_default", "(no default location on this system)", "(このシステムには既定の保存場所がありません)"),
    ("app.set_env", "Start Techo with TECHO_VAULT set to your vault's folder.", "環境変数 TECHO_VAULT に保管庫のフォルダーを指定して Techo を起動してください。"),
    // Unlock.
    ("unlock.title", "Unlock your vault", "保管庫のロックを解除"),
    ("unlock.passphrase", "Passphrase", "パスフレーズ"),
    ("unlock.button", "Unlock", "ロック解除"),
    ("unlock.busy", "Unlocking…", "解除しています…"),
    ("lock.minutes1", "1 minute", "1 分"),
    ("lock.minutes", "{} minutes", "{} 分"),
    ("lock.second1", "1 second", "1 秒"),
    ("lock.seconds", "{} seconds", "{} 秒"),
    ("lock.note", "Techo locked your vault after {} without use. Enter your passphrase to continue.", "操作のない状態が {}続いたため、保管庫をロックしました。続けるにはパスフレーズを入力してください。"),
    // The toolbar.
    ("toolbar.sources", "Sources", "医療機関"),
    ("toolbar.lock", "Lock", "ロック"),
    ("count.person1", "1 person", "1 人"),
    ("count.persons", "{} persons", "{} 人"),
    ("count.resources", "{} resources", "{} 件の記録"),
    // The persons table and editor.
    ("persons.empty", "This vault holds no persons yet: add one below, add a source (Sources), or import records with the techo command-line tool.", "この保管庫にはまだ誰も登録されていません。下で追加するか、医療機関を追加するか(医療機関)、techo コマンドラインツールで記録を取り込んでください。"),
    ("persons.name", "Name", "名前"),
    ("persons.relationship", "Relationship", "続柄"),
    ("persons.resources", "Resources", "記録の件数"),
    ("persons.by_type", "By type", "種類別"),
    ("persons.add_title", "Add a person", "家族を追加"),
    ("persons.add_intro", "Keep a family member's record too: a parent, a child, a partner.", "ご家族(親、お子さん、配偶者など)の記録も一緒に管理できます。"),
    ("persons.rel_to_you", "Relationship to you", "あなたとの続柄"),
    ("persons.add", "Add person", "追加する"),
    ("persons.added", "Added {}.", "{} さんを追加しました。"),
    ("persons.rename_title", "Rename a person", "名前を変更"),
    ("persons.who", "Who", "対象"),
    ("persons.new_name", "New name", "新しい名前"),
    ("persons.keep", "(keep)", "(変更しない)"),
    ("persons.rename", "Rename", "変更する"),
    ("persons.renamed", "Renamed to {}.", "名前を {} さんに変更しました。"),
    ("persons.choose", "Choose whom to rename.", "名前を変更する人を選んでください。"),
    ("rel.self", "self", "本人"),
    ("rel.spouse", "spouse", "配偶者"),
    ("rel.mother", "mother", "母"),
    ("rel.father", "father", "父"),
    ("rel.child", "child", "子"),
    ("rel.sibling", "sibling", "きょうだい"),
    ("rel.grandparent", "grandparent", "祖父母"),
    ("rel.other", "other", "その他"),
    ("rel.family", "family", "家族"),
    // The record.
    ("record.back", "← All persons", "← 全員の一覧"),
    ("record.count", "{} records", "{} 件の記録"),
    ("record.labs", "Lab results", "検査結果"),
    ("record.vitals", "Home vitals", "自宅での記録"),
    ("search.placeholder", "Search this record as you type (血圧, HbA1c …)", "入力するとこの記録を検索します(血圧、HbA1c など)"),
    ("search.button", "Search", "検索"),
    ("search.too_short", "Type at least 2 characters.", "2 文字以上入力してください。"),
    ("search.searching", "Searching…", "検索しています…"),
    ("search.result1", "1 result for “{}”", "「{}」の検索結果 1 件"),
    ("search.results", "{} results for “{}”", "「{}」の検索結果 {} 件"),
    ("search.back", "Back to the timeline", "タイムラインに戻る"),
    ("filter.category", "Category ", "分類 "),
    ("filter.source", "Source ", "提供元 "),
    ("filter.all_sources", "All facilities and home", "すべての医療機関と自宅"),
    ("filter.from", "From ", "開始日 "),
    ("filter.to", "To ", "終了日 "),
    ("filter.clear", "Clear filters", "絞り込みを解除"),
    ("cat.all", "All records", "すべての記録"),
    ("cat.conditions", "Conditions", "診断名"),
    ("cat.medications", "Medications", "処方・お薬"),
    ("cat.allergies", "Allergies", "アレルギー"),
    ("cat.lab_results", "Lab results", "検査結果"),
    ("cat.vital_signs", "Vital signs", "バイタルサイン"),
    ("cat.immunizations", "Immunizations", "予防接種"),
    ("cat.procedures", "Procedures", "処置・手術"),
    ("cat.encounters", "Encounters", "受診"),
    ("cat.documents", "Documents & notes", "文書・メモ"),
    ("cat.home", "Home entries", "自宅での記録"),
    ("timeline.undated", "Undated", "日付なし"),
    ("timeline.more", "Show older records", "さらに古い記録を表示"),
    ("timeline.end", "That is everything in this record.", "この記録はここまでです。"),
    ("timeline.none", "No records yet for this person.", "この方の記録はまだありません。"),
    ("timeline.no_match", "No records match these filters.", "この条件に当てはまる記録はありません。"),
    ("loaded.records", "{} records", "{} 件の記録"),
    ("loaded.matching", "{} matching records", "該当する記録 {} 件"),
    ("loaded.records_more", "{} records loaded; more as you scroll", "{} 件の記録を表示中(スクロールすると続きを読み込みます)"),
    ("loaded.matching_more", "{} matching records loaded; more as you scroll", "該当する記録 {} 件を表示中(スクロールすると続きを読み込みます)"),
    // A record's detail.
    ("detail.close", "Close", "閉じる"),
    ("detail.version", " · version {}", " · 第 {} 版"),
    ("detail.earlier", " ({} earlier kept)", "(以前の版 {} 件を保存)"),
    ("detail.sources", "Sources", "提供元"),
    ("detail.received", "{} ({}) · received {}", "{}({})· {} 受信"),
    ("detail.versions", "Versions", "版の履歴"),
    ("detail.version_n", "Version {}", "第 {} 版"),
    ("detail.replaced", " · from {} · replaced {}", " · {} から · {} に更新"),
    ("detail.current", " · current, from {}", " · 現在の版({} から)"),
    ("detail.json_of", "FHIR JSON of version {}", "第 {} 版の FHIR JSON"),
    ("detail.json", "FHIR JSON", "FHIR JSON(元データ)"),
    // A record's narrative and attachments (narrative.rs).
    ("narrative.title", "Narrative", "記載内容"),
    ("narrative.description", "Description:", "説明:"),
    ("narrative.conclusion", "Conclusion:", "結論:"),
    ("narrative.attachment", "Attachment", "添付ファイル"),
    ("narrative.not_shown_type", "Not shown here: Techo shows only plain-text and HTML documents. The file is kept in the record's FHIR JSON.", "ここには表示しません。Techo が表示するのはテキストと HTML の文書だけです。ファイルは記録の FHIR JSON に含まれています。"),
    ("narrative.not_shown_url", "Not shown: this document is kept elsewhere (a link), and Techo never fetches anything from a record.", "表示しません。この文書は別の場所(リンク先)にあり、Techo は記録の中のリンク先を読み込みません。"),
    ("narrative.not_shown_large", "Not shown: larger than {}.", "{} を超えるため表示しません。"),
    ("narrative.too_complex", "Not shown: its HTML is too complex to show safely (too many elements, or nested too deeply).", "表示しません。HTML が複雑すぎて安全に表示できません(要素が多すぎるか、入れ子が深すぎます)。"),
    ("narrative.empty", "This attachment has no content.", "この添付ファイルには内容がありません。"),
    ("narrative.bad_base64", "Not shown: the attachment's data is damaged (it is not valid base64).", "表示できません。添付ファイルのデータが壊れています(base64 として読めません)。"),
    ("narrative.not_utf8", "Not shown: the text is not in UTF-8, the only character encoding Techo reads.", "表示できません。文字コードが UTF-8 ではありません(Techo が読めるのは UTF-8 だけです)。"),
    // The lab results view.
    ("labs.back", "← Timeline", "← タイムライン"),
    ("labs.title", "Lab results", "検査結果"),
    ("labs.from", "from {}", "{} の結果"),
    ("labs.trend_of", "Trend of ", "推移を表示する検査 "),
    ("labs.loading", "Loading the results…", "結果を読み込んでいます…"),
    ("labs.legend", "{} results of {}", "{} の結果 {} 件"),
    ("labs.band", " · the shaded band is the reference range", " · 網掛けの帯は基準範囲です"),
    ("labs.no_numbers", "This test has no numbers to draw.", "この検査にはグラフにできる数値がありません。"),
    ("labs.chart", "{}: trend of the results", "{}:結果の推移"),
    ("labs.test", "Test", "検査項目"),
    ("labs.value", "Value", "結果"),
    ("labs.range", "Reference range", "基準範囲"),
    ("labs.flag", "Flag", "判定"),
    ("labs.date", "Date", "検査日"),
    ("labs.facility", "Facility", "医療機関"),
    ("labs.more", "Show older results", "さらに古い結果を表示"),
    ("labs.none", "No lab results in this record.", "この記録に検査結果はありません。"),
    ("flag.high", "High", "高"),
    ("flag.low", "Low", "低"),
    ("flag.abnormal", "Abnormal", "異常"),
    // FHIR resource types (the words; the JSON keeps its own).
    ("type.Observation", "Observation", "検査・測定"),
    ("type.Condition", "Condition", "診断名"),
    ("type.MedicationRequest", "MedicationRequest", "処方"),
    ("type.MedicationStatement", "MedicationStatement", "服薬記録"),
    ("type.MedicationDispense", "MedicationDispense", "調剤"),
    ("type.AllergyIntolerance", "AllergyIntolerance", "アレルギー"),
    ("type.Immunization", "Immunization", "予防接種"),
    ("type.Procedure", "Procedure", "処置"),
    ("type.Encounter", "Encounter", "受診"),
    ("type.DocumentReference", "DocumentReference", "文書"),
    ("type.DiagnosticReport", "DiagnosticReport", "検査報告書"),
    ("type.QuestionnaireResponse", "QuestionnaireResponse", "問診・日誌"),
    ("type.Patient", "Patient", "患者情報"),
    ("type.Composition", "Composition", "診療文書"),
    ("type.CarePlan", "CarePlan", "ケアプラン"),
];

/// The words of `key` in `lang` (`?` for an unknown key).
pub fn tr(lang: Language, key: &str) -> &'static str {
    crate::i18n::lookup(TABLE, lang, key)
}

/// `template` with each `{}` replaced by the next of `args` (`crate::i18n::fill`).
pub use crate::i18n::fill;

/// The sentence of `key` in `lang` with its holes filled.
pub fn trf(lang: Language, key: &str, args: &[&dyn Display]) -> String {
    fill(tr(lang, key), args)
}

/// A count with its noun: `2,000 records`, `2,000 件の記録` (`key` holds one `{}`).
pub fn count(lang: Language, key: &str, n: u64) -> String {
    trf(lang, key, &[&format_count(n)])
}

/// The search summary: `12 results for “高血圧”`, `「高血圧」の検索結果 12 件`.
pub fn results_summary(lang: Language, n: usize, text: &str) -> String {
    let n = format_count(n as u64);
    match (lang, n.as_str()) {
        (Language::En, "1") => trf(lang, "search.result1", &[&text]),
        (Language::En, _) => trf(lang, "search.results", &[&n, &text]),
        (Language::Ja, _) => trf(lang, "search.results", &[&text, &n]),
    }
}

/// The trend chart's legend: `24 results of HbA1c`, `HbA1c の結果 24 件`.
pub fn labs_legend(lang: Language, n: usize, test: &str) -> String {
    let n = format_count(n as u64);
    match lang {
        Language::En => trf(lang, "labs.legend", &[&n, &test]),
        Language::Ja => trf(lang, "labs.legend", &[&test, &n]),
    }
}

/// A timeline category's words.
pub fn category_label(lang: Language, c: RecordCategory) -> &'static str {
    match lang {
        Language::En => c.label(),
        Language::Ja => tr(lang, &format!("cat.{}", c.slug())),
    }
}

/// A day heading from `YYYY-MM-DD` (or the word for undated): `2025-10-20`, `2025年10月20日`.
pub fn day_label(lang: Language, day: &str) -> String {
    if day == "Undated" {
        return tr(lang, "timeline.undated").to_string();
    }
    match lang {
        Language::En => day.to_string(),
        Language::Ja => {
            let mut parts = day.splitn(3, '-').map(|p| p.parse::<u32>());
            match (parts.next(), parts.next(), parts.next()) {
                (Some(Ok(y)), Some(Ok(m)), Some(Ok(d))) => format!("{y}年{m}月{d}日"),
                _ => day.to_string(),
            }
        }
    }
}

/// A day and time: `2025-10-20 09:30`, `2025年10月20日 9:30`.
pub fn day_time_label(lang: Language, day: &str, time: &str) -> String {
    let time = match lang {
        Language::Ja => time.strip_prefix('0').filter(|t| t.len() == 4).unwrap_or(time),
        Language::En => time,
    };
    format!("{} {time}", day_label(lang, day))
}

/// A relationship's words (one of `techo_ipc::RELATIONSHIPS`; another word as it is).
pub fn relationship(lang: Language, r: &str) -> String {
    match tr(lang, &format!("rel.{r}")) {
        "?" => r.to_string(),
        w => w.to_string(),
    }
}

/// A FHIR resource type's words (unknown types as they are).
pub fn resource_type(lang: Language, t: &str) -> String {
    match (lang, tr(lang, &format!("type.{t}"))) {
        (Language::En, _) | (_, "?") => t.to_string(),
        (_, w) => w.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Language::{En, Ja};

    #[test]
    fn every_key_has_both_languages_once() {
        crate::i18n::check_table(TABLE);
        assert_eq!(tr(Ja, "labs.title"), "検査結果");
        assert_eq!(tr(En, "labs.title"), "Lab results");
        assert_eq!(tr(En, "no.such.key"), "?");
    }

    #[test]
    fn every_category_and_relationship_has_japanese_words() {
        for c in RecordCategory::ALL {
            assert_eq!(category_label(En, c), c.label());
            assert_ne!(category_label(Ja, c), "?", "{}", c.slug());
        }
        assert_eq!(category_label(Ja, RecordCategory::LabResults), "検査結果");
        assert_eq!(category_label(Ja, RecordCategory::Home), "自宅での記録");
        for r in techo_ipc::RELATIONSHIPS {
            assert_eq!(relationship(En, r), *r);
            assert_ne!(relationship(Ja, r), *r);
        }
        assert_eq!(relationship(Ja, "mother"), "母");
        assert_eq!(relationship(Ja, "aunt"), "aunt");
        assert_eq!(resource_type(Ja, "Condition"), "診断名");
        assert_eq!(resource_type(En, "Condition"), "Condition");
        assert_eq!(resource_type(Ja, "Basic"), "Basic");
    }

    #[test]
    fn japanese_dates() {
        assert_eq!(day_label(Ja, "2025-10-20"), "2025年10月20日");
        assert_eq!(day_label(Ja, "2024-01-05"), "2024年1月5日");
        assert_eq!(day_label(En, "2025-10-20"), "2025-10-20");
        assert_eq!(day_label(Ja, "Undated"), "日付なし");
        assert_eq!(day_label(En, "Undated"), "Undated");
        assert_eq!(day_label(Ja, "someday"), "someday");
        assert_eq!(day_time_label(Ja, "2025-10-20", "09:30"), "2025年10月20日 9:30");
        assert_eq!(day_time_label(Ja, "2025-10-20", "21:05"), "2025年10月20日 21:05");
        assert_eq!(day_time_label(En, "2025-10-20", "09:30"), "2025-10-20 09:30");
    }

    #[test]
    fn japanese_counts() {
        assert_eq!(count(Ja, "record.count", 2000), "2,000 件の記録");
        assert_eq!(count(En, "record.count", 2000), "2,000 records");
        assert_eq!(count(Ja, "count.persons", 3), "3 人");
        assert_eq!(count(Ja, "count.resources", 1_234_567), "1,234,567 件の記録");
        assert_eq!(results_summary(Ja, 1200, "高血圧"), "「高血圧」の検索結果 1,200 件");
        assert_eq!(results_summary(En, 12, "高血圧"), "12 results for “高血圧”");
        assert_eq!(results_summary(En, 1, "血圧"), "1 result for “血圧”");
        assert_eq!(results_summary(Ja, 1, "血圧"), "「血圧」の検索結果 1 件");
        assert_eq!(labs_legend(Ja, 24, "HbA1c"), "HbA1c の結果 24 件");
        assert_eq!(labs_legend(En, 24, "HbA1c"), "24 results of HbA1c");
        assert_eq!(fill("{} and {}", &[&1]), "1 and {}");
    }
}
