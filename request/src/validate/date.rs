//! `YYYY-MM-DD` dates, read by hand: `time`'s format-description parser is
//! the largest single function in the widget's wasm, and this is all it did.
//! The test below holds this to exactly what `time` accepts.

use time::{Date, Month};

/// Parses a `YYYY-MM-DD` calendar date, as `time`'s `[year]-[month]-[day]`
/// does: an optional sign, four-digit year, two-digit month and day.
pub(super) fn parse_date(s: &str) -> Option<Date> {
    let (negative, rest) = match s.as_bytes() {
        [b'+', rest @ ..] => (false, rest),
        [b'-', rest @ ..] => (true, rest),
        rest => (false, rest),
    };
    let [y @ .., b'-', m0, m1, b'-', d0, d1] = rest else {
        return None;
    };
    let [y0, y1, y2, y3] = *y else {
        return None;
    };
    let year = i32::from(number(&[y0, y1, y2, y3])?);
    let month = Month::try_from(u8::try_from(number(&[*m0, *m1])?).ok()?).ok()?;
    let day = u8::try_from(number(&[*d0, *d1])?).ok()?;
    Date::from_calendar_date(if negative { -year } else { year }, month, day).ok()
}

/// ASCII decimal digits as a number.
fn number(digits: &[u8]) -> Option<u16> {
    digits.iter().try_fold(0u16, |n, &d| {
        d.is_ascii_digit().then(|| n * 10 + u16::from(d - b'0'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::format_description;

    fn by_time(s: &str) -> Option<Date> {
        Date::parse(s, format_description!("[year]-[month]-[day]")).ok()
    }

    #[test]
    fn accepts_exactly_what_time_accepts() {
        let mut inputs: Vec<String> = [
            "",
            "2024-02-29",
            "2023-02-29",
            "2024-13-01",
            "2024-00-10",
            "2024-01-00",
            "2024-1-01",
            "2024-01-1",
            "24-01-01",
            "02024-01-01",
            "2024-01-01 ",
            " 2024-01-01",
            "2024/01/01",
            "2024-01-01T00:00",
            "+2024-01-01",
            "-2024-01-01",
            "-0000-01-01",
            "+0000-01-01",
            "0000-01-01",
            "9999-12-31",
            "+9999-12-31",
            "-9999-01-01",
            "+10000-01-01",
            "２０２４-01-01",
            "2024-0１-01",
            "2024--1-01",
            "2024-01-+1",
            "a024-01-01",
            "2024-01-3a",
            "1899-12-31",
            "1900-01-01",
        ]
        .map(String::from)
        .to_vec();
        for year in ["1900", "1999", "2000", "2023", "2024", "2100"] {
            for month in 0..=13 {
                for day in 0..=32 {
                    inputs.push(format!("{year}-{month:02}-{day:02}"));
                }
            }
        }
        for s in &inputs {
            assert_eq!(parse_date(s), by_time(s), "{s:?}");
        }
    }
}
