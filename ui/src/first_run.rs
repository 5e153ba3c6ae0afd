//! First run: no vault yet. Create one with a chosen recovery passphrase (typed twice, with a
//! strength meter) or with a recovery key Techo generates, shows once and asks back.
//! The checks are techo-ipc's, the same the shell applies.

use crate::i18n::{hint, strength_label, t};
use crate::ipc::invoke;
use techo_ipc::{
    passphrase_strength, recovery_key_confirms, validate_new_passphrase, AppSettingsCmd, CreateVaultArgs, CreateVaultCmd, CreatedVault,
    GenerateRecoveryKeyCmd, Language, NoArgs, SetAppSettingsArgs, SetAppSettingsCmd,
};
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::platform::spawn_local;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub path: Option<String>,
    pub lang: Language,
    pub on_lang: Callback<Language>,
    /// The vault exists and is unlocked.
    pub on_created: Callback<CreatedVault>,
}

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Choose,
    Generate,
}

fn value(r: &NodeRef) -> String {
    r.cast::<HtmlInputElement>().map(|i| i.value()).unwrap_or_default()
}

fn clear(r: &NodeRef) {
    if let Some(i) = r.cast::<HtmlInputElement>() {
        i.set_value("");
    }
}

#[component]
pub fn FirstRun(props: &Props) -> Html {
    let lang = props.lang;
    let mode = use_state(|| Mode::Generate);
    let error = use_state(|| None::<String>);
    let busy = use_state(|| false);
    let strength = use_state(|| passphrase_strength(""));
    let key = use_state(|| None::<String>);
    let (pass, repeat, confirm) = (use_node_ref(), use_node_ref(), use_node_ref());

    // After the vault exists: keep the language chosen here, then tell the app.
    let created = {
        let on_created = props.on_created.clone();
        move |c: CreatedVault| {
            let on_created = on_created.clone();
            spawn_local(async move {
                if lang != Language::En {
                    if let Ok(s) = invoke::<AppSettingsCmd>(&NoArgs {}).await {
                        let args = SetAppSettingsArgs { auto_lock_minutes: s.auto_lock_minutes, theme: s.theme, language: lang };
                        let _ = invoke::<SetAppSettingsCmd>(&args).await;
                    }
                }
                on_created.emit(c);
            });
        }
    };

    let on_lang = {
        let on_lang = props.on_lang.clone();
        Callback::from(move |e: Event| {
            if let Some(s) = e.target_dyn_into::<HtmlSelectElement>() {
                on_lang.emit(Language::parse(&s.value()));
            }
        })
    };

    let set_mode = |m: Mode| {
        let (mode, error) = (mode.clone(), error.clone());
        Callback::from(move |_: MouseEvent| {
            error.set(None);
            mode.set(m);
        })
    };

    let on_input = {
        let (strength, pass) = (strength.clone(), pass.clone());
        Callback::from(move |_: InputEvent| strength.set(passphrase_strength(&value(&pass))))
    };

    let on_create_passphrase = {
        let (error, busy, pass, repeat, strength, created) = (error.clone(), busy.clone(), pass.clone(), repeat.clone(), strength.clone(), created.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if *busy {
                return;
            }
            let (p, r) = (value(&pass), value(&repeat));
            if p != r {
                error.set(Some(t(lang, "first.mismatch").to_owned()));
                return;
            }
            if let Err(e) = validate_new_passphrase(&p, &r) {
                error.set(Some(crate::i18n_errors::localized(e).message));
                return;
            }
            let (error, busy, pass, repeat, strength, created) = (error.clone(), busy.clone(), pass.clone(), repeat.clone(), strength.clone(), created.clone());
            busy.set(true);
            spawn_local(async move {
                let args = CreateVaultArgs { passphrase: Some(p), repeat: Some(r), key_confirmation: None };
                let result = invoke::<CreateVaultCmd>(&args).await;
                drop(args);
                busy.set(false);
                match result {
                    Ok(c) => {
                        clear(&pass);
                        clear(&repeat);
                        strength.set(passphrase_strength(""));
                        created(c);
                    }
                    Err(e) => error.set(Some(e.message)),
                }
            });
        })
    };

    let on_make_key = {
        let (error, busy, key) = (error.clone(), busy.clone(), key.clone());
        Callback::from(move |_: MouseEvent| {
            let (error, busy, key) = (error.clone(), busy.clone(), key.clone());
            busy.set(true);
            spawn_local(async move {
                match invoke::<GenerateRecoveryKeyCmd>(&NoArgs {}).await {
                    Ok(k) => {
                        error.set(None);
                        key.set(Some(k.key));
                    }
                    Err(e) => error.set(Some(e.message)),
                }
                busy.set(false);
            });
        })
    };

    let on_create_key = {
        let (error, busy, key, confirm, created) = (error.clone(), busy.clone(), key.clone(), confirm.clone(), created.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if *busy {
                return;
            }
            let Some(k) = (*key).clone() else { return };
            let typed = value(&confirm);
            if !recovery_key_confirms(&k, &typed) {
                error.set(Some(t(lang, "first.confirm_wrong").to_owned()));
                return;
            }
            let (error, busy, key, created) = (error.clone(), busy.clone(), key.clone(), created.clone());
            busy.set(true);
            spawn_local(async move {
                let args = CreateVaultArgs { passphrase: None, repeat: None, key_confirmation: Some(typed) };
                let result = invoke::<CreateVaultCmd>(&args).await;
                drop(args);
                busy.set(false);
                match result {
                    Ok(c) => {
                        // The key leaves the page: it is on paper now.
                        key.set(None);
                        created(c);
                    }
                    Err(e) => error.set(Some(e.message)),
                }
            });
        })
    };

    let st = &*strength;
    let meter = html! {
        <div class="strength" aria-live="polite">
            <label for="strength-meter">{ t(lang, "strength") }{ ": " }
                <span class={classes!("strength-label", format!("s{}", st.score))}>{ strength_label(lang, st.score) }</span>
            </label>
            <progress id="strength-meter" class={classes!("strength-meter", format!("s{}", st.score))} max="4" value={st.score.to_string()}></progress>
            if !st.hints.is_empty() && !value(&pass).is_empty() {
                <ul class="strength-hints">{ for st.hints.iter().map(|h| html! { <li>{ hint(lang, *h) }</li> }) }</ul>
            }
        </div>
    };

    let max = techo_ipc::MAX_PASSPHRASE_CHARS.to_string();
    html! {
        <section class="card first-run">
            <div class="first-run-head">
                <h2>{ t(lang, "first.title") }</h2>
                <select id="first-run-language" aria-label="Language / 言語" onchange={on_lang}>
                    { for Language::ALL.iter().map(|l| html! { <option value={l.as_str()} selected={*l == lang}>{ l.native_name() }</option> }) }
                </select>
            </div>
            <p>{ t(lang, "first.intro") }</p>
            <p class="muted">{ t(lang, "first.where") }</p>
            <p class="path">{ props.path.clone().unwrap_or_default() }</p>
            if let Some(e) = &*error { <p class="notice error" role="alert">{ e.clone() }</p> }
            <div class="mode-tabs" role="tablist">
                <button type="button" role="tab" class={classes!("tab", "mode-generate", (*mode == Mode::Generate).then_some("active"))}
                    onclick={set_mode(Mode::Generate)}>{ t(lang, "first.generate") }</button>
                <button type="button" role="tab" class={classes!("tab", "mode-choose", (*mode == Mode::Choose).then_some("active"))}
                    onclick={set_mode(Mode::Choose)}>{ t(lang, "first.choose") }</button>
            </div>
            if *mode == Mode::Choose {
                <form class="create-with-passphrase" onsubmit={on_create_passphrase}>
                    <p class="muted">{ t(lang, "first.passphrase_help") }</p>
                    <div class="field">
                        <label for="new-passphrase">{ t(lang, "first.passphrase") }</label>
                        <input id="new-passphrase" type="password" ref={pass.clone()} autocomplete="new-password" maxlength={max.clone()} oninput={on_input} />
                    </div>
                    { meter }
                    <div class="field">
                        <label for="new-passphrase-repeat">{ t(lang, "first.repeat") }</label>
                        <input id="new-passphrase-repeat" type="password" ref={repeat.clone()} autocomplete="new-password" maxlength={max} />
                    </div>
                    <button type="submit" class="create-vault" disabled={*busy || st.score == 0}>
                        { if *busy { t(lang, "first.creating") } else { t(lang, "first.create") } }
                    </button>
                </form>
            } else {
                <div class="create-with-key">
                    <p class="muted">{ t(lang, "first.key_intro") }</p>
                    if let Some(k) = &*key {
                        <p class="key-title">{ t(lang, "first.your_key") }</p>
                        <code class="recovery-key">{ k.clone() }</code>
                        <p class="notice note write-down">{ t(lang, "first.write_down") }</p>
                        <form class="confirm-key" onsubmit={on_create_key}>
                            <div class="field">
                                <label for="key-confirm">{ t(lang, "first.confirm") }</label>
                                <input id="key-confirm" type="text" ref={confirm} autocomplete="off" spellcheck="false" maxlength="80" />
                            </div>
                            <button type="submit" class="create-vault" disabled={*busy}>
                                { if *busy { t(lang, "first.creating") } else { t(lang, "first.create") } }
                            </button>
                            <button type="button" class="link new-key" onclick={on_make_key.clone()} disabled={*busy}>{ t(lang, "first.new_key") }</button>
                        </form>
                    } else {
                        <button type="button" class="make-key" onclick={on_make_key} disabled={*busy}>{ t(lang, "first.make_key") }</button>
                    }
                </div>
            }
        </section>
    }
}
