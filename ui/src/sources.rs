//! The sources screen: the vault's FHIR endpoints (hospitals, clinics), signing in to them in
//! the system browser, syncing with live progress, the background schedule and each
//! endpoint's latest report.
//!
//! Only names, states, counts and sentences reach this screen (never health data or a token),
//! and nothing here logs. Asking the shell how a sync is going is not the person using the
//! window: the polling below never sends `keep_alive`.

use crate::i18n_sources::{tr, trf};
use crate::ipc::invoke;
use crate::record::local;
use crate::sources_view as sv;
use std::cell::{Cell, RefCell};
use std::future::Future;
use std::rc::Rc;
use techo_ipc::{
    validate_endpoint_url, validate_interval, AddDemoHospitalCmd, AddEndpointArgs, AddEndpointCmd, BeginSignInCmd,
    EndpointArgs, EndpointView, EndpointsCmd, IpcError, Language, NoArgs, PersonArgs, PersonSummariesCmd, PersonSummary,
    SetSyncIntervalCmd, SignInPhase, SignInState, SignOutCmd, SyncIntervalArgs, SyncNowArgs, SyncNowCmd, SyncReport,
    SyncStatus, SyncStatusCmd, MAX_URL_CHARS, SYNC_INTERVALS,
};
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::platform::spawn_local;
use yew::prelude::*;

/// While nothing runs, the screen asks for the status every this many seconds (every second
/// while a sync runs or a sign-in is pending).
const SLOW_POLL_SECONDS: u32 = 15;

#[derive(Properties, PartialEq)]
pub struct Props {
    /// The vault's persons, for whose record each source feeds.
    pub persons: Vec<PersonSummary>,
    pub on_back: Callback<()>,
    /// The persons changed (a sync brought records, a source brought a new "Me"): the new list,
    /// for the counts outside this screen.
    pub on_persons: Callback<Vec<PersonSummary>>,
}

#[derive(Clone, PartialEq)]
enum Notice {
    Error(String),
    Note(String),
}

/// What the status poll and the buttons share between renders.
#[derive(Default)]
struct Track {
    /// Whether the latest status said a sync runs.
    running: bool,
    /// The sign-in page of a sign-in the window waits for.
    waiting: Option<String>,
    /// A finished sign-in the person closed (or one from before the screen opened): not shown.
    dismissed: Option<String>,
    /// Whether a status arrived yet.
    loaded: bool,
    /// Bumped whenever a button's answer is applied: a status asked for before that is stale.
    epoch: u64,
}

/// The screen's state handles plus [`Track`], cloned into callbacks and the poll.
#[derive(Clone)]
struct Shared {
    endpoints: UseStateHandle<Option<Vec<EndpointView>>>,
    persons: UseStateHandle<Vec<PersonSummary>>,
    status: UseStateHandle<Option<SyncStatus>>,
    sign_in: UseStateHandle<Option<SignInState>>,
    notice: UseStateHandle<Option<Notice>>,
    track: Rc<RefCell<Track>>,
    on_persons: Callback<Vec<PersonSummary>>,
}

impl Shared {
    fn refresh_endpoints(&self) {
        let (endpoints, notice) = (self.endpoints.clone(), self.notice.clone());
        spawn_local(async move {
            match invoke::<EndpointsCmd>(&NoArgs {}).await {
                Ok(list) => endpoints.set(Some(list)),
                Err(e) => notice.set(Some(Notice::Error(e.message))),
            }
        });
    }

    /// Persons can appear with a source (a new "Me" in an empty vault).
    fn refresh_persons(&self) {
        let (persons, on_persons) = (self.persons.clone(), self.on_persons.clone());
        spawn_local(async move {
            if let Ok(list) = invoke::<PersonSummariesCmd>(&NoArgs {}).await {
                persons.set(list.clone());
                on_persons.emit(list);
            }
        });
    }

    /// A status answered by a button's command: newer than any poll still on its way.
    fn fresh_status(&self, s: SyncStatus) {
        self.track.borrow_mut().epoch += 1;
        self.apply_status(s);
    }

    fn apply_status(&self, s: SyncStatus) {
        let mut t = self.track.borrow_mut();
        let finished = t.running && !s.running;
        t.running = s.running;
        let mut sign_in_ended = false;
        if let Some(si) = &s.sign_in {
            let url = Some(si.authorize_url.as_str());
            if !t.loaded && si.phase != SignInPhase::Waiting {
                // Finished before this screen opened: old news.
                t.dismissed = Some(si.authorize_url.clone());
            } else if t.dismissed.as_deref() != url {
                sign_in_ended = si.phase != SignInPhase::Waiting && t.waiting.as_deref() == url;
                t.waiting = (si.phase == SignInPhase::Waiting).then(|| si.authorize_url.clone());
                self.sign_in.set(Some(si.clone()));
            }
        }
        t.loaded = true;
        drop(t);
        if finished || sign_in_ended {
            // New last-sync times and states (signed in, or needing a sign-in again).
            self.refresh_endpoints();
        }
        if finished {
            // New records: new counts.
            self.refresh_persons();
        }
        self.status.set(Some(s));
    }

    /// The answer of `begin_sign_in`: the browser is open (or the sign-in ended at once).
    fn began_sign_in(&self, si: SignInState) {
        let mut t = self.track.borrow_mut();
        t.epoch += 1;
        t.dismissed = None;
        t.waiting = (si.phase == SignInPhase::Waiting).then(|| si.authorize_url.clone());
        drop(t);
        if si.phase != SignInPhase::Waiting {
            self.refresh_endpoints();
        }
        self.sign_in.set(Some(si));
    }

    /// Puts an added endpoint into the list (or replaces it there).
    fn upsert(&self, ep: EndpointView) {
        let mut list = (*self.endpoints).clone().unwrap_or_default();
        match list.iter_mut().find(|e| e.id == ep.id) {
            Some(e) => *e = ep,
            None => list.push(ep),
        }
        self.endpoints.set(Some(list));
        // The list read above may be a render old: ask the shell as well.
        self.refresh_endpoints();
    }
}

/// Runs one command with the buttons disabled meanwhile; its error becomes the notice.
fn act(
    busy: &UseStateHandle<bool>,
    notice: &UseStateHandle<Option<Notice>>,
    work: impl Future<Output = Result<(), IpcError>> + 'static,
) {
    let (busy, notice) = (busy.clone(), notice.clone());
    busy.set(true);
    spawn_local(async move {
        if let Err(e) = work.await {
            notice.set(Some(Notice::Error(e.message)));
        }
        busy.set(false);
    });
}

/// The text of an input (empty when it is not in the page).
fn input_value(field: &NodeRef) -> String {
    field.cast::<HtmlInputElement>().map(|f| f.value()).unwrap_or_default()
}

/// An optional text field: `None` when blank.
fn optional(text: String) -> Option<String> {
    let t = text.trim();
    (!t.is_empty()).then(|| t.to_string())
}

/// The person chosen in a select of persons (`None` without one).
fn chosen_person(select: &NodeRef, persons: &[PersonSummary]) -> Option<i64> {
    select
        .cast::<HtmlSelectElement>()
        .and_then(|s| s.value().parse().ok())
        .or_else(|| persons.first().map(|p| p.id))
}

#[component]
pub fn Sources(props: &Props) -> Html {
    // The app's language (English until the app provides one).
    let lang = use_context::<Language>().unwrap_or(Language::En);
    let endpoints = use_state(|| None::<Vec<EndpointView>>);
    let persons = use_state(|| props.persons.clone());
    let status = use_state(|| None::<SyncStatus>);
    let sign_in = use_state(|| None::<SignInState>);
    let notice = use_state(|| None::<Notice>);
    let busy = use_state(|| false);
    let track = use_mut_ref(Track::default);
    let url_input = use_node_ref();
    let name_input = use_node_ref();
    let person_select = use_node_ref();
    let patient_input = use_node_ref();
    let demo_person = use_node_ref();

    let shared = Shared {
        endpoints: endpoints.clone(),
        persons: persons.clone(),
        status: status.clone(),
        sign_in: sign_in.clone(),
        notice: notice.clone(),
        track,
        on_persons: props.on_persons.clone(),
    };

    // On open: the endpoints, then the status, again every second while a sync runs or a
    // sign-in is pending and every 15 s otherwise, until the screen closes.
    {
        let shared = shared.clone();
        use_effect_with((), move |_| {
            let stop = Rc::new(Cell::new(false));
            shared.refresh_endpoints();
            {
                let stop = stop.clone();
                spawn_local(async move {
                    let mut since = SLOW_POLL_SECONDS;
                    loop {
                        if stop.get() {
                            return;
                        }
                        let (fast, loaded) = {
                            let t = shared.track.borrow();
                            (t.running || t.waiting.is_some(), t.loaded)
                        };
                        if fast || since >= SLOW_POLL_SECONDS {
                            since = 0;
                            let epoch = shared.track.borrow().epoch;
                            let answer = invoke::<SyncStatusCmd>(&NoArgs {}).await;
                            if stop.get() {
                                return;
                            }
                            match answer {
                                Ok(s) if shared.track.borrow().epoch == epoch => shared.apply_status(s),
                                Ok(_) => {} // a button's answer came meanwhile: this one is older
                                // Say it once; the app notices a locked vault by itself.
                                Err(e) if !loaded => shared.notice.set(Some(Notice::Error(e.message))),
                                Err(_) => {}
                            }
                        }
                        yew::platform::time::sleep(std::time::Duration::from_secs(1)).await;
                        since += 1;
                    }
                });
            }
            move || stop.set(true)
        });
    }

    let running = status.as_ref().is_some_and(|s| s.running);

    let on_back = {
        let cb = props.on_back.clone();
        Callback::from(move |_: MouseEvent| cb.emit(()))
    };

    let on_sync = {
        let (shared, busy) = (shared.clone(), busy.clone());
        Callback::from(move |endpoint_ids: Vec<i64>| {
            if *busy {
                return;
            }
            shared.notice.set(None);
            let s = shared.clone();
            act(&busy, &shared.notice, async move {
                let status = invoke::<SyncNowCmd>(&SyncNowArgs { endpoint_ids }).await?;
                s.fresh_status(status);
                Ok(())
            });
        })
    };

    let on_sign_in = {
        let (shared, busy) = (shared.clone(), busy.clone());
        Callback::from(move |endpoint_id: i64| {
            if *busy {
                return;
            }
            shared.notice.set(None);
            let s = shared.clone();
            act(&busy, &shared.notice, async move {
                let state = invoke::<BeginSignInCmd>(&EndpointArgs { endpoint_id }).await?;
                s.began_sign_in(state);
                Ok(())
            });
        })
    };

    let on_sign_out = {
        let (shared, busy) = (shared.clone(), busy.clone());
        Callback::from(move |(endpoint_id, name): (i64, String)| {
            if *busy {
                return;
            }
            let s = shared.clone();
            act(&busy, &shared.notice, async move {
                let list = invoke::<SignOutCmd>(&EndpointArgs { endpoint_id }).await?;
                s.endpoints.set(Some(list));
                s.notice.set(Some(Notice::Note(trf(lang, "signed_out", &[&name]))));
                Ok(())
            });
        })
    };

    let on_add_demo = {
        let (shared, busy, demo_person) = (shared.clone(), busy.clone(), demo_person.clone());
        Callback::from(move |_: MouseEvent| {
            if *busy {
                return;
            }
            let person_id = chosen_person(&demo_person, &shared.persons);
            let s = shared.clone();
            shared.notice.set(None);
            act(&busy, &shared.notice, async move {
                let ep = invoke::<AddDemoHospitalCmd>(&PersonArgs { person_id }).await?;
                let next = if sv::offers_sign_in(ep.smart, ep.signed_in, ep.state) {
                    tr(lang, "next_sign_in")
                } else {
                    tr(lang, "next_sync")
                };
                s.notice.set(Some(Notice::Note(trf(lang, "added", &[&ep.name, &next]))));
                s.upsert(ep);
                s.refresh_persons();
                Ok(())
            });
        })
    };

    let on_add_endpoint = {
        let (shared, busy) = (shared.clone(), busy.clone());
        let fields = (
            url_input.clone(),
            name_input.clone(),
            person_select.clone(),
            patient_input.clone(),
        );
        Callback::from(move |ev: SubmitEvent| {
            ev.prevent_default();
            if *busy {
                return;
            }
            let (url_field, name_field, person_field, patient_field) = fields.clone();
            let url = input_value(&url_field).trim().to_string();
            if let Err(e) = validate_endpoint_url(&url) {
                shared.notice.set(Some(Notice::Error(crate::i18n_errors::localized(e).message)));
                if let Some(f) = url_field.cast::<HtmlInputElement>() {
                    let _ = f.focus();
                }
                return;
            }
            let args = AddEndpointArgs {
                url,
                name: optional(input_value(&name_field)),
                person_id: chosen_person(&person_field, &shared.persons),
                patient: optional(input_value(&patient_field)),
            };
            shared.notice.set(None);
            let s = shared.clone();
            act(&busy, &shared.notice, async move {
                let ep = invoke::<AddEndpointCmd>(&args).await?;
                for f in [&url_field, &name_field, &patient_field] {
                    if let Some(f) = f.cast::<HtmlInputElement>() {
                        f.set_value("");
                    }
                }
                let next = if sv::offers_sign_in(ep.smart, ep.signed_in, ep.state) {
                    tr(lang, "next_sign_in")
                } else {
                    tr(lang, "next_sync")
                };
                s.notice.set(Some(Notice::Note(trf(lang, "added", &[&ep.name, &next]))));
                s.upsert(ep);
                s.refresh_persons();
                Ok(())
            });
        })
    };

    let on_interval = {
        let (shared, busy) = (shared.clone(), busy.clone());
        let current = status.as_ref().and_then(|s| s.interval_minutes);
        Callback::from(move |ev: Event| {
            let Some(select) = ev.target_dyn_into::<HtmlSelectElement>() else {
                return;
            };
            // Checked here too: only an offered interval goes to the shell.
            let chosen = sv::parse_interval(&select.value()).ok_or(()).and_then(|m| {
                validate_interval(m)
                    .map(|_| m)
                    .map_err(|e| shared.notice.set(Some(Notice::Error(crate::i18n_errors::localized(e).message))))
            });
            let Ok(minutes) = chosen else {
                select.set_value(&sv::interval_value(current));
                return;
            };
            let s = shared.clone();
            shared.notice.set(None);
            act(&busy, &shared.notice, async move {
                match invoke::<SetSyncIntervalCmd>(&SyncIntervalArgs { minutes }).await {
                    Ok(status) => {
                        s.fresh_status(status);
                        Ok(())
                    }
                    Err(e) => {
                        select.set_value(&sv::interval_value(current));
                        Err(e)
                    }
                }
            });
        })
    };

    let on_dismiss_sign_in = {
        let shared = shared.clone();
        Callback::from(move |_: MouseEvent| {
            if let Some(si) = &*shared.sign_in {
                let mut t = shared.track.borrow_mut();
                t.dismissed = Some(si.authorize_url.clone());
                t.waiting = None;
            }
            shared.sign_in.set(None);
        })
    };

    // ---- the page ----

    let notice_html = match &*notice {
        Some(Notice::Error(m)) => html! { <p class="notice error" role="alert">{ m.clone() }</p> },
        Some(Notice::Note(m)) => html! { <p class="notice note" role="status">{ m.clone() }</p> },
        None => html! {},
    };

    let sign_in_html = match &*sign_in {
        None => html! {},
        Some(si) => {
            let (phase, headline) = match si.phase {
                SignInPhase::Waiting => (
                    "waiting",
                    trf(lang, "signing_in", &[&si.endpoint]),
                ),
                SignInPhase::Done => ("done", trf(lang, "signed_in_to", &[&si.endpoint])),
                SignInPhase::Failed => ("failed", trf(lang, "sign_in_failed", &[&si.endpoint])),
            };
            html! {
                <div class={classes!("sign-in-panel", phase)} role="status" aria-live="polite">
                    <p class="sign-in-message">{ headline }</p>
                    // The shell's own sentence for a done sign-in only repeats the headline.
                    if let Some(m) = si.message.as_ref().filter(|_| si.phase != SignInPhase::Done) {
                        <p class="sign-in-detail">{ m.clone() }</p>
                    }
                    if si.phase == SignInPhase::Waiting {
                        <p class="sign-in-hint">{ tr(lang, "sign_in_hint") }</p>
                        <p class="sign-in-url" tabindex="0">{ si.authorize_url.clone() }</p>
                    } else {
                        <button class="secondary sign-in-close" onclick={on_dismiss_sign_in}>{ tr(lang, "close") }</button>
                    }
                </div>
            }
        }
    };

    let interval_now = status.as_ref().and_then(|s| s.interval_minutes);
    let schedule_html = html! {
        <div class="schedule">
            <label for="sync-interval">{ tr(lang, "schedule") }</label>
            <select id="sync-interval" class="sync-interval" name="interval" onchange={on_interval}
                disabled={*busy || status.is_none()}>
                { for std::iter::once(None).chain(SYNC_INTERVALS.iter().copied().map(Some)).map(|m| html! {
                    <option value={sv::interval_value(m)} selected={m == interval_now}>{ sv::interval_label(lang, m) }</option>
                }) }
            </select>
            if let Some(secs) = status.as_ref().and_then(|s| s.interval_minutes.and(s.next_sync_in_seconds)) {
                <span class="next-sync muted">{ sv::next_sync_label(lang, secs) }</span>
            }
        </div>
    };

    let has_endpoints = endpoints.as_ref().is_some_and(|l| !l.is_empty());
    let sync_bar = html! {
        <div class="sync-bar">
            <button class="sync-all" disabled={*busy || running || !has_endpoints}
                onclick={on_sync.reform(|_: MouseEvent| Vec::new())}>
                { if running { tr(lang, "syncing") } else { tr(lang, "sync_all") } }
            </button>
            { schedule_html }
        </div>
    };

    let progress_html = match &*status {
        Some(s) if s.running => html! {
            <div class="sync-progress" role="status" aria-live="polite">
                <p class="sync-progress-head">{ tr(lang, "progress_head") }</p>
                <ul>
                    { for s.progress.iter().map(|p| html! {
                        <li key={p.endpoint_id.to_string()} data-endpoint-id={p.endpoint_id.to_string()}>{ sv::progress_line(lang, p) }</li>
                    }) }
                </ul>
            </div>
        },
        _ => html! {},
    };

    let run_error = match status.as_ref().and_then(|s| s.error.clone()) {
        Some(e) if !running => html! { <p class="notice error sync-error" role="alert">{ e }</p> },
        _ => html! {},
    };

    let list_html = match &*endpoints {
        None if notice.is_none() => html! { <p class="muted">{ tr(lang, "loading") }</p> },
        None => html! {},
        Some(list) if list.is_empty() => html! {
            <p class="muted no-endpoints">{ tr(lang, "empty") }</p>
        },
        Some(list) => html! {
            <ul class="endpoints">
                { for list.iter().map(|ep| endpoint_card(lang, ep, &persons, *busy, running, &on_sign_in, &on_sync, &on_sign_out)) }
            </ul>
        },
    };

    let reports_html = match &*status {
        Some(s) if !s.reports.is_empty() => html! {
            <section class="sync-reports">
                <h3>{ tr(lang, "latest") }</h3>
                { for s.reports.iter().map(|r| report_card(lang, r)) }
            </section>
        },
        _ => html! {},
    };

    let has_demo = endpoints.as_ref().is_some_and(|l| l.iter().any(|e| e.demo));
    let demo_html = if endpoints.is_some() && !has_demo {
        html! {
            <div class="demo-offer">
                <p>{ tr(lang, "demo_offer") }</p>
                <div class="demo-actions">
                    if persons.len() > 1 {
                        <label for="demo-person">{ tr(lang, "demo_for") }</label>
                        <select id="demo-person" ref={demo_person}>
                            { for persons.iter().map(|p| html! { <option value={p.id.to_string()}>{ p.display_name.clone() }</option> }) }
                        </select>
                    }
                    <button class="add-demo" onclick={on_add_demo} disabled={*busy}>{ tr(lang, "add_demo") }</button>
                </div>
            </div>
        }
    } else {
        html! {}
    };

    let add_form = html! {
        <form class="add-endpoint" onsubmit={on_add_endpoint}>
            <h3>{ tr(lang, "add_title") }</h3>
            <p class="muted">{ tr(lang, "add_intro") }</p>
            <div class="field">
                <label for="endpoint-url">{ tr(lang, "url") }</label>
                <input id="endpoint-url" name="url" type="url" ref={url_input} required=true
                    placeholder="https://fhir.example-hospital.jp/r4" maxlength={MAX_URL_CHARS.to_string()}
                    autocomplete="off" spellcheck="false" readonly={*busy} />
            </div>
            <div class="field">
                <label for="endpoint-name">{ tr(lang, "name") }</label>
                <input id="endpoint-name" name="name" type="text" ref={name_input}
                    placeholder={tr(lang, "name_placeholder")} maxlength="200" autocomplete="off" readonly={*busy} />
            </div>
            if !persons.is_empty() {
                <div class="field">
                    <label for="endpoint-person">{ tr(lang, "whose") }</label>
                    <select id="endpoint-person" name="person" ref={person_select} disabled={*busy}>
                        { for persons.iter().map(|p| html! { <option value={p.id.to_string()}>{ p.display_name.clone() }</option> }) }
                    </select>
                </div>
            }
            <div class="field">
                <label for="endpoint-patient">{ tr(lang, "patient") }</label>
                <input id="endpoint-patient" name="patient" type="text" ref={patient_input}
                    maxlength="200" autocomplete="off" spellcheck="false" readonly={*busy} />
            </div>
            <button type="submit" disabled={*busy}>{ tr(lang, "add") }</button>
        </form>
    };

    html! {
        <section class="sources">
            <div class="sources-head">
                <button class="secondary back sources-close" onclick={on_back}>{ tr(lang, "back") }</button>
                <h2>{ tr(lang, "title") }</h2>
                <span class="muted">{ tr(lang, "subtitle") }</span>
            </div>
            { notice_html }
            { sign_in_html }
            { sync_bar }
            { run_error }
            { progress_html }
            { list_html }
            { reports_html }
            <div class="add-sources">
                { demo_html }
                { add_form }
            </div>
        </section>
    }
}

#[allow(clippy::too_many_arguments)]
fn endpoint_card(
    lang: Language,
    ep: &EndpointView,
    persons: &[PersonSummary],
    busy: bool,
    running: bool,
    on_sign_in: &Callback<i64>,
    on_sync: &Callback<Vec<i64>>,
    on_sign_out: &Callback<(i64, String)>,
) -> Html {
    let id = ep.id;
    let name = ep.name.clone();
    html! {
        <li class="endpoint" key={id.to_string()} data-endpoint-id={id.to_string()} data-state={sv::state_class(ep.state)}>
            <div class="endpoint-head">
                <h3 class="endpoint-name">{ ep.name.clone() }</h3>
                <span class={classes!("badge", "state", sv::state_class(ep.state))}>{ sv::state_label(lang, ep.state) }</span>
                if ep.demo { <span class="badge demo">{ tr(lang, "demo") }</span> }
            </div>
            <dl class="endpoint-facts">
                if let Some(f) = &ep.facility {
                    <dt>{ tr(lang, "facility") }</dt><dd class="facility">{ f.clone() }</dd>
                }
                <dt>{ tr(lang, "address") }</dt><dd class="base-url">{ ep.base_url.clone() }</dd>
                <dt>{ tr(lang, "whose") }</dt><dd class="person">{ sv::person_name(lang, persons, ep.person_id) }</dd>
                <dt>{ tr(lang, "sign_in_row") }</dt>
                <dd class="signed-in">{ match (ep.smart, ep.signed_in) {
                    (false, _) => tr(lang, "not_needed"),
                    (true, true) => tr(lang, "signed_in"),
                    (true, false) => tr(lang, "not_signed_in"),
                } }</dd>
                <dt>{ tr(lang, "last_sync") }</dt><dd class="last-sync">{ sv::last_sync_label(lang, ep.last_sync_at.as_deref(), local) }</dd>
            </dl>
            if let Some(m) = &ep.message {
                <p class="endpoint-message">{ m.clone() }</p>
            }
            <div class="endpoint-actions">
                if sv::offers_sign_in(ep.smart, ep.signed_in, ep.state) {
                    <button class="sign-in" disabled={busy} onclick={on_sign_in.reform(move |_: MouseEvent| id)}>{ tr(lang, "sign_in") }</button>
                }
                <button class="secondary sync-one" disabled={busy || running}
                    onclick={on_sync.reform(move |_: MouseEvent| vec![id])}>{ tr(lang, "sync_now") }</button>
                if ep.signed_in {
                    <button class="secondary sign-out" disabled={busy}
                        onclick={on_sign_out.reform(move |_: MouseEvent| (id, name.clone()))}>{ tr(lang, "sign_out") }</button>
                }
            </div>
        </li>
    }
}

fn report_card(lang: Language, r: &SyncReport) -> Html {
    let (errors, more) = sv::first_errors(r);
    html! {
        <article class={classes!("sync-report", sv::outcome_class(&r.outcome))} key={r.endpoint_id.to_string()}
            data-endpoint-id={r.endpoint_id.to_string()}>
            <h4>
                <span class="report-endpoint">{ r.endpoint.clone() }</span>
                <span class="badge outcome">{ sv::outcome_label(lang, &r.outcome) }</span>
            </h4>
            <p class="report-counts">{ sv::report_summary(lang, r) }</p>
            <p class="report-when muted">
                { trf(lang, "started_took", &[&sv::last_sync_label(lang, Some(&r.started_at), local), &sv::duration_label(lang, r.duration_ms)]) }
            </p>
            if !errors.is_empty() {
                <ul class="report-errors">
                    { for errors.iter().map(|e| html! { <li>{ e.clone() }</li> }) }
                    if more > 0 { <li class="more-errors">{ trf(lang, "more_errors", &[&more]) }</li> }
                </ul>
            }
        </article>
    }
}
