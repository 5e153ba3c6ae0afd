//! Dates and times as they appear in spreadsheets and device exports.
//!
//! Dates: `2026-11-27`, `2026/11/27`, `2026.11.27`, `20261127`, `2026年11月27日`, and Japanese
//! era dates `令和8年11月27日`, `令和元年5月1日`, `R8/11/27`, `R8.11.27`, `平成30年1月5日`,
//! `H30/1/5`, `昭和64年1月7日`, `S64/1/7` (Reiwa from 2019-05-01, year = 2018 + n; Heisei
//! 1989-01-08 to 2019-04-30, 1988 + n; Showa 1926-12-25 to 1989-01-07, 1925 + n).
//! Times: `7:30`, `07:30:00`, `7時30分`, `7時30分15秒`, `午後7時30分`, `7:30 PM`.
//! Full-width digits and punctuation are accepted. A date-time without an offset gets the
//! caller's default offset; ISO 8601 / RFC 3339 with `Z` or `±hh:mm` keeps its own.

use crate::error::VitalsError;
use crate::text::halfwidth;
use chrono::{DateTime, FixedOffset, NaiveDate, NaiveTime, TimeZone};

/// The time given to date-only values: noon, which lies outside both the morning and the
/// evening window of the blood-pressure handbook, so such readings never land in the wrong
/// one.
pub const DATE_ONLY_TIME: (u32, u32) = (12, 0);

struct Era {
    names: &'static [&'static str],
    name_en: &'static str,
    base: i32,
    from: (i32, u32, u32),
    to: Option<(i32, u32, u32)>,
    from_text: &'static str,
    to_text: &'static str,
}

const ERAS: [Era; 3] = [
    Era {
        names: &["令和", "R"],
        name_en: "Reiwa",
        base: 2018,
        from: (2019, 5, 1),
        to: None,
        from_text: "2019-05-01",
        to_text: "today",
    },
    Era {
        names: &["平成", "H"],
        name_en: "Heisei",
        base: 1988,
        from: (1989, 1, 8),
        to: Some((2019, 4, 30)),
        from_text: "1989-01-08",
        to_text: "2019-04-30",
    },
    Era {
        names: &["昭和", "S"],
        name_en: "Showa",
        base: 1925,
        from: (1926, 12, 25),
        to: Some((1989, 1, 7)),
        from_text: "1926-12-25",
        to_text: "1989-01-07",
    },
];

fn bad(field: &'static str) -> VitalsError {
    VitalsError::BadDateTime { field }
}

fn normalize(s: &str) -> String {
    halfwidth(s)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn num(s: &str, max_len: usize) -> Option<u32> {
    let s = s.trim();
    if s.is_empty() || s.len() > max_len || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Splits `y?m?d` where `?` are the separators; Japanese `年月日` or one of `- / .`.
fn ymd(s: &str) -> Option<(&str, &str, &str)> {
    if let Some((y, rest)) = s.split_once('年') {
        let (m, rest) = rest.split_once('月')?;
        let d = rest.strip_suffix('日').unwrap_or(rest);
        return Some((y, m, d));
    }
    let sep = s.chars().find(|c| matches!(c, '-' | '/' | '.'))?;
    let mut it = s.split(sep);
    let (y, m, d) = (it.next()?, it.next()?, it.next()?);
    if it.next().is_some() {
        return None;
    }
    Some((y, m, d))
}

/// Parses a date (no time).
pub fn parse_date(s: &str) -> Result<NaiveDate, VitalsError> {
    let s = normalize(s);
    let s = s.trim();
    // Era dates.
    for era in &ERAS {
        for name in era.names {
            let rest = if name.is_ascii() {
                s.strip_prefix(name)
                    .or_else(|| s.strip_prefix(&name.to_ascii_lowercase()))
            } else {
                s.strip_prefix(name)
            };
            let Some(rest) = rest else { continue };
            let rest = rest.trim_start();
            if !rest.starts_with(|c: char| c.is_ascii_digit() || c == '元') {
                continue;
            }
            let (y, m, d) = ymd(rest).ok_or(bad("date"))?;
            let n = if y.trim() == "元" {
                1
            } else {
                num(y, 2).ok_or(bad("date"))?
            };
            if n == 0 {
                return Err(bad("date"));
            }
            let date = NaiveDate::from_ymd_opt(
                era.base + n as i32,
                num(m, 2).ok_or(bad("date"))?,
                num(d, 2).ok_or(bad("date"))?,
            )
            .ok_or(bad("date"))?;
            let (fy, fm, fd) = era.from;
            let from = NaiveDate::from_ymd_opt(fy, fm, fd).expect("era start is a valid date");
            let to = era.to.map(|(y, m, d)| {
                NaiveDate::from_ymd_opt(y, m, d).expect("era end is a valid date")
            });
            if date < from || to.is_some_and(|t| date > t) {
                return Err(VitalsError::EraOutOfRange {
                    era: era.name_en,
                    from: era.from_text,
                    to: era.to_text,
                });
            }
            return Ok(date);
        }
    }
    // 20261127
    if s.len() == 8 && s.bytes().all(|b| b.is_ascii_digit()) {
        return NaiveDate::from_ymd_opt(
            num(&s[..4], 4).ok_or(bad("date"))? as i32,
            num(&s[4..6], 2).ok_or(bad("date"))?,
            num(&s[6..], 2).ok_or(bad("date"))?,
        )
        .ok_or(bad("date"));
    }
    let (y, m, d) = ymd(s).ok_or(bad("date"))?;
    if y.trim().len() != 4 {
        return Err(bad("date")); // two-digit years are ambiguous
    }
    NaiveDate::from_ymd_opt(
        num(y, 4).ok_or(bad("date"))? as i32,
        num(m, 2).ok_or(bad("date"))?,
        num(d, 2).ok_or(bad("date"))?,
    )
    .ok_or(bad("date"))
}

/// Parses a time of day (no offset).
pub fn parse_time(s: &str) -> Result<NaiveTime, VitalsError> {
    let s = normalize(s);
    let mut t = s.trim();
    let mut pm: Option<bool> = None;
    for (p, is_pm) in [
        ("午前", false),
        ("午後", true),
        ("AM", false),
        ("PM", true),
        ("am", false),
        ("pm", true),
    ] {
        if let Some(r) = t.strip_prefix(p) {
            t = r.trim();
            pm = Some(is_pm);
        } else if let Some(r) = t.strip_suffix(p) {
            t = r.trim();
            pm = Some(is_pm);
        }
    }
    let (h, m, sec) = if t.contains('時') {
        let (h, rest) = t.split_once('時').ok_or(bad("time"))?;
        let (m, rest) = match rest.split_once('分') {
            Some((m, r)) => (m, r),
            None if rest.trim().is_empty() => ("0", ""),
            None => return Err(bad("time")),
        };
        let sec = match rest.split_once('秒') {
            Some((s, r)) if r.trim().is_empty() => s,
            None if rest.trim().is_empty() => "0",
            _ => return Err(bad("time")),
        };
        (h, m, sec)
    } else {
        let mut it = t.split(':');
        let h = it.next().ok_or(bad("time"))?;
        let m = it.next().ok_or(bad("time"))?;
        let sec = it.next().unwrap_or("0");
        if it.next().is_some() {
            return Err(bad("time"));
        }
        // Drop fractional seconds.
        let sec = sec.split_once('.').map_or(sec, |(s, frac)| {
            if frac.bytes().all(|b| b.is_ascii_digit()) {
                s
            } else {
                "x"
            }
        });
        (h, m, sec)
    };
    let (mut h, m, sec) = (
        num(h, 2).ok_or(bad("time"))?,
        num(m, 2).ok_or(bad("time"))?,
        num(sec, 2).ok_or(bad("time"))?,
    );
    match pm {
        Some(_) if h > 12 => return Err(bad("time")),
        Some(true) if h < 12 => h += 12,
        Some(false) if h == 12 => h = 0,
        _ => {}
    }
    NaiveTime::from_hms_opt(h, m, sec).ok_or(bad("time"))
}

/// Splits a trailing `Z` or `±hh:mm` / `±hhmm` offset off an ISO time.
fn split_offset(t: &str) -> Option<(&str, FixedOffset)> {
    if let Some(rest) = t.strip_suffix('Z').or_else(|| t.strip_suffix('z')) {
        return Some((rest, FixedOffset::east_opt(0)?));
    }
    let i = t.rfind(['+', '-'])?;
    let (time, off) = t.split_at(i);
    let sign = if off.starts_with('-') { -1 } else { 1 };
    let digits: String = off[1..].chars().filter(|c| *c != ':').collect();
    if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) || time.is_empty() {
        return None;
    }
    let h: i32 = digits[..2].parse().ok()?;
    let m: i32 = digits[2..].parse().ok()?;
    if h > 23 || m > 59 {
        return None;
    }
    Some((
        time.trim_end(),
        FixedOffset::east_opt(sign * (h * 3600 + m * 60))?,
    ))
}

/// Parses a date with an optional time (`2026/11/27 7:30`, `2026-11-27T07:30:00+09:00`,
/// `2026年11月27日 7時30分`, `R8/11/27`). Without an offset, `default_offset` is used;
/// without a time, [`DATE_ONLY_TIME`].
pub fn parse_date_time(
    s: &str,
    default_offset: FixedOffset,
) -> Result<DateTime<FixedOffset>, VitalsError> {
    let n = normalize(s);
    let n = n.trim();
    if n.is_empty() {
        return Err(bad("date and time"));
    }
    // Split date and time: ISO `T`, after `日`, or at the first space.
    let (date_part, time_part) = if let Some(i) = n.find('T').filter(|i| {
        n[..*i].ends_with(|c: char| c.is_ascii_digit())
            && n[*i + 1..].starts_with(|c: char| c.is_ascii_digit())
    }) {
        (&n[..i], Some(&n[i + 1..]))
    } else if let Some(i) = n.find('日') {
        let (d, t) = n.split_at(i + '日'.len_utf8());
        (d, Some(t.trim()).filter(|t| !t.is_empty()))
    } else if let Some((d, t)) = n.split_once(' ') {
        (d, Some(t.trim()))
    } else {
        (n, None)
    };
    let date = parse_date(date_part).map_err(|e| match e {
        VitalsError::BadDateTime { .. } => bad("date and time"),
        other => other,
    })?;
    let (time, offset) = match time_part {
        None => (
            NaiveTime::from_hms_opt(DATE_ONLY_TIME.0, DATE_ONLY_TIME.1, 0)
                .expect("noon is a valid time"),
            default_offset,
        ),
        Some(t) => {
            let (t, off) = match split_offset(t) {
                Some((t, off)) => (t, off),
                None => (t, default_offset),
            };
            (parse_time(t).map_err(|_| bad("date and time"))?, off)
        }
    };
    offset
        .from_local_datetime(&date.and_time(time))
        .single()
        .ok_or(bad("date and time"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jst() -> FixedOffset {
        FixedOffset::east_opt(9 * 3600).unwrap()
    }

    #[test]
    fn formats() {
        let want = jst().with_ymd_and_hms(2026, 11, 27, 7, 30, 0).unwrap();
        for s in [
            "2026-11-27T07:30:00+09:00",
            "2026-11-26T22:30:00Z",
            "2026-11-27T07:30+09:00",
            "2026/11/27 7:30",
            "2026-11-27 07:30:00",
            "2026年11月27日 7時30分",
            "2026年11月27日7時30分",
            "令和8年11月27日 7時30分",
            "R8/11/27 7:30",
            "r8.11.27 07:30",
            "２０２６／１１／２７　７：３０",
            "2026/11/27 午前7時30分",
            "2026/11/27 7:30 AM",
            "2026-11-27 07:30:00.250",
        ] {
            assert_eq!(parse_date_time(s, jst()), Ok(want), "{s}");
        }
        let noon = jst().with_ymd_and_hms(2026, 11, 27, 12, 0, 0).unwrap();
        for s in [
            "2026/11/27",
            "令和8年11月27日",
            "R8/11/27",
            "20261127",
            "2026.11.27",
        ] {
            assert_eq!(parse_date_time(s, jst()), Ok(noon), "{s}");
        }
        assert_eq!(
            parse_time("午後7時").unwrap(),
            NaiveTime::from_hms_opt(19, 0, 0).unwrap()
        );
        assert_eq!(
            parse_time("12:05 AM").unwrap(),
            NaiveTime::from_hms_opt(0, 5, 0).unwrap()
        );
    }

    #[test]
    fn eras() {
        assert_eq!(
            parse_date("令和元年5月1日").unwrap(),
            NaiveDate::from_ymd_opt(2019, 5, 1).unwrap()
        );
        assert_eq!(
            parse_date("H31/4/30").unwrap(),
            NaiveDate::from_ymd_opt(2019, 4, 30).unwrap()
        );
        assert_eq!(
            parse_date("平成30年1月5日").unwrap(),
            NaiveDate::from_ymd_opt(2018, 1, 5).unwrap()
        );
        assert_eq!(
            parse_date("S64/1/7").unwrap(),
            NaiveDate::from_ymd_opt(1989, 1, 7).unwrap()
        );
        assert_eq!(
            parse_date("R1/4/30").unwrap_err().code(),
            "era_out_of_range"
        );
        assert_eq!(
            parse_date("H31/5/1").unwrap_err().code(),
            "era_out_of_range"
        );
        assert_eq!(
            parse_date("令和0年1月1日").unwrap_err().code(),
            "bad_date_time"
        );
    }

    #[test]
    fn rejects() {
        for s in [
            "",
            "27/11/2026",
            "26/11/27",
            "2026/13/01",
            "2026/02/30",
            "昨日",
            "2026-11-27 25:00",
            "2026/11/27 7:61",
            "2026-11-27T07:30+99:00",
        ] {
            assert!(parse_date_time(s, jst()).is_err(), "{s}");
        }
    }
}
