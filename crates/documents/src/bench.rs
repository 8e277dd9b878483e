//! What the documents benchmark imports: a synthetic register written as an office's spreadsheet
//! (see BENCHMARKS.md, "Documents"). The people are generated, not real.

use std::path::Path;

use rust_xlsxwriter::{Format, Workbook};

use crate::error::{Error, Result};

/// A synthetic register as an office's spreadsheet: Vietnamese headers, dates as spreadsheet
/// dates, everyone in Xã Phú Hưng, paid at `point`. Deterministic: the same rows every time.
pub fn synthetic_register_xlsx(path: &Path, rows: usize, point: &str) -> Result<()> {
    const FAMILY: [&str; 12] = [
        "Nguyễn", "Trần", "Lê", "Phạm", "Huỳnh", "Hoàng", "Võ", "Phan", "Trương", "Bùi", "Đặng",
        "Đỗ",
    ];
    const MIDDLE: [&str; 6] = ["Văn", "Thị", "Hữu", "Ngọc", "Minh", "Thanh"];
    const GIVEN: [&str; 16] = [
        "Ân",
        "Bình",
        "Cúc",
        "Dũng",
        "Đào",
        "Hùng",
        "Hương",
        "Khánh",
        "Lan",
        "Mai",
        "Nguyệt",
        "Phúc",
        "Sơn",
        "Thảo",
        "Trường",
        "Ước",
    ];
    const HAMLETS: [&str; 4] = ["Ấp Phú Chánh", "Ấp Phú Lợi", "Ấp Phú Hòa", "Ấp Phú Thạnh"];
    let fail = |e: rust_xlsxwriter::XlsxError| Error::write(path.display().to_string(), e);
    let mut book = Workbook::new();
    let ws = book.add_worksheet_with_constant_memory().map_err(fail)?;
    let date = Format::new().set_num_format("dd/mm/yyyy");
    let headers = [
        "STT",
        "Họ và tên",
        "Ngày sinh",
        "Giới tính",
        "Số CCCD",
        "Diện đối tượng",
        "Xã/Phường",
        "Ấp/Khu phố",
        "Ngày hưởng",
        "Điểm chi trả",
    ];
    for (c, h) in headers.iter().enumerate() {
        ws.write_string(0, c as u16, *h).map_err(fail)?;
    }
    // 1 January 1930 is day 10959 after 30 December 1899; 1 February 2021 is day 44228.
    for i in 0..rows {
        let r = i as u32 + 1;
        let name = format!(
            "{} {} {}",
            FAMILY[i % FAMILY.len()],
            MIDDLE[(i / 12) % MIDDLE.len()],
            GIVEN[(i / 72) % GIVEN.len()]
        );
        let elderly = i % 5 != 0;
        let birth = if elderly {
            10_959.0 + (i % 3_650) as f64
        } else {
            21_916.0 + (i % 7_300) as f64
        };
        ws.write_number(r, 0, (i + 1) as f64).map_err(fail)?;
        ws.write_string(r, 1, &name).map_err(fail)?;
        ws.write_number_with_format(r, 2, birth, &date)
            .map_err(fail)?;
        ws.write_string(r, 3, if i % 2 == 0 { "Nam" } else { "Nữ" })
            .map_err(fail)?;
        ws.write_string(r, 4, format!("08{:010}", i + 1))
            .map_err(fail)?;
        ws.write_string(r, 5, if elderly { "K5c" } else { "K6b" })
            .map_err(fail)?;
        ws.write_string(
            r,
            6,
            if i % 3 == 0 {
                "28786"
            } else {
                "Xã Phú Hưng"
            },
        )
        .map_err(fail)?;
        ws.write_string(r, 7, HAMLETS[i % HAMLETS.len()])
            .map_err(fail)?;
        ws.write_number_with_format(r, 8, 44_228.0, &date)
            .map_err(fail)?;
        ws.write_string(r, 9, point).map_err(fail)?;
    }
    book.save(path).map_err(fail)?;
    Ok(())
}
