//! Diaries as FHIR `QuestionnaireResponse`s against the Questionnaires shipped in
//! `questionnaires/*.json` (embedded; see [`questionnaires`]).
//!
//! The item tables below are what validation, writing and reading use; a test checks that
//! they agree with the embedded JSON item by item (linkId, text, type, limits, options).
//! The identifier of a diary entry is `subject|diary|authored (UTC)`: entering the same
//! diary for the same moment again gives the same identifier (a new version of one record,
//! not a second record). Free text is never part of an identifier.

use crate::error::VitalsError;
use crate::observation::{fhir_date_time, parse_fhir_date_time, IDENTIFIER_SYSTEM};
use crate::text::{clean, is_reference, narrative};
use chrono::{DateTime, Duration, FixedOffset, Timelike, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// The version of every shipped Questionnaire.
pub const QUESTIONNAIRE_VERSION: &str = "1";

/// Which diary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DiaryKind {
    Asthma,
    JointPain,
    Mood,
}

impl DiaryKind {
    pub const ALL: [DiaryKind; 3] = [DiaryKind::Asthma, DiaryKind::JointPain, DiaryKind::Mood];

    pub fn slug(self) -> &'static str {
        match self {
            DiaryKind::Asthma => "asthma-diary",
            DiaryKind::JointPain => "joint-pain-diary",
            DiaryKind::Mood => "mood-diary",
        }
    }

    /// `Questionnaire.url`.
    pub fn url(self) -> &'static str {
        match self {
            DiaryKind::Asthma => "http://techo.example/fhir/Questionnaire/asthma-diary",
            DiaryKind::JointPain => "http://techo.example/fhir/Questionnaire/joint-pain-diary",
            DiaryKind::Mood => "http://techo.example/fhir/Questionnaire/mood-diary",
        }
    }

    /// `url|version`, as written in `QuestionnaireResponse.questionnaire`.
    pub fn canonical(self) -> &'static str {
        match self {
            DiaryKind::Asthma => "http://techo.example/fhir/Questionnaire/asthma-diary|1",
            DiaryKind::JointPain => "http://techo.example/fhir/Questionnaire/joint-pain-diary|1",
            DiaryKind::Mood => "http://techo.example/fhir/Questionnaire/mood-diary|1",
        }
    }

    pub fn title_ja(self) -> &'static str {
        match self {
            DiaryKind::Asthma => "喘息日誌",
            DiaryKind::JointPain => "関節痛日誌",
            DiaryKind::Mood => "体調・気分日誌",
        }
    }

    fn json(self) -> &'static str {
        match self {
            DiaryKind::Asthma => include_str!("../questionnaires/asthma-diary.json"),
            DiaryKind::JointPain => include_str!("../questionnaires/joint-pain-diary.json"),
            DiaryKind::Mood => include_str!("../questionnaires/mood-diary.json"),
        }
    }

    /// The Questionnaire resource.
    pub fn questionnaire(self) -> Value {
        serde_json::from_str(self.json())
            .expect("the embedded Questionnaire is valid JSON (tested)")
    }

    fn items(self) -> &'static [Item] {
        match self {
            DiaryKind::Asthma => &ASTHMA_ITEMS,
            DiaryKind::JointPain => &JOINT_ITEMS,
            DiaryKind::Mood => &MOOD_ITEMS,
        }
    }

    fn from_canonical(c: &str) -> Option<DiaryKind> {
        let (url, version) = c.split_once('|').map_or((c, None), |(u, v)| (u, Some(v)));
        if version.is_some_and(|v| v != QUESTIONNAIRE_VERSION) {
            return None;
        }
        DiaryKind::ALL.into_iter().find(|k| k.url() == url)
    }
}

/// Every shipped Questionnaire.
pub fn questionnaires() -> Vec<Value> {
    DiaryKind::ALL.iter().map(|k| k.questionnaire()).collect()
}

/// A joint for the joint-pain diary (code system `http://techo.example/fhir/CodeSystem/joint`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Joint {
    Neck,
    Jaw,
    LeftShoulder,
    RightShoulder,
    LeftElbow,
    RightElbow,
    LeftWrist,
    RightWrist,
    LeftFingers,
    RightFingers,
    LowerBack,
    LeftHip,
    RightHip,
    LeftKnee,
    RightKnee,
    LeftAnkle,
    RightAnkle,
    LeftToes,
    RightToes,
}

const JOINTS: [(Joint, &str, &str); 19] = [
    (Joint::Neck, "neck", "首"),
    (Joint::Jaw, "jaw", "顎"),
    (Joint::LeftShoulder, "left-shoulder", "左肩"),
    (Joint::RightShoulder, "right-shoulder", "右肩"),
    (Joint::LeftElbow, "left-elbow", "左肘"),
    (Joint::RightElbow, "right-elbow", "右肘"),
    (Joint::LeftWrist, "left-wrist", "左手首"),
    (Joint::RightWrist, "right-wrist", "右手首"),
    (Joint::LeftFingers, "left-fingers", "左手の指"),
    (Joint::RightFingers, "right-fingers", "右手の指"),
    (Joint::LowerBack, "lower-back", "腰"),
    (Joint::LeftHip, "left-hip", "左股関節"),
    (Joint::RightHip, "right-hip", "右股関節"),
    (Joint::LeftKnee, "left-knee", "左膝"),
    (Joint::RightKnee, "right-knee", "右膝"),
    (Joint::LeftAnkle, "left-ankle", "左足首"),
    (Joint::RightAnkle, "right-ankle", "右足首"),
    (Joint::LeftToes, "left-toes", "左足の指"),
    (Joint::RightToes, "right-toes", "右足の指"),
];

impl Joint {
    pub fn all() -> impl Iterator<Item = Joint> {
        JOINTS.iter().map(|j| j.0)
    }
    pub fn code(self) -> &'static str {
        JOINTS[self as usize].1
    }
    pub fn label_ja(self) -> &'static str {
        JOINTS[self as usize].2
    }
    pub fn from_code(code: &str) -> Option<Joint> {
        JOINTS.iter().find(|j| j.1 == code).map(|j| j.0)
    }
}

// --- item tables ---------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ItemType {
    /// An integer answer with limits.
    Integer,
    /// A numeric scale answered with a Coding whose code is the number.
    Scale,
    /// Joints (repeats).
    Joints,
    Text,
}

#[derive(Debug)]
struct Item {
    link_id: &'static str,
    text: &'static str,
    ty: ItemType,
    min: i64,
    max: i64,
    max_len: usize,
    system: &'static str,
    options: &'static [(&'static str, &'static str)],
}

const fn int(link_id: &'static str, text: &'static str, min: i64, max: i64) -> Item {
    Item {
        link_id,
        text,
        ty: ItemType::Integer,
        min,
        max,
        max_len: 0,
        system: "",
        options: &[],
    }
}
const fn txt(link_id: &'static str, text: &'static str, max_len: usize) -> Item {
    Item {
        link_id,
        text,
        ty: ItemType::Text,
        min: 0,
        max: 0,
        max_len,
        system: "",
        options: &[],
    }
}

/// Longest free-text note, in characters.
pub const MAX_NOTE_CHARS: usize = 2000;
/// Longest symptoms text, in characters.
pub const MAX_SYMPTOMS_CHARS: usize = 500;

static ASTHMA_ITEMS: [Item; 6] = [
    Item {
        link_id: "daytime-symptoms",
        text: "日中の症状",
        ty: ItemType::Scale,
        min: 0,
        max: 3,
        max_len: 0,
        system: "http://techo.example/fhir/CodeSystem/asthma-symptom-level",
        options: &[
            ("0", "なし"),
            ("1", "軽い"),
            ("2", "中くらい"),
            ("3", "強い"),
        ],
    },
    int("night-awakenings", "夜中に喘息で目が覚めた回数", 0, 10),
    int(
        "reliever-puffs",
        "発作止めの吸入（リリーバー）の回数",
        0,
        40,
    ),
    int("pef-morning", "朝のピークフロー (L/min)", 30, 1000),
    int("pef-evening", "夜のピークフロー (L/min)", 30, 1000),
    txt("note", "メモ", MAX_NOTE_CHARS),
];

static JOINT_ITEMS: [Item; 4] = [
    Item {
        link_id: "sites",
        text: "痛む関節",
        ty: ItemType::Joints,
        min: 0,
        max: 0,
        max_len: 0,
        system: "http://techo.example/fhir/CodeSystem/joint",
        options: &[],
    },
    int("severity", "痛みの強さ (0〜10)", 0, 10),
    int(
        "morning-stiffness-minutes",
        "朝のこわばりの時間（分）",
        0,
        1440,
    ),
    txt("note", "メモ", MAX_NOTE_CHARS),
];

static MOOD_ITEMS: [Item; 3] = [
    Item {
        link_id: "mood",
        text: "今日の気分",
        ty: ItemType::Scale,
        min: 1,
        max: 5,
        max_len: 0,
        system: "http://techo.example/fhir/CodeSystem/mood-level",
        options: &[
            ("1", "とても悪い"),
            ("2", "悪い"),
            ("3", "ふつう"),
            ("4", "良い"),
            ("5", "とても良い"),
        ],
    },
    txt("symptoms", "症状", MAX_SYMPTOMS_CHARS),
    txt("note", "メモ", MAX_NOTE_CHARS),
];

// --- entries -------------------------------------------------------------------------------

/// 喘息日誌.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AsthmaDiary {
    /// 0 none, 1 mild, 2 moderate, 3 severe.
    pub daytime_symptoms: Option<u8>,
    pub night_awakenings: Option<u32>,
    pub reliever_puffs: Option<u32>,
    /// L/min.
    pub pef_morning: Option<u32>,
    /// L/min.
    pub pef_evening: Option<u32>,
    pub note: Option<String>,
}

/// 関節痛日誌.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JointPainDiary {
    pub sites: Vec<Joint>,
    /// 0–10.
    pub severity: Option<u8>,
    pub morning_stiffness_minutes: Option<u32>,
    pub note: Option<String>,
}

/// 体調・気分日誌.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MoodDiary {
    /// 1 very bad … 5 very good.
    pub mood: Option<u8>,
    pub symptoms: Option<String>,
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "diary", rename_all = "kebab-case")]
pub enum DiaryEntry {
    Asthma(AsthmaDiary),
    JointPain(JointPainDiary),
    Mood(MoodDiary),
}

/// A diary entry and when it was written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diary {
    pub authored: DateTime<FixedOffset>,
    pub entry: DiaryEntry,
}

#[derive(Debug, Clone, PartialEq)]
enum Answer {
    Int(i64),
    Joint(Joint),
    Text(String),
}

impl DiaryEntry {
    pub fn kind(&self) -> DiaryKind {
        match self {
            DiaryEntry::Asthma(_) => DiaryKind::Asthma,
            DiaryEntry::JointPain(_) => DiaryKind::JointPain,
            DiaryEntry::Mood(_) => DiaryKind::Mood,
        }
    }

    /// Answers by linkId, in item order; unanswered items left out.
    fn answers(&self) -> Vec<(&'static Item, Vec<Answer>)> {
        let mut by_id: BTreeMap<&str, Vec<Answer>> = BTreeMap::new();
        let mut put_int = |id: &'static str, v: Option<i64>| {
            if let Some(v) = v {
                by_id.insert(id, vec![Answer::Int(v)]);
            }
        };
        match self {
            DiaryEntry::Asthma(a) => {
                put_int("daytime-symptoms", a.daytime_symptoms.map(i64::from));
                put_int("night-awakenings", a.night_awakenings.map(i64::from));
                put_int("reliever-puffs", a.reliever_puffs.map(i64::from));
                put_int("pef-morning", a.pef_morning.map(i64::from));
                put_int("pef-evening", a.pef_evening.map(i64::from));
            }
            DiaryEntry::JointPain(j) => {
                put_int("severity", j.severity.map(i64::from));
                put_int(
                    "morning-stiffness-minutes",
                    j.morning_stiffness_minutes.map(i64::from),
                );
            }
            DiaryEntry::Mood(m) => put_int("mood", m.mood.map(i64::from)),
        }
        let texts: Vec<(&str, &Option<String>)> = match self {
            DiaryEntry::Asthma(a) => vec![("note", &a.note)],
            DiaryEntry::JointPain(j) => vec![("note", &j.note)],
            DiaryEntry::Mood(m) => vec![("symptoms", &m.symptoms), ("note", &m.note)],
        };
        for (id, t) in texts {
            if let Some(t) = clean(t.as_deref()) {
                by_id.insert(id, vec![Answer::Text(t)]);
            }
        }
        if let DiaryEntry::JointPain(j) = self {
            let mut sites = j.sites.clone();
            sites.sort();
            sites.dedup();
            if !sites.is_empty() {
                by_id.insert("sites", sites.into_iter().map(Answer::Joint).collect());
            }
        }
        self.kind()
            .items()
            .iter()
            .filter_map(|it| by_id.remove(it.link_id).map(|a| (it, a)))
            .collect()
    }

    /// Trims text (empty → none), sorts and de-duplicates joints.
    fn normalize(&mut self) {
        let tidy = |t: &mut Option<String>| *t = clean(t.as_deref());
        match self {
            DiaryEntry::Asthma(a) => tidy(&mut a.note),
            DiaryEntry::JointPain(j) => {
                tidy(&mut j.note);
                j.sites.sort();
                j.sites.dedup();
            }
            DiaryEntry::Mood(m) => {
                tidy(&mut m.symptoms);
                tidy(&mut m.note);
            }
        }
    }

    /// Not empty; every number inside its item's limits; texts not too long.
    pub fn validate(&self) -> Result<(), VitalsError> {
        let answers = self.answers();
        if answers.is_empty() {
            return Err(VitalsError::EmptyDiaryEntry);
        }
        for (item, ans) in &answers {
            for a in ans {
                match a {
                    Answer::Int(v) if *v < item.min || *v > item.max => {
                        return Err(VitalsError::OutOfRange {
                            field: item.link_id,
                            min: item.min as f64,
                            max: item.max as f64,
                            unit: "",
                        })
                    }
                    Answer::Text(t) if t.chars().count() > item.max_len => {
                        return Err(VitalsError::TextTooLong {
                            field: item.link_id,
                            max: item.max_len,
                        })
                    }
                    _ => {}
                }
            }
        }
        Ok(())
    }
}

impl Diary {
    pub fn new(authored: DateTime<FixedOffset>, entry: DiaryEntry) -> Diary {
        Diary { authored, entry }
    }

    /// Normalizes (trims text, sorts joints, drops sub-seconds) and validates, including that
    /// `authored` is not in the future (beyond the clock-skew tolerance).
    pub fn check(mut self, now: DateTime<FixedOffset>) -> Result<Diary, VitalsError> {
        self.authored = self.authored.with_nanosecond(0).unwrap_or(self.authored);
        self.entry.normalize();
        self.entry.validate()?;
        let tol = crate::reading::CLOCK_SKEW_TOLERANCE_MINUTES;
        if self.authored > now + Duration::minutes(tol) {
            return Err(VitalsError::FutureTime {
                tolerance_minutes: tol,
            });
        }
        Ok(self)
    }

    /// `subject|diary slug|authored in UTC`.
    pub fn identifier_value(&self, subject: &str) -> String {
        let when = self
            .authored
            .with_timezone(&Utc)
            .format("%Y-%m-%dT%H:%M:%SZ");
        format!("{subject}|{}|{when}", self.entry.kind().slug())
    }
}

fn answer_json(item: &Item, a: &Answer) -> Value {
    match a {
        Answer::Int(v) if item.ty == ItemType::Scale => {
            let code = v.to_string();
            let display = item
                .options
                .iter()
                .find(|o| o.0 == code)
                .map_or("", |o| o.1);
            json!({ "valueCoding": { "system": item.system, "code": code, "display": display } })
        }
        Answer::Int(v) => json!({ "valueInteger": v }),
        Answer::Joint(j) => {
            json!({ "valueCoding": { "system": item.system, "code": j.code(), "display": j.label_ja() } })
        }
        Answer::Text(t) => json!({ "valueString": t }),
    }
}

fn answer_text(item: &Item, a: &Answer) -> String {
    match a {
        Answer::Int(v) if item.ty == ItemType::Scale => {
            let code = v.to_string();
            let label = item
                .options
                .iter()
                .find(|o| o.0 == code)
                .map_or("", |o| o.1);
            format!("{v}（{label}）")
        }
        Answer::Int(v) => v.to_string(),
        Answer::Joint(j) => j.label_ja().to_string(),
        Answer::Text(t) => t.clone(),
    }
}

/// The QuestionnaireResponse for a diary entry (status `completed`). The content is validated
/// again (not the time: see [`Diary::check`]).
pub fn to_questionnaire_response(
    diary: &Diary,
    subject: &str,
    author: Option<&str>,
) -> Result<Value, VitalsError> {
    if !is_reference(subject)
        || !(subject.starts_with("Patient/") || subject.starts_with("urn:uuid:"))
    {
        return Err(VitalsError::InvalidReference { field: "subject" });
    }
    if author.is_some_and(|a| !is_reference(a)) {
        return Err(VitalsError::InvalidReference { field: "author" });
    }
    diary.entry.validate()?;
    let kind = diary.entry.kind();
    let answers = diary.entry.answers();

    let mut paras = vec![format!(
        "<p>{} {}</p>",
        techo_fhir::escape_xhtml(kind.title_ja()),
        techo_fhir::escape_xhtml(&diary.authored.format("%Y-%m-%d %H:%M (%:z)").to_string())
    )];
    let mut list = String::from("<ul>");
    for (item, ans) in &answers {
        let vals: Vec<String> = ans.iter().map(|a| answer_text(item, a)).collect();
        list.push_str(&format!(
            "<li>{}: {}</li>",
            techo_fhir::escape_xhtml(item.text),
            techo_fhir::escape_xhtml(&vals.join("、"))
        ));
    }
    list.push_str("</ul>");
    paras.push(list);

    let mut o = Map::new();
    o.insert("resourceType".into(), json!("QuestionnaireResponse"));
    o.insert("text".into(), narrative(&paras));
    o.insert(
        "identifier".into(),
        json!({ "system": IDENTIFIER_SYSTEM, "value": diary.identifier_value(subject) }),
    );
    o.insert("questionnaire".into(), json!(kind.canonical()));
    o.insert("status".into(), json!("completed"));
    o.insert("subject".into(), json!({ "reference": subject }));
    o.insert("authored".into(), json!(fhir_date_time(&diary.authored)));
    if let Some(a) = author {
        o.insert("author".into(), json!({ "reference": a }));
    }
    let items: Vec<Value> = answers
        .iter()
        .map(|(item, ans)| {
            json!({
                "linkId": item.link_id,
                "text": item.text,
                "answer": ans.iter().map(|a| answer_json(item, a)).collect::<Vec<_>>(),
            })
        })
        .collect();
    o.insert("item".into(), Value::Array(items));
    Ok(Value::Object(o))
}

/// A QuestionnaireResponse read back.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedDiary {
    pub diary: Diary,
    pub status: String,
    pub subject: Option<String>,
    pub author: Option<String>,
    pub identifier: Option<String>,
}

fn parse_answer(item: &'static Item, a: &Value) -> Result<Answer, VitalsError> {
    let bad = VitalsError::InvalidElement {
        element: "item.answer",
    };
    match item.ty {
        ItemType::Integer => a
            .get("valueInteger")
            .and_then(Value::as_i64)
            .map(Answer::Int)
            .ok_or(bad),
        ItemType::Scale => {
            let code = a
                .get("valueCoding")
                .and_then(|c| c.get("code"))
                .and_then(Value::as_str)
                .ok_or(bad)?;
            if !item.options.iter().any(|o| o.0 == code) {
                return Err(VitalsError::UnknownAnswer { item: item.link_id });
            }
            code.parse()
                .map(Answer::Int)
                .map_err(|_| VitalsError::UnknownAnswer { item: item.link_id })
        }
        ItemType::Joints => {
            let code = a
                .get("valueCoding")
                .and_then(|c| c.get("code"))
                .and_then(Value::as_str)
                .ok_or(bad)?;
            Joint::from_code(code)
                .map(Answer::Joint)
                .ok_or(VitalsError::UnknownAnswer { item: item.link_id })
        }
        ItemType::Text => a
            .get("valueString")
            .and_then(Value::as_str)
            .map(|s| Answer::Text(s.to_string()))
            .ok_or(bad),
    }
}

fn small<T: TryFrom<i64>>(
    v: Option<i64>,
    item: &'static str,
    min: i64,
    max: i64,
) -> Result<Option<T>, VitalsError> {
    v.map(|v| {
        T::try_from(v).map_err(|_| VitalsError::OutOfRange {
            field: item,
            min: min as f64,
            max: max as f64,
            unit: "",
        })
    })
    .transpose()
}

/// Reads one of this app's diary QuestionnaireResponses back (and validates its content).
pub fn from_questionnaire_response(qr: &Value) -> Result<ParsedDiary, VitalsError> {
    let o = qr
        .as_object()
        .filter(|m| m.get("resourceType").and_then(Value::as_str) == Some("QuestionnaireResponse"))
        .ok_or(VitalsError::WrongResourceType {
            expected: "QuestionnaireResponse",
        })?;
    let kind = o
        .get("questionnaire")
        .and_then(Value::as_str)
        .and_then(DiaryKind::from_canonical)
        .ok_or(VitalsError::UnknownQuestionnaire)?;
    let status = o
        .get("status")
        .and_then(Value::as_str)
        .ok_or(VitalsError::MissingElement { element: "status" })?
        .to_string();
    let authored = o
        .get("authored")
        .ok_or(VitalsError::MissingElement {
            element: "authored",
        })?
        .as_str()
        .ok_or(VitalsError::InvalidElement {
            element: "authored",
        })?;
    let authored = parse_fhir_date_time(authored, "authored")?;

    let mut by_id: BTreeMap<&'static str, Vec<Answer>> = BTreeMap::new();
    for it in o
        .get("item")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let link = it
            .get("linkId")
            .and_then(Value::as_str)
            .ok_or(VitalsError::MissingElement {
                element: "item.linkId",
            })?;
        let item = kind
            .items()
            .iter()
            .find(|i| i.link_id == link)
            .ok_or(VitalsError::UnknownItem)?;
        let answers = it
            .get("answer")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        if answers.len() > 1 && item.ty != ItemType::Joints {
            return Err(VitalsError::InvalidElement {
                element: "item.answer",
            });
        }
        let parsed = answers
            .iter()
            .map(|a| parse_answer(item, a))
            .collect::<Result<Vec<_>, _>>()?;
        by_id.entry(item.link_id).or_default().extend(parsed);
    }
    let int = |id: &str| match by_id.get(id).and_then(|a| a.first()) {
        Some(Answer::Int(v)) => Some(*v),
        _ => None,
    };
    let text = |id: &str| match by_id.get(id).and_then(|a| a.first()) {
        Some(Answer::Text(t)) => Some(t.clone()),
        _ => None,
    };
    let lim = |id: &str| {
        let it = kind
            .items()
            .iter()
            .find(|i| i.link_id == id)
            .expect("known item");
        (it.link_id, it.min, it.max)
    };
    macro_rules! num {
        ($id:expr) => {{
            let (f, lo, hi) = lim($id);
            small(int($id), f, lo, hi)?
        }};
    }
    let entry = match kind {
        DiaryKind::Asthma => DiaryEntry::Asthma(AsthmaDiary {
            daytime_symptoms: num!("daytime-symptoms"),
            night_awakenings: num!("night-awakenings"),
            reliever_puffs: num!("reliever-puffs"),
            pef_morning: num!("pef-morning"),
            pef_evening: num!("pef-evening"),
            note: text("note"),
        }),
        DiaryKind::JointPain => DiaryEntry::JointPain(JointPainDiary {
            sites: by_id
                .get("sites")
                .into_iter()
                .flatten()
                .filter_map(|a| match a {
                    Answer::Joint(j) => Some(*j),
                    _ => None,
                })
                .collect(),
            severity: num!("severity"),
            morning_stiffness_minutes: num!("morning-stiffness-minutes"),
            note: text("note"),
        }),
        DiaryKind::Mood => DiaryEntry::Mood(MoodDiary {
            mood: num!("mood"),
            symptoms: text("symptoms"),
            note: text("note"),
        }),
    };
    let mut entry = entry;
    entry.normalize();
    entry.validate()?;
    let reference = |k: &str| {
        o.get(k)
            .and_then(|r| r.get("reference"))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    Ok(ParsedDiary {
        diary: Diary { authored, entry },
        status,
        subject: reference("subject"),
        author: reference("author"),
        identifier: o
            .get("identifier")
            .filter(|i| i.get("system").and_then(Value::as_str) == Some(IDENTIFIER_SYSTEM))
            .and_then(|i| i.get("value"))
            .and_then(Value::as_str)
            .map(str::to_string),
    })
}

impl DiaryEntry {
    /// The entry as one English line (`mood 4/5; symptoms: …`), for lists.
    pub fn summary(&self) -> String {
        let mut parts = Vec::new();
        let mut num = |label: &str, v: Option<String>| {
            if let Some(v) = v {
                parts.push(format!("{label} {v}"));
            }
        };
        match self {
            DiaryEntry::Asthma(a) => {
                num("daytime symptoms", a.daytime_symptoms.map(|v| format!("{v}/3")));
                num("night awakenings", a.night_awakenings.map(|v| v.to_string()));
                num("reliever puffs", a.reliever_puffs.map(|v| v.to_string()));
                num("PEF morning", a.pef_morning.map(|v| format!("{v} L/min")));
                num("PEF evening", a.pef_evening.map(|v| format!("{v} L/min")));
                num("note:", a.note.as_deref().map(crate::reading::one_line));
            }
            DiaryEntry::JointPain(j) => {
                if !j.sites.is_empty() {
                    num("joints", Some(j.sites.iter().map(|s| s.code()).collect::<Vec<_>>().join(",")));
                }
                num("severity", j.severity.map(|v| format!("{v}/10")));
                num("morning stiffness", j.morning_stiffness_minutes.map(|v| format!("{v} min")));
                num("note:", j.note.as_deref().map(crate::reading::one_line));
            }
            DiaryEntry::Mood(m) => {
                num("mood", m.mood.map(|v| format!("{v}/5")));
                num("symptoms:", m.symptoms.as_deref().map(crate::reading::one_line));
                num("note:", m.note.as_deref().map(crate::reading::one_line));
            }
        }
        parts.join("; ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The Rust item tables and the shipped Questionnaire JSON must agree.
    #[test]
    fn item_tables_match_the_embedded_questionnaires() {
        for kind in DiaryKind::ALL {
            let q = kind.questionnaire();
            assert_eq!(q["resourceType"], "Questionnaire");
            assert_eq!(q["url"], kind.url());
            assert_eq!(q["version"], QUESTIONNAIRE_VERSION);
            assert_eq!(
                format!("{}|{}", kind.url(), QUESTIONNAIRE_VERSION),
                kind.canonical()
            );
            assert_eq!(q["id"], kind.slug());
            assert_eq!(q["title"], kind.title_ja());
            let items = q["item"].as_array().unwrap();
            assert_eq!(items.len(), kind.items().len(), "{kind:?}");
            for (j, it) in items.iter().zip(kind.items()) {
                assert_eq!(j["linkId"], it.link_id);
                assert_eq!(j["text"], it.text);
                let ext = |url: &str| {
                    j["extension"].as_array().and_then(|e| {
                        e.iter()
                            .find(|x| x["url"] == url)
                            .and_then(|x| x["valueInteger"].as_i64())
                    })
                };
                match it.ty {
                    ItemType::Integer => {
                        assert_eq!(j["type"], "integer");
                        assert_eq!(
                            ext("http://hl7.org/fhir/StructureDefinition/minValue"),
                            Some(it.min)
                        );
                        assert_eq!(
                            ext("http://hl7.org/fhir/StructureDefinition/maxValue"),
                            Some(it.max)
                        );
                    }
                    ItemType::Scale => {
                        assert_eq!(j["type"], "choice");
                        let opts: Vec<(String, String)> = j["answerOption"]
                            .as_array()
                            .unwrap()
                            .iter()
                            .map(|o| {
                                assert_eq!(o["valueCoding"]["system"], it.system);
                                (
                                    o["valueCoding"]["code"].as_str().unwrap().to_string(),
                                    o["valueCoding"]["display"].as_str().unwrap().to_string(),
                                )
                            })
                            .collect();
                        let want: Vec<(String, String)> = it
                            .options
                            .iter()
                            .map(|(c, d)| (c.to_string(), d.to_string()))
                            .collect();
                        assert_eq!(opts, want);
                        assert_eq!(it.options.first().unwrap().0, it.min.to_string());
                        assert_eq!(it.options.last().unwrap().0, it.max.to_string());
                    }
                    ItemType::Joints => {
                        assert_eq!(j["type"], "choice");
                        assert_eq!(j["repeats"], true);
                        let opts: Vec<(&str, &str)> = j["answerOption"]
                            .as_array()
                            .unwrap()
                            .iter()
                            .map(|o| {
                                assert_eq!(o["valueCoding"]["system"], it.system);
                                (
                                    o["valueCoding"]["code"].as_str().unwrap(),
                                    o["valueCoding"]["display"].as_str().unwrap(),
                                )
                            })
                            .collect();
                        let want: Vec<(&str, &str)> =
                            Joint::all().map(|j| (j.code(), j.label_ja())).collect();
                        assert_eq!(opts, want);
                    }
                    ItemType::Text => {
                        assert_eq!(j["type"], "text");
                        assert_eq!(j["maxLength"].as_u64(), Some(it.max_len as u64));
                    }
                }
            }
        }
    }

    #[test]
    fn joint_table_is_indexed_by_variant() {
        for (i, j) in Joint::all().enumerate() {
            assert_eq!(j as usize, i);
            assert_eq!(Joint::from_code(j.code()), Some(j));
        }
    }
}
