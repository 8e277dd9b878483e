//! The pages' words, in Vietnamese (the default) and English, all in one place.

use axum::http::request::Parts;

use crate::auth;

/// The language of the pages: `?lang=en` or the `lang` cookie; Vietnamese otherwise.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    Vi,
    En,
}

/// The cookie that remembers the language.
pub const LANG_COOKIE: &str = "lang";

impl Lang {
    pub fn parse(s: &str) -> Option<Lang> {
        match s.trim() {
            "vi" => Some(Lang::Vi),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::Vi => "vi",
            Lang::En => "en",
        }
    }

    pub fn other(self) -> Lang {
        match self {
            Lang::Vi => Lang::En,
            Lang::En => Lang::Vi,
        }
    }

    /// The language a request asks for.
    pub fn of(parts: &Parts) -> Lang {
        let asked = parts.uri.query().and_then(|q| {
            q.split('&')
                .filter_map(|kv| kv.split_once('='))
                .find(|(k, _)| *k == "lang")
                .and_then(|(_, v)| Lang::parse(v))
        });
        asked
            .or_else(|| auth::cookie(parts, LANG_COOKIE).and_then(|v| Lang::parse(&v)))
            .unwrap_or(Lang::Vi)
    }

    /// The words of `key` (the key itself when it has none, which a test forbids).
    pub fn t(self, key: &'static str) -> &'static str {
        match words(key) {
            Some((vi, en)) => match self {
                Lang::Vi => vi,
                Lang::En => en,
            },
            None => key,
        }
    }
}

fn words(key: &str) -> Option<(&'static str, &'static str)> {
    Some(match key {
        "app" => ("chitra — Chi trả trợ cấp", "chitra — Allowance payments"),
        "app_tagline" => (
            "Quản lý và chi trả trợ cấp xã hội hằng tháng qua bưu điện",
            "Managing and paying monthly social allowances through the post office",
        ),
        "skip" => ("Bỏ qua, đến nội dung chính", "Skip to the main content"),
        "signed_in_as" => ("Đăng nhập:", "Signed in:"),
        "logout" => ("Đăng xuất", "Sign out"),
        "login" => ("Đăng nhập", "Sign in"),
        "username" => ("Tên đăng nhập", "User name"),
        "password" => ("Mật khẩu", "Password"),
        "login_title" => ("Đăng nhập", "Sign in"),
        "login_failed" => (
            "Tên đăng nhập hoặc mật khẩu không đúng",
            "Wrong user name or password",
        ),
        "nav_home" => ("Tổng quan", "Dashboard"),
        "nav_agent" => ("Điểm chi trả của tôi", "My payment point"),
        "nav_register" => ("Đối tượng", "Register"),
        "nav_month" => ("Kỳ chi trả", "The month"),
        "nav_points" => ("Điểm chi trả", "Payment points"),
        "nav_contracts" => ("Hợp đồng", "Contracts"),
        "nav_reports" => ("Báo cáo", "Reports"),
        "nav_anomalies" => ("Bất thường", "Anomalies"),
        "nav_audit" => ("Nhật ký", "Audit journal"),
        "nav_lookup" => ("Tra cứu công khai", "Public lookup"),
        "forbidden" => ("Không được phép", "Not allowed"),
        "not_found" => ("Không tìm thấy", "Not found"),
        "conflict" => ("Đã thực hiện trước đó", "Already done"),
        "bad_input" => ("Dữ liệu không hợp lệ", "Invalid input"),
        "server_error" => ("Lỗi máy chủ", "Server error"),
        "back_home" => ("Về trang chủ", "Back to the dashboard"),
        "error_field" => ("Trường", "Field"),
        "search" => ("Tìm kiếm", "Search"),
        "search_hint" => (
            "Họ tên (không phân biệt hoa thường, có dấu hay không), mã hoặc số CCCD",
            "Name (case and diacritics ignored), code or citizen ID",
        ),
        "commune" => ("Xã/Phường (mã)", "Commune (code)"),
        "category" => ("Diện đối tượng", "Category"),
        "point" => ("Điểm chi trả", "Payment point"),
        "status" => ("Trạng thái", "Status"),
        "filter" => ("Lọc", "Filter"),
        "code" => ("Mã", "Code"),
        "full_name" => ("Họ và tên", "Full name"),
        "birth_date" => ("Ngày sinh", "Date of birth"),
        "sex" => ("Giới tính", "Sex"),
        "citizen_id" => ("Số CCCD", "Citizen ID"),
        "address" => ("Địa chỉ", "Address"),
        "results" => ("kết quả", "results"),
        "prev" => ("Trang trước", "Previous page"),
        "next" => ("Trang sau", "Next page"),
        "download_csv" => ("Tải về CSV", "Download CSV"),
        "none" => ("Không có dòng nào", "Nothing to show"),
        "register_title" => ("Danh sách đối tượng", "The register"),
        "add_beneficiary" => ("Thêm đối tượng", "Add a beneficiary"),
        "identity" => ("Nhân thân", "Identity"),
        "addresses" => ("Lịch sử địa chỉ", "Address history"),
        "decisions" => ("Quyết định", "Decisions"),
        "entitlement" => ("Vì sao số tiền tháng này", "Why this month's amount"),
        "payments" => ("Các lần chi trả", "Payments"),
        "from" => ("Từ", "From"),
        "kind" => ("Loại", "Kind"),
        "effective" => ("Hiệu lực từ (YYYY-MM)", "Effective (YYYY-MM)"),
        "signed_on" => ("Ngày ký (YYYY-MM-DD)", "Signed on (YYYY-MM-DD)"),
        "signer" => ("Người ký", "Signed by"),
        "number" => ("Số quyết định", "Decision number"),
        "reason" => ("Lý do", "Reason"),
        "program" => ("Chương trình", "Program"),
        "amount" => ("Số tiền", "Amount"),
        "period" => ("Kỳ (YYYY-MM)", "Month (YYYY-MM)"),
        "paid_on" => ("Ngày nhận", "Paid on"),
        "month" => ("Tháng", "Month"),
        "rule" => ("Quy định áp dụng", "Rule applied"),
        "age" => ("Tuổi", "Age"),
        "total" => ("Tổng", "Total"),
        "arrears" => ("Truy lĩnh / truy thu", "Arrears / recovery"),
        "funeral" => ("Hỗ trợ mai táng", "Funeral support"),
        "record_decision" => ("Ghi quyết định", "Record a decision"),
        "save" => ("Lưu", "Save"),
        "saved" => ("Đã lưu", "Saved"),
        "hamlet" => ("Ấp/Thôn", "Hamlet"),
        "street" => ("Số nhà, đường", "House and street"),
        "dependants" => ("Số người nuôi dưỡng", "Dependants"),
        "home_delivery" => ("Chi trả tại nhà (lý do)", "Paid at home (why)"),
        "bank" => ("Ngân hàng", "Bank"),
        "bank_account" => ("Số tài khoản", "Account number"),
        "death_date" => ("Ngày mất (YYYY-MM-DD)", "Date of death (YYYY-MM-DD)"),
        "replaces" => ("Thay diện", "Replaces category"),
        "facility" => ("Cơ sở bảo trợ (số)", "Facility (id)"),
        "payment_point" => ("Điểm chi trả (số)", "Payment point (id)"),
        "month_title" => ("Kỳ chi trả", "The month's payrolls"),
        "generate" => ("Lập danh sách chi trả", "Generate the payroll"),
        "office" => ("Đơn vị", "Office"),
        "generate_title" => ("Lập danh sách tháng", "Generate a month's payroll"),
        "runs" => ("Danh sách chi trả", "Payrolls"),
        "state" => ("Tình trạng", "State"),
        "lines" => ("Số dòng", "Lines"),
        "to_advance" => ("Cần tạm ứng", "To advance"),
        "generated_by" => ("Người lập", "Generated by"),
        "approved_by" => ("Người duyệt", "Approved by"),
        "open" => ("Mở", "Open"),
        "approve" => ("Phê duyệt", "Approve"),
        "fund" => ("Chuyển kinh phí", "Record the fund advance"),
        "open_payment" => ("Bắt đầu chi trả", "Open payment"),
        "close" => ("Kết thúc kỳ chi trả", "Close the period"),
        "differences" => ("Thay đổi so với tháng trước", "Differences from last month"),
        "before" => ("Tháng trước", "Before"),
        "now" => ("Tháng này", "Now"),
        "why" => ("Lý do", "Why"),
        "progress_by_point" => ("Tiến độ theo điểm chi trả", "Progress by payment point"),
        "paid" => ("Đã chi", "Paid"),
        "due" => ("Chưa chi", "Due"),
        "carried" => ("Chuyển kỳ sau", "Carried over"),
        "returned" => ("Hoàn trả", "Returned"),
        "settlement" => ("Quyết toán", "Settlement"),
        "settlement_title" => ("Quyết toán tháng", "The month's settlement"),
        "advanced" => ("Đã tạm ứng", "Advanced"),
        "still_held" => ("Còn giữ", "Still held"),
        "balances" => (
            "Khớp: tạm ứng = đã chi + hoàn trả + còn giữ",
            "Balances: advanced = paid + returned + still held",
        ),
        "balances_not" => ("KHÔNG KHỚP", "DOES NOT BALANCE"),
        "account" => ("Tài khoản", "Account"),
        "agent_title" => ("Điểm chi trả của tôi hôm nay", "My payment point today"),
        "my_point" => ("Điểm của tôi", "My point"),
        "today" => ("Hôm nay", "Today"),
        "pay" => ("Chi trả", "Pay"),
        "pay_title" => ("Chi trả cho đối tượng", "Pay a beneficiary"),
        "check_identity" => ("Kiểm tra nhân thân", "Check identity"),
        "method" => ("Người nhận", "Who receives"),
        "by_citizen_id" => (
            "Chính chủ, xuất trình CCCD",
            "The beneficiary, with their citizen ID",
        ),
        "by_proxy" => ("Người được ủy quyền", "A proxy with an authorisation"),
        "proxy_name" => ("Họ tên người nhận thay", "Proxy's full name"),
        "proxy_id" => ("Số CCCD người nhận thay", "Proxy's citizen ID"),
        "authorisation" => ("Số giấy ủy quyền", "Authorisation number"),
        "issuer" => ("Nơi xác nhận ủy quyền", "Certified by"),
        "expires" => (
            "Ủy quyền hết hạn (YYYY-MM-DD)",
            "Authorisation expires (YYYY-MM-DD)",
        ),
        "receipt" => ("Biên nhận", "Receipt"),
        "receipt_title" => ("Biên nhận chi trả", "Payment receipt"),
        "already_paid" => ("Dòng này đã được chi trả", "This line is already paid"),
        "paid_by" => ("bởi lần chi", "by payment"),
        "payment_id" => ("Mã lần chi", "Payment id"),
        "agent" => ("Nhân viên chi trả", "Agent"),
        "paid_at" => ("Thời điểm chi", "Paid at"),
        "in_words" => ("Bằng chữ", "In words"),
        "lookup_title" => ("Tra cứu lịch chi trả", "Look up your payments"),
        "lookup_intro" => (
            "Nhập mã in trên giấy báo, và năm sinh hoặc 4 số cuối CCCD.",
            "Type the code printed on your notice, and your year of birth or the last 4 digits of your citizen ID.",
        ),
        "birth_year" => ("Năm sinh", "Year of birth"),
        "citizen_last4" => ("4 số cuối CCCD", "Last 4 digits of the citizen ID"),
        "lookup_button" => ("Tra cứu", "Look up"),
        "lookup_none" => (
            "Không tìm thấy đối tượng với mã và thông tin này",
            "No beneficiary with this code and these details",
        ),
        "days" => ("Ngày chi trả", "Pay days"),
        "hours" => ("Giờ", "Hours"),
        "dashboard_title" => ("Tổng quan", "Dashboard"),
        "current_period" => ("Kỳ hiện tại", "Current period"),
        "unpaid" => ("Chưa chi", "Unpaid"),
        "on_time" => ("Tỷ lệ chi đúng lịch", "On-time rate"),
        "points_behind" => ("Điểm chi trả chậm", "Points behind"),
        "anomalies_waiting" => ("Bất thường chờ xem xét", "Anomalies waiting"),
        "chart_totals" => (
            "Tổng chi theo tháng (triệu đồng)",
            "Paid per month (million đồng)",
        ),
        "chart_people" => (
            "Số đối tượng được chi theo năm",
            "Beneficiaries paid per year",
        ),
        "chart_by_area" => (
            "Tổng chi theo huyện (triệu đồng)",
            "Paid by district (million đồng)",
        ),
        "reports_title" => ("Báo cáo", "Reports"),
        "summary" => ("Tổng hợp nhiều năm", "Multi-year summary"),
        "turns" => ("Lượt đối tượng", "Beneficiary-turns"),
        "total_paid" => ("Tổng đã chi", "Total paid"),
        "points_paid" => ("Điểm chi trả", "Payment points"),
        "by_year" => ("Theo năm", "By year"),
        "by_area" => ("Theo địa bàn", "By area"),
        "by_category" => ("Theo diện", "By category"),
        "by_month" => ("Theo tháng", "By month"),
        "anomalies_title" => ("Bất thường và bằng chứng", "Anomalies and their evidence"),
        "evidence" => ("Bằng chứng", "Evidence"),
        "audit_title" => ("Nhật ký kiểm toán", "The audit journal"),
        "verify" => ("Kiểm tra chuỗi băm", "Hash chain check"),
        "intact" => ("Nguyên vẹn", "Intact"),
        "broken" => ("BỊ SỬA ĐỔI", "TAMPERED WITH"),
        "entries_checked" => ("Số bản ghi đã kiểm", "Entries checked"),
        "head_hash" => ("Mã băm cuối", "Head hash"),
        "journal" => ("Các bản ghi mới nhất", "Latest entries"),
        "at" => ("Lúc", "At"),
        "who" => ("Ai", "Who"),
        "what" => ("Việc gì", "What"),
        "points_title" => ("Điểm chi trả", "Payment points"),
        "schedules" => ("Lịch chi trả", "Schedules"),
        "contracts_title" => ("Hợp đồng chi trả", "Payment contracts"),
        "fee" => ("Phí chi trả", "Fee"),
        "valid_from" => ("Hiệu lực từ", "Valid from"),
        "valid_to" => ("Đến", "Valid to"),
        "pay_window" => ("Thời gian chi (ngày)", "Pay window (days)"),
        "post_office" => ("Bưu điện", "Post office"),
        "name" => ("Tên", "Name"),
        "level" => ("Cấp", "Level"),
        "demo_notice" => (
            "DỮ LIỆU MẪU — người và số liệu do máy tạo ra",
            "DEMO DATA — people and figures are synthetic",
        ),
        "new_title" => ("Đăng ký đối tượng mới", "Register a new beneficiary"),
        "decision_title" => ("Ghi quyết định mới", "Record a new decision"),
        "yes" => ("Có", "Yes"),
        "no" => ("Không", "No"),
        "detail" => ("Chi tiết", "Detail"),
        "reviews" => ("Chờ xem xét", "Waiting for review"),
        "closed_note" => ("Đã kết thúc kỳ chi trả", "The period is closed"),
        "suspended" => ("Tạm dừng vì không nhận", "Suspended for not collecting"),
        "flags" => ("Cảnh báo", "Flags"),
        "beneficiaries" => ("Đối tượng", "Beneficiaries"),
        "lines_paid" => ("Dòng đã chi", "Lines paid"),
        "ontime_note" => (
            "dòng chi trong thời gian chi trả của hợp đồng (tính cả dòng chưa chi đã quá hạn)",
            "lines paid within the contract's pay window (lines unpaid past it count too)",
        ),
        "ontime_outside" => ("Ngoài thời gian chi trả", "Outside the pay window"),
        "paid_early" => ("chi trước", "paid early"),
        "paid_late" => ("chi muộn", "paid late"),
        "overdue" => ("quá hạn chưa chi", "unpaid past the window"),
        "line" => ("Dòng", "Line"),
        "see_receipt" => ("Xem biên nhận", "See the receipt"),
        "back" => ("Quay lại", "Back"),
        "to" => ("Đến", "To"),
        "approve_note" => (
            "Người phê duyệt phải khác người lập danh sách.",
            "Someone other than whoever generated it approves it.",
        ),
        "open_runs" => ("Danh sách đang chi trả", "Payrolls being paid"),
        "not_open" => (
            "Chưa có danh sách nào đang chi trả tại điểm của bạn.",
            "No payroll is being paid at your point.",
        ),
        "language" => ("Ngôn ngữ", "Language"),
        "people" => ("người", "people"),
        "main_menu" => ("Menu chính", "Main menu"),
        "points_active" => ("Điểm đã chi", "Points that paid"),
        "base" => ("Mức chuẩn", "Base level"),
        "rate" => ("Hệ số / mức", "Coefficient or amount"),
        "counted" => ("Được tính", "Counted"),
        "payroll_list" => ("Danh sách chi trả", "Payroll list"),
        "point_notice" => ("Thông báo lịch chi trả", "Schedule notice"),
        "settlement_doc" => ("Báo cáo quyết toán", "Settlement report"),
        "payout_file" => ("Tệp chuyển khoản", "Bank payout file"),
        "register_status" => ("Tình trạng hưởng", "Register status"),
        "rs_pending" => ("Chưa hưởng", "Not yet granted"),
        "rs_active" => ("Đang hưởng", "Active"),
        "rs_suspended" => ("Tạm dừng", "Suspended"),
        "rs_stopped" => ("Thôi hưởng", "Stopped"),
        "rs_deceased" => ("Đã mất", "Deceased"),
        "status_latest" => (
            "Trạng thái chi tháng gần nhất",
            "Payment status, latest month",
        ),
        "set_schedule" => ("Lập lịch chi trả tháng", "Set a month's schedule"),
        "add_contract" => ("Ghi hợp đồng chi trả", "Record a payment contract"),
        "area_code" => (
            "Địa bàn (mã tỉnh hoặc xã)",
            "Area (province or commune code)",
        ),
        "advance_by_day" => ("Tạm ứng trước ngày", "Advance by day"),
        "pay_from_day" => ("Chi từ ngày", "Pay from day"),
        "pay_to_day" => ("Chi đến ngày", "Pay to day"),
        "report_by_day" => ("Báo cáo trước ngày", "Report by day"),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every `t("key")` of the pages' code and templates has words in both languages.
    #[test]
    fn every_key_used_has_words_in_both_languages() {
        let sources = [
            include_str!("mod.rs"),
            include_str!("views.rs"),
            include_str!("session.rs"),
            include_str!("register.rs"),
            include_str!("month.rs"),
            include_str!("agent.rs"),
            include_str!("public.rs"),
            include_str!("pages.rs"),
            include_str!("../../templates/base.html"),
            include_str!("../../templates/table.html"),
            include_str!("../../templates/error.html"),
        ];
        let mut seen = 0;
        for src in sources {
            for (i, _) in src.match_indices(".t(\"") {
                let rest = &src[i + 4..];
                let key = &rest[..rest.find('"').unwrap_or(0)];
                let (vi, en) = words(key).unwrap_or(("", ""));
                assert!(!vi.is_empty() && !en.is_empty(), "'{key}' has no words");
                seen += 1;
            }
        }
        assert!(seen > 100, "only {seen} uses found");
    }
}
