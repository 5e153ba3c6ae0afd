//! Units (UCUM codes and what people type) and conversions between them.
//!
//! Every value is stored in its kind's canonical unit (see [`crate::kind`]); the original
//! unit is *not* kept. Conversions are linear (`canonical = value × factor + offset`) and
//! only between units of one dimension, so they round-trip up to rounding.

use serde::{Deserialize, Serialize};

/// mg/dL per mmol/L **for glucose** (molar mass 180.16 g/mol). It is wrong for any other
/// substance, which is why [`Unit::MmolPerL`] is accepted only for glucose kinds.
pub const GLUCOSE_MG_DL_PER_MMOL_L: f64 = 18.016;

/// Kilograms per international avoirdupois pound (exact).
pub const KG_PER_LB: f64 = 0.453_592_37;

/// Centimetres per international inch (exact).
pub const CM_PER_INCH: f64 = 2.54;

/// A unit this crate understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Unit {
    MmHg,
    PerMinute,
    Celsius,
    Fahrenheit,
    Kilogram,
    Gram,
    Pound,
    Centimetre,
    Inch,
    KgPerM2,
    MgPerDl,
    MmolPerL,
    Percent,
    LitrePerMinute,
    Steps,
    Hour,
    Minute,
    Score,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dimension {
    Pressure,
    Rate,
    Temperature,
    Mass,
    Length,
    MassIndex,
    Glucose,
    Fraction,
    Flow,
    Count,
    Duration,
    Score,
}

impl Unit {
    pub const ALL: [Unit; 18] = [
        Unit::MmHg,
        Unit::PerMinute,
        Unit::Celsius,
        Unit::Fahrenheit,
        Unit::Kilogram,
        Unit::Gram,
        Unit::Pound,
        Unit::Centimetre,
        Unit::Inch,
        Unit::KgPerM2,
        Unit::MgPerDl,
        Unit::MmolPerL,
        Unit::Percent,
        Unit::LitrePerMinute,
        Unit::Steps,
        Unit::Hour,
        Unit::Minute,
        Unit::Score,
    ];

    /// The UCUM code (`Quantity.code`, with `system` `http://unitsofmeasure.org`).
    pub fn ucum(self) -> &'static str {
        match self {
            Unit::MmHg => "mm[Hg]",
            Unit::PerMinute => "/min",
            Unit::Celsius => "Cel",
            Unit::Fahrenheit => "[degF]",
            Unit::Kilogram => "kg",
            Unit::Gram => "g",
            Unit::Pound => "[lb_av]",
            Unit::Centimetre => "cm",
            Unit::Inch => "[in_i]",
            Unit::KgPerM2 => "kg/m2",
            Unit::MgPerDl => "mg/dL",
            Unit::MmolPerL => "mmol/L",
            Unit::Percent => "%",
            Unit::LitrePerMinute => "L/min",
            Unit::Steps => "{steps}",
            Unit::Hour => "h",
            Unit::Minute => "min",
            Unit::Score => "{score}",
        }
    }

    /// What people read (`Quantity.unit`, narratives, messages).
    pub fn symbol(self) -> &'static str {
        match self {
            Unit::MmHg => "mmHg",
            Unit::PerMinute => "/min",
            Unit::Celsius => "°C",
            Unit::Fahrenheit => "°F",
            Unit::Kilogram => "kg",
            Unit::Gram => "g",
            Unit::Pound => "lb",
            Unit::Centimetre => "cm",
            Unit::Inch => "in",
            Unit::KgPerM2 => "kg/m2",
            Unit::MgPerDl => "mg/dL",
            Unit::MmolPerL => "mmol/L",
            Unit::Percent => "%",
            Unit::LitrePerMinute => "L/min",
            Unit::Steps => "steps",
            Unit::Hour => "h",
            Unit::Minute => "min",
            Unit::Score => "",
        }
    }

    fn dimension(self) -> Dimension {
        match self {
            Unit::MmHg => Dimension::Pressure,
            Unit::PerMinute => Dimension::Rate,
            Unit::Celsius | Unit::Fahrenheit => Dimension::Temperature,
            Unit::Kilogram | Unit::Gram | Unit::Pound => Dimension::Mass,
            Unit::Centimetre | Unit::Inch => Dimension::Length,
            Unit::KgPerM2 => Dimension::MassIndex,
            Unit::MgPerDl | Unit::MmolPerL => Dimension::Glucose,
            Unit::Percent => Dimension::Fraction,
            Unit::LitrePerMinute => Dimension::Flow,
            Unit::Steps => Dimension::Count,
            Unit::Hour | Unit::Minute => Dimension::Duration,
            Unit::Score => Dimension::Score,
        }
    }

    /// `(factor, offset)` with `base = value × factor + offset`; the base of each dimension is
    /// the canonical unit (°C, kg, cm, mg/dL, h, …).
    fn to_base(self) -> (f64, f64) {
        match self {
            Unit::Fahrenheit => (5.0 / 9.0, -32.0 * 5.0 / 9.0),
            Unit::Gram => (0.001, 0.0),
            Unit::Pound => (KG_PER_LB, 0.0),
            Unit::Inch => (CM_PER_INCH, 0.0),
            Unit::MmolPerL => (GLUCOSE_MG_DL_PER_MMOL_L, 0.0),
            Unit::Minute => (1.0 / 60.0, 0.0),
            _ => (1.0, 0.0),
        }
    }

    /// The unit for an exact UCUM code (as in `Quantity.code`).
    pub fn from_ucum(code: &str) -> Option<Unit> {
        Unit::ALL
            .into_iter()
            .find(|u| u.ucum() == code)
            .or(match code {
                // Common UCUM spellings of the same units.
                "mmHg" => Some(Unit::MmHg),
                "{beats}/min" | "1/min" => Some(Unit::PerMinute),
                "[lb_us]" => Some(Unit::Pound),
                "kg/m^2" => Some(Unit::KgPerM2),
                "mg/dl" => Some(Unit::MgPerDl),
                "mmol/l" => Some(Unit::MmolPerL),
                "l/min" => Some(Unit::LitrePerMinute),
                "hr" => Some(Unit::Hour),
                _ => None,
            })
    }

    /// A unit as people type it: `°C`, `℃`, `C`, `°F`, `kg`, `lbs`, `mmol/L`, `回/分`, `歩`…
    /// Case-insensitive for ASCII; full-width characters are accepted.
    pub fn parse(text: &str) -> Option<Unit> {
        let t: String = crate::text::halfwidth(text.trim())
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_lowercase();
        let u = match t.as_str() {
            "mmhg" | "mm[hg]" => Unit::MmHg,
            "/min" | "bpm" | "beats/min" | "{beats}/min" | "1/min" | "回/分" | "拍/分" | "/分" => {
                Unit::PerMinute
            }
            "°c" | "℃" | "c" | "cel" | "degc" | "度" => Unit::Celsius,
            "°f" | "℉" | "f" | "[degf]" | "degf" => Unit::Fahrenheit,
            "kg" | "kgs" | "キロ" | "キログラム" => Unit::Kilogram,
            "g" | "グラム" => Unit::Gram,
            "lb" | "lbs" | "[lb_av]" | "pound" | "pounds" | "ポンド" => Unit::Pound,
            "cm" | "センチ" | "センチメートル" => Unit::Centimetre,
            "in" | "[in_i]" | "inch" | "inches" | "インチ" => Unit::Inch,
            "kg/m2" | "kg/m²" | "kg/m^2" => Unit::KgPerM2,
            "mg/dl" => Unit::MgPerDl,
            "mmol/l" => Unit::MmolPerL,
            "%" => Unit::Percent,
            "l/min" | "ℓ/min" | "lpm" | "l/分" => Unit::LitrePerMinute,
            "{steps}" | "steps" | "step" | "歩" => Unit::Steps,
            "h" | "hr" | "hrs" | "hour" | "hours" | "時間" => Unit::Hour,
            "min" | "mins" | "minute" | "minutes" | "分" => Unit::Minute,
            "{score}" | "score" | "点" => Unit::Score,
            _ => return None,
        };
        Some(u)
    }
}

/// Converts `value` from one unit to another of the same dimension; `None` across dimensions
/// (kg → °C). No rounding.
pub fn convert(value: f64, from: Unit, to: Unit) -> Option<f64> {
    if from.dimension() != to.dimension() {
        return None;
    }
    if from == to {
        return Some(value);
    }
    let (f1, o1) = from.to_base();
    let (f2, o2) = to.to_base();
    Some((value * f1 + o1 - o2) / f2)
}

/// Rounds half away from zero to `decimals` places.
pub fn round_to(value: f64, decimals: u8) -> f64 {
    let p = 10f64.powi(i32::from(decimals));
    let r = (value * p).round() / p;
    if r == 0.0 {
        0.0 // no "-0"
    } else {
        r
    }
}

/// Fixed-point text with exactly `decimals` places (FHIR keeps the precision of decimals:
/// `37.0` says "measured to 0.1").
pub fn format_decimal(value: f64, decimals: u8) -> String {
    let s = format!("{:.*}", usize::from(decimals), round_to(value, decimals));
    match s.strip_prefix('-') {
        Some(rest) if rest.chars().all(|c| c == '0' || c == '.') => rest.to_string(),
        _ => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ucum_codes_are_unique_and_parse_back() {
        for u in Unit::ALL {
            assert_eq!(Unit::from_ucum(u.ucum()), Some(u));
            assert_eq!(Unit::parse(u.ucum()), Some(u), "{}", u.ucum());
        }
    }

    #[test]
    fn conversions() {
        assert_eq!(
            convert(98.6, Unit::Fahrenheit, Unit::Celsius).map(|v| round_to(v, 1)),
            Some(37.0)
        );
        assert_eq!(
            convert(100.0, Unit::Celsius, Unit::Fahrenheit).map(|v| round_to(v, 1)),
            Some(212.0)
        );
        assert_eq!(
            convert(5.5, Unit::MmolPerL, Unit::MgPerDl).map(|v| round_to(v, 0)),
            Some(99.0)
        );
        assert_eq!(
            convert(150.0, Unit::Pound, Unit::Kilogram).map(|v| round_to(v, 1)),
            Some(68.0)
        );
        assert_eq!(convert(65_000.0, Unit::Gram, Unit::Kilogram), Some(65.0));
        assert_eq!(
            convert(70.0, Unit::Inch, Unit::Centimetre).map(|v| round_to(v, 1)),
            Some(177.8)
        );
        assert_eq!(convert(450.0, Unit::Minute, Unit::Hour), Some(7.5));
        assert_eq!(convert(1.0, Unit::Kilogram, Unit::Celsius), None);
        assert_eq!(convert(1.0, Unit::MmolPerL, Unit::Percent), None);
    }

    #[test]
    fn decimals() {
        assert_eq!(format_decimal(37.0, 1), "37.0");
        assert_eq!(format_decimal(36.56, 1), "36.6");
        assert_eq!(format_decimal(119.6, 0), "120");
        assert_eq!(format_decimal(-0.01, 1), "0.0");
        assert_eq!(round_to(-0.04, 1), 0.0);
    }

    #[test]
    fn lenient_parsing() {
        assert_eq!(Unit::parse("℃"), Some(Unit::Celsius));
        assert_eq!(Unit::parse(" ＫＧ "), Some(Unit::Kilogram));
        assert_eq!(Unit::parse("mmol/l"), Some(Unit::MmolPerL));
        assert_eq!(Unit::parse("回/分"), Some(Unit::PerMinute));
        assert_eq!(Unit::parse("furlongs"), None);
    }
}
