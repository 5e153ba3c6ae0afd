//! Diaries ⇄ QuestionnaireResponse.

use crate::{at, now, SUBJECT};
use serde_json::json;
use techo_vitals::*;

fn entries() -> Vec<DiaryEntry> {
    vec![
        DiaryEntry::Asthma(AsthmaDiary {
            daytime_symptoms: Some(1),
            night_awakenings: Some(2),
            reliever_puffs: Some(3),
            pef_morning: Some(380),
            pef_evening: Some(410),
            note: Some("夜、咳が出た <少し>".into()),
        }),
        DiaryEntry::JointPain(JointPainDiary {
            sites: vec![Joint::RightKnee, Joint::LeftWrist, Joint::RightKnee],
            severity: Some(6),
            morning_stiffness_minutes: Some(45),
            note: None,
        }),
        DiaryEntry::Mood(MoodDiary {
            mood: Some(4),
            symptoms: Some(" 頭痛 ".into()),
            note: Some("よく眠れた".into()),
        }),
        DiaryEntry::Mood(MoodDiary {
            mood: None,
            symptoms: None,
            note: Some("メモだけ".into()),
        }),
    ]
}

#[test]
fn every_diary_round_trips() {
    for entry in entries() {
        let d = Diary::new(at(2026, 11, 27, 21, 0), entry)
            .check(now())
            .unwrap();
        let qr = to_questionnaire_response(&d, SUBJECT, Some("RelatedPerson/son")).unwrap();
        assert_eq!(qr["resourceType"], "QuestionnaireResponse");
        assert_eq!(qr["status"], "completed");
        assert_eq!(qr["questionnaire"], d.entry.kind().canonical());
        assert_eq!(qr["authored"], "2026-11-27T21:00:00+09:00");
        assert_eq!(qr["identifier"]["system"], "urn:techo:home-entry");
        assert!(qr["text"]["div"]
            .as_str()
            .unwrap()
            .contains(d.entry.kind().title_ja()));
        let p = from_questionnaire_response(&qr).unwrap();
        assert_eq!(p.diary, d);
        assert_eq!(p.subject.as_deref(), Some(SUBJECT));
        assert_eq!(p.author.as_deref(), Some("RelatedPerson/son"));
        assert_eq!(p.identifier, Some(d.identifier_value(SUBJECT)));
    }
}

#[test]
fn answers_are_coded_against_the_questionnaire() {
    let d = Diary::new(at(2026, 11, 27, 21, 0), entries().remove(1))
        .check(now())
        .unwrap();
    // Joints sorted and de-duplicated.
    let DiaryEntry::JointPain(j) = &d.entry else {
        panic!()
    };
    assert_eq!(j.sites, [Joint::LeftWrist, Joint::RightKnee]);
    let qr = to_questionnaire_response(&d, SUBJECT, None).unwrap();
    assert_eq!(
        qr["item"][0],
        json!({
            "linkId": "sites", "text": "痛む関節",
            "answer": [
                {"valueCoding": {"system": "http://techo.example/fhir/CodeSystem/joint", "code": "left-wrist", "display": "左手首"}},
                {"valueCoding": {"system": "http://techo.example/fhir/CodeSystem/joint", "code": "right-knee", "display": "右膝"}}
            ]
        })
    );
    assert_eq!(qr["item"][1]["answer"][0]["valueInteger"], 6);
    assert!(qr.get("author").is_none());
    // Unanswered items are left out.
    assert_eq!(qr["item"].as_array().unwrap().len(), 3);
    // Every linkId written exists in the shipped Questionnaire.
    let q = d.entry.kind().questionnaire();
    let ids: Vec<&str> = q["item"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["linkId"].as_str().unwrap())
        .collect();
    for it in qr["item"].as_array().unwrap() {
        assert!(ids.contains(&it["linkId"].as_str().unwrap()));
    }
}

#[test]
fn questionnaires_are_shipped() {
    let qs = questionnaires();
    let urls: Vec<&str> = qs.iter().map(|q| q["url"].as_str().unwrap()).collect();
    assert_eq!(
        urls,
        [
            "http://techo.example/fhir/Questionnaire/asthma-diary",
            "http://techo.example/fhir/Questionnaire/joint-pain-diary",
            "http://techo.example/fhir/Questionnaire/mood-diary",
        ]
    );
    assert!(qs
        .iter()
        .all(|q| q["version"] == "1" && q["status"] == "active"));
    assert_eq!(
        DiaryKind::Asthma.canonical(),
        "http://techo.example/fhir/Questionnaire/asthma-diary|1"
    );
}

#[test]
fn bad_responses_are_refused() {
    let d = Diary::new(at(2026, 11, 27, 21, 0), entries().remove(0))
        .check(now())
        .unwrap();
    let qr = to_questionnaire_response(&d, SUBJECT, None).unwrap();
    let code = |v: serde_json::Value| from_questionnaire_response(&v).unwrap_err().code();

    let mut v = qr.clone();
    v["questionnaire"] = json!("http://techo.example/fhir/Questionnaire/asthma-diary|2");
    assert_eq!(code(v), "unknown_questionnaire");
    let mut v = qr.clone();
    v["item"][0]["answer"][0]["valueCoding"]["code"] = json!("9");
    assert_eq!(code(v), "unknown_answer");
    let mut v = qr.clone();
    v["item"][3]["answer"][0]["valueInteger"] = json!(5000);
    assert_eq!(code(v), "impossible_value");
    let mut v = qr.clone();
    v["item"][1]["answer"][0]["valueInteger"] = json!(-1);
    assert_eq!(code(v), "impossible_value");
    let mut v = qr.clone();
    v["item"][1]["linkId"] = json!("something-new");
    assert_eq!(code(v), "unknown_item");
    let mut v = qr.clone();
    v["item"] = json!([]);
    assert_eq!(code(v), "empty_diary_entry");
    let mut v = qr.clone();
    v["authored"] = json!("2026-11-27");
    assert_eq!(code(v), "imprecise_time");
    let mut v = qr.clone();
    v["item"][1]["answer"][0] = json!({"valueString": "two"});
    assert_eq!(code(v), "invalid_element");
    assert_eq!(
        code(json!({"resourceType": "Observation"})),
        "wrong_resource_type"
    );
    // Without a version the questionnaire is still recognised.
    let mut v = qr;
    v["questionnaire"] = json!("http://techo.example/fhir/Questionnaire/asthma-diary");
    assert!(from_questionnaire_response(&v).is_ok());
}
