//! Sharing: the Share screen (make an encrypted package of a person's summary or records for a
//! provider or a caregiver, as their consent allows; its link and QR code; the printable
//! summary) and the Viewer (open a package someone shared, read-only: summary first, then the
//! resources and their sources; print it; a caregiver may keep it in their vault).
//!
//! The summary's HTML is made by the shell (techo-share) from structured data only, every value
//! escaped, with no script, link or remote content; it is the one HTML this window inserts as
//! is. A resource's JSON is shown as text. Words in English and Japanese (`TABLE`).

use crate::ipc::invoke;
use crate::share_view::{create_args, nonempty, tr, trf};
use techo_ipc::{
    Language, NoArgs, PackageCloseCmd, PackageKeepCmd, PackageKept, PackageOpenArgs, PackageOpenCmd, PackageResourceArgs, PackageResourceCmd,
    PackageRow, PackageRowsArgs, PackageRowsCmd, PackageSummaryArgs, PackageSummaryCmd, PackageView, PersonSummary,
    ShareCreateCmd, ShareCreated, ShareSummaryArgs, ShareSummaryCmd,
};
use web_sys::{HtmlInputElement, HtmlSelectElement, HtmlTextAreaElement};
use yew::platform::spawn_local;
use yew::prelude::*;

fn input_value(field: &NodeRef) -> String {
    field.cast::<HtmlInputElement>().map(|f| f.value()).unwrap_or_default()
}

fn select_value(field: &NodeRef) -> String {
    field.cast::<HtmlSelectElement>().map(|f| f.value()).unwrap_or_default()
}

/// The shell's summary (made from structured data, every value escaped) inserted as HTML.
fn summary_html(html: &str) -> Html {
    Html::from_html_unchecked(AttrValue::from(html.to_owned()))
}

/// The summary alone, as it prints, with Print… and a way back.
fn print_view(lang: Language, summary: &str, on_exit: Callback<MouseEvent>) -> Html {
    html! {
        <section class="print-view">
            <div class="print-actions no-print">
                <button class="print-now" onclick={Callback::from(|_: MouseEvent| print_page())}>{ tr(lang, "print") }</button>
                <button class="secondary-plain exit-print" onclick={on_exit}>{ tr(lang, "exit_print") }</button>
            </div>
            <div class="printable">{ summary_html(summary) }</div>
        </section>
    }
}

fn print_page() {
    if let Some(w) = web_sys::window() {
        let _ = w.print();
    }
}

#[derive(Properties, PartialEq)]
pub struct ShareProps {
    pub persons: Vec<PersonSummary>,
    pub person: Option<i64>,
    pub lang: Language,
    pub on_back: Callback<()>,
}

#[component]
pub fn Share(props: &ShareProps) -> Html {
    let lang = props.lang;
    let (person, content, to_kind, to_name, from, until, label, expires, passcode) =
        (use_node_ref(), use_node_ref(), use_node_ref(), use_node_ref(), use_node_ref(), use_node_ref(), use_node_ref(), use_node_ref(), use_node_ref());
    let relay = use_node_ref();
    let busy = use_state(|| false);
    let error = use_state(|| None::<String>);
    let made = use_state(|| None::<ShareCreated>);
    let summary = use_state(|| None::<String>);
    let printing = use_state(|| false);

    let on_create = {
        let (person, content, to_kind, to_name, from, until, label, expires, passcode) =
            (person.clone(), content.clone(), to_kind.clone(), to_name.clone(), from.clone(), until.clone(), label.clone(), expires.clone(), passcode.clone());
        let (busy, error, made, relay) = (busy.clone(), error.clone(), made.clone(), relay.clone());
        Callback::from(move |ev: SubmitEvent| {
            ev.prevent_default();
            let Ok(person_id) = select_value(&person).parse::<i64>() else { return };
            let args = create_args(
                lang,
                person_id,
                &select_value(&content),
                &select_value(&to_kind),
                &input_value(&to_name),
                input_value(&from),
                input_value(&until),
                input_value(&label),
                &select_value(&expires),
                input_value(&passcode),
                input_value(&relay),
            );
            if let Some(p) = passcode.cast::<HtmlInputElement>() {
                p.set_value("");
            }
            let (busy, error, made) = (busy.clone(), error.clone(), made.clone());
            busy.set(true);
            spawn_local(async move {
                match invoke::<ShareCreateCmd>(&args).await {
                    Ok(m) => {
                        error.set(None);
                        made.set(Some(m));
                    }
                    Err(e) => {
                        made.set(None);
                        error.set(Some(e.message));
                    }
                }
                busy.set(false);
            });
        })
    };
    let on_summary = {
        let (person, busy, error, summary) = (person.clone(), busy.clone(), error.clone(), summary.clone());
        Callback::from(move |_: MouseEvent| {
            let Ok(person_id) = select_value(&person).parse::<i64>() else { return };
            let (busy, error, summary) = (busy.clone(), error.clone(), summary.clone());
            busy.set(true);
            spawn_local(async move {
                match invoke::<ShareSummaryCmd>(&ShareSummaryArgs { person_id, lang: lang.as_str().to_owned() }).await {
                    Ok(s) => {
                        error.set(None);
                        summary.set(Some(s.html));
                    }
                    Err(e) => error.set(Some(e.message)),
                }
                busy.set(false);
            });
        })
    };
    let toggle_print = {
        let printing = printing.clone();
        Callback::from(move |_: MouseEvent| printing.set(!*printing))
    };

    if let (true, Some(s)) = (*printing, &*summary) {
        return print_view(lang, s, toggle_print);
    }

    let default_person = props.person.or_else(|| props.persons.first().map(|p| p.id));
    html! {
        <section class="share">
            <div class="import-head">
                <h2>{ tr(lang, "title") }</h2>
                <button class="secondary-plain back" onclick={props.on_back.reform(|_: MouseEvent| ())}>{ tr(lang, "back") }</button>
            </div>
            <p class="muted">{ tr(lang, "intro") }</p>
            if let Some(e) = &*error { <p class="notice error" role="alert">{ e.clone() }</p> }
            <form class="share-form" onsubmit={on_create}>
                <label>{ tr(lang, "person") }
                    <select id="share-person" ref={person} disabled={*busy}>
                        { for props.persons.iter().map(|p| html! {
                            <option value={p.id.to_string()} selected={default_person == Some(p.id)}>{ p.display_name.clone() }</option>
                        }) }
                    </select>
                </label>
                <label>{ tr(lang, "content") }
                    <select id="share-content" ref={content} disabled={*busy}>
                        <option value="summary" selected=true>{ tr(lang, "content.summary") }</option>
                        <option value="jp">{ tr(lang, "content.jp") }</option>
                        <option value="records">{ tr(lang, "content.records") }</option>
                    </select>
                </label>
                <label>{ tr(lang, "to") }
                    <select id="share-to-kind" ref={to_kind} disabled={*busy}>
                        <option value="provider" selected=true>{ tr(lang, "to.provider") }</option>
                        <option value="caregiver">{ tr(lang, "to.caregiver") }</option>
                    </select>
                </label>
                <label>{ tr(lang, "to.name") }
                    <input id="share-to" ref={to_name} maxlength="200" required=true readonly={*busy} />
                </label>
                <div class="share-dates">
                    <label>{ tr(lang, "from") }<input id="share-from" type="date" ref={from} readonly={*busy} /></label>
                    <label>{ tr(lang, "until") }<input id="share-until" type="date" ref={until} readonly={*busy} /></label>
                </div>
                <label>{ tr(lang, "label") }
                    <input id="share-label" ref={label} maxlength="80" readonly={*busy} />
                </label>
                <label>{ tr(lang, "expires") }
                    <select id="share-expires" ref={expires} disabled={*busy}>
                        <option value="">{ tr(lang, "expires.never") }</option>
                        { for [1u32, 7, 30, 90].into_iter().map(|d| html! {
                            <option value={d.to_string()} selected={d == 30}>{ trf(lang, "expires.days", &[&d]) }</option>
                        }) }
                    </select>
                </label>
                <label>{ tr(lang, "passcode") }
                    <input id="share-passcode" type="password" ref={passcode} autocomplete="new-password" readonly={*busy} />
                </label>
                <label>{ tr(lang, "relay") }
                    <input id="share-relay" type="url" ref={relay} placeholder="https://" readonly={*busy} />
                </label>
                <div class="share-actions">
                    <button type="submit" class="share-create" disabled={*busy}>{ tr(lang, if *busy { "creating" } else { "create" }) }</button>
                    <button type="button" class="secondary-plain share-print" onclick={on_summary} disabled={*busy}>{ tr(lang, "print_summary") }</button>
                </div>
            </form>
            if let Some(m) = &*made {
                <div class="share-made" role="status">
                    <p class="notice note">{ trf(lang, "made", &[&m.saved_to, &m.shared, &m.held_back]) }</p>
                    <label>{ tr(lang, "link") }
                        <textarea id="share-link" class="share-link" readonly=true rows="3" value={m.link.clone()} />
                    </label>
                    if let Some(exp) = &m.expires { <p class="muted">{ trf(lang, "link_expires", &[&crate::record::local(exp).map_or_else(|| exp.clone(), |(d, t)| format!("{d} {t}"))]) }</p> }
                    if m.passcode { <p class="muted">{ tr(lang, "with_passcode") }</p> }
                    if let Some(svg) = &m.qr_svg { <div class="share-qr">{ summary_html(svg) }</div> }
                </div>
            }
            if let Some(s) = &*summary {
                <div class="share-summary">
                    <div class="share-actions">
                        <button class="print-view-open" onclick={toggle_print.clone()}>{ tr(lang, "print_view") }</button>
                    </div>
                    { summary_html(s) }
                </div>
            }
        </section>
    }
}

#[derive(Properties, PartialEq)]
pub struct ViewerProps {
    pub lang: Language,
    /// A vault is unlocked: the package may be kept in it.
    pub can_keep: bool,
    pub on_back: Callback<()>,
    /// After a package was kept: the persons changed.
    #[prop_or_default]
    pub on_kept: Callback<()>,
}

const ROWS_PAGE: u32 = 100;

#[component]
pub fn Viewer(props: &ViewerProps) -> Html {
    let lang = props.lang;
    let link = use_node_ref();
    let passcode = use_node_ref();
    let busy = use_state(|| false);
    let error = use_state(|| None::<String>);
    let note = use_state(|| None::<String>);
    let view = use_state(|| None::<PackageView>);
    let summary = use_state(|| None::<(Language, String)>);
    let rows = use_state(Vec::<PackageRow>::new);
    let json = use_state(|| None::<(u32, String)>);
    let printing = use_state(|| false);

    // The summary follows the app's language.
    {
        let (view, summary) = (view.clone(), summary.clone());
        use_effect_with(lang, move |lang| {
            let lang = *lang;
            if view.is_some() && summary.as_ref().is_some_and(|(l, _)| *l != lang) {
                spawn_local(async move {
                    if let Ok(s) = invoke::<PackageSummaryCmd>(&PackageSummaryArgs { lang: lang.as_str().to_owned() }).await {
                        summary.set(Some((lang, s.html)));
                    }
                });
            }
        });
    }

    let on_open = {
        let (link, passcode, busy, error, view, summary, rows, json) =
            (link.clone(), passcode.clone(), busy.clone(), error.clone(), view.clone(), summary.clone(), rows.clone(), json.clone());
        Callback::from(move |ev: SubmitEvent| {
            ev.prevent_default();
            let l = link.cast::<HtmlTextAreaElement>().map(|t| t.value()).unwrap_or_default().trim().to_owned();
            let p = nonempty(input_value(&passcode));
            if let Some(f) = passcode.cast::<HtmlInputElement>() {
                f.set_value("");
            }
            let (busy, error, view, summary, rows, json) = (busy.clone(), error.clone(), view.clone(), summary.clone(), rows.clone(), json.clone());
            busy.set(true);
            spawn_local(async move {
                match invoke::<PackageOpenCmd>(&PackageOpenArgs { link: l, passcode: p, lang: lang.as_str().to_owned() }).await {
                    Ok(v) => {
                        error.set(None);
                        json.set(None);
                        summary.set(Some((lang, v.summary_html.clone())));
                        view.set(Some(v));
                        if let Ok(page) = invoke::<PackageRowsCmd>(&PackageRowsArgs { offset: 0, limit: ROWS_PAGE }).await {
                            rows.set(page.rows);
                        }
                    }
                    Err(e) => error.set(Some(e.message)),
                }
                busy.set(false);
            });
        })
    };
    let on_more = {
        let rows = rows.clone();
        Callback::from(move |_: MouseEvent| {
            let rows = rows.clone();
            spawn_local(async move {
                let offset = rows.len() as u32;
                if let Ok(page) = invoke::<PackageRowsCmd>(&PackageRowsArgs { offset, limit: ROWS_PAGE }).await {
                    let mut all = (*rows).clone();
                    all.extend(page.rows);
                    rows.set(all);
                }
            });
        })
    };
    let on_row = {
        let json = json.clone();
        move |index: u32| {
            let json = json.clone();
            Callback::from(move |_: MouseEvent| {
                let json = json.clone();
                spawn_local(async move {
                    if let Ok(text) = invoke::<PackageResourceCmd>(&PackageResourceArgs { index }).await {
                        json.set(Some((index, text)));
                    }
                });
            })
        }
    };
    let on_close = {
        let on_back = props.on_back.clone();
        Callback::from(move |_: MouseEvent| {
            let on_back = on_back.clone();
            spawn_local(async move {
                let _ = invoke::<PackageCloseCmd>(&NoArgs {}).await;
                on_back.emit(());
            });
        })
    };
    let on_keep = {
        let (busy, error, note, on_kept) = (busy.clone(), error.clone(), note.clone(), props.on_kept.clone());
        Callback::from(move |_: MouseEvent| {
            let (busy, error, note, on_kept) = (busy.clone(), error.clone(), note.clone(), on_kept.clone());
            busy.set(true);
            spawn_local(async move {
                match invoke::<PackageKeepCmd>(&NoArgs {}).await {
                    Ok(PackageKept { new_person, new, updated, unchanged, .. }) => {
                        error.set(None);
                        note.set(Some(if new_person { trf(lang, "viewer.kept_new", &[&new]) } else { trf(lang, "viewer.kept_again", &[&new, &updated, &unchanged]) }));
                        on_kept.emit(());
                    }
                    Err(e) => error.set(Some(e.message)),
                }
                busy.set(false);
            });
        })
    };
    let toggle_print = {
        let printing = printing.clone();
        Callback::from(move |_: MouseEvent| printing.set(!*printing))
    };

    if let (true, Some((_, s))) = (*printing, &*summary) {
        return print_view(lang, s, toggle_print);
    }

    html! {
        <section class="viewer">
            <div class="import-head">
                <h2>{ tr(lang, "viewer.title") }</h2>
                <button class="secondary-plain back viewer-close" onclick={on_close}>{ tr(lang, if view.is_some() { "viewer.close" } else { "back" }) }</button>
            </div>
            if let Some(e) = &*error { <p class="notice error" role="alert">{ e.clone() }</p> }
            if let Some(n) = &*note { <p class="notice note" role="status">{ n.clone() }</p> }
            if let Some(v) = &*view {
                <p class="muted read-only">{ tr(lang, "viewer.read_only") }</p>
                <dl class="viewer-facts">
                    if let Some(p) = &v.patient { <dt>{ tr(lang, "viewer.patient") }</dt><dd class="viewer-patient">{ p.clone() }</dd> }
                    if let Some(l) = &v.label { <dt>{ tr(lang, "viewer.label") }</dt><dd>{ l.clone() }</dd> }
                    if let Some(x) = &v.expires { <dt>{ tr(lang, "viewer.expires") }</dt><dd>{ crate::record::local(x).map_or_else(|| x.clone(), |(d, _)| d) }</dd> }
                    if !v.sources.is_empty() { <dt>{ tr(lang, "viewer.sources") }</dt><dd>{ v.sources.join(", ") }</dd> }
                </dl>
                if v.withheld { <p class="notice note withheld">{ tr(lang, "viewer.withheld") }</p> }
                <div class="share-actions">
                    <button class="print-view-open" onclick={toggle_print.clone()}>{ tr(lang, "print_view") }</button>
                    if v.keepable && props.can_keep {
                        <button class="viewer-keep" onclick={on_keep} disabled={*busy}>{ tr(lang, "viewer.keep") }</button>
                    }
                </div>
                <h3>{ tr(lang, "viewer.summary") }</h3>
                if let Some((_, s)) = &*summary { <div class="viewer-summary">{ summary_html(s) }</div> }
                <h3>{ trf(lang, "viewer.details", &[&v.total]) }</h3>
                <ul class="viewer-rows">
                    { for rows.iter().map(|r| html! {
                        <li>
                            <button class="link viewer-row" onclick={on_row(r.index)}>
                                <span class="type">{ r.resource_type.clone() }</span>
                                { " " }<span class="label">{ r.display.clone().unwrap_or_default() }</span>
                                if let Some(d) = &r.date { { " · " }<span class="date">{ d.clone() }</span> }
                                if let Some(s) = &r.source { { " · " }<span class="source">{ s.clone() }</span> }
                            </button>
                            if json.as_ref().is_some_and(|(i, _)| *i == r.index) {
                                <pre class="json">{ json.as_ref().map(|(_, j)| j.clone()).unwrap_or_default() }</pre>
                            }
                        </li>
                    }) }
                </ul>
                if (rows.len() as u64) < v.total { <button class="secondary-plain viewer-more" onclick={on_more}>{ tr(lang, "viewer.more") }</button> }
            } else {
                <p class="muted">{ tr(lang, "viewer.intro") }</p>
                <form class="viewer-form" onsubmit={on_open}>
                    <label>{ tr(lang, "viewer.link") }
                        <textarea id="viewer-link" ref={link} rows="3" required=true readonly={*busy} />
                    </label>
                    <label>{ tr(lang, "viewer.passcode") }
                        <input id="viewer-passcode" type="password" ref={passcode} autocomplete="off" readonly={*busy} />
                    </label>
                    <button type="submit" class="viewer-open" disabled={*busy}>{ tr(lang, if *busy { "viewer.opening" } else { "viewer.open" }) }</button>
                </form>
            }
        </section>
    }
}
