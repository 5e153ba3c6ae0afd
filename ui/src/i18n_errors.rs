//! The shell's errors in the person's language. Every [`IpcError`] carries a stable
//! [`ErrorCode`] and the shell's English sentence; in Japanese the UI shows the code's Japanese
//! sentence (what happened and what to do), followed by the shell's sentence as a detail when
//! it names something the code cannot (which input, which source, why). In English the shell's
//! own sentence is shown, as before. `ipc::invoke` applies this to every answer, so each place
//! that shows `e.message` shows it in the language of the moment ([`set_language`], kept by
//! the app). Pure but for that one cell, so it is unit-tested natively.

use std::cell::Cell;
use techo_ipc::{ErrorCode, IpcError, Language};

/// (wire code, English, 日本語): one plain sentence per code with what to do.
const TABLE: &[(&str, &str, &str)] = &[
    ("wrong_passphrase", "The passphrase is not right for this vault; nothing was changed. Try again.", "パスフレーズが違います。保管庫は変更されていません。もう一度入力してください。"),
    ("not_a_vault", "That folder is not a Techo vault. Choose the folder Techo created for your vault.", "指定されたフォルダーは Techo の保管庫ではありません。Techo が作成した保管庫のフォルダーを指定してください。"),
    ("plaintext_database", "An unencrypted database is at the vault's place; Techo never opens or changes it. Move it away or choose another folder for your vault.", "保管庫の場所に暗号化されていないデータベースがあります。Techo はこれを開くことも変更することもありません。別の場所に移すか、保管庫に別のフォルダーを指定してください。"),
    ("corrupt", "The vault is damaged or was changed outside Techo. Restore it from a backup.", "保管庫が壊れているか、Techo 以外で変更されています。バックアップから復元してください。"),
    ("newer_version", "A newer version of Techo wrote this vault. Update Techo to open it.", "この保管庫は新しいバージョンの Techo で書き込まれています。開くには Techo を更新してください。"),
    ("locked", "The vault is locked. Unlock it first.", "保管庫がロックされています。先にロックを解除してください。"),
    ("no_vault", "There is no vault yet. Create one on the first-run screen, or start Techo with TECHO_VAULT set to your vault's folder.", "保管庫がまだありません。初回設定の画面で作成するか、環境変数 TECHO_VAULT に保管庫のフォルダーを指定して Techo を起動してください。"),
    ("keyring_unavailable", "This computer's keyring cannot unlock the vault. Unlock it with your recovery passphrase.", "このコンピューターのキーリングでは保管庫のロックを解除できません。回復用パスフレーズで解除してください。"),
    ("invalid_input", "Techo could not accept what was entered. Check it and try again.", "入力された内容を受け付けられませんでした。内容を確認して、もう一度お試しください。"),
    ("endpoint_unusable", "This hospital's FHIR server could not be added (it could not be reached, is not a FHIR server, or offers no sign-in Techo can use). Check its address and try again.", "この医療機関の FHIR サーバーを追加できませんでした(接続できない、FHIR サーバーではない、または Techo が使えるサインイン方法がありません)。アドレスを確認して、もう一度お試しください。"),
    ("sign_in_failed", "The sign-in could not start or finish. Sign in again.", "サインインを開始または完了できませんでした。もう一度サインインしてください。"),
    ("not_found", "That is not in the vault any more. Reopen the screen and try again.", "対象が保管庫に見つかりません。画面を開き直して、もう一度お試しください。"),
    ("internal", "Something went wrong inside Techo. Please try again; if it keeps happening, restart the app.", "Techo の内部で問題が起きました。もう一度お試しください。繰り返し起きる場合は Techo を再起動してください。"),
];

/// Codes whose English sentence from the shell says more than the code (which field or
/// source, why): in Japanese it follows as a detail.
const WITH_DETAIL: &[ErrorCode] = &[
    ErrorCode::NotAVault,
    ErrorCode::PlaintextDatabase,
    ErrorCode::Corrupt,
    ErrorCode::InvalidInput,
    ErrorCode::EndpointUnusable,
    ErrorCode::SignInFailed,
    ErrorCode::NotFound,
    ErrorCode::Internal,
];

/// The code's own sentence in `lang`.
pub fn sentence(lang: Language, code: ErrorCode) -> &'static str {
    crate::i18n::lookup(TABLE, lang, code.as_str())
}

/// What to show of an error in `lang`: in English the shell's sentence (the code's when it
/// has none); in Japanese the code's sentence, with the shell's as a detail where it adds one.
pub fn message(lang: Language, e: &IpcError) -> String {
    let shell = e.message.trim();
    match lang {
        Language::En if !shell.is_empty() => shell.to_string(),
        Language::Ja if !shell.is_empty() && WITH_DETAIL.contains(&e.code) => format!("{}(詳細: {shell})", sentence(lang, e.code)),
        _ => sentence(lang, e.code).to_string(),
    }
}

thread_local! {
    static LANGUAGE: Cell<Language> = const { Cell::new(Language::En) };
}

/// The language errors are shown in from now on (the app sets it whenever it renders).
pub fn set_language(lang: Language) {
    LANGUAGE.with(|l| l.set(lang));
}

/// `e` with its message in the current language (see [`set_language`]).
pub fn localized(mut e: IpcError) -> IpcError {
    e.message = message(LANGUAGE.with(Cell::get), &e);
    e
}

#[cfg(test)]
mod tests {
    use super::*;
    use Language::{En, Ja};

    #[test]
    fn every_code_has_both_languages() {
        crate::i18n::check_table(TABLE);
        assert_eq!(TABLE.len(), ErrorCode::ALL.len(), "a sentence for a code techo-ipc does not have");
        for code in ErrorCode::ALL {
            for lang in [En, Ja] {
                let s = sentence(lang, code);
                assert!(s != "?" && s.chars().count() > 10, "{code} in {lang:?}: {s}");
            }
            assert!(sentence(Ja, code).ends_with('。'), "{code}");
            assert!(sentence(En, code).ends_with('.'), "{code}");
        }
    }

    #[test]
    fn english_keeps_the_shells_sentence_japanese_says_what_to_do() {
        let wrong = IpcError::new(ErrorCode::WrongPassphrase, "The passphrase is not right for this vault; nothing was changed — try again.");
        assert_eq!(message(En, &wrong), wrong.message);
        assert_eq!(message(Ja, &wrong), "パスフレーズが違います。保管庫は変更されていません。もう一度入力してください。");
        let bad = IpcError::invalid_input("Give the person a name of 1 to 200 characters.");
        assert_eq!(message(En, &bad), "Give the person a name of 1 to 200 characters.");
        assert_eq!(message(Ja, &bad), "入力された内容を受け付けられませんでした。内容を確認して、もう一度お試しください。(詳細: Give the person a name of 1 to 200 characters.)");
        assert_eq!(message(Ja, &IpcError::locked()), "保管庫がロックされています。先にロックを解除してください。");
        // No sentence from the shell: the code's own, in either language.
        assert_eq!(message(En, &IpcError::new(ErrorCode::NotFound, " ")), sentence(En, ErrorCode::NotFound));
        assert_eq!(message(Ja, &IpcError::new(ErrorCode::NotFound, "")), sentence(Ja, ErrorCode::NotFound));
    }

    #[test]
    fn the_current_language_applies_to_answers() {
        let e = || IpcError::locked();
        set_language(Ja);
        assert_eq!(localized(e()).message, sentence(Ja, ErrorCode::Locked));
        assert_eq!(localized(e()).code, ErrorCode::Locked);
        set_language(En);
        assert_eq!(localized(e()).message, e().message);
    }
}
