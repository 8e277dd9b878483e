//! Schedule notices (DESIGN.md §1 S9): tell each beneficiary where, on which days and how much,
//! as an SMS in Vietnamese — and without diacritics for the basic phones that cannot show them.

use serde::Serialize;

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
}
