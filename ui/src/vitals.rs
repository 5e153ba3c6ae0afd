//! One person's home vitals: enter a reading (blood pressure, temperature, weight …) or a
//! diary entry (mood / symptoms, asthma, joint pain), see a kind's readings (home and hospital
//! together) on a chart and in a list, the diary in a list and on a month calendar, and the
//! home blood-pressure handbook (weekly morning / evening averages against a target, printable).
//!
//! Readings are health data: they are shown here and sent to the shell only, never logged.

use crate::i18n_vitals::{self as iv, tr, trf};
use crate::ipc::invoke;
use crate::record::local;
use crate::vitals_view as vv;
use techo_ipc::{
    AddDiaryCmd, AddVitalCmd, BpHandbook, DeleteEntryCmd, RecordIdArgs, BpHandbookCmd, DiariesCmd, DiaryOptions, DiaryOptionsCmd, DiaryView, HandbookArgs, Language, NoArgs,
    PersonIdArgs, PersonSummary, SessionAvg, SetBpTargetCmd, VitalKindInfo, VitalKindsCmd, VitalPoint, VitalsArgs, VitalsCmd,
};
use web_sys::{HtmlInputElement, HtmlSelectElement, HtmlTextAreaElement};
use yew::platform::spawn_local;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub person: PersonSummary,
    pub on_back: Callback<()>,
}

/// A form's message: an error, or a note of one or more lines (saved, then any warnings).
#[derive(Clone, PartialEq)]
enum Notice {
    Error(String),
    Note(Vec<String>),
}

fn notice_html(notice: &Option<Notice>) -> Html {
    match notice {
        Some(Notice::Error(m)) => html! { <p class="notice error" role="alert">{ m.clone() }</p> },
        Some(Notice::Note(lines)) => html! {
            <p class="notice note" role="status">
                { for lines.iter().enumerate().map(|(i, l)| html! {
                    <span class={if i == 0 { "notice-line" } else { "notice-line warning" }}>{ l.clone() }</span>
                }) }
            </p>
        },
        None => html! {},
    }
}

/// The browser's local time now, as an `<input type=datetime-local>` value.
fn now_local() -> String {
    let d = js_sys::Date::new_0();
    vv::local_input_time(d.get_full_year(), d.get_month() + 1, d.get_date(), d.get_hours(), d.get_minutes())
}

/// The browser's local day today: `(year, month from 1, day)`.
fn today() -> (i32, u32, u32) {
    let d = js_sys::Date::new_0();
    (d.get_full_year() as i32, d.get_month() + 1, d.get_date())
}

/// An RFC 3339 time in ms since the epoch (`None` when the browser cannot read it).
fn epoch_ms(at: &str) -> Option<f64> {
    let t = js_sys::Date::parse(at);
    (!t.is_nan()).then_some(t)
}

/// Local `YYYY-MM-DD HH:MM` of an RFC 3339 time (the text itself when unreadable).
fn when(at: &str) -> String {
    local(at).map_or_else(|| at.to_string(), |(day, time)| format!("{day} {time}"))
}

fn input_value(field: &NodeRef) -> String {
    field.cast::<HtmlInputElement>().map(|f| f.value()).unwrap_or_default()
}

fn select_value(field: &NodeRef) -> String {
    field.cast::<HtmlSelectElement>().map(|f| f.value()).unwrap_or_default()
}

fn textarea_value(field: &NodeRef) -> String {
    field.cast::<HtmlTextAreaElement>().map(|f| f.value()).unwrap_or_default()
}

/// The reading form's fields.
#[derive(Clone, Default)]
struct VitalFields {
    at: NodeRef,
    value: NodeRef,
    unit: NodeRef,
    systolic: NodeRef,
    diastolic: NodeRef,
    pulse: NodeRef,
    context: NodeRef,
}

impl VitalFields {
    fn read(&self) -> vv::VitalForm {
        vv::VitalForm {
            at: input_value(&self.at),
            value: input_value(&self.value),
            unit: select_value(&self.unit),
            systolic: input_value(&self.systolic),
            diastolic: input_value(&self.diastolic),
            pulse: input_value(&self.pulse),
            context: select_value(&self.context),
        }
    }
}

/// The diary form's fields (those of the diaries not chosen are not in the page, and read empty).
#[derive(Clone, Default)]
struct DiaryFields {
    mood: NodeRef,
    symptoms: NodeRef,
    note: NodeRef,
    at: NodeRef,
    daytime: NodeRef,
    night: NodeRef,
    puffs: NodeRef,
    pef_morning: NodeRef,
    pef_evening: NodeRef,
    severity: NodeRef,
    stiffness: NodeRef,
}

impl DiaryFields {
    fn read(&self, kind: &str, joints: Vec<String>) -> vv::DiaryForm {
        vv::DiaryForm {
            kind: kind.to_string(),
            at: input_value(&self.at),
            note: textarea_value(&self.note),
            mood: select_value(&self.mood),
            symptoms: textarea_value(&self.symptoms),
            daytime: select_value(&self.daytime),
            night: input_value(&self.night),
            puffs: input_value(&self.puffs),
            pef_morning: input_value(&self.pef_morning),
            pef_evening: input_value(&self.pef_evening),
            joints,
            severity: input_value(&self.severity),
            stiffness: input_value(&self.stiffness),
        }
    }

    /// Empties the form after an entry was stored (the time: now again).
    fn clear(&self) {
        for s in [&self.mood, &self.daytime] {
            if let Some(f) = s.cast::<HtmlSelectElement>() {
                f.set_value("");
            }
        }
        for t in [&self.symptoms, &self.note] {
            if let Some(f) = t.cast::<HtmlTextAreaElement>() {
                f.set_value("");
            }
        }
        for i in [&self.night, &self.puffs, &self.pef_morning, &self.pef_evening, &self.severity, &self.stiffness] {
            if let Some(f) = i.cast::<HtmlInputElement>() {
                f.set_value("");
            }
        }
        if let Some(f) = self.at.cast::<HtmlInputElement>() {
            f.set_value(&now_local());
        }
    }
}

/// The handbook's target fields.
#[derive(Clone, Default)]
struct TargetFields {
    systolic: NodeRef,
    diastolic: NodeRef,
}

/// Puts the local time now into an empty time field.
fn prefill_now(field: &NodeRef) {
    if let Some(f) = field.cast::<HtmlInputElement>() {
        if f.value().is_empty() {
            f.set_value(&now_local());
        }
    }
}

#[component]
pub fn Vitals(props: &Props) -> Html {
    // The app's language (English until the app provides one).
    let lang = use_context::<Language>().unwrap_or(Language::En);
    let person_id = props.person.id;
    let kinds = use_state(|| None::<Vec<VitalKindInfo>>);
    let kind = use_state(|| vv::DEFAULT_KIND.to_string());
    // The chosen kind's readings, newest first (`None` while loading).
    let points = use_state(|| None::<Vec<VitalPoint>>);
    let diaries = use_state(|| None::<Vec<DiaryView>>);
    let vital_notice = use_state(|| None::<Notice>);
    let diary_notice = use_state(|| None::<Notice>);
    let saving_vital = use_state(|| false);
    let saving_diary = use_state(|| false);
    // Bumped to load the readings (or the diary) again after a save.
    let vitals_reloads = use_state(|| 0u32);
    let diary_reloads = use_state(|| 0u32);
    // Counts the readings asked for: an answer for a kind no longer chosen is dropped.
    let vitals_asked = use_mut_ref(|| 0u64);
    let vital_fields = use_memo((), |_| VitalFields::default());
    let diary_fields = use_memo((), |_| DiaryFields::default());
    // The diary chosen in `select#diary-kind`, the joints offered, the joints ticked.
    let diary_kind = use_state(|| vv::DIARY_KINDS[0].0.to_string());
    let diary_options = use_state(|| None::<DiaryOptions>);
    let joints_ticked = use_state(Vec::<String>::new);
    // The calendar's month (year, month from 1) and the day opened in it.
    let cal_month = use_state(|| {
        let (y, m, _) = today();
        (y, m)
    });
    let cal_day = use_state(|| None::<String>);
    // The blood-pressure handbook (`None` while loading), its target form.
    let handbook = use_state(|| None::<BpHandbook>);
    let handbook_notice = use_state(|| None::<Notice>);
    let handbook_reloads = use_state(|| 0u32);
    let handbook_asked = use_mut_ref(|| 0u64);
    let saving_target = use_state(|| false);
    let target_fields = use_memo((), |_| TargetFields::default());

    // The kinds, once.
    {
        let (kinds, kind, notice) = (kinds.clone(), kind.clone(), vital_notice.clone());
        use_effect_with((), move |_| {
            spawn_local(async move {
                match invoke::<VitalKindsCmd>(&NoArgs {}).await {
                    Ok(list) => {
                        if let Some(k) = vv::chosen_kind(&list, &kind) {
                            if k.slug != *kind {
                                kind.set(k.slug.clone());
                            }
                        }
                        kinds.set(Some(list));
                    }
                    Err(e) => notice.set(Some(Notice::Error(e.message))),
                }
            });
        });
    }

    // The chosen kind's readings: on open, when the kind changes, after a save.
    {
        let (points, notice, asked) = (points.clone(), vital_notice.clone(), vitals_asked.clone());
        use_effect_with((person_id, (*kind).clone(), *vitals_reloads), move |(person_id, kind, _)| {
            *asked.borrow_mut() += 1;
            let mine = *asked.borrow();
            let args = VitalsArgs { person_id: *person_id, kind: kind.clone() };
            spawn_local(async move {
                let answer = invoke::<VitalsCmd>(&args).await;
                if *asked.borrow() != mine {
                    return;
                }
                match answer {
                    Ok(list) => points.set(Some(list)),
                    Err(e) => {
                        points.set(Some(Vec::new()));
                        notice.set(Some(Notice::Error(e.message)));
                    }
                }
            });
        });
    }

    // The diary entries: on open and after a save.
    {
        let (diaries, notice) = (diaries.clone(), diary_notice.clone());
        use_effect_with((person_id, *diary_reloads), move |(person_id, _)| {
            let args = PersonIdArgs { person_id: *person_id };
            spawn_local(async move {
                match invoke::<DiariesCmd>(&args).await {
                    Ok(list) => diaries.set(Some(list)),
                    Err(e) => notice.set(Some(Notice::Error(e.message))),
                }
            });
        });
    }

    // The diaries' choices (the joints), once.
    {
        let (options, notice) = (diary_options.clone(), diary_notice.clone());
        use_effect_with((), move |_| {
            spawn_local(async move {
                match invoke::<DiaryOptionsCmd>(&NoArgs {}).await {
                    Ok(o) => options.set(Some(o)),
                    Err(e) => notice.set(Some(Notice::Error(e.message))),
                }
            });
        });
    }

    // The handbook: on open, after a blood-pressure reading or a new target was saved.
    {
        let (handbook, notice, asked) = (handbook.clone(), handbook_notice.clone(), handbook_asked.clone());
        use_effect_with((person_id, *handbook_reloads), move |(person_id, _)| {
            *asked.borrow_mut() += 1;
            let mine = *asked.borrow();
            let args = HandbookArgs { person_id: *person_id, weeks: vv::HANDBOOK_WEEKS };
            spawn_local(async move {
                let answer = invoke::<BpHandbookCmd>(&args).await;
                if *asked.borrow() != mine {
                    return;
                }
                match answer {
                    Ok(h) => handbook.set(Some(h)),
                    Err(e) => notice.set(Some(Notice::Error(e.message))),
                }
            });
        });
    }

    // The target fields show the target stored (again after each change of it).
    {
        let fields = (*target_fields).clone();
        use_effect_with(handbook.as_ref().map(|h| h.target), move |target| {
            if let Some(t) = target {
                for (field, v) in [(&fields.systolic, t.systolic), (&fields.diastolic, t.diastolic)] {
                    if let Some(f) = field.cast::<HtmlInputElement>() {
                        f.set_value(&v.to_string());
                    }
                }
            }
        });
    }

    // The time fields start at now (once: a person's own time stays, also across a save).
    {
        let (vital_at, diary_at) = (vital_fields.at.clone(), diary_fields.at.clone());
        use_effect_with(kinds.is_some(), move |_| {
            prefill_now(&vital_at);
            prefill_now(&diary_at);
        });
    }

    let on_back = {
        let cb = props.on_back.clone();
        Callback::from(move |_: MouseEvent| cb.emit(()))
    };

    let on_kind = {
        let (kind, points, notice) = (kind.clone(), points.clone(), vital_notice.clone());
        Callback::from(move |ev: Event| {
            if let Some(select) = ev.target_dyn_into::<HtmlSelectElement>() {
                points.set(None);
                notice.set(None);
                kind.set(select.value());
            }
        })
    };

    let current_kind: Option<VitalKindInfo> = kinds.as_ref().and_then(|list| vv::chosen_kind(list, &kind).cloned());

    let on_save_vital = {
        let (fields, notice, saving, reloads) = ((*vital_fields).clone(), vital_notice.clone(), saving_vital.clone(), vitals_reloads.clone());
        let handbook_reloads = handbook_reloads.clone();
        let current_kind = current_kind.clone();
        Callback::from(move |ev: SubmitEvent| {
            ev.prevent_default();
            if *saving {
                return;
            }
            let Some(k) = &current_kind else { return };
            let args = match vv::vital_args(lang, person_id, k, &fields.read()) {
                Ok(a) => a,
                Err(m) => {
                    notice.set(Some(Notice::Error(m)));
                    return;
                }
            };
            let (notice, saving, reloads, handbook_reloads) = (notice.clone(), saving.clone(), reloads.clone(), handbook_reloads.clone());
            let blood_pressure = k.blood_pressure;
            notice.set(None);
            saving.set(true);
            spawn_local(async move {
                match invoke::<AddVitalCmd>(&args).await {
                    Ok(added) => {
                        notice.set(Some(Notice::Note(vv::vital_saved_lines(lang, &added))));
                        reloads.set(*reloads + 1);
                        if blood_pressure {
                            handbook_reloads.set(*handbook_reloads + 1);
                        }
                    }
                    Err(e) => notice.set(Some(Notice::Error(e.message))),
                }
                saving.set(false);
            });
        })
    };

    let on_diary_kind = {
        let (diary_kind, notice) = (diary_kind.clone(), diary_notice.clone());
        Callback::from(move |ev: Event| {
            if let Some(select) = ev.target_dyn_into::<HtmlSelectElement>() {
                notice.set(None);
                diary_kind.set(select.value());
            }
        })
    };

    let on_joint = {
        let ticked = joints_ticked.clone();
        Callback::from(move |ev: Event| {
            if let Some(b) = ev.target_dyn_into::<HtmlInputElement>() {
                let code = b.value();
                let mut list: Vec<String> = (*ticked).iter().filter(|c| **c != code).cloned().collect();
                if b.checked() {
                    list.push(code);
                }
                ticked.set(list);
            }
        })
    };

    let on_save_diary = {
        let (fields, notice, saving, reloads) = ((*diary_fields).clone(), diary_notice.clone(), saving_diary.clone(), diary_reloads.clone());
        let (kind, ticked) = ((*diary_kind).clone(), joints_ticked.clone());
        // The ticked joints in the order offered (head to toe), not in the order ticked.
        let joints: Vec<String> = match &*diary_options {
            Some(o) => o.joints.iter().filter(|(c, _)| ticked.contains(c)).map(|(c, _)| c.clone()).collect(),
            None => Vec::new(),
        };
        Callback::from(move |ev: SubmitEvent| {
            ev.prevent_default();
            if *saving {
                return;
            }
            let args = match vv::diary_args(lang, person_id, &fields.read(&kind, joints.clone())) {
                Ok(a) => a,
                Err(m) => {
                    notice.set(Some(Notice::Error(m)));
                    return;
                }
            };
            let (fields, notice, saving, reloads, ticked) = (fields.clone(), notice.clone(), saving.clone(), reloads.clone(), ticked.clone());
            notice.set(None);
            saving.set(true);
            spawn_local(async move {
                match invoke::<AddDiaryCmd>(&args).await {
                    Ok(added) => {
                        fields.clear();
                        ticked.set(Vec::new());
                        notice.set(Some(Notice::Note(vec![vv::diary_saved_line(lang, added.duplicate).to_string()])));
                        reloads.set(*reloads + 1);
                    }
                    Err(e) => notice.set(Some(Notice::Error(e.message))),
                }
                saving.set(false);
            });
        })
    };

    let on_save_target = {
        let (fields, notice, saving, reloads) = ((*target_fields).clone(), handbook_notice.clone(), saving_target.clone(), handbook_reloads.clone());
        Callback::from(move |ev: SubmitEvent| {
            ev.prevent_default();
            if *saving {
                return;
            }
            let args = match vv::target_args(lang, &input_value(&fields.systolic), &input_value(&fields.diastolic)) {
                Ok(a) => a,
                Err(m) => {
                    notice.set(Some(Notice::Error(m)));
                    return;
                }
            };
            let (notice, saving, reloads) = (notice.clone(), saving.clone(), reloads.clone());
            notice.set(None);
            saving.set(true);
            spawn_local(async move {
                match invoke::<SetBpTargetCmd>(&args).await {
                    Ok(t) => {
                        notice.set(Some(Notice::Note(vec![trf(lang, "target_saved", &[&t.systolic, &t.diastolic])])));
                        reloads.set(*reloads + 1);
                    }
                    Err(e) => notice.set(Some(Notice::Error(e.message))),
                }
                saving.set(false);
            });
        })
    };

    let on_print = Callback::from(|_: MouseEvent| {
        if let Some(w) = web_sys::window() {
            // Nothing to show when the webview offers no printing: the dialog simply does not open.
            let _ = w.print();
        }
    });

    let on_month = |delta: i32| {
        let (cal_month, cal_day) = (cal_month.clone(), cal_day.clone());
        Callback::from(move |_: MouseEvent| {
            let (y, m) = *cal_month;
            cal_month.set(vv::add_months(y, m, delta));
            cal_day.set(None);
        })
    };

    // ---- the page ----

    let fields = &*vital_fields;
    let entry_form = match (&*kinds, &current_kind) {
        (Some(list), Some(k)) => {
            let kind_fields = if k.blood_pressure {
                html! {
                    <div class="vital-fields bp" key={k.slug.clone()}>
                        <div class="field">
                            <label for="systolic">{ tr(lang, "systolic") }</label>
                            <input id="systolic" name="systolic" type="text" inputmode="decimal" ref={fields.systolic.clone()}
                                required=true autocomplete="off" maxlength="10" placeholder="128" />
                        </div>
                        <div class="field">
                            <label for="diastolic">{ tr(lang, "diastolic") }</label>
                            <input id="diastolic" name="diastolic" type="text" inputmode="decimal" ref={fields.diastolic.clone()}
                                required=true autocomplete="off" maxlength="10" placeholder="82" />
                        </div>
                        <div class="field">
                            <label for="pulse">{ tr(lang, "pulse") }</label>
                            <input id="pulse" name="pulse" type="text" inputmode="decimal" ref={fields.pulse.clone()}
                                autocomplete="off" maxlength="10" placeholder="70" />
                        </div>
                        <div class="field">
                            <label for="bp-context">{ tr(lang, "bp_when") }</label>
                            <select id="bp-context" name="context" ref={fields.context.clone()}>
                                <option value="" selected=true>{ "—" }</option>
                                <option value="morning">{ tr(lang, "morning") }</option>
                                <option value="evening">{ tr(lang, "evening") }</option>
                            </select>
                        </div>
                    </div>
                }
            } else {
                html! {
                    <div class="vital-fields one" key={k.slug.clone()}>
                        <div class="field">
                            <label for="vital-value">{ tr(lang, "value") }</label>
                            <input id="vital-value" name="value" type="text" inputmode="decimal" ref={fields.value.clone()}
                                required=true autocomplete="off" maxlength="20" />
                        </div>
                        <div class="field">
                            <label for="vital-unit">{ tr(lang, "unit") }</label>
                            <select id="vital-unit" name="unit" ref={fields.unit.clone()}>
                                { for vv::unit_options(k).into_iter().enumerate().map(|(i, (code, label))| html! {
                                    <option value={code} selected={i == 0}>{ label }</option>
                                }) }
                            </select>
                        </div>
                    </div>
                }
            };
            html! {
                <form class="vital-entry" onsubmit={on_save_vital}>
                    <div class="field">
                        <label for="vital-kind">{ tr(lang, "reading") }</label>
                        <select id="vital-kind" name="kind" onchange={on_kind}>
                            { for list.iter().map(|o| html! {
                                <option value={o.slug.clone()} selected={o.slug == k.slug}>{ vv::kind_label(lang, o) }</option>
                            }) }
                        </select>
                    </div>
                    { kind_fields }
                    <div class="field">
                        <label for="vital-at">{ tr(lang, "measured_at") }</label>
                        <input id="vital-at" name="at" type="datetime-local" ref={fields.at.clone()} />
                    </div>
                    <button type="submit" class="save-vital" disabled={*saving_vital}>
                        { if *saving_vital { tr(lang, "saving") } else { tr(lang, "save_reading") } }
                    </button>
                </form>
            }
        }
        (Some(_), None) => html! { <p class="muted">{ tr(lang, "no_kinds") }</p> },
        (None, _) => html! { <p class="muted">{ tr(lang, "loading") }</p> },
    };

    let blood_pressure = current_kind.as_ref().is_some_and(|k| k.blood_pressure);
    let kind_name = current_kind.as_ref().map(|k| vv::kind_label(lang, k)).unwrap_or_default();
    let bp_targets = vv::bp_targets(handbook.as_ref().map(|h| h.target));
    // Deleting a home entry (marked entered-in-error; the vault keeps it in its history).
    let on_delete_vital = {
        let (notice, reloads, handbook_reloads) = (vital_notice.clone(), vitals_reloads.clone(), handbook_reloads.clone());
        Callback::from(move |record_id: i64| {
            let (notice, reloads, handbook_reloads) = (notice.clone(), reloads.clone(), handbook_reloads.clone());
            spawn_local(async move {
                match invoke::<DeleteEntryCmd>(&RecordIdArgs { record_id }).await {
                    Ok(_) => {
                        notice.set(Some(Notice::Note(vec![vv::deleted_note(lang).to_string()])));
                        reloads.set(*reloads + 1);
                        handbook_reloads.set(*handbook_reloads + 1);
                    }
                    Err(e) => notice.set(Some(Notice::Error(e.message))),
                }
            });
        })
    };
    let on_delete_diary = {
        let (notice, reloads) = (diary_notice.clone(), diary_reloads.clone());
        Callback::from(move |record_id: i64| {
            let (notice, reloads) = (notice.clone(), reloads.clone());
            spawn_local(async move {
                match invoke::<DeleteEntryCmd>(&RecordIdArgs { record_id }).await {
                    Ok(_) => {
                        notice.set(Some(Notice::Note(vec![vv::deleted_note(lang).to_string()])));
                        reloads.set(*reloads + 1);
                    }
                    Err(e) => notice.set(Some(Notice::Error(e.message))),
                }
            });
        })
    };

    let readings_html = match (&*points, &current_kind) {
        (None, _) | (_, None) => html! { <p class="muted">{ tr(lang, "loading_readings") }</p> },
        (Some(list), Some(_)) => match vv::chart(list, blood_pressure, bp_targets, epoch_ms) {
            None => html! { <p class="muted no-readings">{ tr(lang, "no_readings") }</p> },
            Some(c) => html! {
                <>
                    { chart_svg(lang, &c, list, &kind_name) }
                    { legend(lang, blood_pressure, bp_targets) }
                    <ul class="vital-list">
                        { for list.iter().take(vv::LIST_MAX).map(|p| html! {
                            <li class="vital" key={p.record_id.to_string()}>
                                <span class="when">{ when(&p.at) }</span>
                                <span class="value">{ p.label.clone() }</span>
                                <span class="source">
                                    { p.source.clone() }
                                    if p.home { { " " }<span class="badge home">{ tr(lang, "badge_home") }</span> }
                                </span>
                                if p.home {
                                    <button class="secondary delete-entry" title={tr(lang, "delete_reading")}
                                        onclick={on_delete_vital.reform({ let id = p.record_id; move |_: MouseEvent| id })}>{ tr(lang, "delete") }</button>
                                }
                            </li>
                        }) }
                    </ul>
                </>
            },
        },
    };

    let dfields = &*diary_fields;
    let chosen_diary = vv::diary_kind(lang, &diary_kind).unwrap_or(vv::DIARY_KINDS[0].0);
    let diary_fields_html = match chosen_diary {
        "asthma" => html! {
            <div class="diary-fields asthma" key="asthma">
                { choice_field("asthma-daytime", tr(lang, "daytime"), &dfields.daytime, &vv::DAYTIME_SYMPTOMS.map(|(v, _)| (v, vv::daytime_label(lang, v)))) }
                { count_field("asthma-night", tr(lang, "night"), &dfields.night, "0") }
                { count_field("asthma-puffs", tr(lang, "puffs"), &dfields.puffs, "0") }
                { count_field("asthma-pef-morning", tr(lang, "pef_morning"), &dfields.pef_morning, "420") }
                { count_field("asthma-pef-evening", tr(lang, "pef_evening"), &dfields.pef_evening, "430") }
            </div>
        },
        "joint-pain" => html! {
            <div class="diary-fields joint-pain" key="joint-pain">
                <fieldset class="joints">
                    <legend>{ tr(lang, "joints") }</legend>
                    { match &*diary_options {
                        None => html! { <p class="muted">{ tr(lang, "loading_joints") }</p> },
                        Some(o) => html! {
                            { for o.joints.iter().map(|(code, label)| html! {
                                <label class="joint" key={code.clone()}>
                                    <input type="checkbox" class="joint" name="joint" value={code.clone()}
                                        checked={joints_ticked.contains(code)} onchange={on_joint.clone()} />
                                    { label.clone() }
                                </label>
                            }) }
                        },
                    } }
                </fieldset>
                { count_field("joint-severity", tr(lang, "severity"), &dfields.severity, "5") }
                { count_field("joint-stiffness", tr(lang, "stiffness"), &dfields.stiffness, "30") }
            </div>
        },
        _ => html! {
            <div class="diary-fields mood" key="mood">
                { choice_field("diary-mood", tr(lang, "mood"), &dfields.mood, &vv::MOODS.map(|(v, _)| (v, vv::mood_label(lang, v)))) }
                <div class="field wide">
                    <label for="diary-symptoms">{ tr(lang, "symptoms") }</label>
                    <textarea id="diary-symptoms" name="symptoms" rows="2" ref={dfields.symptoms.clone()}
                        maxlength={techo_ipc::MAX_DIARY_TEXT_CHARS.to_string()} placeholder={tr(lang, "symptoms_placeholder")} />
                </div>
            </div>
        },
    };
    let diary_html = html! {
        <section class="diary">
            <h3>{ tr(lang, "diary") }</h3>
            <div class="field diary-kind">
                <label for="diary-kind">{ tr(lang, "which_diary") }</label>
                <select id="diary-kind" name="diary-kind" onchange={on_diary_kind}>
                    { for vv::DIARY_KINDS.iter().map(|(v, _)| html! {
                        <option value={v.to_string()} selected={*v == chosen_diary}>{ vv::diary_kind_label(lang, v) }</option>
                    }) }
                </select>
            </div>
            <form class={classes!("diary-entry", chosen_diary)} onsubmit={on_save_diary}>
                <div class="field">
                    <label for="diary-at">{ tr(lang, "diary_when") }</label>
                    <input id="diary-at" name="at" type="datetime-local" ref={dfields.at.clone()} />
                </div>
                { diary_fields_html }
                <div class="field wide">
                    <label for="diary-note">{ tr(lang, "note") }</label>
                    <textarea id="diary-note" name="note" rows="2" ref={dfields.note.clone()}
                        maxlength={techo_ipc::MAX_DIARY_TEXT_CHARS.to_string()} />
                </div>
                <button type="submit" class="save-diary" disabled={*saving_diary}>
                    { if *saving_diary { tr(lang, "saving") } else { tr(lang, "save_diary") } }
                </button>
            </form>
            { notice_html(&diary_notice) }
            { match &*diaries {
                None => html! { <p class="muted">{ tr(lang, "loading_diary") }</p> },
                Some(list) if list.is_empty() => html! { <p class="muted no-diary">{ tr(lang, "no_diary") }</p> },
                Some(list) => html! {
                    <ul class="diary-list">
                        { for list.iter().take(vv::LIST_MAX).map(|d| html! {
                            <li class="diary-entry-row" key={d.record_id.to_string()}>
                                <span class="when">{ when(&d.at) }</span>
                                <span class="title">{ d.title.clone() }</span>
                                <span class="summary">{ d.summary.clone() }</span>
                                <button class="secondary delete-entry" title={tr(lang, "delete_entry")}
                                    onclick={on_delete_diary.reform({ let id = d.record_id; move |_: MouseEvent| id })}>{ tr(lang, "delete") }</button>
                            </li>
                        }) }
                    </ul>
                },
            } }
        </section>
    };

    // The calendar: the diary entries per local day.
    let empty = Vec::new();
    let entries: &[DiaryView] = diaries.as_ref().unwrap_or(&empty);
    let per_day = vv::entries_per_day(entries.iter().map(|d| local(&d.at).map(|(day, _)| day)));
    let (cal_y, cal_m) = *cal_month;
    let today_key = {
        let (y, m, d) = today();
        vv::day_key(y, m, d)
    };
    let day_cell = |day: Option<u32>| -> Html {
        let Some(day) = day else { return html! { <td class="blank"></td> } };
        let key = vv::day_key(cal_y, cal_m, day);
        let on_day = per_day.get(&key);
        let classes = classes!(
            "day",
            (key == today_key).then_some("today"),
            on_day.is_some().then_some("has-entries"),
            (cal_day.as_deref() == Some(key.as_str())).then_some("selected")
        );
        match on_day {
            None => html! { <td class={classes}><span class="num">{ day }</span></td> },
            Some(indexes) => {
                let counts = vv::kind_counts(indexes.iter().map(|&i| entries[i].kind.as_str()));
                let open = {
                    let (cal_day, key) = (cal_day.clone(), key.clone());
                    move || cal_day.set(Some(key.clone()))
                };
                let onclick = {
                    let open = open.clone();
                    Callback::from(move |_: MouseEvent| open())
                };
                let onkeydown = Callback::from(move |ev: KeyboardEvent| {
                    if ev.key() == "Enter" || ev.key() == " " {
                        ev.prevent_default();
                        open();
                    }
                });
                html! {
                    <td class={classes} tabindex="0" role="button" {onclick} {onkeydown}
                        aria-label={trf(lang, "day_entries", &[&key, &indexes.len()])}>
                        <span class="num">{ day }</span>
                        <span class="marks">
                            { for counts.iter().map(|(class, n)| html! {
                                <span class={classes!("mark", *class)} title={trf(lang, "kind_count", &[&vv::diary_kind_label(lang, class), n])}>{ n }</span>
                            }) }
                        </span>
                    </td>
                }
            }
        }
    };
    let calendar_html = html! {
        <section class="diary-calendar">
            <div class="cal-head">
                <button type="button" class="secondary cal-prev" onclick={on_month(-1)} aria-label={tr(lang, "prev_month")}>{ "‹" }</button>
                <h3 class="cal-month">{ vv::month_label(lang, cal_y, cal_m) }</h3>
                <button type="button" class="secondary cal-next" onclick={on_month(1)} aria-label={tr(lang, "next_month")}>{ "›" }</button>
            </div>
            <table class="calendar">
                <thead>
                    <tr>{ for iv::weekdays(lang).iter().map(|d| html! { <th scope="col">{ *d }</th> }) }</tr>
                </thead>
                <tbody>
                    { for vv::month_grid(cal_y, cal_m).into_iter().map(|week| html! {
                        <tr>{ for week.into_iter().map(day_cell) }</tr>
                    }) }
                </tbody>
            </table>
            <p class="cal-legend">
                { for vv::DIARY_KINDS.iter().map(|(class, _)| html! {
                    <span class="legend-item"><span class={classes!("mark", *class)}></span>{ vv::diary_kind_label(lang, class) }</span>
                }) }
            </p>
            if let Some(day) = &*cal_day {
                if let Some(indexes) = per_day.get(day) {
                    <h4 class="day-head">{ day.clone() }</h4>
                    <ul class="day-entries">
                        { for indexes.iter().map(|&i| {
                            let d = &entries[i];
                            html! {
                                <li class={classes!("day-entry", vv::diary_class(&d.kind))} key={d.record_id.to_string()}>
                                    <span class="when">{ local(&d.at).map(|(_, time)| time).unwrap_or_default() }</span>
                                    <span class="title">{ d.title.clone() }</span>
                                    <span class="summary">{ d.summary.clone() }</span>
                                </li>
                            }
                        }) }
                    </ul>
                }
            }
        </section>
    };

    let handbook_html = html! {
        <section class="bp-handbook">
            <div class="handbook-head">
                <h3>{ tr(lang, "handbook") }</h3>
                <button type="button" class="secondary print" onclick={on_print}>{ tr(lang, "print") }</button>
            </div>
            { match &*handbook {
                Some(h) => html! {
                    <p class="handbook-target">
                        { trf(lang, "handbook_target", &[&h.target.systolic, &h.target.diastolic]) }
                    </p>
                },
                None => html! {},
            } }
            <form class="bp-target" onsubmit={on_save_target}>
                <div class="field">
                    <label for="target-systolic">{ tr(lang, "target_systolic") }</label>
                    <input id="target-systolic" name="target-systolic" type="text" inputmode="numeric" ref={target_fields.systolic.clone()}
                        autocomplete="off" maxlength="5" placeholder="135" />
                </div>
                <div class="field">
                    <label for="target-diastolic">{ tr(lang, "target_diastolic") }</label>
                    <input id="target-diastolic" name="target-diastolic" type="text" inputmode="numeric" ref={target_fields.diastolic.clone()}
                        autocomplete="off" maxlength="5" placeholder="85" />
                </div>
                <button type="submit" class="save-target" disabled={*saving_target}>
                    { if *saving_target { tr(lang, "saving") } else { tr(lang, "save_target") } }
                </button>
            </form>
            { notice_html(&handbook_notice) }
            { match &*handbook {
                None => html! { <p class="muted">{ tr(lang, "loading_handbook") }</p> },
                Some(h) if h.weeks.is_empty() => html! {
                    <p class="muted no-handbook">{ trf(lang, "no_handbook", &[&vv::HANDBOOK_WEEKS]) }</p>
                },
                Some(h) => html! {
                    <>
                        <table class="handbook">
                            <thead>
                                <tr>
                                    <th scope="col">{ tr(lang, "week_from") }</th>
                                    <th scope="col">{ tr(lang, "week_morning") }</th>
                                    <th scope="col">{ tr(lang, "week_evening") }</th>
                                    <th scope="col" class="num">{ tr(lang, "week_other") }</th>
                                </tr>
                            </thead>
                            <tbody>
                                { for h.weeks.iter().map(|w| html! {
                                    <tr class="week" key={w.week_start.clone()}>
                                        <td class="week-start">{ w.week_start.clone() }</td>
                                        { session_cell(lang, "morning", w.morning.as_ref()) }
                                        { session_cell(lang, "evening", w.evening.as_ref()) }
                                        <td class="unclassified num">{ w.unclassified }</td>
                                    </tr>
                                }) }
                            </tbody>
                        </table>
                        <p class="handbook-legend muted">{ tr(lang, "handbook_legend") }</p>
                    </>
                },
            } }
        </section>
    };

    html! {
        <section class="vitals">
            <div class="vitals-head">
                <button class="secondary vitals-close" onclick={on_back}>{ tr(lang, "back") }</button>
                <h2 class="whose">{ props.person.display_name.clone() }<span class="muted">{ tr(lang, "title") }</span></h2>
            </div>
            { entry_form }
            { notice_html(&vital_notice) }
            <div class="vital-readings">{ readings_html }</div>
            { handbook_html }
            <div class="diary-area">
                { diary_html }
                { calendar_html }
            </div>
        </section>
    }
}

/// A whole-number field of a diary (a count, L/min, minutes): blank is not answered.
/// A labelled choice of small numbers, unanswered ("—") at first.
fn choice_field(id: &'static str, label: &'static str, field: &NodeRef, choices: &[(u8, &'static str)]) -> Html {
    html! {
        <div class="field">
            <label for={id}>{ label }</label>
            <select {id} name={id} ref={field.clone()}>
                <option value="" selected=true>{ "—" }</option>
                { for choices.iter().map(|(v, label)| html! { <option value={v.to_string()}>{ *label }</option> }) }
            </select>
        </div>
    }
}

fn count_field(id: &'static str, label: &'static str, field: &NodeRef, placeholder: &'static str) -> Html {
    html! {
        <div class="field">
            <label for={id}>{ label }</label>
            <input {id} name={id} type="text" inputmode="numeric" ref={field.clone()}
                autocomplete="off" maxlength="6" {placeholder} />
        </div>
    }
}

/// A handbook cell: a week's morning or evening average, `above` (and marked ▲) over the target.
fn session_cell(lang: Language, class: &'static str, avg: Option<&SessionAvg>) -> Html {
    match avg {
        None => html! { <td class={classes!(class, "none")}>{ "—" }</td> },
        Some(a) => html! {
            <td class={classes!(class, a.above_target.then_some("above"))}>
                { vv::session_text(lang, a) }
                if a.above_target { <span class="above-mark" title={tr(lang, "above_target")}>{ " ▲" }</span> }
            </td>
        },
    }
}

/// The chart of a kind's readings: one line per series, a dot per reading (filled for home,
/// hollow for a hospital's), ticks on the left, the first and last date below.
fn chart_svg(lang: Language, c: &vv::Chart, points: &[VitalPoint], kind_name: &str) -> Html {
    let frame = c.frame;
    let first_day = local(&points[c.oldest].at).map(|(d, _)| d).unwrap_or_default();
    let last_day = local(&points[c.newest].at).map(|(d, _)| d).unwrap_or_default();
    let bottom = vv::coord(vv::PLOT_BOTTOM);
    let date_y = vv::coord(vv::PLOT_BOTTOM + 20.0);
    html! {
        <svg class="vital-chart" viewBox={format!("0 0 {} {}", vv::VIEW_W, vv::VIEW_H)} width="100%"
            aria-label={trf(lang, "chart_label", &[&kind_name])}>
            <g class="axis">
                <line class="axis-line" x1={vv::coord(vv::PLOT_LEFT)} y1={vv::coord(vv::PLOT_TOP)} x2={vv::coord(vv::PLOT_LEFT)} y2={bottom.clone()} />
                <line class="axis-line" x1={vv::coord(vv::PLOT_LEFT)} y1={bottom.clone()} x2={vv::coord(vv::PLOT_RIGHT)} y2={bottom} />
                { for frame.ticks().into_iter().map(|(v, label)| {
                    let y = vv::coord(frame.y(v));
                    html! {
                        <>
                            <line class="grid" x1={vv::coord(vv::PLOT_LEFT)} y1={y.clone()} x2={vv::coord(vv::PLOT_RIGHT)} y2={y.clone()} />
                            <text class="tick" x={vv::coord(vv::PLOT_LEFT - 6.0)} y={y} dy="0.35em" text-anchor="end">{ label }</text>
                        </>
                    }
                }) }
                <text class="axis-date first" x={vv::coord(vv::PLOT_LEFT)} y={date_y.clone()} text-anchor="start">{ first_day.clone() }</text>
                if last_day != first_day {
                    <text class="axis-date last" x={vv::coord(vv::PLOT_RIGHT)} y={date_y} text-anchor="end">{ last_day }</text>
                }
            </g>
            { for c.targets.iter().map(|(y, v)| html! {
                <>
                    <line class="target" x1={vv::coord(vv::PLOT_LEFT)} y1={vv::coord(*y)} x2={vv::coord(vv::PLOT_RIGHT)} y2={vv::coord(*y)}>
                        <title>{ trf(lang, "chart_home_target", &[v]) }</title>
                    </line>
                    <text class="target-label" x={vv::coord(vv::PLOT_RIGHT - 2.0)} y={vv::coord(*y - 4.0)} text-anchor="end">{ trf(lang, "chart_target", &[v]) }</text>
                </>
            }) }
            { for c.series.iter().map(|s| html! {
                <g class={classes!("series-group", s.class)}>
                    <polyline class={classes!("series", s.class)} points={vv::polyline(&s.points)} />
                    { for s.points.iter().map(|p| {
                        let r = &points[p.index];
                        html! {
                            <circle class={classes!("point", s.class, if r.home { "home" } else { "hospital" })}
                                cx={vv::coord(p.x)} cy={vv::coord(p.y)} r="4">
                                <title>{ vv::point_title(&r.label, local(&r.at)) }</title>
                            </circle>
                        }
                    }) }
                </g>
            }) }
        </svg>
    }
}

fn legend(lang: Language, blood_pressure: bool, targets: [f64; 2]) -> Html {
    html! {
        <p class="chart-legend">
            <span class="legend-item"><span class="dot home"></span>{ tr(lang, "legend_home") }</span>
            <span class="legend-item"><span class="dot hospital"></span>{ tr(lang, "legend_hospital") }</span>
            if blood_pressure {
                <span class="legend-item"><span class="swatch systolic"></span>{ tr(lang, "legend_systolic") }</span>
                <span class="legend-item"><span class="swatch diastolic"></span>{ tr(lang, "legend_diastolic") }</span>
                <span class="legend-item"><span class="swatch target"></span>{ trf(lang, "legend_targets", &[&targets[0], &targets[1]]) }</span>
            }
        </p>
    }
}
