//! Property tests: unit conversions round-trip within rounding; canonical values round-trip
//! through Observations.

use crate::{at, now, SUBJECT};
use proptest::prelude::*;
use techo_vitals::units::{convert, round_to};
use techo_vitals::*;

/// A value on a 0.1 grid.
fn tenths(lo: i64, hi: i64) -> impl Strategy<Value = f64> {
    (lo * 10..=hi * 10).prop_map(|n| n as f64 / 10.0)
}

proptest! {
    #[test]
    fn glucose_mmol_to_mg_dl_and_back(mmol in tenths(1, 110)) {
        let mg = to_canonical(VitalKind::BloodGlucose, mmol, Unit::MmolPerL).unwrap();
        prop_assert_eq!(mg, mg.round(), "mg/dL is stored as an integer");
        // Integer mg/dL loses < 0.5 / 18.016 < 0.05 mmol/L: 1-dp mmol/L comes back exactly.
        let back = round_to(convert(mg, Unit::MgPerDl, Unit::MmolPerL).unwrap(), 1);
        prop_assert_eq!(back, mmol);
    }

    #[test]
    fn glucose_mg_dl_to_mmol_and_back(mg in 18i64..=2000) {
        let mmol = round_to(convert(mg as f64, Unit::MgPerDl, Unit::MmolPerL).unwrap(), 1);
        let back = to_canonical(VitalKind::BloodGlucose, mmol, Unit::MmolPerL).unwrap();
        prop_assert!((back - mg as f64).abs() <= 1.0, "{} -> {} -> {}", mg, mmol, back);
    }

    #[test]
    fn fahrenheit_to_celsius_and_back(f in tenths(86, 113)) {
        let c = to_canonical(VitalKind::BodyTemperature, f, Unit::Fahrenheit).unwrap();
        prop_assert_eq!(c, round_to(c, 1));
        let back = convert(c, Unit::Celsius, Unit::Fahrenheit).unwrap();
        // 0.05 °C of rounding is 0.09 °F.
        prop_assert!((back - f).abs() <= 0.09 + 1e-9, "{} -> {} -> {}", f, c, back);
    }

    #[test]
    fn celsius_to_fahrenheit_and_back_is_exact(c in tenths(30, 45)) {
        let f = convert(c, Unit::Celsius, Unit::Fahrenheit).unwrap();
        prop_assert_eq!(to_canonical(VitalKind::BodyTemperature, f, Unit::Fahrenheit).unwrap(), c);
    }

    #[test]
    fn pounds_to_kg_and_back(lb in tenths(1, 1000)) {
        let kg = to_canonical(VitalKind::BodyWeight, lb, Unit::Pound).unwrap();
        let back = convert(kg, Unit::Kilogram, Unit::Pound).unwrap();
        // 0.05 kg of rounding is 0.11 lb.
        prop_assert!((back - lb).abs() <= 0.05 / 0.453_592_37 + 1e-9, "{} -> {} -> {}", lb, kg, back);
    }

    #[test]
    fn kg_to_pounds_and_back_is_exact(kg in tenths(1, 500)) {
        let lb = convert(kg, Unit::Kilogram, Unit::Pound).unwrap();
        prop_assert_eq!(to_canonical(VitalKind::BodyWeight, lb, Unit::Pound).unwrap(), kg);
    }

    #[test]
    fn inches_to_cm_and_back(inch in tenths(8, 107)) {
        let cm = to_canonical(VitalKind::BodyHeight, inch, Unit::Inch).unwrap();
        let back = convert(cm, Unit::Centimetre, Unit::Inch).unwrap();
        prop_assert!((back - inch).abs() <= 0.05 / 2.54 + 1e-9);
    }

    #[test]
    fn grams_to_kg(g in 200i64..=500_000) {
        let kg = to_canonical(VitalKind::BodyWeight, g as f64, Unit::Gram).unwrap();
        prop_assert!((kg * 1000.0 - g as f64).abs() <= 50.0 + 1e-6);
    }

    /// Any valid canonical value survives Reading → Observation → Reading unchanged.
    #[test]
    fn canonical_values_round_trip_through_observations(
        c in tenths(30, 45),
        kg in tenths(1, 500),
        sys in 60i64..=300,
        gap in 1i64..=100,
        minute in 0u32..60,
    ) {
        let dia = (sys - gap).clamp(20, 200);
        prop_assume!(dia < sys);
        for m in [
            Measurement::BodyTemperature { celsius: c },
            Measurement::BodyWeight { kg },
            Measurement::blood_pressure(sys as f64, dia as f64, Some(60.0)),
        ] {
            let r = Reading::new(at(2026, 11, 27, 7, minute), m).check(now()).unwrap().reading;
            let o = to_observation(&r, SUBJECT, None).unwrap();
            prop_assert_eq!(from_observation(&o).unwrap().reading, r);
        }
    }
}
