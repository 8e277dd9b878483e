//! Schedule notices (DESIGN.md §1 S9): tell each beneficiary where, on which days and how much,
//! as an SMS in Vietnamese — and without diacritics for the basic phones that cannot show them.

use serde::Serialize;

use crate::error::FieldError;
use crate::money::Dong;
use crate::period::Period;
use crate::register::Sex;

/// What a beneficiary's notice says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoticeFacts<'a> {
    pub period: Period,
    pub code: &'a str,
    pub full_name: &'a str,
    pub sex: Sex,
    pub amount: Dong,
    /// Paid at home by the point's agent.
    pub home_delivery: bool,
    pub point_name: &'a str,
    pub point_address: &'a str,
    /// Days of the month, ascending.
    pub days: &'a [u8],
    /// "07:30".
    pub opens: &'a str,
    pub closes: &'a str,
}

/// The two texts of a notice.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NoticeText {
    /// With diacritics (sent as UCS-2: 70 characters a segment).
    pub vi: String,
    /// Without diacritics (GSM 7-bit: 160 characters a segment).
    pub ascii: String,
}

/// "2-6, 9, 11-12": consecutive days joined into ranges.
pub fn days_text(days: &[u8]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut i = 0;
    while i < days.len() {
        let start = days[i];
        let mut end = start;
        while i + 1 < days.len() && days[i + 1] == end + 1 {
            i += 1;
            end = days[i];
        }
        parts.push(if start == end {
            start.to_string()
        } else {
            format!("{start}-{end}")
        });
        i += 1;
    }
    parts.join(", ")
}

/// The notice's texts.
pub fn notice(f: &NoticeFacts<'_>) -> NoticeText {
    let honorific = match f.sex {
        Sex::Male => "Ông",
        Sex::Female => "Bà",
    };
    let month = format!("{:02}/{}", f.period.month(), f.period.year());
    let days = days_text(f.days);
    let place = if f.home_delivery {
        format!("nhân viên bưu điện chi trả tại nhà (điểm {})", f.point_name)
    } else {
        format!("tại {}, {}", f.point_name, f.point_address)
    };
    let vi = format!(
        "Trợ cấp tháng {month}: {honorific} {name} (mã {code}) nhận {amount} {place}, ngày {days}/{m}, {opens}-{closes}. Mang theo CCCD hoặc giấy ủy quyền.",
        name = f.full_name,
        code = f.code,
        amount = f.amount,
        m = f.period.month(),
        opens = f.opens,
        closes = f.closes,
    );
    let ascii = deunicode::deunicode(&vi)
        .replace(" d ", " dong ")
        .replace(" d,", " dong,");
    NoticeText { vi, ascii }
}

/// A Vietnamese mobile number, kept as ten digits starting with 0 (`+84…` is read too).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PhoneNumber(String);

impl PhoneNumber {
    pub fn parse(s: &str) -> Result<PhoneNumber, FieldError> {
        let digits: String = s
            .trim()
            .chars()
            .filter(|c| !matches!(c, ' ' | '.' | '-'))
            .collect();
        let national = match digits.strip_prefix("+84") {
            Some(rest) => format!("0{rest}"),
            None => digits,
        };
        let ok = national.len() == 10
            && national.bytes().all(|b| b.is_ascii_digit())
            && matches!(national.as_bytes()[1], b'3' | b'5' | b'7' | b'8' | b'9')
            && national.starts_with('0');
        if ok {
            Ok(PhoneNumber(national))
        } else {
            Err(FieldError::new(
                "phone",
                format!(
                    "'{}' is not a Vietnamese mobile number such as 0912 345 678",
                    s.trim()
                ),
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Shown in lists: the last three digits.
    pub fn masked(&self) -> String {
        format!("*******{}", &self.0[7..])
    }
}

impl std::fmt::Debug for PhoneNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PhoneNumber({})", self.masked())
    }
}

/// A name as the public lookup shows it: the family name and the given name whole, the middle
/// names as initials ("Nguyễn Văn Ân" → "Nguyễn V. Ân").
pub fn public_name(full_name: &str) -> String {
    let words: Vec<&str> = full_name.split_whitespace().collect();
    if words.len() <= 2 {
        return words.join(" ");
    }
    let middle: Vec<String> = words[1..words.len() - 1]
        .iter()
        .filter_map(|w| w.chars().next())
        .map(|c| format!("{c}."))
        .collect();
    format!(
        "{} {} {}",
        words[0],
        middle.join(" "),
        words[words.len() - 1]
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn facts(days: &'static [u8]) -> NoticeFacts<'static> {
        NoticeFacts {
            period: Period::parse("2026-12").unwrap(),
            code: "86-0000001",
            full_name: "Nguyễn Văn Ân",
            sex: Sex::Male,
            amount: Dong(1_080_000),
            home_delivery: false,
            point_name: "Bưu điện văn hóa phường Phú Khương",
            point_address: "Khu phố 1",
            days,
            opens: "07:30",
            closes: "16:30",
        }
    }

    #[test]
    fn days_are_joined_into_ranges() {
        assert_eq!(days_text(&[2, 3, 4, 5, 6, 9, 11, 12]), "2-6, 9, 11-12");
        assert_eq!(days_text(&[15]), "15");
        assert_eq!(days_text(&[]), "");
    }

    #[test]
    fn a_notice_says_where_when_and_how_much_with_and_without_diacritics() {
        let t = notice(&facts(&[2, 3, 4, 5, 6]));
        assert_eq!(
            t.vi,
            "Trợ cấp tháng 12/2026: Ông Nguyễn Văn Ân (mã 86-0000001) nhận 1.080.000 đ tại Bưu điện văn hóa phường Phú Khương, Khu phố 1, ngày 2-6/12, 07:30-16:30. Mang theo CCCD hoặc giấy ủy quyền."
        );
        assert!(t.ascii.starts_with("Tro cap thang 12/2026: Ong Nguyen Van An (ma 86-0000001) nhan 1.080.000 dong tai Buu dien van hoa phuong Phu Khuong"));
        assert!(t.ascii.is_ascii());
        let home = notice(&NoticeFacts {
            home_delivery: true,
            sex: Sex::Female,
            full_name: "Đặng Thị Đào",
            ..facts(&[9])
        });
        assert!(home.vi.contains("Bà Đặng Thị Đào"));
        assert!(home.vi.contains("chi trả tại nhà"));
        assert!(home.ascii.contains("Ba Dang Thi Dao"));
    }

    #[test]
    fn phone_numbers_are_read_in_both_forms_and_masked() {
        let p = PhoneNumber::parse("0912 345 678").unwrap();
        assert_eq!(p.as_str(), "0912345678");
        assert_eq!(PhoneNumber::parse("+84912345678").unwrap(), p);
        assert_eq!(p.masked(), "*******678");
        assert!(!format!("{p:?}").contains("0912"));
        for bad in ["", "12345", "0112345678", "09123456789", "09a2345678"] {
            assert_eq!(PhoneNumber::parse(bad).unwrap_err().field, "phone", "{bad}");
        }
    }

    #[test]
    fn the_public_page_shortens_middle_names() {
        assert_eq!(public_name("Nguyễn Văn Ân"), "Nguyễn V. Ân");
        assert_eq!(public_name("Trần Thị Ngọc Bích"), "Trần T. N. Bích");
        assert_eq!(public_name("Lê Hoa"), "Lê Hoa");
    }
}
