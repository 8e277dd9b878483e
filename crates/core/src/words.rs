//! The amount in words (*số tiền bằng chữ*), as Vietnamese accounting documents write it under a
//! total: 105 → "một trăm linh năm", 1.005 → "một nghìn không trăm linh năm",
//! 600.000.000.000 → "sáu trăm tỷ".
//!
//! Digits are read in groups of three. A group after a larger one is read whole ("không trăm
//! linh năm"); a group that is all zeros is left out ("một triệu", not "một triệu không nghìn").
//! Past the tỷ (10⁹) the reading starts again and "tỷ" repeats: 10¹⁸ is "một tỷ tỷ".

use crate::money::Dong;

const DIGITS: [&str; 10] = [
    "không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín",
];

const BILLION: u64 = 1_000_000_000;

/// The amount in words, lower case, without the currency: `Dong(21)` → "hai mươi mốt";
/// negative amounts start with "âm".
pub fn in_words(amount: Dong) -> String {
    let mut words: Vec<&'static str> = Vec::with_capacity(32);
    if amount.get() < 0 {
        words.push("âm");
    }
    let n = amount.get().unsigned_abs();
    if n == 0 {
        words.push(DIGITS[0]);
    } else {
        read(n, false, &mut words);
    }
    words.join(" ")
}

/// The line printed under a total: "Bằng chữ: Sáu trăm tỷ đồng."
pub fn in_words_line(amount: Dong) -> String {
    format!("Bằng chữ: {} đồng.", capitalised(&in_words(amount)))
}

/// The amount in words with its first letter in upper case: "Một trăm linh năm".
pub fn capitalised(words: &str) -> String {
    let mut chars = words.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Reads `n` (> 0). `whole` says a larger group came before, so leading zeros are read.
fn read(n: u64, whole: bool, out: &mut Vec<&'static str>) {
    let (above, below) = (n / BILLION, n % BILLION);
    let mut whole = whole;
    if above > 0 {
        read(above, whole, out);
        out.push("tỷ");
        whole = true;
    }
    let groups = [
        (below / 1_000_000, Some("triệu")),
        (below / 1_000 % 1_000, Some("nghìn")),
        (below % 1_000, None),
    ];
    for (group, scale) in groups {
        if group == 0 {
            continue;
        }
        read_group(group, whole, out);
        if let Some(scale) = scale {
            out.push(scale);
        }
        whole = true;
    }
}

/// Reads one group of three digits (1..=999).
fn read_group(group: u64, whole: bool, out: &mut Vec<&'static str>) {
    let (hundreds, tens, units) = (
        (group / 100) as usize,
        (group / 10 % 10) as usize,
        (group % 10) as usize,
    );
    if hundreds > 0 || whole {
        out.push(DIGITS[hundreds]);
        out.push("trăm");
    }
    let after_hundreds = hundreds > 0 || whole;
    match tens {
        0 if units > 0 && after_hundreds => out.push("linh"),
        0 => {}
        1 => out.push("mười"),
        t => {
            out.push(DIGITS[t]);
            out.push("mươi");
        }
    }
    match units {
        0 => {}
        1 if tens >= 2 => out.push("mốt"),
        4 if tens >= 2 => out.push("tư"),
        5 if tens >= 1 => out.push("lăm"),
        u => out.push(DIGITS[u]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn w(n: i64) -> String {
        in_words(Dong(n))
    }

    #[test]
    fn the_issues_examples() {
        assert_eq!(w(0), "không");
        assert_eq!(w(5), "năm");
        assert_eq!(w(15), "mười lăm");
        assert_eq!(w(21), "hai mươi mốt");
        assert_eq!(w(25), "hai mươi lăm");
        assert_eq!(w(105), "một trăm linh năm");
        assert_eq!(w(1_005), "một nghìn không trăm linh năm");
        assert_eq!(w(1_000_000), "một triệu");
        assert_eq!(w(600_000_000_000), "sáu trăm tỷ");
    }

    #[test]
    fn units_tens_and_hundreds() {
        assert_eq!(w(1), "một");
        assert_eq!(w(10), "mười");
        assert_eq!(w(11), "mười một");
        assert_eq!(w(14), "mười bốn");
        assert_eq!(w(20), "hai mươi");
        assert_eq!(w(24), "hai mươi tư");
        assert_eq!(w(31), "ba mươi mốt");
        assert_eq!(w(55), "năm mươi lăm");
        assert_eq!(w(100), "một trăm");
        assert_eq!(w(101), "một trăm linh một");
        assert_eq!(w(110), "một trăm mười");
        assert_eq!(w(115), "một trăm mười lăm");
        assert_eq!(w(999), "chín trăm chín mươi chín");
    }

    #[test]
    fn groups_after_a_larger_one_are_read_whole() {
        assert_eq!(w(1_000), "một nghìn");
        assert_eq!(w(1_010), "một nghìn không trăm mười");
        assert_eq!(w(1_021), "một nghìn không trăm hai mươi mốt");
        assert_eq!(w(1_000_005), "một triệu không trăm linh năm");
        assert_eq!(w(2_005_000), "hai triệu không trăm linh năm nghìn");
        assert_eq!(
            w(1_000_005_000),
            "một tỷ không trăm linh năm nghìn",
            "the zero millions are left out"
        );
        assert_eq!(
            w(405_000),
            "bốn trăm linh năm nghìn",
            "a social-assistance allowance"
        );
        assert_eq!(w(1_624_000), "một triệu sáu trăm hai mươi tư nghìn");
        assert_eq!(w(270_000), "hai trăm bảy mươi nghìn");
    }

    #[test]
    fn tỷ_repeats_past_a_billion_billions() {
        assert_eq!(w(1_000_000_000), "một tỷ");
        assert_eq!(w(1_000_000_000_000), "một nghìn tỷ");
        assert_eq!(w(1_000_000_000_000_000), "một triệu tỷ");
        assert_eq!(w(1_000_000_000_000_000_000), "một tỷ tỷ");
        assert_eq!(
            w(i64::MAX),
            "chín tỷ hai trăm hai mươi ba triệu ba trăm bảy mươi hai nghìn không trăm ba mươi sáu tỷ \
             tám trăm năm mươi tư triệu bảy trăm bảy mươi lăm nghìn tám trăm linh bảy"
        );
    }

    #[test]
    fn negative_amounts_say_âm() {
        assert_eq!(w(-25), "âm hai mươi lăm");
        assert_eq!(
            w(i64::MIN),
            "âm chín tỷ hai trăm hai mươi ba triệu ba trăm bảy mươi hai nghìn không trăm ba mươi \
             sáu tỷ tám trăm năm mươi tư triệu bảy trăm bảy mươi lăm nghìn tám trăm linh tám"
        );
    }

    #[test]
    fn the_line_under_a_total() {
        assert_eq!(
            in_words_line(Dong(600_000_000_000)),
            "Bằng chữ: Sáu trăm tỷ đồng."
        );
        assert_eq!(in_words_line(Dong(0)), "Bằng chữ: Không đồng.");
        assert_eq!(in_words_line(Dong(-5)), "Bằng chữ: Âm năm đồng.");
    }

    /// Reads the words back into a number: what a clerk checking the document does.
    fn parse(words: &str) -> Option<i128> {
        let tokens: Vec<&str> = words.split(' ').collect();
        let (negative, tokens) = match tokens.split_first() {
            Some((&"âm", rest)) => (true, rest),
            _ => (false, &tokens[..]),
        };
        let n = parse_tokens(tokens)?;
        Some(if negative { -n } else { n })
    }

    fn parse_tokens(tokens: &[&str]) -> Option<i128> {
        if let Some(last) = tokens.iter().rposition(|t| *t == "tỷ") {
            let above = parse_tokens(&tokens[..last])?;
            let below = if last + 1 < tokens.len() {
                parse_below_billion(&tokens[last + 1..])?
            } else {
                0
            };
            return Some(above * 1_000_000_000 + below);
        }
        parse_below_billion(tokens)
    }

    fn parse_below_billion(tokens: &[&str]) -> Option<i128> {
        let (mut total, mut group, mut pending) = (0i128, 0i128, None::<i128>);
        for t in tokens {
            let digit = match *t {
                "mốt" => Some(1),
                "tư" => Some(4),
                "lăm" => Some(5),
                d => DIGITS.iter().position(|x| x == &d).map(|p| p as i128),
            };
            if let Some(d) = digit {
                if pending.is_some() {
                    return None;
                }
                pending = Some(d);
                continue;
            }
            match *t {
                "trăm" => group += pending.take()? * 100,
                "mươi" => group += pending.take()? * 10,
                "mười" => group += 10,
                "linh" => {}
                "nghìn" | "triệu" => {
                    let scale = if *t == "nghìn" { 1_000 } else { 1_000_000 };
                    total += (group + pending.take().unwrap_or(0)) * scale;
                    group = 0;
                }
                _ => return None,
            }
        }
        Some(total + group + pending.unwrap_or(0))
    }

    proptest! {
        #[test]
        fn words_read_back_to_the_amount(n in any::<i64>()) {
            let words = w(n);
            prop_assert_eq!(parse(&words), Some(i128::from(n)), "{}", words);
        }

        #[test]
        fn words_are_well_formed(n in any::<i64>()) {
            let words = w(n);
            prop_assert!(!words.is_empty());
            prop_assert!(!words.contains("  "));
            prop_assert_eq!(words.trim(), words.as_str());
            // "linh" only ever stands for a zero ten before a unit, and never twice in a row.
            prop_assert!(!words.contains("linh linh"));
            prop_assert!(!words.ends_with("linh"));
            // "mốt", "tư" and "lăm" only follow a ten.
            for (i, t) in words.split(' ').enumerate() {
                if matches!(t, "mốt" | "tư") {
                    let before: Vec<&str> = words.split(' ').collect();
                    prop_assert_eq!(before[i - 1], "mươi", "{}", words);
                }
                if t == "lăm" {
                    let before: Vec<&str> = words.split(' ').collect();
                    prop_assert!(matches!(before[i - 1], "mươi" | "mười"), "{}", words);
                }
            }
        }

        #[test]
        fn small_amounts_in_every_group(n in 0i64..1_000_000, scale in 0u32..6) {
            let amount = n.checked_mul(1_000i64.pow(scale));
            prop_assume!(amount.is_some());
            let amount = amount.unwrap_or_default();
            prop_assert_eq!(parse(&w(amount)), Some(i128::from(amount)));
        }
    }
}
