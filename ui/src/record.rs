//! One person's record: the timeline across every source (paged from the shell, newest first,
//! grouped by local day), full-text search, and a record's detail (sources, versions, JSON);
//! from there the person's home vitals (`vitals.rs`).

use crate::ipc::invoke;
use crate::view;
use crate::vitals::Vitals;
use techo_ipc::{
    PersonSummary, RecordArgs, RecordCmd, RecordRow, RecordView, SearchArgs, SearchCmd, TimelineArgs, TimelineCmd,
    TimelineCursor,
};
use web_sys::HtmlInputElement;
use yew::platform::spawn_local;
use yew::prelude::*;

/// Rows asked for per page.
const PAGE: u32 = 100;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub person: PersonSummary,
    pub on_back: Callback<()>,
}

/// The browser's local day and time of a UTC instant (`YYYY-MM-DD`, `HH:MM`).
pub(crate) fn local(iso: &str) -> Option<(String, String)> {
    let d = js_sys::Date::new(&wasm_bindgen::JsValue::from_str(iso));
    let t = d.get_time();
    if t.is_nan() {
        return None;
    }
    Some((
        format!("{:04}-{:02}-{:02}", d.get_full_year(), d.get_month() + 1, d.get_date()),
        format!("{:02}:{:02}", d.get_hours(), d.get_minutes()),
    ))
}

#[component]
pub fn PersonView(props: &Props) -> Html {
    let rows = use_state(Vec::<RecordRow>::new);
    let next = use_state(|| None::<TimelineCursor>);
    let results = use_state(|| None::<(String, Vec<RecordRow>)>);
    let detail = use_state(|| None::<RecordView>);
    let error = use_state(|| None::<String>);
    let busy = use_state(|| false);
    let search_input = use_node_ref();
    // Whether the home vitals screen is open in place of the timeline.
    let vitals_open = use_state(|| false);
    // Counts the timeline loads: a page asked for before the timeline was reloaded is dropped.
    let loads = use_mut_ref(|| 0u64);
    let person_id = props.person.id;

    let load_page = {
        let (rows, next, error, busy, loads) = (rows.clone(), next.clone(), error.clone(), busy.clone(), loads.clone());
        move |after: Option<TimelineCursor>, mut have: Vec<RecordRow>| {
            let (rows, next, error, busy, loads) = (rows.clone(), next.clone(), error.clone(), busy.clone(), loads.clone());
            if after.is_none() {
                *loads.borrow_mut() += 1;
            }
            let mine = *loads.borrow();
            busy.set(true);
            spawn_local(async move {
                let answer = invoke::<TimelineCmd>(&TimelineArgs { person_id, after, limit: PAGE }).await;
                if *loads.borrow() != mine {
                    return;
                }
                match answer {
                    Ok(page) => {
                        have.extend(page.rows);
                        rows.set(have);
                        next.set(page.next);
                        error.set(None);
                    }
                    Err(e) => error.set(Some(e.message)),
                }
                busy.set(false);
            });
        }
    };

    {
        let load_page = load_page.clone();
        use_effect_with(person_id, move |_| load_page(None, Vec::new()));
    }

    let on_more = {
        let (rows, next, load_page) = (rows.clone(), next.clone(), load_page.clone());
        Callback::from(move |_: MouseEvent| {
            if let Some(cursor) = (*next).clone() {
                load_page(Some(cursor), (*rows).clone());
            }
        })
    };

    let on_search = {
        let (results, error, busy, input) = (results.clone(), error.clone(), busy.clone(), search_input.clone());
        Callback::from(move |ev: SubmitEvent| {
            ev.prevent_default();
            let Some(field) = input.cast::<HtmlInputElement>() else { return };
            let text = field.value();
            if text.trim().is_empty() {
                results.set(None);
                return;
            }
            if let Err(e) = techo_ipc::validate_search(&text) {
                error.set(Some(e.message));
                return;
            }
            let (results, error, busy) = (results.clone(), error.clone(), busy.clone());
            busy.set(true);
            spawn_local(async move {
                match invoke::<SearchCmd>(&SearchArgs { person_id, text: text.clone(), limit: PAGE }).await {
                    Ok(found) => {
                        results.set(Some((text, found)));
                        error.set(None);
                    }
                    Err(e) => error.set(Some(e.message)),
                }
                busy.set(false);
            });
        })
    };

    let on_clear = {
        let (results, input) = (results.clone(), search_input.clone());
        Callback::from(move |_: MouseEvent| {
            if let Some(field) = input.cast::<HtmlInputElement>() {
                field.set_value("");
            }
            results.set(None);
        })
    };

    let open = {
        let (detail, error) = (detail.clone(), error.clone());
        Callback::from(move |record_id: i64| {
            let (detail, error) = (detail.clone(), error.clone());
            spawn_local(async move {
                match invoke::<RecordCmd>(&RecordArgs { record_id }).await {
                    Ok(v) => detail.set(Some(v)),
                    Err(e) => error.set(Some(e.message)),
                }
            });
        })
    };

    let on_back = {
        let cb = props.on_back.clone();
        Callback::from(move |_: MouseEvent| cb.emit(()))
    };
    let on_open_vitals = {
        let vitals_open = vitals_open.clone();
        Callback::from(move |_: MouseEvent| vitals_open.set(true))
    };
    // Back from home vitals: the timeline from its first page, with the new entries on top.
    let on_close_vitals = {
        let (vitals_open, rows, next, results, detail, load_page) = (vitals_open.clone(), rows.clone(), next.clone(), results.clone(), detail.clone(), load_page.clone());
        Callback::from(move |_: ()| {
            rows.set(Vec::new());
            next.set(None);
            results.set(None);
            detail.set(None);
            vitals_open.set(false);
            load_page(None, Vec::new());
        })
    };
    let close_detail = {
        let detail = detail.clone();
        Callback::from(move |_: MouseEvent| detail.set(None))
    };

    let list = |rows: &[RecordRow], class: &'static str| -> Html {
        let groups = view::day_groups(rows, local);
        html! {
            <div class={classes!("entries", class)}>
                { for groups.into_iter().map(|(day, items)| html! {
                    <section class="day" key={day.clone()}>
                        <h3>{ day }</h3>
                        <ul>
                            { for items.into_iter().map(|(time, r)| {
                                let id = r.record_id;
                                let open = open.clone();
                                html! {
                                    <li class="entry" key={id.to_string()}>
                                        <button class="entry-open" onclick={Callback::from(move |_: MouseEvent| open.emit(id))}>
                                            <span class="time">{ time }</span>
                                            <span class="rtype">{ r.resource_type.clone() }</span>
                                            <span class="label">{ view::row_label(r) }</span>
                                            <span class="source">{ r.source.clone() }</span>
                                        </button>
                                    </li>
                                }
                            }) }
                        </ul>
                    </section>
                }) }
            </div>
        }
    };

    let main_list = match &*results {
        Some((text, found)) => html! {
            <>
                <p class="summary">
                    { format!("{} result{} for “{}”", view::format_count(found.len() as u64), if found.len() == 1 { "" } else { "s" }, text) }
                    { " " }<button class="secondary clear" onclick={on_clear}>{ "Back to the timeline" }</button>
                </p>
                { list(found, "results") }
            </>
        },
        None => html! {
            <>
                { list(&rows, "timeline") }
                if next.is_some() {
                    <button class="secondary more" onclick={on_more} disabled={*busy}>{ "Show older records" }</button>
                } else if !rows.is_empty() {
                    <p class="muted end">{ "That is everything in this record." }</p>
                } else if !*busy {
                    <p class="muted">{ "No records yet for this person." }</p>
                }
            </>
        },
    };

    let detail_html = match &*detail {
        None => html! {},
        Some(d) => html! {
            <aside class="detail">
                <div class="detail-head">
                    <h3>{ view::row_label(&d.row) }</h3>
                    <button class="secondary close" onclick={close_detail}>{ "Close" }</button>
                </div>
                <p class="muted">
                    { d.row.resource_type.clone() }
                    { d.row.clinical_date.as_deref().and_then(local).map(|(day, time)| format!(" · {day} {time}")).unwrap_or_default() }
                    { format!(" · version {}", d.row.version) }
                    if d.earlier_versions > 0 { { format!(" ({} earlier kept)", d.earlier_versions) } }
                </p>
                <h4>{ "Sources" }</h4>
                <ul class="sources">
                    { for d.sources.iter().map(|s| html! {
                        <li>{ format!("{} ({}) · received {}", s.source, s.kind, s.received_at) }</li>
                    }) }
                </ul>
                <h4>{ "FHIR JSON" }</h4>
                // Shown as text: nothing in a record is ever run or loaded.
                <pre class="json">{ d.json.clone() }</pre>
            </aside>
        },
    };

    if *vitals_open {
        return html! { <Vitals person={props.person.clone()} on_back={on_close_vitals} /> };
    }

    html! {
        <section class="person-view">
            <div class="person-head">
                <button class="secondary back" onclick={on_back}>{ "← All persons" }</button>
                <h2 class="whose">{ props.person.display_name.clone() }</h2>
                <span class="muted">{ format!("{} records", view::format_count(props.person.resource_count)) }</span>
                // Not `secondary`: "← All persons" stays the head's one secondary button.
                <button class="vitals-open" onclick={on_open_vitals}>{ "Home vitals" }</button>
            </div>
            <form class="search" onsubmit={on_search}>
                <input id="search" type="search" ref={search_input} placeholder="Search this record (血圧, HbA1c …)"
                    maxlength={techo_ipc::MAX_SEARCH_CHARS.to_string()} />
                <button type="submit" disabled={*busy}>{ "Search" }</button>
            </form>
            if let Some(e) = &*error { <p class="notice error" role="alert">{ e.clone() }</p> }
            <div class="columns">
                <div class="list">{ main_list }</div>
                { detail_html }
            </div>
        </section>
    }
}
