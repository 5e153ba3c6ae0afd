//! CSV import: Japanese headers, era dates, delimiters, units, preview, duplicates, errors.

use crate::{at, jst, now, SUBJECT};
use techo_vitals::*;

fn opts() -> CsvOptions {
    CsvOptions {
        default_offset: jst(),
        now: now(),
    }
}

const JAPANESE: &str = "\
測定日,時刻,最高血圧(mmHg),最低血圧(mmHg),脈拍(回/分),体重(kg),体温(℃),メモ
令和8年11月23日,7:30,128,82,70,65.2,36.5,朝食前
R8/11/23,21:15,124,80,68,,,
2026年11月24日,7時05分,130,84,72,65.0,,
H30/1/5,午後8時,118,76,,,,
";

#[test]
fn japanese_headers_and_era_dates() {
    let f = CsvFile::parse(JAPANESE).unwrap();
    assert_eq!(f.delimiter(), b',');
    assert_eq!(f.row_count(), 4);
    let m = f.propose_mapping();
    let want = Mapping::new()
        .with(Field::Date, 0)
        .with(Field::Time, 1)
        .with(Field::Systolic, 2)
        .with(Field::Diastolic, 3)
        .with(Field::Pulse, 4)
        .with(Field::Weight, 5)
        .with(Field::Temperature, 6)
        .with_unit(Field::Systolic, Unit::MmHg)
        .with_unit(Field::Diastolic, Unit::MmHg)
        .with_unit(Field::Pulse, Unit::PerMinute)
        .with_unit(Field::Weight, Unit::Kilogram)
        .with_unit(Field::Temperature, Unit::Celsius);
    assert_eq!(m, want);

    let out = f.parse_all(&m, &opts()).unwrap();
    assert!(out.duplicates.is_empty());
    let got: Vec<(u64, Reading)> = out
        .readings
        .iter()
        .map(|r| (r.line, r.reading.clone()))
        .collect();
    let want = vec![
        (
            2,
            Reading::new(
                at(2026, 11, 23, 7, 30),
                Measurement::blood_pressure(128.0, 82.0, Some(70.0)),
            ),
        ),
        (
            2,
            Reading::new(
                at(2026, 11, 23, 7, 30),
                Measurement::BodyWeight { kg: 65.2 },
            ),
        ),
        (
            2,
            Reading::new(
                at(2026, 11, 23, 7, 30),
                Measurement::BodyTemperature { celsius: 36.5 },
            ),
        ),
        (
            3,
            Reading::new(
                at(2026, 11, 23, 21, 15),
                Measurement::blood_pressure(124.0, 80.0, Some(68.0)),
            ),
        ),
        (
            4,
            Reading::new(
                at(2026, 11, 24, 7, 5),
                Measurement::blood_pressure(130.0, 84.0, Some(72.0)),
            ),
        ),
        (
            4,
            Reading::new(at(2026, 11, 24, 7, 5), Measurement::BodyWeight { kg: 65.0 }),
        ),
        (
            5,
            Reading::new(
                at(2018, 1, 5, 20, 0),
                Measurement::blood_pressure(118.0, 76.0, None),
            ),
        ),
    ];
    assert_eq!(got, want);
    for r in &out.readings {
        assert_eq!(r.reading.effective.offset(), &jst());
    }
}

#[test]
fn bom_semicolons_and_imperial_units() {
    let text = "\u{FEFF}Date;Time;Weight (lb);Temperature [°F];Height (in)\n2026-11-27;07:30;150;98.6;67\n";
    let f = CsvFile::from_bytes(text.as_bytes()).unwrap();
    assert_eq!(f.delimiter(), b';');
    assert_eq!(f.header().unwrap()[0], "Date");
    let out = f
        .parse_all(&f.propose_mapping(), &opts())
        .unwrap()
        .into_readings();
    let ms: Vec<Measurement> = out.into_iter().map(|r| r.measurement).collect();
    assert_eq!(
        ms,
        [
            Measurement::BodyWeight { kg: 68.0 },
            Measurement::BodyHeight { cm: 170.2 },
            Measurement::BodyTemperature { celsius: 37.0 },
        ]
    );
}

#[test]
fn tabs_datetime_column_mmol_and_units_in_cells() {
    let text = "測定日時\t血糖値(mmol/L)\t空腹時血糖\t体温\t歩数\n\
                2026-11-27 07:30:00\t7.8\t99\t99.5℉\t\"8,532\"\n\
                2026-11-27T12:00:00+09:00\t\t5.5mmol/L\t36.6\t\n";
    let f = CsvFile::parse(text).unwrap();
    assert_eq!(f.delimiter(), b'\t');
    let m = f.propose_mapping();
    assert_eq!(m.column(Field::DateTime), Some(0));
    assert_eq!(m.units.get(&Field::Glucose), Some(&Unit::MmolPerL));
    let got: Vec<Measurement> = f
        .parse_all(&m, &opts())
        .unwrap()
        .into_readings()
        .into_iter()
        .map(|r| r.measurement)
        .collect();
    assert_eq!(
        got,
        [
            Measurement::BodyTemperature { celsius: 37.5 },
            Measurement::BloodGlucose {
                mg_dl: 141.0,
                timing: GlucoseTiming::Random
            },
            Measurement::BloodGlucose {
                mg_dl: 99.0,
                timing: GlucoseTiming::Fasting
            },
            Measurement::Steps { count: 8532.0 },
            Measurement::BodyTemperature { celsius: 36.6 },
            Measurement::BloodGlucose {
                mg_dl: 99.0,
                timing: GlucoseTiming::Fasting
            },
        ]
    );
}

#[test]
fn context_column_and_warnings() {
    let text =
        "日付,時刻,収縮期,拡張期,朝/晩\n2026/11/27,13:00,185,95,朝\n2026/11/27,22:00,120,80,晩\n";
    let f = CsvFile::parse(text).unwrap();
    let out = f.parse_all(&f.propose_mapping(), &opts()).unwrap();
    let Measurement::BloodPressure(bp) = &out.readings[0].reading.measurement else {
        panic!("not BP")
    };
    assert_eq!(bp.context, Some(BpContext::Morning));
    assert_eq!(out.readings[0].warnings.len(), 1);
    assert_eq!(out.readings[0].warnings[0].code(), "above_usual_range");
    assert!(out.readings[1].warnings.is_empty());
}

#[test]
fn duplicates_within_a_file_are_reported_with_the_same_identifier() {
    let text = "日付,時刻,最高血圧,最低血圧,体重\n\
                2026/11/27,7:30,128,82,65.2\n\
                2026/11/27,7:31,126,80,\n\
                2026-11-27,07:30:00,128,82,65.2\n\
                2026年11月27日,7時30分,128,82,\n";
    let f = CsvFile::parse(text).unwrap();
    let out = f.parse_all(&f.propose_mapping(), &opts()).unwrap();
    assert_eq!(out.readings.len(), 3, "{:?}", out.readings);
    let dups: Vec<(u64, u64, VitalKind)> = out
        .duplicates
        .iter()
        .map(|d| (d.line, d.first_line, d.kind))
        .collect();
    assert_eq!(
        dups,
        [
            (4, 2, VitalKind::BloodPressure),
            (4, 2, VitalKind::BodyWeight),
            (5, 2, VitalKind::BloodPressure),
        ]
    );
    // The key is the identifier the Observation gets.
    let first = to_observation(&out.readings[0].reading, SUBJECT, None).unwrap();
    assert_eq!(
        first["identifier"][0]["value"],
        format!("{SUBJECT}|{}", out.duplicates[0].key)
    );
}

#[test]
fn mixed_errors_are_all_reported_and_no_readings_returned() {
    let text = "日付,時刻,最高血圧,最低血圧,体重,体温\n\
                2026/11/27,7:30,128,82,65.2,36.5\n\
                2026/11/31,7:30,128,82,65.2,36.5\n\
                2026/11/28,7:30,400,82,abc,10\n\
                2026/11/29,7:30,120\n\
                2026/11/30,25:00,80,120,60,\n\
                2026/11/30,8:00,120,80,-3,\n";
    let f = CsvFile::parse(text).unwrap();
    let errs = f.parse_all(&f.propose_mapping(), &opts()).unwrap_err();
    let got: Vec<(Option<u64>, Option<usize>, &str)> =
        errs.iter().map(|e| (e.line, e.column, e.code())).collect();
    assert_eq!(
        got,
        [
            (Some(3), Some(0), "bad_date_time"),
            (Some(4), Some(4), "malformed_number"),
            (Some(4), Some(2), "impossible_value"),
            (Some(4), Some(5), "impossible_value"),
            (Some(5), None, "too_few_columns"),
            (Some(6), Some(1), "bad_date_time"),
            (Some(6), Some(2), "systolic_not_above_diastolic"),
            (Some(7), Some(4), "negative_value"),
        ],
        "{errs:#?}"
    );
    assert_eq!(errs[2].column_name.as_deref(), Some("最高血圧"));
    assert!(errs.iter().all(|e| !e.to_string().contains("400")));
}

#[test]
fn preview_parses_rows_independently() {
    let text = "日付,体重\n2026/11/27,60\n2026/11/28,x\n2026/11/29,61\n";
    let f = CsvFile::parse(text).unwrap();
    let p = f.preview(&f.propose_mapping(), &opts(), 2).unwrap();
    assert_eq!(p.len(), 2);
    assert_eq!(p[0].line, 2);
    assert_eq!(p[0].cells, ["2026/11/27", "60"]);
    assert_eq!(
        p[0].result.as_ref().unwrap()[0].reading.measurement,
        Measurement::BodyWeight { kg: 60.0 }
    );
    assert_eq!(
        p[1].result.as_ref().unwrap_err()[0].code(),
        "malformed_number"
    );
    // Mapping problems come back as errors without a line.
    let errs = f
        .preview(&Mapping::new().with(Field::Weight, 1), &opts(), 2)
        .unwrap_err();
    assert_eq!((errs[0].line, errs[0].code()), (None, "missing_column"));
}

#[test]
fn files_without_a_header_are_mapped_by_hand() {
    let f = CsvFile::parse("2026/11/27 7:30,128,82\n2026/11/28 7:30,126,80\n").unwrap();
    assert_eq!(f.header(), None);
    assert_eq!(f.row_count(), 2);
    assert_eq!(f.propose_mapping(), Mapping::new());
    let m = Mapping::new()
        .with(Field::DateTime, 0)
        .with(Field::Systolic, 1)
        .with(Field::Diastolic, 2);
    assert_eq!(f.parse_all(&m, &opts()).unwrap().readings.len(), 2);
    let bad = Mapping::new()
        .with(Field::DateTime, 0)
        .with(Field::Weight, 7)
        .with(Field::Steps, 0);
    let codes: Vec<&str> = f
        .parse_all(&bad, &opts())
        .unwrap_err()
        .iter()
        .map(|e| e.code())
        .collect();
    assert_eq!(codes, ["column_out_of_range", "column_mapped_twice"]);
    let wrong_unit = Mapping::new()
        .with(Field::DateTime, 0)
        .with(Field::Systolic, 1)
        .with(Field::Diastolic, 2)
        .with_unit(Field::Systolic, Unit::Kilogram);
    assert_eq!(
        f.parse_all(&wrong_unit, &opts()).unwrap_err()[0].code(),
        "unit_not_allowed"
    );
}

#[test]
fn from_reader_reads_an_io_read() {
    let bytes = "日付,体重\n2026/11/27,60\n".as_bytes();
    let f = CsvFile::from_reader(std::io::Cursor::new(bytes)).unwrap();
    assert_eq!(f.row_count(), 1);
}

#[test]
fn future_rows_point_at_the_date_column() {
    let f = CsvFile::parse("日付,時刻,体重\n2026/12/02,7:00,60\n").unwrap();
    let errs = f.parse_all(&f.propose_mapping(), &opts()).unwrap_err();
    assert_eq!(
        (errs[0].line, errs[0].column, errs[0].code()),
        (Some(2), Some(0), "future_time")
    );
}
