//! The consent screen (a person's sharing with their doctors and its exceptions, caregivers,
//! research use; optionally as a guardian acting for the person) and the audit view (the log
//! of everything that left the vault and every consent change, newest first, paged, and a check
//! of its hash chain). English and Japanese side by side; the words are in `consent_view.rs`.
//!
//! Nothing here shows record content: the consent holds facility names, categories, dates and
//! ids, and the audit log holds who, when, why and counts only.

use crate::consent_view as cv;
use crate::ipc::invoke;
use crate::record::local;
use techo_ipc::{
    AuditListArgs, AuditListCmd, AuditRow, AuditVerdict, AuditVerifyCmd, ConsentChangeArgs, ConsentChangeCmd, ConsentChangeRequest,
    ConsentGetArgs, ConsentGetCmd, ConsentView, NoArgs, PersonSummary, ResearchStatusCmd, ResearchStatusView,
};
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::platform::spawn_local;
use yew::prelude::*;

/// A message: an error, or a quiet note.
#[derive(Clone, PartialEq)]
enum Notice {
    Error(String),
    Note(String),
}

fn notice_html(notice: &Option<Notice>) -> Html {
    match notice {
        Some(Notice::Error(m)) => html! { <p class="notice error" role="alert">{ m.clone() }</p> },
        Some(Notice::Note(m)) => html! { <p class="notice note" role="status">{ m.clone() }</p> },
        None => html! {},
    }
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

fn clear(fields: &[&NodeRef]) {
    for f in fields {
        if let Some(f) = f.cast::<HtmlInputElement>() {
            f.set_value("");
        }
    }
}

/// English and Japanese side by side.
fn both(en: impl Into<String>, ja: impl Into<String>) -> Html {
    html! {
        <span class="bilingual">
            <span class="en" lang="en">{ en.into() }</span>
            <span class="ja" lang="ja">{ ja.into() }</span>
        </span>
    }
}

/// The person the screen opens for: the one given, else yourself, else the first.
pub fn default_person(persons: &[PersonSummary], preferred: Option<i64>) -> Option<i64> {
    preferred
        .filter(|id| persons.iter().any(|p| p.id == *id))
        .or_else(|| persons.iter().find(|p| p.relationship.as_deref() == Some("self")).map(|p| p.id))
        .or_else(|| persons.first().map(|p| p.id))
}

#[derive(Properties, PartialEq)]
pub struct Props {
    pub persons: Vec<PersonSummary>,
    /// The person to open for (the record open before), if any.
    pub person: Option<i64>,
    pub on_back: Callback<()>,
}

/// The consent form fields.
#[derive(Clone, Default)]
struct Fields {
    guardian: NodeRef,
    facility: NodeRef,
    category: NodeRef,
    period_from: NodeRef,
    period_to: NodeRef,
    record: NodeRef,
    caregiver_id: NodeRef,
    caregiver_name: NodeRef,
    caregiver_relationship: NodeRef,
    caregiver_access: NodeRef,
    caregiver_expires: NodeRef,
}

#[component]
pub fn Consent(props: &Props) -> Html {
    let person = use_state(|| default_person(&props.persons, props.person));
    let consent = use_state(|| None::<ConsentView>);
    let queue = use_state(|| None::<ResearchStatusView>);
    let notice = use_state(|| None::<Notice>);
    let busy = use_state(|| false);
    // The research choice waiting for its confirmation: `Some(true)` opting out.
    let confirming = use_state(|| None::<bool>);
    let fields = use_memo((), |_| Fields::default());
    // Counts the loads: an answer for a person no longer chosen is dropped.
    let asked = use_mut_ref(|| 0u64);

    // The consent and the research queue: on open and when the person changes.
    {
        let (consent, queue, notice, asked) = (consent.clone(), queue.clone(), notice.clone(), asked.clone());
        use_effect_with(*person, move |person| {
            consent.set(None);
            *asked.borrow_mut() += 1;
            let mine = *asked.borrow();
            if let Some(person) = *person {
                spawn_local(async move {
                    let answer = invoke::<ConsentGetCmd>(&ConsentGetArgs { person }).await;
                    if *asked.borrow() != mine {
                        return;
                    }
                    match answer {
                        Ok(v) => consent.set(Some(v)),
                        Err(e) => notice.set(Some(Notice::Error(e.message))),
                    }
                    if let Ok(q) = invoke::<ResearchStatusCmd>(&NoArgs {}).await {
                        queue.set(Some(q));
                    }
                });
            }
        });
    }

    // One change, as the person or the guardian named; `done` runs after it was saved.
    let apply = {
        let (person, consent, queue, notice, busy, confirming, fields, asked) =
            (person.clone(), consent.clone(), queue.clone(), notice.clone(), busy.clone(), confirming.clone(), fields.clone(), asked.clone());
        Callback::from(move |(change, done): (ConsentChangeRequest, Option<Vec<NodeRef>>)| {
            let Some(person) = *person else { return };
            if *busy {
                return;
            }
            let guardian = cv::guardian(&input_value(&fields.guardian));
            if let Err(e) = techo_ipc::validate_consent_change(&change).and_then(|_| techo_ipc::validate_guardian(guardian.as_deref())) {
                notice.set(Some(Notice::Error(crate::i18n_errors::localized(e).message)));
                return;
            }
            let (consent, queue, notice, busy, confirming, asked) = (consent.clone(), queue.clone(), notice.clone(), busy.clone(), confirming.clone(), asked.clone());
            let mine = *asked.borrow();
            busy.set(true);
            spawn_local(async move {
                let answer = invoke::<ConsentChangeCmd>(&ConsentChangeArgs { person, change, guardian }).await;
                busy.set(false);
                confirming.set(None);
                if *asked.borrow() != mine {
                    return;
                }
                match answer {
                    Ok(done_view) => {
                        notice.set(Some(Notice::Note(cv::changed_note(&done_view.change, done_view.withdrawn))));
                        consent.set(Some(done_view.consent));
                        if let Some(fields) = done {
                            clear(&fields.iter().collect::<Vec<_>>());
                        }
                        if let Ok(q) = invoke::<ResearchStatusCmd>(&NoArgs {}).await {
                            queue.set(Some(q));
                        }
                    }
                    Err(e) => notice.set(Some(Notice::Error(e.message))),
                }
            });
        })
    };

    let on_back = {
        let cb = props.on_back.clone();
        Callback::from(move |_: MouseEvent| cb.emit(()))
    };
    let on_person = {
        let (person, notice, confirming) = (person.clone(), notice.clone(), confirming.clone());
        Callback::from(move |ev: Event| {
            let Some(select) = ev.target_dyn_into::<HtmlSelectElement>() else { return };
            notice.set(None);
            confirming.set(None);
            person.set(select.value().parse().ok());
        })
    };

    let f = &*fields;
    let on_deny_facility = {
        let (apply, f) = (apply.clone(), f.clone());
        Callback::from(move |ev: SubmitEvent| {
            ev.prevent_default();
            apply.emit((ConsentChangeRequest::DenyFacility { name: input_value(&f.facility) }, Some(vec![f.facility.clone()])));
        })
    };
    let on_deny_category = {
        let (apply, f) = (apply.clone(), f.clone());
        Callback::from(move |ev: SubmitEvent| {
            ev.prevent_default();
            apply.emit((ConsentChangeRequest::DenyCategory { category: select_value(&f.category) }, None));
        })
    };
    let on_deny_period = {
        let (apply, f) = (apply.clone(), f.clone());
        Callback::from(move |ev: SubmitEvent| {
            ev.prevent_default();
            let change = ConsentChangeRequest::DenyPeriod { from: input_value(&f.period_from).trim().to_string(), to: input_value(&f.period_to).trim().to_string() };
            apply.emit((change, Some(vec![f.period_from.clone(), f.period_to.clone()])));
        })
    };
    let on_deny_record = {
        let (apply, f, notice) = (apply.clone(), f.clone(), notice.clone());
        Callback::from(move |ev: SubmitEvent| {
            ev.prevent_default();
            match cv::record_request(&input_value(&f.record)) {
                Ok(change) => apply.emit((change, Some(vec![f.record.clone()]))),
                Err(e) => notice.set(Some(Notice::Error(e.message))),
            }
        })
    };
    let on_grant = {
        let (apply, f) = (apply.clone(), f.clone());
        Callback::from(move |ev: SubmitEvent| {
            ev.prevent_default();
            let change = cv::grant_request(
                &input_value(&f.caregiver_id),
                &input_value(&f.caregiver_name),
                &input_value(&f.caregiver_relationship),
                &select_value(&f.caregiver_access),
                &input_value(&f.caregiver_expires),
            );
            let clear = vec![f.caregiver_id.clone(), f.caregiver_name.clone(), f.caregiver_relationship.clone(), f.caregiver_expires.clone()];
            apply.emit((change, Some(clear)));
        })
    };
    let remove_exception = {
        let apply = apply.clone();
        move |id: String| {
            let apply = apply.clone();
            Callback::from(move |_: MouseEvent| apply.emit((ConsentChangeRequest::RemoveException { id: id.clone() }, None)))
        }
    };
    let revoke = {
        let apply = apply.clone();
        move |id: String| {
            let apply = apply.clone();
            Callback::from(move |_: MouseEvent| apply.emit((ConsentChangeRequest::RevokeCaregiver { id: id.clone() }, None)))
        }
    };
    let ask_research = {
        let confirming = confirming.clone();
        move |opt_out: bool| {
            let confirming = confirming.clone();
            Callback::from(move |_: MouseEvent| confirming.set(Some(opt_out)))
        }
    };
    let on_confirm_research = {
        let (apply, confirming) = (apply.clone(), confirming.clone());
        Callback::from(move |_: MouseEvent| {
            let change = if *confirming == Some(false) { ConsentChangeRequest::ResearchOptIn } else { ConsentChangeRequest::ResearchOptOut };
            apply.emit((change, None));
        })
    };
    let on_cancel_research = {
        let confirming = confirming.clone();
        Callback::from(move |_: MouseEvent| confirming.set(None))
    };

    let name = person.and_then(|id| props.persons.iter().find(|p| p.id == id)).map(|p| p.display_name.clone()).unwrap_or_default();

    let body = match &*consent {
        None if person.is_none() => html! { <p class="muted">{ both("Add a person first.", "先に人を追加してください。") }</p> },
        None => html! { <p class="muted">{ both("Loading the consent…", "同意の設定を読み込んでいます…") }</p> },
        Some(c) => {
            let (explain_en, explain_ja) = cv::research_explainer(c.research.delay_days);
            let (state_en, state_ja) = cv::research_state_label(c.research.permitted);
            html! {
                <>
                    <section class="sharing consent-part">
                        <h3>{ both("Sharing with your doctors", "医療機関との共有") }</h3>
                        <p>{ both("Your record is shared with the facilities that treat you, except:", "あなたの記録は、あなたを診療する医療機関と共有されます。ただし、次のものは除きます:") }</p>
                        if c.exceptions.is_empty() {
                            <p class="muted no-exceptions">{ both("No exceptions: everything is shared with your doctors.", "例外はありません。すべて共有されます。") }</p>
                        } else {
                            <ul class="exceptions">
                                { for c.exceptions.iter().map(|x| html! {
                                    <li class={classes!("exception", x.kind.clone())} key={x.id.clone()} data-id={x.id.clone()}>
                                        <span class="what">{ both(x.description_en.clone(), x.description_ja.clone()) }</span>
                                        <span class="meta muted">{ format!("{} · {} · {}", x.id, when(&x.added_at), x.by) }</span>
                                        <button type="button" class="secondary remove-exception" disabled={*busy}
                                            onclick={remove_exception(x.id.clone())}>{ "Remove / 削除" }</button>
                                    </li>
                                }) }
                            </ul>
                        }
                        <div class="exception-forms">
                            <form class="deny-facility consent-form" onsubmit={on_deny_facility}>
                                <label for="deny-facility-name">{ both("A facility", "医療機関") }</label>
                                <input id="deny-facility-name" type="text" ref={f.facility.clone()} autocomplete="off"
                                    maxlength={techo_ipc::MAX_FACILITY_CHARS.to_string()} placeholder="さくら病院" />
                                <button type="submit" disabled={*busy}>{ "Do not share / 共有しない" }</button>
                            </form>
                            <form class="deny-category consent-form" onsubmit={on_deny_category}>
                                <label for="deny-category">{ both("A kind of record", "記録の種類") }</label>
                                <select id="deny-category" ref={f.category.clone()}>
                                    { for cv::category_options().into_iter().map(|(code, label)| html! { <option value={code}>{ label }</option> }) }
                                </select>
                                <button type="submit" disabled={*busy}>{ "Do not share / 共有しない" }</button>
                            </form>
                            <form class="deny-period consent-form" onsubmit={on_deny_period}>
                                <label for="deny-period-from">{ both("Records dated from … to …", "期間(開始日〜終了日)") }</label>
                                <div class="pair">
                                    <input id="deny-period-from" type="date" ref={f.period_from.clone()} aria-label="from / 開始日" />
                                    <input id="deny-period-to" type="date" ref={f.period_to.clone()} aria-label="to / 終了日" />
                                </div>
                                <button type="submit" disabled={*busy}>{ "Do not share / 共有しない" }</button>
                            </form>
                            <form class="deny-record consent-form" onsubmit={on_deny_record}>
                                <label for="deny-record-id">{ both("One record (its number)", "特定の記録(番号)") }</label>
                                <input id="deny-record-id" type="text" inputmode="numeric" ref={f.record.clone()} autocomplete="off" maxlength="18" />
                                <button type="submit" disabled={*busy}>{ "Do not share / 共有しない" }</button>
                            </form>
                        </div>
                    </section>

                    <section class="caregivers consent-part">
                        <h3>{ both("Caregivers", "介護者・家族") }</h3>
                        <p>{ both("People you let see your record (read only) or also add to it (read and write), until you revoke it or the access ends.", "あなたの記録の閲覧(または記入)を許可した人です。取り消すか期限が来るまで有効です。") }</p>
                        if c.caregivers.is_empty() {
                            <p class="muted no-caregivers">{ both("No caregivers.", "許可した人はいません。") }</p>
                        } else {
                            <ul class="caregivers">
                                { for c.caregivers.iter().map(|g| {
                                    let (s_en, s_ja) = cv::caregiver_state_label(&g.state);
                                    let (a_en, a_ja) = cv::access_label(&g.access);
                                    let live = g.state == "active" || g.state == "not_yet_active";
                                    html! {
                                        <li class="caregiver" key={g.id.clone()} data-state={g.state.clone()} data-id={g.id.clone()}>
                                            <span class="name">{ g.display_name.clone() }</span>
                                            <span class="relationship muted">{ format!("({}) · {}", g.relationship, g.id) }</span>
                                            <span class="access">{ format!("{a_en} / {a_ja}") }</span>
                                            <span class={classes!("badge", "state", g.state.clone())}>{ format!("{s_en} / {s_ja}") }</span>
                                            <span class="dates muted">
                                                { format!("from {}", when(&g.granted_at)) }
                                                { g.expires_at.as_deref().map(|t| format!(" · until {}", when(t))).unwrap_or_default() }
                                                { g.revoked_at.as_deref().map(|t| format!(" · revoked {}", when(t))).unwrap_or_default() }
                                            </span>
                                            if live {
                                                <button type="button" class="secondary revoke-caregiver" disabled={*busy}
                                                    onclick={revoke(g.id.clone())}>{ "Revoke / 取り消す" }</button>
                                            }
                                        </li>
                                    }
                                }) }
                            </ul>
                        }
                        <form class="grant-caregiver consent-form wide" onsubmit={on_grant}>
                            <div class="field">
                                <label for="caregiver-id">{ both("Id (a-z, 0-9, -)", "ID(英小文字・数字・-)") }</label>
                                <input id="caregiver-id" type="text" ref={f.caregiver_id.clone()} autocomplete="off"
                                    maxlength={techo_ipc::MAX_CAREGIVER_ID_CHARS.to_string()} placeholder="hanako" />
                            </div>
                            <div class="field">
                                <label for="caregiver-name">{ both("Name", "氏名") }</label>
                                <input id="caregiver-name" type="text" ref={f.caregiver_name.clone()} autocomplete="off"
                                    maxlength={techo_ipc::MAX_CONSENT_NAME_CHARS.to_string()} placeholder="山田 花子" />
                            </div>
                            <div class="field">
                                <label for="caregiver-relationship">{ both("Relationship", "続柄") }</label>
                                <input id="caregiver-relationship" type="text" ref={f.caregiver_relationship.clone()} autocomplete="off"
                                    maxlength={techo_ipc::MAX_RELATIONSHIP_CHARS.to_string()} placeholder="娘 / daughter" />
                            </div>
                            <div class="field">
                                <label for="caregiver-access">{ both("Access", "権限") }</label>
                                <select id="caregiver-access" ref={f.caregiver_access.clone()}>
                                    { for techo_ipc::CAREGIVER_ACCESS.iter().map(|(code, en, ja)| html! {
                                        <option value={*code}>{ format!("{ja} / {en}") }</option>
                                    }) }
                                </select>
                            </div>
                            <div class="field">
                                <label for="caregiver-expires">{ both("Until (optional)", "期限(任意)") }</label>
                                <input id="caregiver-expires" type="date" ref={f.caregiver_expires.clone()} />
                            </div>
                            <button type="submit" class="grant" disabled={*busy}>{ "Grant access / 許可する" }</button>
                        </form>
                    </section>

                    <section class="research consent-part">
                        <h3>{ both("Research use", "研究への二次利用") }</h3>
                        <p class="research-explainer">{ both(explain_en, explain_ja) }</p>
                        <p class="research-state" data-permitted={c.research.permitted.to_string()}>
                            <span class={classes!("badge", if c.research.permitted { "ready" } else { "error" })}>
                                { if c.research.permitted { "permitted / 許可" } else { "refused / 拒否" } }
                            </span>
                            { " " }{ both(state_en, state_ja) }
                            if let Some(t) = &c.research.changed_at { <span class="muted">{ format!(" · since {}", when(t)) }</span> }
                        </p>
                        if let Some(opt_out) = *confirming {
                            <div class="research-confirm-panel" role="alertdialog">
                                <p>{ { let (en, ja) = cv::research_confirm_text(opt_out); both(en, ja) } }</p>
                                <button type="button" class="research-confirm" disabled={*busy} onclick={on_confirm_research}>
                                    { if opt_out { "Yes, opt out / 拒否する" } else { "Yes, opt back in / 許可する" } }
                                </button>
                                { " " }
                                <button type="button" class="secondary research-cancel" onclick={on_cancel_research}>{ "Cancel / やめる" }</button>
                            </div>
                        } else if c.research.permitted {
                            <button type="button" class="research-opt-out" disabled={*busy} onclick={ask_research(true)}>{ "Opt out / 拒否する" }</button>
                        } else {
                            <button type="button" class="research-opt-in" disabled={*busy} onclick={ask_research(false)}>{ "Opt back in / 再び許可する" }</button>
                        }
                        if let Some(q) = &*queue {
                            <p class="research-queue muted">{ cv::queue_line(q) }</p>
                        }
                    </section>

                    <section class="consent-history consent-part">
                        <h3>{ both("Changes", "変更履歴") }</h3>
                        if c.history.is_empty() {
                            <p class="muted">{ both("Never changed: the defaults (share with your doctors, no caregivers, research permitted).", "変更はありません(初期設定)。") }</p>
                        } else {
                            <ul class="history">
                                { for c.history.iter().map(|h| html! {
                                    <li key={h.version.to_string()}>
                                        <span class="when">{ when(&h.changed_at) }</span>{ " " }<span class="change">{ h.change.clone() }</span>
                                    </li>
                                }) }
                            </ul>
                        }
                    </section>
                </>
            }
        }
    };

    html! {
        <section class="consent">
            <div class="consent-head">
                <button class="secondary consent-close" onclick={on_back}>{ "← All persons" }</button>
                <h2 class="whose">{ name }<span class="muted">{ " · Consent / 同意" }</span></h2>
                if props.persons.len() > 1 {
                    <select id="consent-person" aria-label="Whose consent / 誰の同意" onchange={on_person}>
                        { for props.persons.iter().map(|p| html! {
                            <option value={p.id.to_string()} selected={Some(p.id) == *person}>{ p.display_name.clone() }</option>
                        }) }
                    </select>
                }
            </div>
            <div class="guardian field">
                <label for="guardian">{ both("Guardian acting for this person (optional)", "代理人(保護者など)の氏名(任意)") }</label>
                <input id="guardian" type="text" ref={f.guardian.clone()} autocomplete="off"
                    maxlength={techo_ipc::MAX_CONSENT_NAME_CHARS.to_string()} />
                <p class="muted hint">{ both("When filled in, the changes below are recorded as made by this guardian.", "入力すると、以下の変更はこの代理人による変更として記録されます。") }</p>
            </div>
            { notice_html(&notice) }
            { body }
        </section>
    }
}

#[derive(Properties, PartialEq)]
pub struct AuditProps {
    pub persons: Vec<PersonSummary>,
    pub on_back: Callback<()>,
}

/// The audit log, newest first, page by page; one person's or everyone's; Verify.
#[component]
pub fn Audit(props: &AuditProps) -> Html {
    let person = use_state(|| None::<i64>);
    let rows = use_state(|| None::<Vec<AuditRow>>);
    let next = use_state(|| None::<i64>);
    let verdict = use_state(|| None::<AuditVerdict>);
    let notice = use_state(|| None::<Notice>);
    let busy = use_state(|| false);
    let asked = use_mut_ref(|| 0u64);

    let load = {
        let (rows, next, notice, busy, asked) = (rows.clone(), next.clone(), notice.clone(), busy.clone(), asked.clone());
        move |person: Option<i64>, before_seq: Option<i64>, mut have: Vec<AuditRow>| {
            let (rows, next, notice, busy, asked) = (rows.clone(), next.clone(), notice.clone(), busy.clone(), asked.clone());
            if before_seq.is_none() {
                *asked.borrow_mut() += 1;
            }
            let mine = *asked.borrow();
            busy.set(true);
            spawn_local(async move {
                let answer = invoke::<AuditListCmd>(&AuditListArgs { person, before_seq, limit: cv::AUDIT_PAGE }).await;
                if *asked.borrow() != mine {
                    return;
                }
                busy.set(false);
                match answer {
                    Ok(page) => {
                        have.extend(page.rows);
                        rows.set(Some(have));
                        next.set(page.next_before);
                    }
                    Err(e) => notice.set(Some(Notice::Error(e.message))),
                }
            });
        }
    };

    {
        let load = load.clone();
        use_effect_with(*person, move |person| load(*person, None, Vec::new()));
    }

    let on_more = {
        let (rows, next, person, load) = (rows.clone(), next.clone(), person.clone(), load.clone());
        Callback::from(move |_: MouseEvent| {
            if let Some(before) = *next {
                load(*person, Some(before), (*rows).clone().unwrap_or_default());
            }
        })
    };
    let on_person = {
        let (person, rows) = (person.clone(), rows.clone());
        Callback::from(move |ev: Event| {
            let Some(select) = ev.target_dyn_into::<HtmlSelectElement>() else { return };
            rows.set(None);
            person.set(select.value().parse().ok());
        })
    };
    let on_verify = {
        let (verdict, notice) = (verdict.clone(), notice.clone());
        Callback::from(move |_: MouseEvent| {
            let (verdict, notice) = (verdict.clone(), notice.clone());
            verdict.set(None);
            spawn_local(async move {
                match invoke::<AuditVerifyCmd>(&NoArgs {}).await {
                    Ok(v) => verdict.set(Some(v)),
                    Err(e) => notice.set(Some(Notice::Error(e.message))),
                }
            });
        })
    };
    let on_back = {
        let cb = props.on_back.clone();
        Callback::from(move |_: MouseEvent| cb.emit(()))
    };
    let name_of = |id: Option<i64>| -> String {
        id.and_then(|id| props.persons.iter().find(|p| p.id == id)).map(|p| p.display_name.clone()).unwrap_or_default()
    };

    let table = match &*rows {
        None => html! { <p class="muted">{ both("Loading the log…", "監査ログを読み込んでいます…") }</p> },
        Some(list) if list.is_empty() => html! {
            <p class="muted no-audit">{ both("Nothing yet: nothing has left the vault and no consent was changed.", "記録はまだありません。") }</p>
        },
        Some(list) => html! {
            <table class="audit">
                <thead>
                    <tr>
                        <th scope="col" class="num">{ "#" }</th>
                        <th scope="col">{ "When / 日時" }</th>
                        <th scope="col">{ "What / 内容" }</th>
                        <th scope="col">{ "Whose / 対象者" }</th>
                        <th scope="col">{ "To whom / 提供先" }</th>
                        <th scope="col">{ "Counts, why / 件数・理由" }</th>
                    </tr>
                </thead>
                <tbody>
                    { for list.iter().map(|r| html! {
                        <tr class={classes!("audit-row", r.kind.clone())} key={r.seq.to_string()} data-kind={r.kind.clone()}>
                            <td class="num seq">{ r.seq }</td>
                            <td class="when">{ when(&r.recorded_at) }</td>
                            <td class="kind">{ cv::audit_kind_text(&r.kind) }</td>
                            <td class="whose">{ name_of(r.person) }</td>
                            <td class="recipient">{ r.recipient.clone() }</td>
                            <td class="why">
                                if let Some(w) = &r.what { <span class="counts">{ w.clone() }</span><br /> }
                                <span class="reason">{ r.why.clone() }</span>
                                if !r.purpose.is_empty() { <span class="purpose muted">{ format!(" ({})", r.purpose) }</span> }
                            </td>
                        </tr>
                    }) }
                </tbody>
            </table>
        },
    };

    html! {
        <section class="audit-view">
            <div class="consent-head">
                <button class="secondary audit-close" onclick={on_back}>{ "← All persons" }</button>
                <h2>{ "Audit / 監査ログ" }</h2>
                <select id="audit-person" aria-label="Whose entries / 対象者" onchange={on_person}>
                    <option value="" selected={person.is_none()}>{ "Everyone / 全員" }</option>
                    { for props.persons.iter().map(|p| html! {
                        <option value={p.id.to_string()} selected={Some(p.id) == *person}>{ p.display_name.clone() }</option>
                    }) }
                </select>
                <button type="button" class="audit-verify" onclick={on_verify}>{ "Verify / 検証" }</button>
            </div>
            <p>{ both(
                "Every time records left the vault (an export, a share with a provider, a caregiver's view, a research copy) and every consent change, newest first. The log holds no record content, and any change to it is found by Verify.",
                "記録が外部に出たとき(書き出し・医療機関への共有・介護者の閲覧・研究用コピー)と同意の変更をすべて、新しい順に記録しています。記録の内容は含みません。改ざんは「検証」で分かります。",
            ) }</p>
            if let Some(v) = &*verdict {
                <p class={classes!("audit-verdict", "notice", if v.ok { "note" } else { "error" })} data-ok={v.ok.to_string()}>{ cv::verdict_text(v) }</p>
            }
            { notice_html(&notice) }
            { table }
            if next.is_some() {
                <button class="secondary more audit-more" onclick={on_more} disabled={*busy}>{ "Show older entries / さらに表示" }</button>
            }
        </section>
    }
}
