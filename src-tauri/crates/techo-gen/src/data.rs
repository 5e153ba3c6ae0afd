//! Static tables: names, places, facilities, diseases, labs, vitals, medications,
//! vaccines, procedures, note phrases.
//!
//! Codes taken from the public JP Core / JP-CLINS examples are real; the others are
//! shape-valid stand-ins (right length and alphabet), good enough for synthetic data
//! but not to be looked up in a master table.

// ---------------------------------------------------------------- code systems
pub const SYS_MRN_PREFIX: &str = "urn:oid:1.2.392.100495.20.3.51.1"; // + 10-digit institution no.
pub const SYS_STAFF_PREFIX: &str = "urn:oid:1.2.392.100495.20.3.41.1"; // + 10-digit institution no.
pub const SYS_INSURANCE_MEMBER: &str = "http://jpfhir.jp/fhir/clins/Idsystem/JP_Insurance_memberID";
pub const SYS_INSURER_NUMBER: &str = "urn:oid:1.2.392.100495.20.3.61";
pub const SYS_INSTITUTION_NO: &str = "http://jpfhir.jp/fhir/core/IdSystem/insurance-medical-institution-no";
pub const SYS_MEDICAL_ORG_ID: &str = "urn:oid:1.2.392.100495.20.3.23";
pub const SYS_PREFECTURE: &str = "urn:oid:1.2.392.100495.20.3.21";
pub const SYS_FEE_SCORE_TYPE: &str = "urn:oid:1.2.392.100495.20.3.22";
pub const SYS_MEDICAL_LICENSE: &str = "urn:oid:1.2.392.100495.20.3.31";
pub const SYS_MEDIS_DISEASE_EXCODE: &str = "urn:oid:1.2.392.200119.4.101.6";
pub const SYS_MEDIS_DISEASE_KEYNO: &str = "urn:oid:1.2.392.200119.4.101.2";
pub const SYS_ICD10: &str = "http://hl7.org/fhir/sid/icd-10";
pub const SYS_JLAC10: &str = "urn:oid:1.2.392.200119.4.504";
pub const SYS_LOINC: &str = "http://loinc.org";
pub const SYS_UCUM: &str = "http://unitsofmeasure.org";
pub const SYS_HOT9: &str = "urn:oid:1.2.392.200119.4.403.1";
pub const SYS_YJ: &str = "urn:oid:1.2.392.100495.20.1.73";
pub const SYS_MERIT9_UNIT: &str = "urn:oid:1.2.392.100495.20.2.101";
pub const SYS_JAMI_USAGE: &str = "urn:oid:1.2.392.200250.2.2.20.20";
pub const SYS_ROUTE: &str = "http://jpfhir.jp/fhir/core/CodeSystem/route-codes";
pub const SYS_RP_GROUP: &str = "http://jpfhir.jp/fhir/core/mhlw/IdSystem/Medication-RPGroupNumber";
pub const SYS_CVX: &str = "http://hl7.org/fhir/sid/cvx";
pub const SYS_SNOMED: &str = "http://snomed.info/sct";
pub const SYS_JFAGY: &str = "http://jpfhir.jp/fhir/core/CodeSystem/JP_JfagyFoodAllergen_CS";
pub const SYS_ACTCODE: &str = "http://terminology.hl7.org/CodeSystem/v3-ActCode";
pub const SYS_OBS_CATEGORY: &str = "http://terminology.hl7.org/CodeSystem/observation-category";
pub const SYS_JP_OBS_CATEGORY: &str = "http://jpfhir.jp/fhir/core/CodeSystem/JP_SimpleObservationCategory_CS";
pub const SYS_INTERPRETATION: &str = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation";
pub const SYS_DEPARTMENT: &str = "urn:oid:1.2.392.200250.2.2.2";
pub const EXT_EN_REPRESENTATION: &str = "http://hl7.org/fhir/StructureDefinition/iso21090-EN-representation";
pub const EXT_BIRTH_TIME: &str = "http://hl7.org/fhir/StructureDefinition/patient-birthTime";
pub const EXT_TZ_CODE: &str = "http://hl7.org/fhir/StructureDefinition/tz-code";
pub const EXT_ORG_PREFECTURE: &str =
    "http://jpfhir.jp/fhir/core/Extension/StructureDefinition/JP_Organization_PrefectureNo";
pub const EXT_ORG_CATEGORY: &str =
    "http://jpfhir.jp/fhir/core/Extension/StructureDefinition/JP_Organization_InsuranceOrganizationCategory";
pub const EXT_ORG_NO: &str =
    "http://jpfhir.jp/fhir/core/Extension/StructureDefinition/JP_Organization_InsuranceOrganizationNo";
pub const PROFILE_BASE: &str = "http://jpfhir.jp/fhir/core/StructureDefinition/";

// ---------------------------------------------------------------- people
/// (kanji, kana)
pub const FAMILY: &[(&str, &str)] = &[
    ("佐藤", "サトウ"), ("鈴木", "スズキ"), ("高橋", "タカハシ"), ("田中", "タナカ"),
    ("伊藤", "イトウ"), ("渡辺", "ワタナベ"), ("山本", "ヤマモト"), ("中村", "ナカムラ"),
    ("小林", "コバヤシ"), ("加藤", "カトウ"), ("吉田", "ヨシダ"), ("山田", "ヤマダ"),
    ("佐々木", "ササキ"), ("山口", "ヤマグチ"), ("松本", "マツモト"), ("井上", "イノウエ"),
    ("木村", "キムラ"), ("林", "ハヤシ"), ("斎藤", "サイトウ"), ("清水", "シミズ"),
    ("山崎", "ヤマザキ"), ("森", "モリ"), ("池田", "イケダ"), ("橋本", "ハシモト"),
    ("阿部", "アベ"), ("石川", "イシカワ"), ("前田", "マエダ"), ("藤田", "フジタ"),
    ("小川", "オガワ"), ("岡田", "オカダ"), ("後藤", "ゴトウ"), ("長谷川", "ハセガワ"),
];
pub const GIVEN_MALE: &[(&str, &str)] = &[
    ("太郎", "タロウ"), ("健太", "ケンタ"), ("翔太", "ショウタ"), ("大輔", "ダイスケ"),
    ("浩", "ヒロシ"), ("誠", "マコト"), ("拓也", "タクヤ"), ("隆", "タカシ"),
    ("健一", "ケンイチ"), ("修", "オサム"), ("一郎", "イチロウ"), ("直樹", "ナオキ"),
    ("和也", "カズヤ"), ("聡", "サトシ"), ("剛", "ツヨシ"), ("博之", "ヒロユキ"),
];
pub const GIVEN_FEMALE: &[(&str, &str)] = &[
    ("花子", "ハナコ"), ("陽子", "ヨウコ"), ("美咲", "ミサキ"), ("恵子", "ケイコ"),
    ("由美", "ユミ"), ("直美", "ナオミ"), ("さくら", "サクラ"), ("愛", "アイ"),
    ("真由美", "マユミ"), ("優子", "ユウコ"), ("久美子", "クミコ"), ("京子", "キョウコ"),
    ("明美", "アケミ"), ("智子", "トモコ"), ("裕子", "ユウコ"), ("幸子", "サチコ"),
];

/// (prefecture no., prefecture, city, town, postal prefix, phone area code)
pub const PLACES: &[(&str, &str, &str, &str, &str, &str)] = &[
    ("13", "東京都", "新宿区", "西新宿", "160", "03"),
    ("13", "東京都", "文京区", "本郷", "113", "03"),
    ("13", "東京都", "世田谷区", "三軒茶屋", "154", "03"),
    ("14", "神奈川県", "横浜市港北区", "日吉", "223", "045"),
    ("11", "埼玉県", "さいたま市浦和区", "高砂", "330", "048"),
    ("12", "千葉県", "千葉市中央区", "中央", "260", "043"),
    ("27", "大阪府", "大阪市北区", "梅田", "530", "06"),
    ("23", "愛知県", "名古屋市中区", "栄", "460", "052"),
    ("40", "福岡県", "福岡市中央区", "天神", "810", "092"),
    ("01", "北海道", "札幌市中央区", "大通西", "060", "011"),
    ("26", "京都府", "京都市左京区", "吉田", "606", "075"),
    ("04", "宮城県", "仙台市青葉区", "一番町", "980", "022"),
];

// ---------------------------------------------------------------- facilities
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum FacKind {
    Hospital,
    Clinic,
    Pharmacy,
}

pub const HOSPITAL_NAMES: &[&str] = &[
    "東京中央総合病院", "横浜みなと医療センター", "市立さくら病院", "県立こころ総合病院",
    "聖路ヶ丘記念病院", "北斗大学附属病院",
];
pub const CLINIC_NAMES: &[&str] = &[
    "さくら内科クリニック", "青葉ファミリークリニック", "たかはし呼吸器内科", "みなみ皮膚科医院",
    "ひかり整形外科", "こもれび消化器内科",
];
/// The department of each of CLINIC_NAMES.
pub const CLINIC_DEPARTMENTS: &[(&str, &str)] = &[
    ("01", "内科"), ("01", "内科"), ("04", "呼吸器科"), ("17", "皮膚科"), ("13", "整形外科"), ("05", "消化器科"),
];
pub const PHARMACY_NAMES: &[&str] = &[
    "みどり調剤薬局", "ひまわり薬局", "あおぞら薬局駅前店", "つばさ調剤薬局", "こすもす薬局",
];

/// (SS-MIX2 department code, name)
pub const DEPARTMENTS: &[(&str, &str)] = &[
    ("01", "内科"), ("08", "循環器科"), ("04", "呼吸器科"), ("05", "消化器科"),
    ("13", "整形外科"), ("17", "皮膚科"),
];

// ---------------------------------------------------------------- diseases
pub struct Disease {
    pub name: &'static str,
    pub icd10: &'static str,
    pub icd10_display: &'static str,
    pub excode: &'static str,
    pub keyno: &'static str,
    pub chronic: bool,
    /// indices into MEDS
    pub meds: &'static [usize],
    /// indices into LABS ordered for this disease
    pub labs: &'static [usize],
    pub note: &'static str,
}

pub const DISEASES: &[Disease] = &[
    Disease { name: "高血圧症", icd10: "I10", icd10_display: "Essential (primary) hypertension", excode: "8833", keyno: "20061593", chronic: true, meds: &[0], labs: &[10, 11, 7, 12], note: "家庭血圧の記録を継続し、減塩指導を行った。" },
    Disease { name: "2型糖尿病", icd10: "E11.9", icd10_display: "Type 2 diabetes mellitus without complications", excode: "K7QF", keyno: "20057394", chronic: true, meds: &[1], labs: &[3, 13, 10, 11], note: "HbA1cの推移を確認し、食事療法と運動療法を継続。" },
    Disease { name: "脂質異常症", icd10: "E78.5", icd10_display: "Hyperlipidaemia, unspecified", excode: "CGMP", keyno: "20081211", chronic: true, meds: &[2], labs: &[4, 5, 6, 17, 0, 1], note: "LDLコレステロールは目標範囲内。スタチン継続。" },
    Disease { name: "気管支喘息", icd10: "J45.9", icd10_display: "Asthma, unspecified", excode: "G1SL", keyno: "20052633", chronic: true, meds: &[3, 4], labs: &[14, 15, 16], note: "発作なく経過。吸入手技を再確認した。" },
    Disease { name: "逆流性食道炎", icd10: "K21.0", icd10_display: "Gastro-oesophageal reflux disease with oesophagitis", excode: "JMPD", keyno: "20068843", chronic: true, meds: &[5], labs: &[0, 1, 2], note: "胸やけ症状は軽快。PPIを継続。" },
    Disease { name: "高尿酸血症", icd10: "E79.0", icd10_display: "Hyperuricaemia without signs of inflammatory arthritis and tophaceous disease", excode: "SC1R", keyno: "20062102", chronic: true, meds: &[6], labs: &[8, 10, 11], note: "尿酸値は改善傾向。飲酒量の指導を行った。" },
    Disease { name: "アトピー性皮膚炎", icd10: "L20.9", icd10_display: "Atopic dermatitis, unspecified", excode: "F8E2", keyno: "20050083", chronic: true, meds: &[7, 8], labs: &[14, 15], note: "皮疹は軽快。保湿剤の外用を継続。" },
    Disease { name: "不眠症", icd10: "G47.0", icd10_display: "Disorders of initiating and maintaining sleep", excode: "HD2K", keyno: "20074131", chronic: true, meds: &[9], labs: &[], note: "入眠困難は改善。睡眠衛生指導を行った。" },
    Disease { name: "骨粗鬆症", icd10: "M81.9", icd10_display: "Osteoporosis, unspecified", excode: "VG5E", keyno: "20059003", chronic: true, meds: &[10], labs: &[10, 11], note: "骨密度検査の予定を説明。内服を継続。" },
    Disease { name: "慢性腎臓病", icd10: "N18.9", icd10_display: "Chronic kidney disease, unspecified", excode: "PNQ3", keyno: "20088713", chronic: true, meds: &[], labs: &[10, 11, 9, 7, 12, 8], note: "eGFRは横ばい。腎機能を定期的に評価する。" },
    // acute
    Disease { name: "急性上気道炎", icd10: "J06.9", icd10_display: "Acute upper respiratory infection, unspecified", excode: "DR3C", keyno: "20053126", chronic: false, meds: &[11, 12], labs: &[14, 16], note: "咽頭痛と微熱あり。対症療法で経過観察。" },
    Disease { name: "急性胃腸炎", icd10: "K52.9", icd10_display: "Noninfective gastroenteritis and colitis, unspecified", excode: "K3TF", keyno: "20053457", chronic: false, meds: &[13], labs: &[14, 16, 7, 12], note: "下痢と嘔気あり。水分摂取を指導した。" },
    Disease { name: "インフルエンザ", icd10: "J11.1", icd10_display: "Influenza with other respiratory manifestations, virus not identified", excode: "NQ8S", keyno: "20064790", chronic: false, meds: &[14, 11], labs: &[14, 16], note: "迅速検査A型陽性。抗ウイルス薬を処方。" },
    Disease { name: "急性気管支炎", icd10: "J20.9", icd10_display: "Acute bronchitis, unspecified", excode: "DQ4M", keyno: "20053128", chronic: false, meds: &[15, 12], labs: &[14, 16], note: "咳嗽が持続。去痰薬を処方した。" },
    Disease { name: "腰痛症", icd10: "M54.5", icd10_display: "Low back pain", excode: "BT6A", keyno: "20083190", chronic: false, meds: &[16], labs: &[], note: "重量物挙上後の腰痛。安静と湿布で経過観察。" },
    Disease { name: "急性膀胱炎", icd10: "N30.0", icd10_display: "Acute cystitis", excode: "DJ9E", keyno: "20053290", chronic: false, meds: &[17], labs: &[14, 16], note: "排尿時痛あり。尿検査で白血球陽性。" },
    Disease { name: "アレルギー性鼻炎", icd10: "J30.2", icd10_display: "Other seasonal allergic rhinitis", excode: "KL0M", keyno: "20050162", chronic: false, meds: &[18], labs: &[], note: "スギ花粉の季節に症状増悪。抗アレルギー薬を処方。" },
    Disease { name: "帯状疱疹", icd10: "B02.9", icd10_display: "Zoster without complication", excode: "LMV9", keyno: "20073611", chronic: false, meds: &[19], labs: &[14, 16], note: "右胸部に帯状の水疱。抗ウイルス薬を開始。" },
    Disease { name: "前腕骨折", icd10: "S52.9", icd10_display: "Fracture of forearm, part unspecified", excode: "RT6G", keyno: "20080427", chronic: false, meds: &[16], labs: &[14, 15, 16], note: "転倒し右前腕を受傷。シーネ固定とした。" },
];
pub const FIRST_ACUTE: usize = 10;

// ---------------------------------------------------------------- labs
pub struct Lab {
    pub local: &'static str,
    pub jlac10: &'static str,
    pub loinc: &'static str,
    pub loinc_display: &'static str,
    pub name: &'static str,
    pub unit: &'static str,
    pub ucum: &'static str,
    pub low: &'static str,
    pub high: &'static str,
    pub mean: f64,
    pub sd: f64,
    /// value decimals (reference range keeps its own text)
    pub decimals: usize,
    /// the disease (DISEASES index) that shifts this lab upward, with shift
    pub shifted_by: Option<(usize, f64)>,
}

pub const LABS: &[Lab] = &[
    Lab { local: "0301", jlac10: "3B035000002327201", loinc: "1920-8", loinc_display: "Aspartate aminotransferase [Enzymatic activity/volume] in Serum or Plasma", name: "AST(GOT)", unit: "U/L", ucum: "U/L", low: "13", high: "30", mean: 23.0, sd: 7.0, decimals: 0, shifted_by: None },
    Lab { local: "0302", jlac10: "3B045000002327201", loinc: "1742-6", loinc_display: "Alanine aminotransferase [Enzymatic activity/volume] in Serum or Plasma", name: "ALT(GPT)", unit: "U/L", ucum: "U/L", low: "10", high: "42", mean: 22.0, sd: 9.0, decimals: 0, shifted_by: None },
    Lab { local: "0305", jlac10: "3B090000002327101", loinc: "2324-2", loinc_display: "Gamma glutamyl transferase [Enzymatic activity/volume] in Serum or Plasma", name: "γ-GT", unit: "U/L", ucum: "U/L", low: "13", high: "64", mean: 38.0, sd: 18.0, decimals: 0, shifted_by: None },
    Lab { local: "0620", jlac10: "3D046000001906202", loinc: "4548-4", loinc_display: "Hemoglobin A1c/Hemoglobin.total in Blood", name: "HbA1c(NGSP)", unit: "%", ucum: "%", low: "4.9", high: "6.0", mean: 5.6, sd: 0.3, decimals: 1, shifted_by: Some((1, 1.6)) },
    Lab { local: "0410", jlac10: "3F015000002327101", loinc: "2571-8", loinc_display: "Triglyceride [Mass/volume] in Serum or Plasma", name: "中性脂肪", unit: "mg/dL", ucum: "mg/dL", low: "40", high: "149", mean: 120.0, sd: 45.0, decimals: 0, shifted_by: Some((2, 60.0)) },
    Lab { local: "0420", jlac10: "3F070000002327101", loinc: "2085-9", loinc_display: "Cholesterol in HDL [Mass/volume] in Serum or Plasma", name: "HDLコレステロール", unit: "mg/dL", ucum: "mg/dL", low: "40", high: "90", mean: 58.0, sd: 12.0, decimals: 0, shifted_by: None },
    Lab { local: "0430", jlac10: "3F077000002327101", loinc: "2089-1", loinc_display: "Cholesterol in LDL [Mass/volume] in Serum or Plasma", name: "LDLコレステロール", unit: "mg/dL", ucum: "mg/dL", low: "65", high: "139", mean: 118.0, sd: 25.0, decimals: 0, shifted_by: Some((2, 35.0)) },
    Lab { local: "0210", jlac10: "3H015000002326101", loinc: "2823-3", loinc_display: "Potassium [Moles/volume] in Serum or Plasma", name: "カリウム", unit: "mEq/L", ucum: "meq/L", low: "3.6", high: "4.8", mean: 4.2, sd: 0.3, decimals: 1, shifted_by: Some((9, 0.4)) },
    Lab { local: "0230", jlac10: "3C020000002327101", loinc: "3084-1", loinc_display: "Urate [Mass/volume] in Serum or Plasma", name: "尿酸", unit: "mg/dL", ucum: "mg/dL", low: "3.7", high: "7.8", mean: 5.6, sd: 1.0, decimals: 1, shifted_by: Some((5, 2.4)) },
    Lab { local: "0250", jlac10: "3C025000002327101", loinc: "3094-0", loinc_display: "Urea nitrogen [Mass/volume] in Serum or Plasma", name: "尿素窒素", unit: "mg/dL", ucum: "mg/dL", low: "8", high: "20", mean: 14.0, sd: 3.5, decimals: 0, shifted_by: Some((9, 9.0)) },
    Lab { local: "0240", jlac10: "3C015000002327101", loinc: "2160-0", loinc_display: "Creatinine [Mass/volume] in Serum or Plasma", name: "クレアチニン", unit: "mg/dL", ucum: "mg/dL", low: "0.65", high: "1.07", mean: 0.82, sd: 0.12, decimals: 2, shifted_by: Some((9, 0.6)) },
    Lab { local: "0241", jlac10: "8A065000002391901", loinc: "33914-3", loinc_display: "Glomerular filtration rate/1.73 sq M.predicted [Volume Rate/Area] in Serum or Plasma by Creatinine-based formula (MDRD)", name: "eGFR", unit: "mL/min/1.73m2", ucum: "mL/min/{1.73_m2}", low: "60.0", high: "120.0", mean: 78.0, sd: 12.0, decimals: 1, shifted_by: Some((9, -30.0)) },
    Lab { local: "0200", jlac10: "3H010000002326101", loinc: "2951-2", loinc_display: "Sodium [Moles/volume] in Serum or Plasma", name: "ナトリウム", unit: "mEq/L", ucum: "meq/L", low: "138", high: "145", mean: 141.0, sd: 1.8, decimals: 0, shifted_by: None },
    Lab { local: "0610", jlac10: "3D010000001926101", loinc: "2345-7", loinc_display: "Glucose [Mass/volume] in Serum or Plasma", name: "血糖", unit: "mg/dL", ucum: "mg/dL", low: "73", high: "109", mean: 95.0, sd: 10.0, decimals: 0, shifted_by: Some((1, 45.0)) },
    Lab { local: "0101", jlac10: "2A990000001930101", loinc: "6690-2", loinc_display: "Leukocytes [#/volume] in Blood by Automated count", name: "白血球数", unit: "10^3/μL", ucum: "10*3/uL", low: "3.3", high: "8.6", mean: 6.0, sd: 1.4, decimals: 1, shifted_by: None },
    Lab { local: "0103", jlac10: "2A030000001930101", loinc: "718-7", loinc_display: "Hemoglobin [Mass/volume] in Blood", name: "ヘモグロビン", unit: "g/dL", ucum: "g/dL", low: "11.6", high: "16.8", mean: 14.0, sd: 1.2, decimals: 1, shifted_by: None },
    Lab { local: "0520", jlac10: "5C070000002306201", loinc: "1988-5", loinc_display: "C reactive protein [Mass/volume] in Serum or Plasma", name: "CRP", unit: "mg/dL", ucum: "mg/dL", low: "0.00", high: "0.14", mean: 0.08, sd: 0.05, decimals: 2, shifted_by: None },
    Lab { local: "0400", jlac10: "3F050000002327101", loinc: "2093-3", loinc_display: "Cholesterol [Mass/volume] in Serum or Plasma", name: "総コレステロール", unit: "mg/dL", ucum: "mg/dL", low: "142", high: "248", mean: 200.0, sd: 30.0, decimals: 0, shifted_by: Some((2, 40.0)) },
];
/// A general panel used when a visit's labs are not driven by a disease.
/// Always contains HbA1c (3): every record then has the Latin search term the bench uses.
pub const GENERAL_PANEL: &[usize] = &[3, 0, 1, 2, 10, 11, 14, 15, 16, 12, 13];

// ---------------------------------------------------------------- medications
pub struct Med {
    pub name: &'static str,
    pub hot9: &'static str,
    pub yj: &'static str,
    /// dose per time, as exact decimal text
    pub dose: &'static str,
    pub unit: &'static str,
    pub unit_code: &'static str,
    pub times_per_day: u32,
    pub usage_code: &'static str,
    pub usage_text: &'static str,
    pub route: (&'static str, &'static str),
    pub days: u32,
}

pub const MEDS: &[Med] = &[
    Med { name: "アムロジピンOD錠5mg", hot9: "121431201", yj: "2171022F5270", dose: "1", unit: "錠", unit_code: "TAB", times_per_day: 1, usage_code: "1011000400000000", usage_text: "内服・経口・1日1回朝食後", route: ("PO", "口"), days: 28 },
    Med { name: "メトホルミン塩酸塩錠250mg", hot9: "117858001", yj: "3962002F1058", dose: "2", unit: "錠", unit_code: "TAB", times_per_day: 2, usage_code: "1012040400000000", usage_text: "内服・経口・1日2回朝夕食後", route: ("PO", "口"), days: 28 },
    Med { name: "ロスバスタチン錠2.5mg", hot9: "116203801", yj: "2189017F1029", dose: "1", unit: "錠", unit_code: "TAB", times_per_day: 1, usage_code: "1011000400000000", usage_text: "内服・経口・1日1回朝食後", route: ("PO", "口"), days: 28 },
    Med { name: "フルチカゾン吸入用100μg", hot9: "113548401", yj: "2290701G1039", dose: "1", unit: "吸入", unit_code: "IHL", times_per_day: 2, usage_code: "2B72000000000000", usage_text: "吸入・1日2回朝夕", route: ("IH", "吸入"), days: 30 },
    Med { name: "モンテルカスト錠10mg", hot9: "114470201", yj: "4490026F3020", dose: "1", unit: "錠", unit_code: "TAB", times_per_day: 1, usage_code: "1011000800000000", usage_text: "内服・経口・1日1回就寝前", route: ("PO", "口"), days: 28 },
    Med { name: "ランソプラゾールOD錠15mg", hot9: "112418601", yj: "2329023F2026", dose: "1", unit: "錠", unit_code: "TAB", times_per_day: 1, usage_code: "1011000400000000", usage_text: "内服・経口・1日1回朝食後", route: ("PO", "口"), days: 28 },
    Med { name: "フェブキソスタット錠20mg", hot9: "121250301", yj: "3949003F2028", dose: "1", unit: "錠", unit_code: "TAB", times_per_day: 1, usage_code: "1011000400000000", usage_text: "内服・経口・1日1回朝食後", route: ("PO", "口"), days: 28 },
    Med { name: "ヘパリン類似物質油性クリーム0.3%", hot9: "110473402", yj: "3339950N1025", dose: "1.50", unit: "g", unit_code: "g", times_per_day: 2, usage_code: "2A75000000000000", usage_text: "外用・1日2回患部に塗布", route: ("TP", "外用"), days: 14 },
    Med { name: "ヒドロコルチゾン酪酸エステル軟膏0.1%", hot9: "105838601", yj: "2646713M1097", dose: "0.50", unit: "g", unit_code: "g", times_per_day: 2, usage_code: "2A75000000000000", usage_text: "外用・1日2回患部に塗布", route: ("TP", "外用"), days: 14 },
    Med { name: "デエビゴ錠2.5mg", hot9: "128068301", yj: "1190027F1022", dose: "1", unit: "錠", unit_code: "TAB", times_per_day: 1, usage_code: "1011000800000000", usage_text: "内服・経口・1日1回就寝前", route: ("PO", "口"), days: 28 },
    Med { name: "アレンドロン酸錠35mg", hot9: "114498801", yj: "3999018F2024", dose: "1", unit: "錠", unit_code: "TAB", times_per_day: 1, usage_code: "1011000100000000", usage_text: "内服・経口・週1回起床時", route: ("PO", "口"), days: 28 },
    Med { name: "カロナール錠500", hot9: "123812902", yj: "1141007F3023", dose: "1", unit: "錠", unit_code: "TAB", times_per_day: 3, usage_code: "1013044400000000", usage_text: "内服・経口・1日3回朝昼夕食後", route: ("PO", "口"), days: 5 },
    Med { name: "カルボシステイン錠250mg", hot9: "103831601", yj: "2233002F1280", dose: "2", unit: "錠", unit_code: "TAB", times_per_day: 3, usage_code: "1013044400000000", usage_text: "内服・経口・1日3回朝昼夕食後", route: ("PO", "口"), days: 7 },
    Med { name: "ミヤBM錠", hot9: "104195801", yj: "2316009F1022", dose: "1", unit: "錠", unit_code: "TAB", times_per_day: 3, usage_code: "1013044400000000", usage_text: "内服・経口・1日3回朝昼夕食後", route: ("PO", "口"), days: 5 },
    Med { name: "オセルタミビルカプセル75mg", hot9: "112918801", yj: "6250021M1027", dose: "1", unit: "カプセル", unit_code: "CAP", times_per_day: 2, usage_code: "1012040400000000", usage_text: "内服・経口・1日2回朝夕食後", route: ("PO", "口"), days: 5 },
    Med { name: "ムコダイン錠250mg", hot9: "103835401", yj: "2233002F1027", dose: "1", unit: "錠", unit_code: "TAB", times_per_day: 3, usage_code: "1013044400000000", usage_text: "内服・経口・1日3回朝昼夕食後", route: ("PO", "口"), days: 7 },
    Med { name: "ロキソプロフェンNa錠60mg", hot9: "100911101", yj: "1149019F1560", dose: "1", unit: "錠", unit_code: "TAB", times_per_day: 3, usage_code: "1013044400000000", usage_text: "内服・経口・1日3回朝昼夕食後", route: ("PO", "口"), days: 7 },
    Med { name: "レボフロキサシン錠500mg", hot9: "117384601", yj: "6241013F3020", dose: "1", unit: "錠", unit_code: "TAB", times_per_day: 1, usage_code: "1011000400000000", usage_text: "内服・経口・1日1回朝食後", route: ("PO", "口"), days: 5 },
    Med { name: "フェキソフェナジン塩酸塩錠60mg", hot9: "113214501", yj: "4490023F1021", dose: "1", unit: "錠", unit_code: "TAB", times_per_day: 2, usage_code: "1012040400000000", usage_text: "内服・経口・1日2回朝夕食後", route: ("PO", "口"), days: 14 },
    Med { name: "バラシクロビル錠500mg", hot9: "112948601", yj: "6250019F1020", dose: "2", unit: "錠", unit_code: "TAB", times_per_day: 3, usage_code: "1013044400000000", usage_text: "内服・経口・1日3回朝昼夕食後", route: ("PO", "口"), days: 7 },
];

// ---------------------------------------------------------------- allergies
/// (code system, code, display, category, manifestation)
pub const ALLERGIES: &[(&str, &str, &str, &str, &str)] = &[
    (SYS_JFAGY, "J9FC11310000", "さば", "food", "蕁麻疹"),
    (SYS_JFAGY, "J9FA15000016", "小麦粉", "food", "蕁麻疹"),
    (SYS_JFAGY, "J9FA32540000", "キウイフルーツ", "food", "口腔内のかゆみ"),
    (SYS_YJ, "6131001C1210", "ペニシリン系抗菌薬", "medication", "全身の発疹"),
    (SYS_YJ, "6132005C1053", "セフェム系抗菌薬", "medication", "発疹"),
    (SYS_YJ, "7219412G1036", "ヨード造影剤", "medication", "呼吸困難"),
    (SYS_YJ, "1149019F1560", "ロキソプロフェン", "medication", "喘息発作"),
];

// ---------------------------------------------------------------- vaccines
/// (YJ code, CVX, display, dose mL text)
pub const VACCINES: &[(&str, &str, &str, &str)] = &[
    ("631340QA1059", "141", "インフルエンザHAワクチン", "0.5"),
    ("6311400A1010", "33", "肺炎球菌ワクチン", "0.5"),
    ("631341TA1020", "208", "新型コロナウイルスワクチン", "0.30"),
    ("631340XA1020", "187", "乾燥組換え帯状疱疹ワクチン", "0.5"),
];

// ---------------------------------------------------------------- procedures
/// (SNOMED, name, conclusion, report LOINC, report LOINC display, report category)
pub const PROCEDURES: &[(&str, &str, &str, &str, &str, &str)] = &[
    ("29303009", "心電図検査", "洞調律。明らかなST変化なし。", "11524-6", "EKG study", "CG"),
    ("399208008", "胸部単純X線撮影", "心胸郭比48%。肺野に明らかな異常影なし。", "18748-4", "Diagnostic imaging study", "RAD"),
    ("45036003", "腹部超音波検査", "軽度の脂肪肝を認める。胆嚢結石なし。", "18748-4", "Diagnostic imaging study", "RAD"),
    ("76009000", "上部消化管内視鏡検査", "逆流性食道炎（LA分類グレードA）。胃粘膜に萎縮性変化。", "18751-8", "Endoscopy study", "GE"),
    ("77477000", "胸部CT検査", "右肺下葉に5mm大の結節影。経過観察を推奨。", "18748-4", "Diagnostic imaging study", "RAD"),
    ("241615005", "骨密度測定(DXA)", "腰椎YAM値72%。骨量減少。", "18748-4", "Diagnostic imaging study", "RAD"),
];

// ---------------------------------------------------------------- notes
pub const NOTE_OPENINGS: &[&str] = &[
    "本日定期受診。", "予約外で受診。", "紹介状持参で初診。", "前回から体調の大きな変化なし。",
    "家族同伴で受診。", "検査結果説明のため受診。",
];
pub const NOTE_PLANS: &[&str] = &[
    "内服継続とし、次回4週間後に再診。", "生活習慣の改善について指導した。",
    "症状増悪時は早めに受診するよう説明。", "次回は採血を予定。", "経過良好のため処方を継続。",
    "服薬アドヒアランスは良好。", "体重管理と禁煙について説明した。",
];
pub const SYMPTOMS: &[&str] = &[
    "頭痛", "倦怠感", "咳嗽", "動悸", "めまい", "食欲不振", "腹痛", "関節痛", "不眠", "特記すべき自覚症状なし",
];
