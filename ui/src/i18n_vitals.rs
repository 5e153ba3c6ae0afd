//! The home vitals screen's words (readings, the blood-pressure handbook, the diaries and their
//! calendar) in English and Japanese: `tr(lang, key)`, `trf(lang, key, args)` for sentences with
//! `{}` holes, and the calendar's Japanese month and weekday words. Pure, so unit-tested natively.
//! Record data (values, titles, summaries from the shell) is never translated.

use std::fmt::Display;
use techo_ipc::Language;

/// (key, English, 日本語)
const TABLE: &[(&str, &str, &str)] = &[
    // The page.
    ("back", "← Back to the record", "← 記録に戻る"),
    ("title", " · Home vitals", " · 家庭での測定記録"),
    ("loading", "Loading…", "読み込み中…"),
    ("saving", "Saving…", "保存中…"),
    ("delete", "Delete", "削除"),
    ("saved", "Saved.", "保存しました。"),
    ("deleted", "Deleted. It is marked entered-in-error and stays in the vault's history.", "削除しました。誤入力として記録され、保管庫の履歴には残ります。"),
    // The reading form.
    ("reading", "Reading", "測定項目"),
    ("systolic", "Upper (systolic), mmHg", "最高血圧(収縮期)mmHg"),
    ("diastolic", "Lower (diastolic), mmHg", "最低血圧(拡張期)mmHg"),
    ("pulse", "Pulse, /min (optional)", "脈拍 回/分(任意)"),
    ("bp_when", "When", "朝/晩"),
    ("morning", "Morning", "朝"),
    ("evening", "Evening", "晩"),
    ("value", "Value", "測定値"),
    ("unit", "Unit", "単位"),
    ("measured_at", "Measured at", "測定日時"),
    ("save_reading", "Save reading", "記録する"),
    ("no_kinds", "Techo offers no kinds of readings.", "記録できる測定項目がありません。"),
    ("loading_readings", "Loading the readings…", "測定値を読み込み中…"),
    ("no_readings", "No readings yet: enter one above.", "まだ記録がありません。上の欄から入力してください。"),
    ("badge_home", "home", "自宅"),
    ("delete_reading", "Delete this reading (it stays in the vault's history)", "この測定値を削除します(保管庫の履歴には残ります)"),
    ("vital_duplicate", "Already stored: this reading was entered before.", "記録済みです。この測定値は以前に入力されています。"),
    // The chart.
    ("chart_label", "{}: chart of the readings", "{}の推移グラフ"),
    ("chart_home_target", "Home target {}", "家庭血圧の目標値 {}"),
    ("chart_target", "target {}", "目標 {}"),
    ("legend_home", "Entered at home", "自宅で入力"),
    ("legend_hospital", "From a hospital, clinic or file", "病院・診療所・ファイルから"),
    ("legend_systolic", "Upper (systolic)", "最高血圧(収縮期)"),
    ("legend_diastolic", "Lower (diastolic)", "最低血圧(拡張期)"),
    ("legend_targets", "Home targets {}/{} mmHg", "家庭血圧の目標値 {}/{} mmHg"),
    // The blood-pressure handbook.
    ("handbook", "Blood-pressure handbook (家庭血圧手帳)", "家庭血圧手帳"),
    ("print", "Print", "印刷"),
    ("handbook_target", "Target: below {}/{} mmHg (upper/lower), morning and evening averages per week (Monday to Sunday).", "目標値: {}/{} mmHg 未満(最高/最低)。週ごとの平均(月曜〜日曜)を朝・晩に分けて表示します。"),
    ("target_systolic", "Target upper, mmHg", "目標値 最高血圧 mmHg"),
    ("target_diastolic", "Target lower, mmHg", "目標値 最低血圧 mmHg"),
    ("save_target", "Save target", "目標値を保存"),
    ("target_saved", "Target saved: {}/{} mmHg.", "目標値を保存しました: {}/{} mmHg。"),
    ("loading_handbook", "Loading the handbook…", "手帳を読み込み中…"),
    ("no_handbook", "No blood-pressure readings in the last {} weeks.", "最近 {} 週間の血圧の記録はありません。"),
    ("week_from", "Week from (Mon)", "週ごとの平均(月曜から)"),
    ("week_morning", "Morning (朝)", "朝"),
    ("week_evening", "Evening (晩)", "晩"),
    ("week_other", "Other times", "その他の時間"),
    ("handbook_legend", "Average upper/lower mmHg (number of readings), pulse /min; ▲ above the target.", "平均 最高/最低 mmHg(測定回数)、脈拍 回/分。▲ は目標を上回っています。"),
    ("above_target", "above the target", "目標を上回っています"),
    ("session_pulse", "{}, pulse {}", "{}、脈拍 {}"),
    // The diaries.
    ("diary", "Diary", "日誌"),
    ("which_diary", "Which diary", "日誌の種類"),
    ("diary_when", "When", "記録日時"),
    ("note", "Note", "メモ"),
    ("save_diary", "Save diary entry", "日誌を記録する"),
    ("loading_diary", "Loading the diary…", "日誌を読み込み中…"),
    ("no_diary", "No diary entries yet.", "まだ日誌の記録がありません。"),
    ("delete_entry", "Delete this entry (it stays in the vault's history)", "この記録を削除します(保管庫の履歴には残ります)"),
    ("diary_duplicate", "Already stored: this diary entry was entered before.", "記録済みです。この日誌は以前に入力されています。"),
    ("diary.mood", "Mood / symptoms", "気分・症状"),
    ("diary.asthma", "Asthma", "ぜんそく日誌"),
    ("diary.joint-pain", "Joint pain", "関節痛日誌"),
    ("mood", "Mood", "今日の気分"),
    ("mood.1", "1 very bad", "1 とても悪い"),
    ("mood.2", "2 bad", "2 悪い"),
    ("mood.3", "3 so-so", "3 ふつう"),
    ("mood.4", "4 good", "4 良い"),
    ("mood.5", "5 very good", "5 とても良い"),
    ("symptoms", "Symptoms", "症状"),
    ("symptoms_placeholder", "e.g. 頭痛, cough since the morning", "例: 頭痛、朝からせきが出る"),
    ("daytime", "Daytime symptoms", "日中の症状"),
    ("daytime.0", "none", "なし"),
    ("daytime.1", "mild", "軽い"),
    ("daytime.2", "moderate", "中くらい"),
    ("daytime.3", "severe", "強い"),
    ("night", "Night awakenings", "夜中に目が覚めた回数"),
    ("puffs", "Reliever puffs", "発作止めの吸入回数"),
    ("pef_morning", "Peak flow morning, L/min", "朝のピークフロー L/min"),
    ("pef_evening", "Peak flow evening, L/min", "夜のピークフロー L/min"),
    ("joints", "Painful joints", "痛む関節"),
    ("loading_joints", "Loading the joints…", "関節の一覧を読み込み中…"),
    ("severity", "Pain severity, 0–10", "痛みの強さ(0〜10)"),
    ("stiffness", "Morning stiffness, minutes", "朝のこわばり(分)"),
    // The calendar.
    ("prev_month", "Previous month", "前の月"),
    ("next_month", "Next month", "次の月"),
    ("day_entries", "{}: {} diary entries", "{}: 日誌 {} 件"),
    ("kind_count", "{}: {}", "{}: {} 件"),
    ("wd.0", "Mon", "月"),
    ("wd.1", "Tue", "火"),
    ("wd.2", "Wed", "水"),
    ("wd.3", "Thu", "木"),
    ("wd.4", "Fri", "金"),
    ("wd.5", "Sat", "土"),
    ("wd.6", "Sun", "日"),
    // What the forms say to fix (the field's name goes into the hole).
    ("err.enter", "Enter the {}.", "{}を入力してください。"),
    ("err.not_number", "The {} is not a number: write it with digits, for example 36.8 or 36,8.", "{}が数値ではありません。36.8 のように数字で入力してください。"),
    ("err.not_number_optional", "The {} is not a number: write it with digits, or leave it empty.", "{}が数値ではありません。数字で入力するか、空欄のままにしてください。"),
    ("err.not_whole", "The {} is not a whole number: write it with digits (for example 3), or leave it empty.", "{}が整数ではありません。3 のように数字で入力するか、空欄のままにしてください。"),
    ("err.context", "Choose morning, evening or nothing for when it was measured.", "測定のタイミングは「朝」「晩」、または指定なしから選んでください。"),
    ("err.unit", "Choose one of the units offered for {}.", "{}の単位は一覧から選んでください。"),
    ("err.mood", "Choose a mood from 1 (very bad) to 5 (very good).", "気分は 1(とても悪い)から 5(とても良い)の中から選んでください。"),
    ("err.daytime", "Choose daytime symptoms from none to severe.", "日中の症状は「なし」から「強い」の中から選んでください。"),
    ("err.severity", "Choose a pain severity from 0 to 10.", "痛みの強さは 0 から 10 の中から選んでください。"),
    ("err.diary_kind", "Choose a diary: mood, asthma or joint pain.", "日誌の種類(気分・症状、ぜんそく、関節痛)を選んでください。"),
    ("what.systolic", "upper (systolic) pressure", "最高血圧(収縮期)"),
    ("what.diastolic", "lower (diastolic) pressure", "最低血圧(拡張期)"),
    ("what.pulse", "pulse", "脈拍"),
    ("what.night", "number of night awakenings", "夜中に目が覚めた回数"),
    ("what.puffs", "number of reliever puffs", "発作止めの吸入回数"),
    ("what.pef_morning", "morning peak flow", "朝のピークフロー"),
    ("what.pef_evening", "evening peak flow", "夜のピークフロー"),
    ("what.severity", "pain severity", "痛みの強さ"),
    ("what.stiffness", "morning stiffness (minutes)", "朝のこわばりの時間(分)"),
    ("what.target_systolic", "upper (systolic) target", "最高血圧の目標値"),
    ("what.target_diastolic", "lower (diastolic) target", "最低血圧の目標値"),
];

/// The text of `key` in `lang`; `"?"` when the table lacks it (a bug the tests catch).
pub fn tr(lang: Language, key: &str) -> &'static str {
    crate::i18n::lookup(TABLE, lang, key)
}

/// `template` with each `{}` replaced by the next of `args` (`crate::i18n::fill`).
pub use crate::i18n::fill;

/// The sentence of `key` in `lang` with its holes filled.
pub fn trf(lang: Language, key: &str, args: &[&dyn Display]) -> String {
    fill(tr(lang, key), args)
}

/// The calendar's heading of a month: `2026-11`, `2026年11月`.
pub fn month_label(lang: Language, year: i32, month: u32) -> String {
    match lang {
        Language::En => format!("{year:04}-{month:02}"),
        Language::Ja => format!("{year}年{month}月"),
    }
}

/// The calendar's columns, Monday first: `Mon`…, `月`….
pub fn weekdays(lang: Language) -> [&'static str; 7] {
    std::array::from_fn(|i| tr(lang, ["wd.0", "wd.1", "wd.2", "wd.3", "wd.4", "wd.5", "wd.6"][i]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_has_both_languages_once() {
        crate::i18n::check_table(TABLE);
        assert_eq!(tr(Language::Ja, "print"), "印刷");
        assert_eq!(tr(Language::En, "print"), "Print");
        assert_eq!(tr(Language::Ja, "no.such.key"), "?");
    }

    #[test]
    fn holes_are_filled_in_order() {
        assert_eq!(trf(Language::En, "target_saved", &[&125, &75]), "Target saved: 125/75 mmHg.");
        assert_eq!(trf(Language::Ja, "target_saved", &[&125, &75]), "目標値を保存しました: 125/75 mmHg。");
        assert_eq!(trf(Language::Ja, "err.enter", &[&tr(Language::Ja, "what.systolic")]), "最高血圧(収縮期)を入力してください。");
        assert_eq!(fill("{} and {}", &[&1]), "1 and {}");
        assert_eq!(fill("none", &[&1]), "none");
    }

    #[test]
    fn japanese_calendar_words() {
        assert_eq!(month_label(Language::Ja, 2026, 11), "2026年11月");
        assert_eq!(month_label(Language::Ja, 2027, 1), "2027年1月");
        assert_eq!(month_label(Language::En, 2026, 3), "2026-03");
        assert_eq!(weekdays(Language::Ja), ["月", "火", "水", "木", "金", "土", "日"]);
        assert_eq!(weekdays(Language::En), ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]);
        assert_eq!(trf(Language::Ja, "day_entries", &[&"2026-11-28", &3]), "2026-11-28: 日誌 3 件");
    }
}
