//! The app's window: unlock the vault, then list its persons with their counts; from there a
//! person's record (`record.rs`), the sources screen (`sources.rs`), a person's consent or the
//! audit log (`consent.rs`).

use crate::consent::{Audit, Consent};
use crate::first_run::FirstRun;
use crate::i18n::t;
use crate::i18n_record::{self as ir, tr};
use crate::import::Import;
use crate::settings::Settings;
use crate::share::{Share, Viewer};
use crate::ipc::invoke;
use crate::record::PersonView;
use crate::persons::PersonsEditor;
use crate::sources::Sources;
use crate::view;
use std::cell::Cell;
use std::rc::Rc;
use techo_ipc::{
    validate_passphrase, KeepAliveCmd, LockCmd, NoArgs, PersonSummariesCmd, PersonSummary, UnlockWithKeyringCmd,
    UnlockWithPassphraseArgs, UnlockWithPassphraseCmd, VaultStatusCmd,
};
use web_sys::HtmlInputElement;
use techo_ipc::{AppSettings, AppSettingsCmd, CreatedVault, Language};
use yew::platform::spawn_local;
use yew::prelude::*;

#[derive(Clone, PartialEq)]
enum Screen {
    /// Asking the shell for the vault's state (and trying the keyring).
    Loading,
    /// No vault at the configured location.
    NoVault { path: Option<String> },
    /// A vault exists and is locked: show the passphrase form.
    Locked { path: Option<String> },
    /// Unlocked: the persons and their counts.
    Unlocked { persons: Vec<PersonSummary> },
}

/// The consent screen (for a person, when one's record was open) or the audit log.
#[derive(Clone, Copy, PartialEq)]
enum Pane {
    Consent(Option<i64>),
    Audit,
    /// Importing files (into the open record's person, if one was open).
    Import(Option<i64>),
    Settings,
    /// Making a share package (of the open record's person, if one was open).
    Share(Option<i64>),
    /// The package viewer.
    Viewer,
}

/// Where a message comes from decides how it looks: an error, or a quiet note.
#[derive(Clone, PartialEq)]
enum Notice {
    Error(String),
    Note(String),
}

/// After an unlock: fetch the persons, or go back to the form when that fails.
async fn load_persons(
    screen: UseStateHandle<Screen>,
    notice: UseStateHandle<Option<Notice>>,
    path: Option<String>,
) {
    match invoke::<PersonSummariesCmd>(&NoArgs {}).await {
        Ok(persons) => {
            notice.set(None);
            screen.set(Screen::Unlocked { persons });
        }
        Err(e) => {
            notice.set(Some(Notice::Error(e.message)));
            screen.set(Screen::Locked { path });
        }
    }
}

#[component]
pub fn App() -> Html {
    let screen = use_state(|| Screen::Loading);
    let notice = use_state(|| None::<Notice>);
    let busy = use_state(|| false);
    let input = use_node_ref();
    // The person whose record is open, if any.
    let open_person = use_state(|| None::<PersonSummary>);
    // Whether the sources screen is open.
    let open_sources = use_state(|| false);
    // Whether the consent screen or the audit log is open.
    let open_pane = use_state(|| None::<Pane>);
    // The language of the screens translated so far (first run, import, settings).
    let lang = use_state(crate::settings::remembered_language);
    // The language now, for answers that arrive later (the auto-lock note).
    let lang_now = use_mut_ref(crate::settings::remembered_language);
    *lang_now.borrow_mut() = *lang;
    // The shell's errors are shown in this language too (`ipc::invoke`).
    crate::i18n_errors::set_language(*lang);
    // Counts the locks, so that an answer asked for before one is not shown after it.
    let locks = use_mut_ref(|| 0u64);

    // On start: find the vault; if it is locked, try the OS keyring before asking.
    {
        let screen = screen.clone();
        let notice = notice.clone();
        use_effect_with((), move |_| {
            spawn_local(async move {
                let status = match invoke::<VaultStatusCmd>(&NoArgs {}).await {
                    Ok(s) => s,
                    Err(e) => {
                        notice.set(Some(Notice::Error(e.message)));
                        screen.set(Screen::NoVault { path: None });
                        return;
                    }
                };
                let path = status.vault_path.clone();
                if !status.exists {
                    screen.set(Screen::NoVault { path });
                } else if status.unlocked {
                    load_persons(screen, notice, path).await;
                } else {
                    match invoke::<UnlockWithKeyringCmd>(&NoArgs {}).await {
                        Ok(_) => load_persons(screen, notice, path).await,
                        Err(e) => {
                            // Not an error of the person's doing: say it quietly, then ask.
                            notice.set(Some(Notice::Note(e.message)));
                            screen.set(Screen::Locked { path });
                        }
                    }
                }
            });
        });
    }

    // Auto-lock: while unlocked, ask the shell every 2 s whether the vault locked itself after
    // the idle limit; if so, drop everything shown and ask for the passphrase again.
    {
        let screen = screen.clone();
        let notice = notice.clone();
        let open_person = open_person.clone();
        let open_sources = open_sources.clone();
        let open_pane = open_pane.clone();
        let locks = locks.clone();
        let lang_now = lang_now.clone();
        let unlocked = matches!(*screen, Screen::Unlocked { .. });
        use_effect_with(unlocked, move |unlocked| {
            let stop = Rc::new(Cell::new(false));
            if *unlocked {
                let stop = stop.clone();
                spawn_local(async move {
                    loop {
                        yew::platform::time::sleep(std::time::Duration::from_secs(2)).await;
                        if stop.get() {
                            return;
                        }
                        if let Ok(status) = invoke::<VaultStatusCmd>(&NoArgs {}).await {
                            if !status.unlocked && !stop.get() {
                                *locks.borrow_mut() += 1;
                                open_person.set(None);
                                open_sources.set(false);
                                open_pane.set(None);
                                notice.set(Some(Notice::Note(view::auto_lock_note(*lang_now.borrow(), status.auto_lock_seconds))));
                                screen.set(Screen::Locked { path: status.vault_path });
                                return;
                            }
                        }
                    }
                });
            }
            move || stop.set(true)
        });
    }

    // Once unlocked: the vault's theme and language.
    {
        let lang = lang.clone();
        let unlocked = matches!(*screen, Screen::Unlocked { .. });
        use_effect_with(unlocked, move |unlocked| {
            if *unlocked {
                spawn_local(async move {
                    if let Ok(s) = invoke::<AppSettingsCmd>(&NoArgs {}).await {
                        crate::settings::apply(s.theme, s.language);
                        lang.set(s.language);
                    }
                });
            }
        });
    }

    // Using the window (keys, clicks, scrolling) postpones the auto-lock: tell the shell, at
    // most every 15 s.
    let last_keep_alive = use_mut_ref(|| 0f64);
    let on_activity = {
        let unlocked = matches!(*screen, Screen::Unlocked { .. });
        let last = last_keep_alive.clone();
        Callback::from(move |_: ()| {
            let now = js_sys::Date::now();
            if unlocked && now - *last.borrow() > 15_000.0 {
                *last.borrow_mut() = now;
                spawn_local(async move {
                    let _ = invoke::<KeepAliveCmd>(&NoArgs {}).await;
                });
            }
        })
    };

    // Put the cursor in the passphrase field whenever the form appears (also after Lock).
    {
        let input = input.clone();
        let locked = matches!(*screen, Screen::Locked { .. });
        use_effect_with(locked, move |locked| {
            if *locked {
                if let Some(field) = input.cast::<HtmlInputElement>() {
                    let _ = field.focus();
                }
            }
        });
    }

    let on_unlock = {
        let screen = screen.clone();
        let notice = notice.clone();
        let busy = busy.clone();
        let input = input.clone();
        Callback::from(move |ev: SubmitEvent| {
            ev.prevent_default();
            if *busy {
                return;
            }
            let Some(field) = input.cast::<HtmlInputElement>() else {
                return;
            };
            let passphrase = field.value();
            // Do not leave the passphrase in the page.
            field.set_value("");
            if let Err(e) = validate_passphrase(&passphrase) {
                notice.set(Some(Notice::Error(crate::i18n_errors::localized(e).message)));
                let _ = field.focus();
                return;
            }
            let path = match &*screen {
                Screen::Locked { path } => path.clone(),
                _ => None,
            };
            let (screen, notice, busy) = (screen.clone(), notice.clone(), busy.clone());
            busy.set(true);
            spawn_local(async move {
                let args = UnlockWithPassphraseArgs { passphrase };
                let result = invoke::<UnlockWithPassphraseCmd>(&args).await;
                drop(args);
                match result {
                    Ok(_) => load_persons(screen, notice, path).await,
                    Err(e) => {
                        notice.set(Some(Notice::Error(e.message)));
                        let _ = field.focus();
                    }
                }
                busy.set(false);
            });
        })
    };

    let on_lock = {
        let screen = screen.clone();
        let notice = notice.clone();
        let busy = busy.clone();
        let open_person = open_person.clone();
        let open_sources = open_sources.clone();
        let open_pane = open_pane.clone();
        let locks = locks.clone();
        Callback::from(move |_: MouseEvent| {
            let (screen, notice, busy) = (screen.clone(), notice.clone(), busy.clone());
            *locks.borrow_mut() += 1;
            open_person.set(None);
            open_sources.set(false);
            open_pane.set(None);
            busy.set(true);
            spawn_local(async move {
                match invoke::<LockCmd>(&NoArgs {}).await {
                    Ok(status) => {
                        notice.set(None);
                        screen.set(Screen::Locked {
                            path: status.vault_path,
                        });
                    }
                    Err(e) => notice.set(Some(Notice::Error(e.message))),
                }
                busy.set(false);
            });
        })
    };

    let on_open_sources = {
        let (open_sources, open_person, open_pane, notice) = (open_sources.clone(), open_person.clone(), open_pane.clone(), notice.clone());
        Callback::from(move |_: MouseEvent| {
            open_person.set(None);
            open_pane.set(None);
            notice.set(None);
            open_sources.set(true);
        })
    };

    // The toolbar's panes (consent, audit, import, settings, share, the viewer): each opens for
    // the person whose record is open, where it is about one person (else yourself).
    let open_pane_with = {
        let (open_sources, open_person, open_pane, notice) = (open_sources.clone(), open_person.clone(), open_pane.clone(), notice.clone());
        move |make: fn(Option<i64>) -> Pane| {
            let (open_sources, open_person, open_pane, notice) = (open_sources.clone(), open_person.clone(), open_pane.clone(), notice.clone());
            Callback::from(move |_: MouseEvent| {
                let pane = make(open_person.as_ref().map(|p| p.id));
                open_person.set(None);
                open_sources.set(false);
                notice.set(None);
                open_pane.set(Some(pane));
            })
        }
    };
    let on_open_pane = |audit: bool| open_pane_with(if audit { |_| Pane::Audit } else { Pane::Consent });
    let on_open_import = open_pane_with(Pane::Import);
    let on_open_settings = open_pane_with(|_| Pane::Settings);
    let on_open_share = |viewer: bool| open_pane_with(if viewer { |_| Pane::Viewer } else { Pane::Share });
    // The viewer before any unlock (a clinician opening a package needs no vault).
    let viewer_first = use_state(|| false);
    let on_settings_applied = {
        let lang = lang.clone();
        Callback::from(move |s: AppSettings| {
            crate::settings::apply(s.theme, s.language);
            lang.set(s.language);
        })
    };
    let on_lang = {
        let lang = lang.clone();
        Callback::from(move |l: Language| {
            crate::settings::apply(techo_ipc::Theme::System, l);
            lang.set(l)
        })
    };
    // First run done: the vault exists and is unlocked; say how it will unlock next time.
    let on_created = {
        let (screen, notice, lang) = (screen.clone(), notice.clone(), lang.clone());
        Callback::from(move |c: CreatedVault| {
            let note = Notice::Note(t(*lang, if c.keyring { "first.keyring_yes" } else { "first.keyring_no" }).to_owned());
            let (screen, notice) = (screen.clone(), notice.clone());
            spawn_local(async move {
                load_persons(screen, notice.clone(), c.status.vault_path).await;
                notice.set(Some(note));
            });
        })
    };

    let on_close_pane = {
        let open_pane = open_pane.clone();
        Callback::from(move |_: ()| open_pane.set(None))
    };

    // The sources screen's new person list (after a sync or a new source): the counts above it.
    let on_sources_persons = {
        let (screen, locks) = (screen.clone(), locks.clone());
        let before = *locks.borrow();
        Callback::from(move |persons: Vec<PersonSummary>| {
            if *locks.borrow() == before && matches!(*screen, Screen::Unlocked { .. }) {
                screen.set(Screen::Unlocked { persons });
            }
        })
    };

    // Back from the sources screen: the persons again, with the counts a sync changed.
    let on_close_sources = {
        let (screen, notice, open_sources, locks) = (screen.clone(), notice.clone(), open_sources.clone(), locks.clone());
        Callback::from(move |_: ()| {
            open_sources.set(false);
            let (screen, notice, locks) = (screen.clone(), notice.clone(), locks.clone());
            let before = *locks.borrow();
            spawn_local(async move {
                let answer = invoke::<PersonSummariesCmd>(&NoArgs {}).await;
                if *locks.borrow() != before {
                    return;
                }
                match answer {
                    Ok(persons) => screen.set(Screen::Unlocked { persons }),
                    Err(e) => notice.set(Some(Notice::Error(e.message))),
                }
            });
        })
    };

    let notice_html = match &*notice {
        Some(Notice::Error(m)) => html! { <p class="notice error" role="alert">{ m.clone() }</p> },
        Some(Notice::Note(m)) => html! { <p class="notice note">{ m.clone() }</p> },
        None => html! {},
    };

    let l = *lang;
    // Before any unlock: open a package someone shared (a clinician needs no vault).
    let viewer_offer = html! {
        <p class="muted viewer-first-offer">
            <button class="link viewer-first" onclick={{
                let viewer_first = viewer_first.clone();
                Callback::from(move |_: MouseEvent| viewer_first.set(true))
            }}>{ crate::share_view::tr(l, "toolbar.open_package_no_vault") }</button>
        </p>
    };
    let body = match &*screen {
        Screen::Loading => html! { <p class="muted">{ tr(l, "app.opening") }</p> },
        Screen::NoVault { path: None } => html! {
            <section class="card">
                <h2>{ tr(l, "app.no_vault") }</h2>
                <p class="path">{ tr(l, "app.no_default") }</p>
                <p class="muted">{ tr(l, "app.set_env") }</p>
            </section>
        },
        Screen::NoVault { path } => html! {
            <>
                <FirstRun path={path.clone()} lang={*lang} on_lang={on_lang} on_created={on_created} />
                { viewer_offer.clone() }
            </>
        },
        Screen::Locked { path } => html! {
            <section class="card">
                <h2>{ tr(l, "unlock.title") }</h2>
                if let Some(p) = path { <p class="path">{ p.clone() }</p> }
                <form class="unlock" onsubmit={on_unlock}>
                    <label for="passphrase">{ tr(l, "unlock.passphrase") }</label>
                    <input id="passphrase" type="password" ref={input.clone()}
                        autocomplete="current-password" autofocus=true
                        maxlength={techo_ipc::MAX_PASSPHRASE_CHARS.to_string()}
                        readonly={*busy} />
                    <button type="submit" disabled={*busy}>
                        { tr(l, if *busy { "unlock.busy" } else { "unlock.button" }) }
                    </button>
                </form>
                { viewer_offer.clone() }
            </section>
        },
        Screen::Unlocked { persons } => html! {
            <section>
                <div class="toolbar">
                    <p class="summary">
                        { view::persons_label(l, persons.len()) }{ " · " }
                        { ir::count(l, "count.resources", view::total_resources(persons)) }
                    </p>
                    <div class="toolbar-actions">
                        // Not `secondary`: Lock stays the toolbar's one secondary button.
                        if !*open_sources {
                            <button class="sources-open" onclick={on_open_sources}>{ tr(l, "toolbar.sources") }</button>
                        }
                        if !matches!(*open_pane, Some(Pane::Consent(_))) && !persons.is_empty() {
                            <button class="consent-open" onclick={on_open_pane(false)}>{ "Consent / 同意" }</button>
                        }
                        if *open_pane != Some(Pane::Audit) {
                            <button class="audit-open" onclick={on_open_pane(true)}>{ "Audit / 監査ログ" }</button>
                        }
                        if !matches!(*open_pane, Some(Pane::Import(_))) {
                            <button class="import-open" onclick={on_open_import}>{ t(*lang, "toolbar.import") }</button>
                        }
                        if !matches!(*open_pane, Some(Pane::Share(_))) && !persons.is_empty() {
                            <button class="share-open" onclick={on_open_share(false)}>{ crate::share_view::tr(l, "toolbar.share") }</button>
                        }
                        if *open_pane != Some(Pane::Viewer) {
                            <button class="viewer-open-pane" onclick={on_open_share(true)}>{ crate::share_view::tr(l, "toolbar.open_package") }</button>
                        }
                        if *open_pane != Some(Pane::Settings) {
                            <button class="settings-open" onclick={on_open_settings}>{ t(*lang, "toolbar.settings") }</button>
                        }
                        <button class="secondary lock" onclick={on_lock} disabled={*busy}>{ tr(l, "toolbar.lock") }</button>
                    </div>
                </div>
                if *open_sources {
                    <Sources persons={persons.clone()} on_back={on_close_sources} on_persons={on_sources_persons.clone()} />
                } else if let Some(Pane::Consent(person)) = *open_pane {
                    <Consent persons={persons.clone()} {person} on_back={on_close_pane.clone()} />
                } else if let Some(Pane::Import(person)) = *open_pane {
                    <Import persons={persons.clone()} {person} lang={*lang} on_persons={on_sources_persons.clone()} on_back={on_close_pane.clone()} />
                } else if let Some(Pane::Share(person)) = *open_pane {
                    <Share persons={persons.clone()} {person} lang={l} on_back={on_close_pane.clone()} />
                } else if *open_pane == Some(Pane::Viewer) {
                    <Viewer lang={l} can_keep=true on_back={on_close_pane.clone()} on_kept={{
                        let on_persons = on_sources_persons.clone();
                        Callback::from(move |_| {
                            let on_persons = on_persons.clone();
                            spawn_local(async move {
                                if let Ok(p) = invoke::<PersonSummariesCmd>(&NoArgs {}).await {
                                    on_persons.emit(p);
                                }
                            });
                        })
                    }} />
                } else if *open_pane == Some(Pane::Settings) {
                    <Settings lang={*lang} on_applied={on_settings_applied} on_back={on_close_pane.clone()} />
                } else if *open_pane == Some(Pane::Audit) {
                    <Audit persons={persons.clone()} on_back={on_close_pane.clone()} />
                } else if let Some(p) = &*open_person {
                    <PersonView person={p.clone()} on_back={{
                        let open_person = open_person.clone();
                        Callback::from(move |_| open_person.set(None))
                    }} />
                } else if persons.is_empty() {
                    <p class="muted">{ tr(l, "persons.empty") }</p>
                    <PersonsEditor persons={persons.clone()} on_persons={on_sources_persons.clone()} />
                } else {
                    <table class="persons">
                        <thead>
                            <tr>
                                <th>{ tr(l, "persons.name") }</th>
                                <th>{ tr(l, "persons.relationship") }</th>
                                <th class="num">{ tr(l, "persons.resources") }</th>
                                <th>{ tr(l, "persons.by_type") }</th>
                            </tr>
                        </thead>
                        <tbody>
                            { for persons.iter().map(|p| person_row(l, p, open_person.clone())) }
                        </tbody>
                    </table>
                    <PersonsEditor persons={persons.clone()} on_persons={on_sources_persons.clone()} />
                }
            </section>
        },
    };

    let body = if *viewer_first && !matches!(*screen, Screen::Unlocked { .. }) {
        html! {
            <Viewer lang={l} can_keep=false on_back={{
                let viewer_first = viewer_first.clone();
                Callback::from(move |_| viewer_first.set(false))
            }} />
        }
    } else {
        body
    };

    // Every component below reads the language with `use_context::<Language>()`.
    html! {
        <ContextProvider<Language> context={*lang}>
        <main onclick={on_activity.reform(|_: MouseEvent| ())} onkeydown={on_activity.reform(|_: KeyboardEvent| ())}
            onwheel={on_activity.reform(|_: WheelEvent| ())}>
            <header>
                <h1>{ "Techo" }</h1>
                <span class="tagline">{ tr(l, "app.tagline") }</span>
            </header>
            { notice_html }
            { body }
        </main>
        </ContextProvider<Language>>
    }
}

fn person_row(l: Language, p: &PersonSummary, open_person: UseStateHandle<Option<PersonSummary>>) -> Html {
    let open = {
        let p = p.clone();
        Callback::from(move |_: MouseEvent| open_person.set(Some(p.clone())))
    };
    html! {
        <tr key={p.id.to_string()}>
            <td class="name"><button class="link person" onclick={open}>{ p.display_name.clone() }</button></td>
            <td>
                { view::relationship_label(l, p.relationship.as_deref()) }
                if let Some(by) = &p.shared_by { <span class="shared-by">{ crate::share_view::shared_by(l, by) }</span> }
            </td>
            <td class="num">{ view::format_count(p.resource_count) }</td>
            <td>
                <ul class="types">
                    { for view::sorted_types(&p.by_type).into_iter().map(|t| html! {
                        <li>
                            <span class="type" title={t.resource_type.clone()}>{ ir::resource_type(l, &t.resource_type) }</span>
                            <span class="count">{ view::format_count(t.count) }</span>
                        </li>
                    }) }
                </ul>
            </td>
        </tr>
    }
}
