//! Import: the shell opens a native file dialog (the window never sees or chooses paths) and
//! imports the chosen files one by one; this screen shows the progress (bytes read of all
//! files) and each file's result: its counts, or the core's sentence.

use crate::i18n::{import_counts, t};
use crate::ipc::invoke;
use std::cell::Cell;
use std::rc::Rc;
use techo_ipc::{ImportOutcome, ImportStatus, ImportStatusCmd, Language, NoArgs, PersonSummariesCmd, PersonSummary, StartImportArgs, StartImportCmd};
use web_sys::HtmlSelectElement;
use yew::platform::spawn_local;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub persons: Vec<PersonSummary>,
    /// The person chosen at first (the open record's), else the file decides.
    pub person: Option<i64>,
    pub lang: Language,
    /// The persons after an import (new counts, maybe new persons).
    pub on_persons: Callback<Vec<PersonSummary>>,
    pub on_back: Callback<()>,
}

fn outcome_html(lang: Language, o: &ImportOutcome) -> Html {
    match o {
        ImportOutcome::Waiting => html! { <span class="outcome waiting">{ t(lang, "import.waiting") }</span> },
        ImportOutcome::Reading => html! { <span class="outcome reading">{ t(lang, "import.reading") }</span> },
        ImportOutcome::Stopped => html! { <span class="outcome stopped">{ t(lang, "import.stopped") }</span> },
        ImportOutcome::Done { resources, new, updated, unchanged, merged, skipped, .. } => html! {
            <span class="outcome done">{ import_counts(lang, *resources, *new, *updated, *unchanged, *merged, *skipped) }</span>
        },
        ImportOutcome::Failed { message } => html! { <span class="outcome failed">{ message.clone() }</span> },
    }
}

#[component]
pub fn Import(props: &Props) -> Html {
    let lang = props.lang;
    let status = use_state(ImportStatus::default);
    let error = use_state(|| None::<String>);
    let select = use_node_ref();
    let alive = use_mut_ref(|| Rc::new(Cell::new(true)));
    {
        let alive = alive.borrow().clone();
        use_effect_with((), move |_| move || alive.set(false));
    }

    // Polls the shell until the import is over, then refreshes the persons.
    let poll = {
        let (status, on_persons, alive) = (status.clone(), props.on_persons.clone(), alive.borrow().clone());
        move || {
            let (status, on_persons, alive) = (status.clone(), on_persons.clone(), alive.clone());
            spawn_local(async move {
                loop {
                    yew::platform::time::sleep(std::time::Duration::from_millis(250)).await;
                    if !alive.get() {
                        return;
                    }
                    let Ok(s) = invoke::<ImportStatusCmd>(&NoArgs {}).await else { return };
                    let over = !s.choosing && !s.running;
                    status.set(s);
                    if over {
                        if let Ok(persons) = invoke::<PersonSummariesCmd>(&NoArgs {}).await {
                            if alive.get() {
                                on_persons.emit(persons);
                            }
                        }
                        return;
                    }
                }
            });
        }
    };

    let on_pick = {
        let (status, error, select, poll) = (status.clone(), error.clone(), select.clone(), poll.clone());
        Callback::from(move |_: MouseEvent| {
            let person_id = select.cast::<HtmlSelectElement>().and_then(|s| s.value().parse::<i64>().ok());
            let (status, error, poll) = (status.clone(), error.clone(), poll.clone());
            spawn_local(async move {
                match invoke::<StartImportCmd>(&StartImportArgs { person_id }).await {
                    Ok(s) => {
                        error.set(None);
                        status.set(s);
                        poll();
                    }
                    Err(e) => error.set(Some(e.message)),
                }
            });
        })
    };

    let s = &*status;
    let busy = s.choosing || s.running;
    let pct = techo_ipc::percent(s.bytes_read, s.total_bytes);
    html! {
        <section class="import">
            <div class="import-head">
                <h2>{ t(lang, "import.title") }</h2>
                <button class="secondary-plain back" onclick={props.on_back.reform(|_: MouseEvent| ())}>{ t(lang, "back") }</button>
            </div>
            <p class="muted">{ t(lang, "import.intro") }</p>
            if let Some(e) = &*error { <p class="notice error" role="alert">{ e.clone() }</p> }
            <div class="import-bar">
                <label for="import-person">{ t(lang, "import.for") }</label>
                <select id="import-person" ref={select} disabled={busy}>
                    <option value="" selected={props.person.is_none()}>{ t(lang, "import.auto") }</option>
                    { for props.persons.iter().map(|p| html! {
                        <option value={p.id.to_string()} selected={props.person == Some(p.id)}>{ p.display_name.clone() }</option>
                    }) }
                </select>
                <button class="import-pick" onclick={on_pick} disabled={busy}>{ t(lang, "import.pick") }</button>
            </div>
            if s.choosing {
                <p class="import-state" role="status">{ t(lang, "import.choosing") }</p>
            } else if s.cancelled {
                <p class="import-state" role="status">{ t(lang, "import.cancelled") }</p>
            } else if !s.files.is_empty() {
                <div class="import-progress-box">
                    <p class="import-state" role="status">
                        { if s.running { t(lang, "import.running") } else { t(lang, "import.done") } }
                        { format!(" {pct}%") }
                    </p>
                    <progress class="import-progress" max={s.total_bytes.max(1).to_string()} value={s.bytes_read.to_string()}></progress>
                    <ul class="import-results">
                        { for s.files.iter().map(|f| html! {
                            <li class={classes!("import-result", match f.outcome {
                                ImportOutcome::Done { .. } => "done",
                                ImportOutcome::Failed { .. } => "failed",
                                _ => "pending",
                            })}>
                                <span class="file">{ f.name.clone() }</span>
                                { outcome_html(lang, &f.outcome) }
                            </li>
                        }) }
                    </ul>
                </div>
            }
            if let Some(e) = &s.error { <p class="notice error">{ e.clone() }</p> }
        </section>
    }
}
