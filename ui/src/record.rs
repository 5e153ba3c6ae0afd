//! One person's record: the timeline across every source (paged from the shell, newest first,
//! grouped by local day, filtered by category, source and days, rendered virtually so that
//! 100,000 entries scroll smoothly), search as you type, a record's detail (its narrative and
//! attachments made safe by `narrative.rs`, sources, versions, JSON as text), the lab results
//! view (`labs_screen.rs`) and the home vitals (`vitals.rs`).

use crate::i18n_record::{self as ir, tr, trf};
use crate::ipc::invoke;
use crate::labs_screen::LabsView;
use crate::narrative;
use crate::view::{self, Line, SearchInput};
use crate::vitals::Vitals;
use std::time::Duration;
use techo_ipc::{
    Language, PersonSummary, RecordArgs, RecordCategory, RecordCmd, RecordRow, RecordSource, RecordSourcesArgs, RecordSourcesCmd, RecordVersionArgs,
    RecordVersionCmd, RecordVersionView, RecordView, SearchArgs, SearchCmd, TimelineArgs, TimelineCmd, TimelineCursor, TimelineFilter,
};
use web_sys::{Element, HtmlInputElement, HtmlSelectElement};
use yew::platform::spawn_local;
use yew::prelude::*;

/// Rows asked for per page.
const PAGE: u32 = 100;
/// The timeline's viewport height before it is measured, in CSS pixels.
const VIEWPORT_PX: f64 = 560.0;

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

fn entry_button(lang: Language, r: &RecordRow, time: String, open: &Callback<i64>) -> Html {
    let id = r.record_id;
    let open = open.clone();
    html! {
        <button class="entry-open" onclick={Callback::from(move |_: MouseEvent| open.emit(id))}>
            <span class="time">{ time }</span>
            <span class="rtype" title={r.resource_type.clone()}>{ ir::resource_type(lang, &r.resource_type) }</span>
            <span class="label">{ view::row_label(r) }</span>
            <span class="source">{ r.source.clone() }</span>
        </button>
    }
}

#[component]
pub fn PersonView(props: &Props) -> Html {
    let lang = use_context::<Language>().unwrap_or(Language::En);
    let rows = use_state(Vec::<RecordRow>::new);
    let next = use_state(|| None::<TimelineCursor>);
    let filter = use_state(TimelineFilter::default);
    let sources = use_state(Vec::<RecordSource>::new);
    let results = use_state(|| None::<(String, Vec<RecordRow>)>);
    let search_note = use_state(|| None::<String>);
    let detail = use_state(|| None::<RecordView>);
    // The open record's narrative, sanitized once when it opens (not on every render).
    let told = use_state(Vec::<narrative::Part>::new);
    let version = use_state(|| None::<RecordVersionView>);
    let error = use_state(|| None::<String>);
    let busy = use_state(|| false);
    let scroll = use_state(|| (0.0f64, VIEWPORT_PX));
    let list_ref = use_node_ref();
    let search_input = use_node_ref();
    let vitals_open = use_state(|| false);
    let labs_open = use_state(|| false);
    // Counts the timeline loads: a page asked for before the timeline was reloaded is dropped.
    let loads = use_mut_ref(view::Latest::default);
    // Counts searches: only the newest keystroke's answer is shown.
    let searches = use_mut_ref(view::Latest::default);
    // A page on its way (not state: two scroll events in one frame must not ask twice).
    let in_flight = use_mut_ref(|| false);
    let person_id = props.person.id;

    let load_page = {
        let (rows, next, error, busy, loads, in_flight) = (rows.clone(), next.clone(), error.clone(), busy.clone(), loads.clone(), in_flight.clone());
        move |filter: TimelineFilter, after: Option<TimelineCursor>, mut have: Vec<RecordRow>| {
            let (rows, next, error, busy, loads, in_flight) = (rows.clone(), next.clone(), error.clone(), busy.clone(), loads.clone(), in_flight.clone());
            let mine = if after.is_none() { loads.borrow_mut().begin() } else { loads.borrow().current() };
            *in_flight.borrow_mut() = true;
            busy.set(true);
            spawn_local(async move {
                let filter = (!filter.is_empty()).then_some(filter);
                let answer = invoke::<TimelineCmd>(&TimelineArgs { person_id, after, limit: PAGE, filter }).await;
                if !loads.borrow().is_current(mine) {
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
                *in_flight.borrow_mut() = false;
                busy.set(false);
            });
        }
    };

    // The first page again whenever the person or the filter changes.
    {
        let (load_page, list_ref, scroll, rows, next) = (load_page.clone(), list_ref.clone(), scroll.clone(), rows.clone(), next.clone());
        use_effect_with((person_id, (*filter).clone()), move |(_, f)| {
            if let Some(el) = list_ref.cast::<Element>() {
                el.set_scroll_top(0);
            }
            scroll.set((0.0, scroll.1));
            rows.set(Vec::new());
            next.set(None);
            load_page(f.clone(), None, Vec::new());
        });
    }
    // The sources for the filter, a page at a time.
    {
        let (sources, error) = (sources.clone(), error.clone());
        use_effect_with(person_id, move |_| {
            spawn_local(async move {
                let mut all = Vec::new();
                let mut after_id = None;
                loop {
                    match invoke::<RecordSourcesCmd>(&RecordSourcesArgs { after_id, limit: techo_ipc::MAX_PAGE }).await {
                        Ok(page) => {
                            let full = page.len() == techo_ipc::MAX_PAGE as usize;
                            after_id = page.last().map(|s| s.id);
                            all.extend(page);
                            if !full {
                                break;
                            }
                        }
                        Err(e) => {
                            error.set(Some(e.message));
                            break;
                        }
                    }
                }
                sources.set(all);
            });
        });
    }

    let lines = view::lines(&rows, local);
    let (start, end) = view::virtual_window(scroll.0, scroll.1, view::LINE_PX, lines.len(), view::OVERSCAN);

    let more = {
        let (rows, next, filter, load_page, in_flight) = (rows.clone(), next.clone(), filter.clone(), load_page.clone(), in_flight.clone());
        move || {
            if *in_flight.borrow() {
                return;
            }
            if let Some(cursor) = (*next).clone() {
                load_page((*filter).clone(), Some(cursor), (*rows).clone());
            }
        }
    };
    let on_more = {
        let more = more.clone();
        Callback::from(move |_: MouseEvent| more())
    };
    let on_scroll = {
        let (scroll, next, in_flight, rows) = (scroll.clone(), next.clone(), in_flight.clone(), rows.clone());
        let more = more.clone();
        Callback::from(move |e: Event| {
            let Some(el) = e.target_dyn_into::<Element>() else { return };
            let (top, height) = (f64::from(el.scroll_top()), f64::from(el.client_height()));
            scroll.set((top, if height > 0.0 { height } else { VIEWPORT_PX }));
            let len = view::lines(&rows, local).len();
            let (_, end) = view::virtual_window(top, height, view::LINE_PX, len, view::OVERSCAN);
            if view::wants_next_page(end, len, next.is_some(), *in_flight.borrow(), view::LOAD_AHEAD) {
                more();
            }
        })
    };

    let on_category = {
        let filter = filter.clone();
        Callback::from(move |e: Event| {
            let Some(sel) = e.target_dyn_into::<HtmlSelectElement>() else { return };
            filter.set(TimelineFilter { category: RecordCategory::from_slug(&sel.value()), ..(*filter).clone() });
        })
    };
    let on_source = {
        let filter = filter.clone();
        Callback::from(move |e: Event| {
            let Some(sel) = e.target_dyn_into::<HtmlSelectElement>() else { return };
            let v = sel.value();
            filter.set(TimelineFilter { source: (!v.is_empty()).then_some(v), ..(*filter).clone() });
        })
    };
    let on_day = |from: bool| {
        let (filter, error) = (filter.clone(), error.clone());
        Callback::from(move |e: Event| {
            let Some(input) = e.target_dyn_into::<HtmlInputElement>() else { return };
            let v = input.value();
            let day = (!v.is_empty()).then_some(v);
            let f = if from { TimelineFilter { from: day, ..(*filter).clone() } } else { TimelineFilter { to: day, ..(*filter).clone() } };
            match techo_ipc::validate_filter(&f) {
                Ok(()) => filter.set(f),
                Err(e) => error.set(Some(crate::i18n_errors::localized(e).message)),
            }
        })
    };
    let on_clear_filters = {
        let filter = filter.clone();
        Callback::from(move |_: MouseEvent| filter.set(TimelineFilter::default()))
    };

    // Search as you type: wait for a pause, then ask; only the newest answer is shown.
    let run_search = {
        let (results, search_note, error, searches) = (results.clone(), search_note.clone(), error.clone(), searches.clone());
        move |text: String, wait: bool| {
            let ticket = searches.borrow_mut().begin();
            let query = match view::search_input(&text) {
                SearchInput::Empty => {
                    results.set(None);
                    search_note.set(None);
                    return;
                }
                SearchInput::TooShort => {
                    search_note.set(Some(tr(lang, "search.too_short").into()));
                    return;
                }
                SearchInput::Ready(q) => q,
            };
            if let Err(e) = techo_ipc::validate_search(&query) {
                search_note.set(Some(crate::i18n_errors::localized(e).message));
                return;
            }
            let (results, search_note, error, searches) = (results.clone(), search_note.clone(), error.clone(), searches.clone());
            spawn_local(async move {
                if wait {
                    yew::platform::time::sleep(Duration::from_millis(u64::from(view::SEARCH_DEBOUNCE_MS))).await;
                    if !searches.borrow().is_current(ticket) {
                        return;
                    }
                }
                search_note.set(Some(tr(lang, "search.searching").into()));
                let answer = invoke::<SearchCmd>(&SearchArgs { person_id, text: query.clone(), limit: PAGE }).await;
                if !searches.borrow().is_current(ticket) {
                    return;
                }
                match answer {
                    Ok(found) => {
                        search_note.set(None);
                        results.set(Some((query, found)));
                        error.set(None);
                    }
                    Err(e) => search_note.set(Some(e.message)),
                }
            });
        }
    };
    let on_search_input = {
        let run_search = run_search.clone();
        Callback::from(move |e: InputEvent| {
            if let Some(input) = e.target_dyn_into::<HtmlInputElement>() {
                run_search(input.value(), true);
            }
        })
    };
    let on_search = {
        let (run_search, input) = (run_search.clone(), search_input.clone());
        Callback::from(move |ev: SubmitEvent| {
            ev.prevent_default();
            if let Some(field) = input.cast::<HtmlInputElement>() {
                run_search(field.value(), false);
            }
        })
    };
    let on_clear = {
        let (run_search, input) = (run_search.clone(), search_input.clone());
        Callback::from(move |_: MouseEvent| {
            if let Some(field) = input.cast::<HtmlInputElement>() {
                field.set_value("");
            }
            run_search(String::new(), false);
        })
    };

    let open = {
        let (detail, told, version, error) = (detail.clone(), told.clone(), version.clone(), error.clone());
        Callback::from(move |record_id: i64| {
            let (detail, told, version, error) = (detail.clone(), told.clone(), version.clone(), error.clone());
            spawn_local(async move {
                match invoke::<RecordCmd>(&RecordArgs { record_id }).await {
                    Ok(v) => {
                        version.set(None);
                        told.set(narrative::of_json(&v.json));
                        detail.set(Some(v));
                    }
                    Err(e) => error.set(Some(e.message)),
                }
            });
        })
    };
    let open_version = {
        let (version, error) = (version.clone(), error.clone());
        Callback::from(move |(record_id, v): (i64, i64)| {
            let (version, error) = (version.clone(), error.clone());
            spawn_local(async move {
                match invoke::<RecordVersionCmd>(&RecordVersionArgs { record_id, version: v }).await {
                    Ok(view) => version.set(Some(view)),
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
    let on_open_labs = {
        let labs_open = labs_open.clone();
        Callback::from(move |_: MouseEvent| labs_open.set(true))
    };
    let on_close_labs = {
        let labs_open = labs_open.clone();
        Callback::from(move |_: ()| labs_open.set(false))
    };
    // Back from home vitals: the timeline from its first page, with the new entries on top.
    let on_close_vitals = {
        let (vitals_open, rows, next, results, detail, filter, load_page) =
            (vitals_open.clone(), rows.clone(), next.clone(), results.clone(), detail.clone(), filter.clone(), load_page.clone());
        Callback::from(move |_: ()| {
            rows.set(Vec::new());
            next.set(None);
            results.set(None);
            detail.set(None);
            vitals_open.set(false);
            load_page((*filter).clone(), None, Vec::new());
        })
    };
    let close_detail = {
        let (detail, version) = (detail.clone(), version.clone());
        Callback::from(move |_: MouseEvent| {
            version.set(None);
            detail.set(None);
        })
    };

    // Search results: at most one page, not virtualized.
    let results_list = |found: &[RecordRow]| -> Html {
        let groups = view::day_groups(found, local);
        html! {
            <div class="entries results">
                { for groups.into_iter().map(|(day, items)| html! {
                    <section class="day" key={day.clone()}>
                        <h3>{ ir::day_label(lang, &day) }</h3>
                        <ul>
                            { for items.into_iter().map(|(time, r)| html! {
                                <li class="entry" key={r.record_id.to_string()}>{ entry_button(lang, r, time, &open) }</li>
                            }) }
                        </ul>
                    </section>
                }) }
            </div>
        }
    };

    let (above, below) = view::spacers(start, end, lines.len(), view::LINE_PX);
    let timeline = html! {
        <div class="entries timeline vlist" ref={list_ref.clone()} onscroll={on_scroll}
            data-loaded={rows.len().to_string()} data-complete={next.is_none().to_string()}>
            // Spacers as SVG heights: the strict CSP drops inline `style` attributes.
            <svg class="spacer" aria-hidden="true" width="1" height={above.to_string()}></svg>
            <ul class="vrows">
                { for lines[start..end].iter().map(|line| match line {
                    Line::Day(day) => html! {
                        <li class="day-head" key={format!("d{day}")}><h3>{ ir::day_label(lang, day) }</h3></li>
                    },
                    Line::Entry { time, index } => {
                        let r = &rows[*index];
                        html! {
                            <li class="entry" key={r.record_id.to_string()} data-index={index.to_string()}>
                                { entry_button(lang, r, time.clone(), &open) }
                            </li>
                        }
                    }
                }) }
            </ul>
            <svg class="spacer" aria-hidden="true" width="1" height={below.to_string()}></svg>
            if next.is_some() {
                <button class="secondary more" onclick={on_more} disabled={*busy}>{ tr(lang, "timeline.more") }</button>
            } else if !rows.is_empty() {
                <p class="muted end">{ tr(lang, "timeline.end") }</p>
            } else if !*busy {
                <p class="muted">{ tr(lang, if filter.is_empty() { "timeline.none" } else { "timeline.no_match" }) }</p>
            }
        </div>
    };

    let main_list = match &*results {
        Some((text, found)) => html! {
            <>
                <p class="summary results-summary">
                    { ir::results_summary(lang, found.len(), text) }
                    { " " }<button class="secondary clear" onclick={on_clear}>{ tr(lang, "search.back") }</button>
                </p>
                { results_list(found) }
            </>
        },
        None => html! {
            <>
                <p class="summary muted timeline-summary">{ view::loaded_label(lang, rows.len(), next.is_some(), !filter.is_empty()) }</p>
                { timeline }
            </>
        },
    };

    let detail_html = match &*detail {
        None => html! {},
        Some(d) => {
            let record_id = d.row.record_id;
            let current = d.row.version;
            let open_current = {
                let open_version = open_version.clone();
                Callback::from(move |_: MouseEvent| open_version.emit((record_id, current)))
            };
            html! {
                <aside class="detail">
                    <div class="detail-head">
                        <h3>{ view::row_label(&d.row) }</h3>
                        <button class="secondary close" onclick={close_detail}>{ tr(lang, "detail.close") }</button>
                    </div>
                    <p class="muted">
                        { ir::resource_type(lang, &d.row.resource_type) }
                        { d.row.clinical_date.as_deref().and_then(local).map(|(day, time)| format!(" · {}", ir::day_time_label(lang, &day, &time))).unwrap_or_default() }
                        { trf(lang, "detail.version", &[&d.row.version]) }
                        if d.earlier_versions > 0 { { trf(lang, "detail.earlier", &[&d.earlier_versions]) } }
                    </p>
                    // The narrative, sanitized (narrative.rs): nothing in it loads or runs.
                    { narrative::view(lang, &told) }
                    <h4>{ tr(lang, "detail.sources") }</h4>
                    <ul class="sources">
                        { for d.sources.iter().map(|s| html! {
                            <li>{ trf(lang, "detail.received", &[&s.source, &s.kind, &s.received_at]) }</li>
                        }) }
                    </ul>
                    <h4>{ tr(lang, "detail.versions") }</h4>
                    <ul class="versions">
                        { for d.versions.iter().map(|v| {
                            let (open_version, n) = (open_version.clone(), v.version);
                            html! {
                                <li>
                                    <button class="link version-open" onclick={Callback::from(move |_: MouseEvent| open_version.emit((record_id, n)))}>
                                        { trf(lang, "detail.version_n", &[&v.version]) }
                                    </button>
                                    { trf(lang, "detail.replaced", &[&v.source, &v.superseded_at]) }
                                </li>
                            }
                        }) }
                        <li class="current">
                            <button class="link version-open" onclick={open_current}>
                                { trf(lang, "detail.version_n", &[&current]) }
                            </button>
                            { trf(lang, "detail.current", &[&d.row.source]) }
                        </li>
                    </ul>
                    if let Some(v) = &*version {
                        if v.record_id == record_id {
                            <h4>{ trf(lang, "detail.json_of", &[&v.version]) }</h4>
                            // Shown as text: nothing in a record is ever run or loaded.
                            <pre class="json version-json">{ v.json.clone() }</pre>
                        }
                    }
                    <h4>{ tr(lang, "detail.json") }</h4>
                    // Shown as text (the narrative `text.div` in it too): nothing in a record is ever run or loaded.
                    <pre class="json">{ d.json.clone() }</pre>
                </aside>
            }
        }
    };

    if *vitals_open {
        return html! { <Vitals person={props.person.clone()} on_back={on_close_vitals} /> };
    }

    let category = filter.category.map(|c| c.slug()).unwrap_or("");
    let source = filter.source.clone().unwrap_or_default();
    let filters = html! {
        <form class="filters" onsubmit={Callback::from(|e: SubmitEvent| e.prevent_default())}>
            <label>{ tr(lang, "filter.category") }
                <select id="filter-category" onchange={on_category}>
                    { for view::category_options(lang).into_iter().map(|(value, words)| html! {
                        <option value={value} selected={value == category}>{ words }</option>
                    }) }
                </select>
            </label>
            <label>{ tr(lang, "filter.source") }
                <select id="filter-source" onchange={on_source}>
                    <option value="" selected={source.is_empty()}>{ tr(lang, "filter.all_sources") }</option>
                    { for sources.iter().map(|s| html! {
                        <option value={s.name.clone()} selected={s.name == source}>{ format!("{} ({})", s.name, view::format_count(s.records)) }</option>
                    }) }
                </select>
            </label>
            <label>{ tr(lang, "filter.from") }<input id="filter-from" type="date" value={filter.from.clone().unwrap_or_default()} onchange={on_day(true)} /></label>
            <label>{ tr(lang, "filter.to") }<input id="filter-to" type="date" value={filter.to.clone().unwrap_or_default()} onchange={on_day(false)} /></label>
            if !filter.is_empty() {
                <button type="button" class="secondary clear-filters" onclick={on_clear_filters}>{ tr(lang, "filter.clear") }</button>
            }
        </form>
    };

    html! {
        <section class="person-view">
            <div class="person-head">
                <button class="secondary back" onclick={on_back}>{ tr(lang, "record.back") }</button>
                <h2 class="whose">{ props.person.display_name.clone() }</h2>
                <span class="muted">{ ir::count(lang, "record.count", props.person.resource_count) }</span>
                // Not `secondary`: "← All persons" stays the head's one secondary button.
                <button class="labs-open" onclick={on_open_labs}>{ tr(lang, "record.labs") }</button>
                <button class="vitals-open" onclick={on_open_vitals}>{ tr(lang, "record.vitals") }</button>
            </div>
            <form class="search" onsubmit={on_search}>
                <input id="search" type="search" ref={search_input} placeholder={tr(lang, "search.placeholder")}
                    maxlength={techo_ipc::MAX_SEARCH_CHARS.to_string()} oninput={on_search_input} />
                <button type="submit">{ tr(lang, "search.button") }</button>
            </form>
            if let Some(n) = &*search_note { <p class="muted search-note" role="status">{ n.clone() }</p> }
            if let Some(e) = &*error { <p class="notice error" role="alert">{ e.clone() }</p> }
            if *labs_open {
                <div class="columns">
                    <div class="list">
                        <LabsView person_id={person_id} source={filter.source.clone()} on_back={on_close_labs} on_open={open.clone()} />
                    </div>
                    { detail_html }
                </div>
            } else {
                { filters }
                <div class="columns">
                    <div class="list">{ main_list }</div>
                    { detail_html }
                </div>
            }
        </section>
    }
}
