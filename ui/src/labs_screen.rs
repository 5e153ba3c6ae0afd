//! The lab results view: a table of the person's lab results (test, value and unit, reference
//! range, flag, date, facility; paged from the shell) and the trend of one test, chosen by its
//! code, drawn as SVG with the reference range as a band (`labs.rs` scales it).

use crate::i18n_record::{self as ir, tr, trf};
use crate::ipc::invoke;
use crate::labs::{self, Trend};
use crate::record::local;
use crate::view;
use crate::vitals_view as vv;
use techo_ipc::{LabCode, Language, LabResultsArgs, LabResultsCmd, LabRow, LabTest, LabTestsArgs, LabTestsCmd, TimelineCursor, TimelineFilter};
use web_sys::HtmlSelectElement;
use yew::platform::spawn_local;
use yew::prelude::*;

/// Results per page of the table.
const PAGE: u32 = 100;
/// At most this many results of one test are drawn (pages of `MAX_PAGE`).
const MAX_TREND: usize = 2000;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub person_id: i64,
    /// The timeline's source filter, kept here.
    pub source: Option<String>,
    pub on_back: Callback<()>,
    pub on_open: Callback<i64>,
}

fn epoch_ms(at: &str) -> Option<f64> {
    let t = js_sys::Date::parse(at);
    (!t.is_nan()).then_some(t)
}

fn day(lang: Language, at: Option<&str>) -> String {
    at.and_then(local).map(|(d, _)| ir::day_label(lang, &d)).unwrap_or_default()
}

#[component]
pub fn LabsView(props: &Props) -> Html {
    let lang = use_context::<Language>().unwrap_or(Language::En);
    let tests = use_state(Vec::<LabTest>::new);
    let chosen = use_state(|| None::<LabCode>);
    let table = use_state(Vec::<LabRow>::new);
    let next = use_state(|| None::<TimelineCursor>);
    let points = use_state(|| None::<Vec<LabRow>>);
    let error = use_state(|| None::<String>);
    let busy = use_state(|| false);
    let latest = use_mut_ref(view::Latest::default);
    let person_id = props.person_id;
    let filter = props.source.clone().map(|s| TimelineFilter { source: Some(s), ..Default::default() });

    // The tests (all pages), then the one to chart first.
    {
        let (tests, chosen, error) = (tests.clone(), chosen.clone(), error.clone());
        use_effect_with(person_id, move |_| {
            spawn_local(async move {
                let mut all = Vec::new();
                loop {
                    match invoke::<LabTestsCmd>(&LabTestsArgs { person_id, offset: all.len() as u32, limit: techo_ipc::MAX_PAGE }).await {
                        Ok(page) => {
                            let done = page.tests.is_empty() || all.len() + page.tests.len() >= page.total as usize;
                            all.extend(page.tests);
                            if done {
                                break;
                            }
                        }
                        Err(e) => {
                            error.set(Some(e.message));
                            break;
                        }
                    }
                }
                chosen.set(labs::default_test(&all).map(|t| t.code.clone()));
                tests.set(all);
            });
        });
    }

    let load_table = {
        let (table, next, error, busy, filter) = (table.clone(), next.clone(), error.clone(), busy.clone(), filter.clone());
        move |after: Option<TimelineCursor>, mut have: Vec<LabRow>| {
            let (table, next, error, busy, filter) = (table.clone(), next.clone(), error.clone(), busy.clone(), filter.clone());
            busy.set(true);
            spawn_local(async move {
                match invoke::<LabResultsCmd>(&LabResultsArgs { person_id, test: None, filter, after, limit: PAGE }).await {
                    Ok(page) => {
                        have.extend(page.rows);
                        table.set(have);
                        next.set(page.next);
                    }
                    Err(e) => error.set(Some(e.message)),
                }
                busy.set(false);
            });
        }
    };
    {
        let load_table = load_table.clone();
        use_effect_with((person_id, props.source.clone()), move |_| load_table(None, Vec::new()));
    }

    // The chosen test's results, page after page, for the chart; a newer choice drops them.
    {
        let (points, error, latest, filter) = (points.clone(), error.clone(), latest.clone(), filter.clone());
        use_effect_with(((*chosen).clone(), props.source.clone()), move |(code, _)| {
            let ticket = latest.borrow_mut().begin();
            points.set(None);
            if let Some(code) = code.clone() {
                spawn_local(async move {
                    let mut all: Vec<LabRow> = Vec::new();
                    let mut after = None;
                    loop {
                        let args = LabResultsArgs { person_id, test: Some(code.clone()), filter: filter.clone(), after, limit: techo_ipc::MAX_PAGE };
                        let answer = invoke::<LabResultsCmd>(&args).await;
                        if !latest.borrow().is_current(ticket) {
                            return;
                        }
                        match answer {
                            Ok(page) => {
                                all.extend(page.rows);
                                after = page.next;
                                if after.is_none() || all.len() >= MAX_TREND {
                                    break;
                                }
                            }
                            Err(e) => {
                                error.set(Some(e.message));
                                break;
                            }
                        }
                    }
                    points.set(Some(all));
                });
            }
        });
    }

    let on_choose = {
        let (chosen, tests) = (chosen.clone(), tests.clone());
        Callback::from(move |e: Event| {
            let Some(sel) = e.target_dyn_into::<HtmlSelectElement>() else { return };
            chosen.set(labs::test_of(&tests, &sel.value()).map(|t| t.code.clone()));
        })
    };
    let on_more = {
        let (table, next, load_table) = (table.clone(), next.clone(), load_table.clone());
        Callback::from(move |_: MouseEvent| {
            if let Some(c) = (*next).clone() {
                load_table(Some(c), (*table).clone());
            }
        })
    };
    let on_back = {
        let cb = props.on_back.clone();
        Callback::from(move |_: MouseEvent| cb.emit(()))
    };

    let chosen_key = chosen.as_ref().map(labs::test_key).unwrap_or_default();
    let chosen_test = labs::test_of(&tests, &chosen_key).cloned();
    let chart = match (&*points, &chosen_test) {
        (None, Some(_)) => html! { <p class="muted">{ tr(lang, "labs.loading") }</p> },
        (Some(rows), Some(t)) => match labs::trend(rows, epoch_ms) {
            Some(trend) => html! {
                <>
                    { trend_svg(lang, &trend, rows, t) }
                    <p class="chart-legend muted">
                        { ir::labs_legend(lang, trend.points.len(), &t.display) }
                        if trend.band.is_some() { { tr(lang, "labs.band") } }
                    </p>
                </>
            },
            None => html! { <p class="muted">{ tr(lang, "labs.no_numbers") }</p> },
        },
        _ => html! {},
    };

    html! {
        <section class="labs-view">
            <div class="labs-head">
                <button class="secondary labs-close" onclick={on_back}>{ tr(lang, "labs.back") }</button>
                <h3>{ tr(lang, "labs.title") }</h3>
                if let Some(s) = &props.source { <span class="muted">{ trf(lang, "labs.from", &[s]) }</span> }
            </div>
            if let Some(e) = &*error { <p class="notice error" role="alert">{ e.clone() }</p> }
            <label class="lab-test-choice">{ tr(lang, "labs.trend_of") }
                <select id="lab-test" onchange={on_choose}>
                    { for tests.iter().map(|t| {
                        let key = labs::test_key(&t.code);
                        html! { <option value={key.clone()} selected={key == chosen_key}>{ labs::test_option(t) }</option> }
                    }) }
                </select>
            </label>
            { chart }
            <table class="labs">
                <thead><tr>
                    <th>{ tr(lang, "labs.test") }</th><th>{ tr(lang, "labs.value") }</th><th>{ tr(lang, "labs.range") }</th>
                    <th>{ tr(lang, "labs.flag") }</th><th>{ tr(lang, "labs.date") }</th><th>{ tr(lang, "labs.facility") }</th>
                </tr></thead>
                <tbody>
                    { for table.iter().map(|r| {
                        let (open, id) = (props.on_open.clone(), r.record_id);
                        let flag = labs::flag_label(lang, r.flag.as_deref());
                        html! {
                            <tr class="lab-row" key={r.record_id.to_string()}>
                                <td><button class="link lab-open" onclick={Callback::from(move |_: MouseEvent| open.emit(id))}>{ r.test.clone() }</button></td>
                                <td class="value">{ labs::value_label(r) }</td>
                                <td>{ labs::range_label(r) }</td>
                                <td class={classes!("flag", flag.map(|f| f.1))}>{ flag.map(|f| f.0).unwrap_or("") }</td>
                                <td>{ day(lang, r.clinical_date.as_deref()) }</td>
                                <td>{ r.source.clone() }</td>
                            </tr>
                        }
                    }) }
                </tbody>
            </table>
            if next.is_some() {
                <button class="secondary more-labs" onclick={on_more} disabled={*busy}>{ tr(lang, "labs.more") }</button>
            } else if table.is_empty() && !*busy {
                <p class="muted">{ tr(lang, "labs.none") }</p>
            }
        </section>
    }
}

/// The trend of one test: the reference band, the line, a dot per result (red when flagged).
fn trend_svg(lang: Language, t: &Trend, rows: &[LabRow], test: &LabTest) -> Html {
    let frame = t.frame;
    let bottom = vv::coord(vv::PLOT_BOTTOM);
    let date_y = vv::coord(vv::PLOT_BOTTOM + 20.0);
    let first_day = day(lang, rows[t.oldest].clinical_date.as_deref());
    let last_day = day(lang, rows[t.newest].clinical_date.as_deref());
    html! {
        <svg class="lab-chart" viewBox={format!("0 0 {} {}", vv::VIEW_W, vv::VIEW_H)} width="100%"
            aria-label={trf(lang, "labs.chart", &[&test.display])}>
            if let Some((top, low)) = t.band {
                <rect class="ref-band" x={vv::coord(vv::PLOT_LEFT)} y={vv::coord(top)} width={vv::coord(vv::PLOT_RIGHT - vv::PLOT_LEFT)} height={vv::coord(low - top)} />
            }
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
            <polyline class="series value" points={labs::trend_line(&t.points)} />
            { for t.points.iter().map(|p| {
                let r = &rows[p.index];
                let flagged = labs::flag_label(lang, r.flag.as_deref()).is_some();
                html! {
                    <circle class={classes!("point", flagged.then_some("flagged"))} cx={vv::coord(p.x)} cy={vv::coord(p.y)} r="4">
                        <title>{ vv::point_title(&format!("{} · {}", labs::value_label(r), r.source), r.clinical_date.as_deref().and_then(local).map(|(d, tm)| (ir::day_label(lang, &d), tm))) }</title>
                    </circle>
                }
            }) }
        </svg>
    }
}
