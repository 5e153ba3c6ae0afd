//! Settings kept in the vault: the auto-lock (applied by the shell at once), the theme (a class
//! on `<html>`) and the language.

use crate::i18n::t;
use crate::ipc::invoke;
use techo_ipc::{validate_auto_lock_minutes, AppSettings, AppSettingsCmd, Language, NoArgs, SetAppSettingsArgs, SetAppSettingsCmd, Theme};
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::platform::spawn_local;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub lang: Language,
    /// The settings now stored (the app applies theme and language).
    pub on_applied: Callback<AppSettings>,
    pub on_back: Callback<()>,
}

/// Puts the theme on `<html>` (`theme-light`, `theme-dark`, `theme-system`) and the language
/// in its `lang`.
pub fn apply(theme: Theme, lang: Language) {
    if let Some(root) = web_sys::window().and_then(|w| w.document()).and_then(|d| d.document_element()) {
        root.set_class_name(&format!("theme-{}", theme.as_str()));
        let _ = root.set_attribute("lang", lang.as_str());
    }
    // Remembered on this computer (the language only: no health data), so that the next start
    // shows the unlock screen in it before the vault, which holds the settings, is open.
    if let Some(store) = web_sys::window().and_then(|w| w.local_storage().ok().flatten()) {
        let _ = store.set_item(LANGUAGE_KEY, lang.as_str());
    }
}

const LANGUAGE_KEY: &str = "techo.language";

/// The language last applied on this computer (English the first time).
pub fn remembered_language() -> Language {
    web_sys::window()
        .and_then(|w| w.local_storage().ok().flatten())
        .and_then(|s| s.get_item(LANGUAGE_KEY).ok().flatten())
        .map_or(Language::En, |l| Language::parse(&l))
}

fn theme_key(th: Theme) -> &'static str {
    match th {
        Theme::Light => "theme.light",
        Theme::Dark => "theme.dark",
        Theme::System => "theme.system",
    }
}

#[component]
pub fn Settings(props: &Props) -> Html {
    let lang = props.lang;
    let current = use_state(|| None::<AppSettings>);
    let notice = use_state(|| None::<Result<String, String>>);
    let busy = use_state(|| false);
    let (minutes, theme, language) = (use_node_ref(), use_node_ref(), use_node_ref());

    {
        let (current, notice) = (current.clone(), notice.clone());
        use_effect_with((), move |_| {
            spawn_local(async move {
                match invoke::<AppSettingsCmd>(&NoArgs {}).await {
                    Ok(s) => current.set(Some(s)),
                    Err(e) => notice.set(Some(Err(e.message))),
                }
            });
        });
    }

    let on_save = {
        let (current, notice, busy, on_applied) = (current.clone(), notice.clone(), busy.clone(), props.on_applied.clone());
        let (minutes, theme, language) = (minutes.clone(), theme.clone(), language.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if *busy {
                return;
            }
            let m = minutes.cast::<HtmlInputElement>().map(|i| i.value()).unwrap_or_default();
            let Some(m) = m.trim().parse::<u32>().ok().filter(|m| validate_auto_lock_minutes(*m).is_ok()) else {
                notice.set(Some(Err(t(lang, "settings.minutes_range").to_owned())));
                return;
            };
            let th = Theme::parse(&theme.cast::<HtmlSelectElement>().map(|s| s.value()).unwrap_or_default());
            let l = Language::parse(&language.cast::<HtmlSelectElement>().map(|s| s.value()).unwrap_or_default());
            let (current, notice, busy, on_applied) = (current.clone(), notice.clone(), busy.clone(), on_applied.clone());
            busy.set(true);
            spawn_local(async move {
                match invoke::<SetAppSettingsCmd>(&SetAppSettingsArgs { auto_lock_minutes: m, theme: th, language: l }).await {
                    Ok(s) => {
                        notice.set(Some(Ok(t(s.language, "settings.saved").to_owned())));
                        current.set(Some(s.clone()));
                        on_applied.emit(s);
                    }
                    Err(e) => notice.set(Some(Err(e.message))),
                }
                busy.set(false);
            });
        })
    };

    let body = match &*current {
        None => html! {},
        Some(s) => html! {
            <form class="settings-form" onsubmit={on_save}>
                <div class="field">
                    <label for="auto-lock-minutes">{ t(lang, "settings.auto_lock") }</label>
                    <input id="auto-lock-minutes" type="number" min="1" max="120" step="1" ref={minutes}
                        value={s.auto_lock_minutes.to_string()} />
                    if let Some(secs) = s.auto_lock_override_seconds {
                        <p class="muted override">{ t(lang, "settings.auto_lock_override") }{ format!(" {secs}") }</p>
                    }
                </div>
                <div class="field">
                    <label for="theme">{ t(lang, "settings.theme") }</label>
                    <select id="theme" ref={theme}>
                        { for Theme::ALL.iter().map(|th| html! {
                            <option value={th.as_str()} selected={*th == s.theme}>{ t(lang, theme_key(*th)) }</option>
                        }) }
                    </select>
                </div>
                <div class="field">
                    <label for="language">{ t(lang, "settings.language") }</label>
                    <select id="language" ref={language}>
                        { for Language::ALL.iter().map(|l| html! {
                            <option value={l.as_str()} selected={*l == s.language}>{ l.native_name() }</option>
                        }) }
                    </select>
                    <p class="muted">{ t(lang, "settings.language_note") }</p>
                </div>
                <button type="submit" class="save-settings" disabled={*busy}>{ t(lang, "settings.save") }</button>
            </form>
        },
    };

    html! {
        <section class="settings">
            <div class="settings-head">
                <h2>{ t(lang, "settings.title") }</h2>
                <button class="secondary-plain back" onclick={props.on_back.reform(|_: MouseEvent| ())}>{ t(lang, "back") }</button>
            </div>
            { match &*notice {
                Some(Ok(m)) => html! { <p class="notice note settings-saved" role="status">{ m.clone() }</p> },
                Some(Err(m)) => html! { <p class="notice error" role="alert">{ m.clone() }</p> },
                None => html! {},
            } }
            { body }
        </section>
    }
}
