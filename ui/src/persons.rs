//! Adding a person (a family member whose record you keep) and renaming one, under the persons
//! table. The shell answers the new person list, which goes up to the app.

use crate::ipc::invoke;
use crate::i18n_record::{tr, trf};
use crate::view;
use techo_ipc::{validate_person, AddPersonCmd, Language, PersonFields, PersonSummary, RenamePersonArgs, RenamePersonCmd, RELATIONSHIPS};
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::platform::spawn_local;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub persons: Vec<PersonSummary>,
    /// The persons after a change.
    pub on_persons: Callback<Vec<PersonSummary>>,
}

#[derive(Clone, PartialEq)]
enum Notice {
    Error(String),
    Note(String),
}

fn input_value(r: &NodeRef) -> String {
    r.cast::<HtmlInputElement>().map(|i| i.value()).unwrap_or_default()
}

fn select_value(r: &NodeRef) -> String {
    r.cast::<HtmlSelectElement>().map(|s| s.value()).unwrap_or_default()
}

fn relationship_options(lang: Language, blank: &'static str) -> Html {
    html! {
        <>
            <option value="" selected=true>{ blank }</option>
            { for RELATIONSHIPS.iter().map(|r| html! { <option value={*r}>{ view::relationship_label(lang, Some(r)) }</option> }) }
        </>
    }
}

#[component]
pub fn PersonsEditor(props: &Props) -> Html {
    let lang = use_context::<Language>().unwrap_or(Language::En);
    let notice = use_state(|| None::<Notice>);
    let busy = use_state(|| false);
    let (add_name, add_rel) = (use_node_ref(), use_node_ref());
    let (which, new_name, new_rel) = (use_node_ref(), use_node_ref(), use_node_ref());

    let on_add = {
        let (notice, busy, on_persons) = (notice.clone(), busy.clone(), props.on_persons.clone());
        let (add_name, add_rel) = (add_name.clone(), add_rel.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if *busy {
                return;
            }
            let name = input_value(&add_name).trim().to_owned();
            let rel = Some(select_value(&add_rel)).filter(|r| !r.is_empty());
            if let Err(e) = validate_person(&name, rel.as_deref()) {
                notice.set(Some(Notice::Error(crate::i18n_errors::localized(e).message)));
                return;
            }
            let (notice, busy, on_persons, add_name) = (notice.clone(), busy.clone(), on_persons.clone(), add_name.clone());
            busy.set(true);
            spawn_local(async move {
                match invoke::<AddPersonCmd>(&PersonFields { display_name: name.clone(), relationship: rel }).await {
                    Ok(list) => {
                        if let Some(i) = add_name.cast::<HtmlInputElement>() {
                            i.set_value("");
                        }
                        notice.set(Some(Notice::Note(trf(lang, "persons.added", &[&name]))));
                        on_persons.emit(list);
                    }
                    Err(e) => notice.set(Some(Notice::Error(e.message))),
                }
                busy.set(false);
            });
        })
    };

    let on_rename = {
        let (notice, busy, on_persons) = (notice.clone(), busy.clone(), props.on_persons.clone());
        let (which, new_name, new_rel) = (which.clone(), new_name.clone(), new_rel.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if *busy {
                return;
            }
            let Ok(person_id) = select_value(&which).parse::<i64>() else {
                notice.set(Some(Notice::Error(tr(lang, "persons.choose").into())));
                return;
            };
            let name = input_value(&new_name).trim().to_owned();
            let rel = Some(select_value(&new_rel)).filter(|r| !r.is_empty());
            if let Err(e) = validate_person(&name, rel.as_deref()) {
                notice.set(Some(Notice::Error(crate::i18n_errors::localized(e).message)));
                return;
            }
            let (notice, busy, on_persons, new_name) = (notice.clone(), busy.clone(), on_persons.clone(), new_name.clone());
            busy.set(true);
            spawn_local(async move {
                match invoke::<RenamePersonCmd>(&RenamePersonArgs { person_id, display_name: name.clone(), relationship: rel }).await {
                    Ok(list) => {
                        if let Some(i) = new_name.cast::<HtmlInputElement>() {
                            i.set_value("");
                        }
                        notice.set(Some(Notice::Note(trf(lang, "persons.renamed", &[&name]))));
                        on_persons.emit(list);
                    }
                    Err(e) => notice.set(Some(Notice::Error(e.message))),
                }
                busy.set(false);
            });
        })
    };

    let max = techo_ipc::MAX_PERSON_NAME_CHARS.to_string();
    html! {
        <section class="persons-editor">
            if let Some(n) = &*notice {
                { match n {
                    Notice::Error(m) => html! { <p class="notice error" role="alert">{ m.clone() }</p> },
                    Notice::Note(m) => html! { <p class="notice note" role="status">{ m.clone() }</p> },
                } }
            }
            <form class="add-person" onsubmit={on_add}>
                <h3>{ tr(lang, "persons.add_title") }</h3>
                <p class="muted">{ tr(lang, "persons.add_intro") }</p>
                <div class="field">
                    <label for="person-name">{ tr(lang, "persons.name") }</label>
                    <input id="person-name" type="text" ref={add_name} maxlength={max.clone()} autocomplete="off" />
                </div>
                <div class="field">
                    <label for="person-relationship">{ tr(lang, "persons.rel_to_you") }</label>
                    <select id="person-relationship" ref={add_rel}>{ relationship_options(lang, "—") }</select>
                </div>
                <button type="submit" class="add-person" disabled={*busy}>{ tr(lang, "persons.add") }</button>
            </form>
            if !props.persons.is_empty() {
                <form class="rename-person" onsubmit={on_rename}>
                    <h3>{ tr(lang, "persons.rename_title") }</h3>
                    <div class="field">
                        <label for="rename-which">{ tr(lang, "persons.who") }</label>
                        <select id="rename-which" ref={which}>
                            { for props.persons.iter().map(|p| html! { <option value={p.id.to_string()}>{ p.display_name.clone() }</option> }) }
                        </select>
                    </div>
                    <div class="field">
                        <label for="rename-name">{ tr(lang, "persons.new_name") }</label>
                        <input id="rename-name" type="text" ref={new_name} maxlength={max} autocomplete="off" />
                    </div>
                    <div class="field">
                        <label for="rename-relationship">{ tr(lang, "persons.relationship") }</label>
                        <select id="rename-relationship" ref={new_rel}>{ relationship_options(lang, tr(lang, "persons.keep")) }</select>
                    </div>
                    <button type="submit" class="rename-person" disabled={*busy}>{ tr(lang, "persons.rename") }</button>
                </form>
            }
        </section>
    }
}
