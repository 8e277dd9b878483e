//! Importing beneficiaries from the spreadsheets offices keep: every row is checked, every bad row
//! is reported (row, column, value, reason), and the import is all or nothing — one registration
//! in the store, one transaction — and idempotent: a row whose citizen ID is already registered
//! to the same person (same name and birth date) is skipped, so importing a file twice adds
//! nothing the second time.
//!
//! A file of a million rows is read and registered as a stream: one thread reads and checks the
//! rows while the store registers the checked ones, a chunk at a time, in the one transaction it
//! commits only once the last row has been read and found good. Memory does not grow with the
//! file, save for the set of citizen IDs seen (for duplicates within the file).

use std::collections::HashMap;
use std::path::Path;

use chitra_core::decision::{DecisionKind, NewDecision, check_decision};
use chitra_core::ids::{CitizenId, CommuneCode};
use chitra_core::register::{
    AddressSpell, BankAccount, Beneficiary, NewBeneficiary, Sex, parse_birth_date,
};
use chitra_core::rules::RuleBook;
use chitra_core::units::{AdminUnit, UnitLevel, UnitTree};
use chitra_core::{Dong, FieldError, Period, Program, text};
use chitra_store::{Change, RegisteredCitizen, Registration, Store};
use chrono::NaiveDate;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::legacy::{self, Encoding};
use crate::sheet::{self, Cell};

/// A column the import understands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    Name,
    BirthDate,
    Sex,
    CitizenId,
    Category,
    District,
    Commune,
    Hamlet,
    Street,
    Amount,
    Effective,
    DecisionNumber,
    Dependants,
    Point,
    Bank,
    BankAccount,
}

impl Field {
    pub const ALL: [Field; 16] = [
        Field::Name,
        Field::BirthDate,
        Field::Sex,
        Field::CitizenId,
        Field::Category,
        Field::District,
        Field::Commune,
        Field::Hamlet,
        Field::Street,
        Field::Amount,
        Field::Effective,
        Field::DecisionNumber,
        Field::Dependants,
        Field::Point,
        Field::Bank,
        Field::BankAccount,
    ];

    /// The name `--map` uses.
    pub fn code(self) -> &'static str {
        match self {
            Field::Name => "name",
            Field::BirthDate => "birth_date",
            Field::Sex => "sex",
            Field::CitizenId => "citizen_id",
            Field::Category => "category",
            Field::District => "district",
            Field::Commune => "commune",
            Field::Hamlet => "hamlet",
            Field::Street => "street",
            Field::Amount => "amount",
            Field::Effective => "effective",
            Field::DecisionNumber => "decision_number",
            Field::Dependants => "dependants",
            Field::Point => "point",
            Field::Bank => "bank",
            Field::BankAccount => "bank_account",
        }
    }

    pub fn parse(s: &str) -> Option<Field> {
        Field::ALL.into_iter().find(|f| f.code() == s.trim())
    }

    /// The headers offices write for this column (compared without case or diacritics).
    fn headers(self) -> &'static [&'static str] {
        match self {
            Field::Name => &[
                "Họ và tên",
                "Họ tên",
                "Họ và tên đối tượng",
                "Tên đối tượng",
            ],
            Field::BirthDate => &["Ngày sinh", "Ngày tháng năm sinh", "Ngày, tháng, năm sinh"],
            Field::Sex => &["Giới tính", "Nam/Nữ"],
            Field::CitizenId => &[
                "Số CCCD",
                "CCCD",
                "Số định danh",
                "Số định danh cá nhân",
                "Số CCCD/CMND",
                "Số căn cước",
            ],
            Field::Category => &["Diện đối tượng", "Diện", "Mã diện", "Đối tượng"],
            Field::District => &["Huyện", "Quận/Huyện", "Huyện/Thành phố", "Huyện/TP"],
            Field::Commune => &[
                "Xã/Phường",
                "Xã",
                "Xã/Phường/Thị trấn",
                "Mã xã",
                "Phường/Xã",
            ],
            Field::Hamlet => &["Ấp/Khu phố", "Ấp", "Thôn", "Ấp/Thôn", "Thôn/Ấp", "Khu phố"],
            Field::Street => &["Địa chỉ", "Số nhà", "Số nhà, đường"],
            Field::Amount => &["Mức hưởng", "Mức trợ cấp", "Số tiền"],
            Field::Effective => &["Ngày hưởng", "Hưởng từ ngày", "Ngày bắt đầu hưởng"],
            Field::DecisionNumber => &["Số quyết định", "Số QĐ"],
            Field::Dependants => &["Số con", "Số người phụ thuộc", "Số con đang nuôi"],
            Field::Point => &["Điểm chi trả", "Mã điểm chi trả"],
            Field::Bank => &["Ngân hàng", "Tên ngân hàng"],
            Field::BankAccount => &["Số tài khoản", "STK"],
        }
    }
}

/// Which header names which field: the defaults, adjusted by `--map "Header=field"`.
#[derive(Clone, Debug)]
pub struct ColumnMap {
    by_key: HashMap<String, Field>,
}

impl Default for ColumnMap {
    fn default() -> Self {
        let mut by_key = HashMap::new();
        for f in Field::ALL {
            for h in f.headers() {
                by_key.insert(text::search_key(h), f);
            }
        }
        ColumnMap { by_key }
    }
}

impl ColumnMap {
    /// Adds `Header=field` pairs; a header given here wins over the defaults.
    pub fn with(mut self, pairs: &[String]) -> Result<ColumnMap> {
        for p in pairs {
            let (header, field) = p.rsplit_once('=').ok_or_else(|| {
                FieldError::new(
                    "map",
                    format!("'{p}' is not Header=field, e.g. \"Họ tên=name\""),
                )
            })?;
            let field = Field::parse(field).ok_or_else(|| {
                let known: Vec<&str> = Field::ALL.iter().map(|f| f.code()).collect();
                FieldError::new(
                    "map",
                    format!("'{field}' is not a field: use one of {}", known.join(", ")),
                )
            })?;
            self.by_key.insert(text::search_key(header), field);
        }
        Ok(self)
    }

    fn field(&self, header: &str) -> Option<Field> {
        self.by_key.get(&text::search_key(header)).copied()
    }
}

/// What is needed to read a file besides the file: the store's units, rules and points; the
/// program; today; who signs. Who is already registered is asked of the store a chunk of rows
/// at a time.
#[derive(Clone)]
pub struct Context {
    pub program: Program,
    pub today: NaiveDate,
    /// Recorded as the signer of imported grants with no decision signer of their own.
    pub signer: String,
    pub reason: String,
    /// Communes are looked up in this province (its code) when given by name.
    pub province: Option<String>,
    tree: std::sync::Arc<UnitTree>,
    rules: RuleBook,
    points: HashMap<String, i64>,
    communes: HashMap<String, Vec<usize>>,
}

impl Context {
    /// Reads what the checks need from the store.
    pub async fn load(
        store: &dyn Store,
        program: Program,
        today: NaiveDate,
        signer: &str,
    ) -> Result<Context> {
        let tree = store.unit_tree().await?;
        let rules = store.rule_book().await?;
        let points = store
            .payment_points()
            .await?
            .into_iter()
            .map(|p| (text::search_key(&p.code), p.id))
            .collect();
        let province = store.setting("province").await?;
        let mut communes: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, u) in tree.units().iter().enumerate() {
            if u.level == UnitLevel::Commune {
                communes.entry(commune_key(&u.name)).or_default().push(i);
            }
        }
        Ok(Context {
            program,
            today,
            signer: signer.to_owned(),
            reason: "nhập danh sách đối tượng từ tệp — imported from a spreadsheet".into(),
            province,
            tree,
            rules,
            points,
            communes,
        })
    }
}

/// A commune's name without "xã", "phường" or "thị trấn", for matching what offices write.
fn commune_key(name: &str) -> String {
    let k = text::search_key(name);
    for prefix in ["xa ", "phuong ", "thi tran ", "dac khu "] {
        if let Some(rest) = k.strip_prefix(prefix) {
            return rest.trim().to_owned();
        }
    }
    k
}

fn district_key(name: &str) -> String {
    let k = text::search_key(name);
    for prefix in ["huyen ", "quan ", "thanh pho ", "thi xa ", "tp. ", "tp "] {
        if let Some(rest) = k.strip_prefix(prefix) {
            return rest.trim().to_owned();
        }
    }
    k
}

/// One bad value: where it is and why it is refused.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// The row number as the spreadsheet shows it.
    pub row: u32,
    /// The column's header as the file writes it.
    pub column: String,
    pub value: String,
    pub reason: String,
}

/// What an import found, and did.
#[derive(Clone, Debug, Serialize)]
pub struct ImportReport {
    pub file: String,
    pub encoding: Encoding,
    /// The row holding the headers.
    pub header_row: u32,
    /// Columns recognised: header → field.
    pub columns: Vec<(String, Field)>,
    /// Data rows read.
    pub rows: u64,
    /// Rows whose person is already registered, with the same name and birth date: skipped.
    pub already_registered: u64,
    /// Rows that would be (or were) added.
    pub to_add: u64,
    pub problems: Vec<Problem>,
    pub dry_run: bool,
    /// Beneficiaries registered by this import.
    pub added: u64,
}

impl ImportReport {
    pub fn is_clean(&self) -> bool {
        self.problems.is_empty()
    }
}

/// How many problems a report keeps in full; past this, they are counted.
pub const MAX_PROBLEMS: usize = 10_000;

/// How many checked rows are handed to the store at a time.
pub const CHUNK_ROWS: usize = 5_000;

/// Reads and checks a file and — unless `dry_run` or any row is bad — registers its new
/// beneficiaries, all in one transaction. Rows are read and checked on a thread of their own
/// while the store registers the rows checked before them; the registration is committed once
/// the whole file has been read without a problem, and rolled back otherwise.
pub async fn import_file(
    store: &dyn Store,
    change: &Change,
    path: &Path,
    map: &ColumnMap,
    ctx: &Context,
    dry_run: bool,
) -> Result<ImportReport> {
    let (sender, mut receiver) = tokio::sync::mpsc::channel::<FromReader>(2);
    let reader = {
        let (path, map, ctx) = (path.to_path_buf(), map.clone(), ctx.clone());
        std::thread::Builder::new()
            .name("import-reader".into())
            .spawn(move || read_file(&path, &map, &ctx, &sender))
            .map_err(|e| Error::Reader(format!("the reading thread could not start: {e}")))?
    };
    let mut registering = Registering {
        store,
        change,
        dry_run,
        registration: None,
        refused: false,
        problems: Vec::new(),
        problems_dropped: 0,
        already_registered: 0,
        to_add: 0,
    };
    let mut done = None;
    while let Some(message) = receiver.recv().await {
        match message {
            FromReader::Rows {
                rows,
                problems_before,
            } => registering.take(rows, problems_before).await?,
            FromReader::Done(outcome) => {
                done = Some(outcome);
                break;
            }
        }
    }
    // The reader has sent its last message: it has finished, or is about to.
    let _ = reader.join();
    let (mut report, reader_dropped) = done.ok_or_else(|| {
        Error::Reader("the reading thread stopped before the end of the file".into())
    })??;
    registering.finish(&mut report, reader_dropped).await?;
    Ok(report)
}

/// What the reading thread sends: checked rows, then how the reading ended.
enum FromReader {
    Rows {
        rows: Vec<Candidate>,
        /// Problems the reader had found before these rows.
        problems_before: u64,
    },
    /// The report (without what only the register can tell) and the problems not kept in it.
    Done(Result<(ImportReport, u64)>),
}

/// A row whose person is identified (citizen ID, name, birth date): what remains to be decided
/// against the register.
struct Candidate {
    row: u32,
    citizen_id: CitizenId,
    /// The citizen ID's header and cell, for a report.
    shown_id: (String, String),
    name_key: String,
    birth_date: NaiveDate,
    outcome: Outcome,
}

/// What a row comes to if its person is not on the register.
enum Outcome {
    /// Registered.
    Add(Box<NewBeneficiary>),
    /// Refused by the register's own checks, for this reason.
    Refused(Problem),
    /// The row's problems are already reported.
    Reported,
}

fn read_file(
    path: &Path,
    map: &ColumnMap,
    ctx: &Context,
    sender: &tokio::sync::mpsc::Sender<FromReader>,
) {
    let mut reader = RowReader::new(path, map, ctx, sender);
    let outcome =
        sheet::read_rows(path, &mut |n, cells| reader.row(n, cells)).and_then(|_| reader.finish());
    // A closed channel means the import stopped on an error of its own: nobody is listening.
    let _ = sender.blocking_send(FromReader::Done(outcome));
}

/// The store's side of an import: asks the register about each chunk of checked rows, and
/// registers the new people while the file has shown no problem.
struct Registering<'a> {
    store: &'a dyn Store,
    change: &'a Change,
    dry_run: bool,
    registration: Option<Box<dyn Registration>>,
    /// A problem was found: nothing will be registered.
    refused: bool,
    problems: Vec<Problem>,
    problems_dropped: u64,
    already_registered: u64,
    to_add: u64,
}

impl Registering<'_> {
    async fn take(&mut self, rows: Vec<Candidate>, problems_before: u64) -> Result<()> {
        if problems_before > 0 {
            self.refuse();
        }
        let ids: Vec<CitizenId> = rows.iter().map(|c| c.citizen_id.clone()).collect();
        let found = match &mut self.registration {
            Some(r) => r.registered(&ids).await?,
            None => self.store.registered_citizens(&ids).await?,
        };
        let found: HashMap<&str, &RegisteredCitizen> =
            found.iter().map(|r| (r.citizen_id.as_str(), r)).collect();
        let mut new = Vec::new();
        for c in rows {
            match found.get(c.citizen_id.as_str()) {
                Some(r)
                    if text::search_key(&r.full_name) == c.name_key
                        && r.birth_date == c.birth_date =>
                {
                    if !matches!(c.outcome, Outcome::Reported) {
                        self.already_registered += 1;
                    }
                }
                Some(r) => self.problem(Problem {
                    row: c.row,
                    column: c.shown_id.0,
                    value: c.shown_id.1,
                    reason: format!(
                        "số CCCD đã đăng ký cho người khác — already registered to beneficiary {} \
                         with another name or birth date",
                        r.code
                    ),
                }),
                None => match c.outcome {
                    Outcome::Add(nb) => {
                        self.to_add += 1;
                        new.push(*nb);
                    }
                    Outcome::Refused(p) => self.problem(p),
                    Outcome::Reported => {}
                },
            }
        }
        if !self.problems.is_empty() || self.problems_dropped > 0 {
            self.refuse();
        }
        if self.dry_run || self.refused || new.is_empty() {
            return Ok(());
        }
        if self.registration.is_none() {
            self.registration = Some(self.store.begin_registration(self.change).await?);
        }
        if let Some(registration) = &mut self.registration {
            registration.add(new).await?;
        }
        Ok(())
    }

    /// Nothing will be registered: what was added so far is rolled back now.
    fn refuse(&mut self) {
        self.refused = true;
        self.registration = None;
    }

    fn problem(&mut self, p: Problem) {
        if self.problems.len() >= MAX_PROBLEMS {
            self.problems_dropped += 1;
        } else {
            self.problems.push(p);
        }
    }

    /// Adds what the register told to the reader's report; commits the registration if the
    /// whole file is good.
    async fn finish(mut self, report: &mut ImportReport, reader_dropped: u64) -> Result<()> {
        report.problems.append(&mut self.problems);
        // Row by row, as the file reads; a row's own problems stay in the order they were found.
        report.problems.sort_by_key(|p| p.row);
        let mut dropped = reader_dropped + self.problems_dropped;
        if report.problems.len() > MAX_PROBLEMS {
            dropped += (report.problems.len() - MAX_PROBLEMS) as u64;
            report.problems.truncate(MAX_PROBLEMS);
        }
        if dropped > 0 {
            report.problems.push(Problem {
                row: 0,
                column: String::new(),
                value: String::new(),
                reason: format!("… và {dropped} lỗi khác — and {dropped} more problems"),
            });
        }
        report.already_registered = self.already_registered;
        report.to_add = self.to_add;
        report.dry_run = self.dry_run;
        if let Some(registration) = self.registration.take()
            && report.is_clean()
        {
            report.added = registration.commit().await?;
        }
        Ok(())
    }
}

/// A recognised column: its position, its header as the file writes it, the field.
type Column = (usize, String, Field);

/// How many rows are held back to decide the file's encoding before they are checked.
const DETECT_ROWS: usize = 500;

struct RowReader<'a> {
    path: &'a Path,
    map: &'a ColumnMap,
    ctx: &'a Context,
    header: Option<(u32, Vec<Column>)>,
    rows_before_header: u32,
    held: Vec<(u32, Vec<Cell>)>,
    detector: legacy::Detector,
    encoding: Option<Encoding>,
    /// The citizen IDs seen (as numbers: twelve digits fit), with their rows.
    seen_ids: HashMap<u64, u32>,
    report: ImportReport,
    problems_dropped: u64,
    /// Checked rows not yet sent to the store's side.
    pending: Vec<Candidate>,
    sender: &'a tokio::sync::mpsc::Sender<FromReader>,
    /// The store's side stopped listening (it failed): reading stops too.
    unheard: bool,
}

impl<'a> RowReader<'a> {
    fn new(
        path: &'a Path,
        map: &'a ColumnMap,
        ctx: &'a Context,
        sender: &'a tokio::sync::mpsc::Sender<FromReader>,
    ) -> Self {
        RowReader {
            path,
            map,
            ctx,
            header: None,
            rows_before_header: 0,
            held: Vec::new(),
            detector: legacy::Detector::default(),
            encoding: None,
            seen_ids: HashMap::new(),
            report: ImportReport {
                file: path.display().to_string(),
                encoding: Encoding::Unicode,
                header_row: 0,
                columns: Vec::new(),
                rows: 0,
                already_registered: 0,
                to_add: 0,
                problems: Vec::new(),
                dry_run: true,
                added: 0,
            },
            problems_dropped: 0,
            pending: Vec::new(),
            sender,
            unheard: false,
        }
    }

    /// Hands the checked rows to the store's side.
    fn send(&mut self) {
        if self.pending.is_empty() || self.unheard {
            return;
        }
        let rows = std::mem::replace(&mut self.pending, Vec::with_capacity(CHUNK_ROWS));
        let problems_before = self.report.problems.len() as u64 + self.problems_dropped;
        if self
            .sender
            .blocking_send(FromReader::Rows {
                rows,
                problems_before,
            })
            .is_err()
        {
            self.unheard = true;
        }
    }

    fn candidate(&mut self, c: Candidate) {
        self.pending.push(c);
        if self.pending.len() >= CHUNK_ROWS {
            self.send();
        }
    }

    fn row(&mut self, number: u32, cells: Vec<Cell>) -> Result<bool> {
        if self.header.is_none() {
            self.observe(&cells);
            // Headers may be typed in a legacy encoding too: try them as they are and decoded.
            let columns = self.columns(&cells);
            if columns
                .iter()
                .filter(|(_, _, f)| *f != Field::Amount)
                .count()
                >= 3
            {
                self.missing_columns(&columns)?;
                self.header = Some((number, columns));
                return Ok(true);
            }
            self.rows_before_header += 1;
            if self.rows_before_header > 30 {
                return Err(self.no_header());
            }
            return Ok(true);
        }
        if self.encoding.is_none() {
            self.observe(&cells);
            self.held.push((number, cells));
            if self.held.len() >= DETECT_ROWS {
                self.settle_encoding();
            }
            return Ok(true);
        }
        self.check_row(number, cells);
        Ok(!self.unheard)
    }

    fn observe(&mut self, cells: &[Cell]) {
        for c in cells {
            if let Cell::Text(s) = c {
                self.detector.observe(s);
            }
        }
    }

    fn columns(&self, cells: &[Cell]) -> Vec<Column> {
        let mut best = Vec::new();
        for encoding in [Encoding::Unicode, Encoding::Tcvn3, Encoding::Vni] {
            let mut found: Vec<Column> = Vec::new();
            for (i, c) in cells.iter().enumerate() {
                if let Cell::Text(s) = c {
                    let header = text::clean(&legacy::decode(s, encoding));
                    if let Some(f) = self.map.field(&header)
                        && !found.iter().any(|(_, _, g)| *g == f)
                    {
                        found.push((i, header, f));
                    }
                }
            }
            if found.len() > best.len() {
                best = found;
            }
        }
        best
    }

    fn no_header(&self) -> Error {
        Error::Invalid(FieldError::new(
            "file",
            format!(
                "{}: không tìm thấy dòng tiêu đề — no header row in the first 30 rows; expected \
                 headers such as \"Họ và tên\", \"Ngày sinh\", \"Số CCCD\", \"Diện đối tượng\", \
                 \"Xã/Phường\" (or name the columns with --map \"Header=field\")",
                self.path.display()
            ),
        ))
    }

    fn settle_encoding(&mut self) {
        let encoding = self.detector.verdict();
        self.encoding = Some(encoding);
        self.report.encoding = encoding;
        for (n, cells) in std::mem::take(&mut self.held) {
            self.check_row(n, cells);
        }
    }

    /// Every column the checks need is there, or the file is refused before any row is read.
    fn missing_columns(&self, columns: &[Column]) -> Result<()> {
        let missing: Vec<&str> = [
            Field::Name,
            Field::BirthDate,
            Field::Sex,
            Field::CitizenId,
            Field::Category,
            Field::Commune,
        ]
        .into_iter()
        .filter(|f| !columns.iter().any(|(_, _, g)| g == f))
        .map(|f| f.headers()[0])
        .collect();
        if missing.is_empty() {
            return Ok(());
        }
        Err(Error::Invalid(FieldError::new(
            "file",
            format!(
                "{}: thiếu cột — missing columns: {} (or name them with --map \"Header=field\")",
                self.path.display(),
                missing.join(", ")
            ),
        )))
    }

    /// The report of the reading, and how many problems it did not keep.
    fn finish(mut self) -> Result<(ImportReport, u64)> {
        let Some((header_row, columns)) = self.header.clone() else {
            return Err(self.no_header());
        };
        if self.encoding.is_none() {
            self.settle_encoding();
        }
        self.send();
        self.report.header_row = header_row;
        self.report.columns = columns.into_iter().map(|(_, h, f)| (h, f)).collect();
        Ok((self.report, self.problems_dropped))
    }

    fn problem(&mut self, row: u32, column: &str, value: &str, reason: String) {
        if self.report.problems.len() >= MAX_PROBLEMS {
            self.problems_dropped += 1;
            return;
        }
        self.report.problems.push(Problem {
            row,
            column: column.to_owned(),
            value: value.to_owned(),
            reason,
        });
    }

    fn check_row(&mut self, number: u32, cells: Vec<Cell>) {
        let Some((_, columns)) = &self.header else {
            return;
        };
        let encoding = self.encoding.unwrap_or(Encoding::Unicode);
        let mut row = RowValues::default();
        for (i, header, field) in columns {
            let cell = match cells.get(*i) {
                Some(Cell::Text(s)) => Cell::Text(text::clean(&legacy::decode(s, encoding))),
                Some(c) => c.clone(),
                None => Cell::Empty,
            };
            row.values.push((*field, header.clone(), cell));
        }
        self.report.rows += 1;
        if let Some(c) = self.build(number, &row) {
            self.candidate(c);
        }
    }

    /// Checks one row and reports every problem it has; returns what the register has to decide
    /// when the row's person is identified.
    fn build(&mut self, number: u32, row: &RowValues) -> Option<Candidate> {
        let ctx = self.ctx;
        let mut ok = true;
        macro_rules! check {
            ($field:expr, $result:expr) => {
                match $result {
                    Ok(v) => Some(v),
                    Err(reason) => {
                        let (h, v) = row.shown($field);
                        self.problem(number, &h, &v, reason);
                        ok = false;
                        None
                    }
                }
            };
        }

        let name = check!(
            Field::Name,
            text::required("name", &row.text(Field::Name), 100).map_err(|e| vi_reason(&e))
        );
        let birth = check!(
            Field::BirthDate,
            row.date(Field::BirthDate).and_then(|d| {
                parse_birth_date(&d.to_string(), ctx.today).map_err(|e| vi_reason(&e))
            })
        );
        let sex = check!(
            Field::Sex,
            Sex::parse(&row.text(Field::Sex)).map_err(|_| {
                format!(
                    "không phải giới tính — not a sex: write Nam or Nữ (was '{}')",
                    row.text(Field::Sex)
                )
            })
        );
        let citizen_id = check!(
            Field::CitizenId,
            parse_citizen_id(row.get(Field::CitizenId))
        );
        let category = check!(Field::Category, self.category(&row.text(Field::Category)));
        let effective_date = if row.has(Field::Effective) {
            check!(Field::Effective, row.date(Field::Effective))
        } else {
            Some(ctx.today)
        };
        let commune = match effective_date {
            Some(d) => check!(Field::Commune, self.commune(row, d)),
            None => None,
        };
        let point = if row.has(Field::Point) {
            check!(Field::Point, {
                let p = row.text(Field::Point);
                ctx.points
                    .get(&text::search_key(&p))
                    .copied()
                    .map(Some)
                    .ok_or_else(|| {
                        format!("không có điểm chi trả này — no payment point has the code '{p}'")
                    })
            })
            .flatten()
        } else {
            None
        };
        let dependants = if row.has(Field::Dependants) {
            check!(Field::Dependants, {
                let s = row.get(Field::Dependants).shown();
                s.trim()
                    .parse::<u32>()
                    .ok()
                    .filter(|n| (1..=20).contains(n))
                    .ok_or_else(|| {
                        format!("không phải số người — not a number of dependants 1–20: '{s}'")
                    })
            })
        } else {
            Some(1)
        };
        if row.has(Field::Amount) {
            check!(Field::Amount, parse_amount(row.get(Field::Amount)));
        }
        let bank_account = match (row.has(Field::Bank), row.has(Field::BankAccount)) {
            (false, false) => Some(None),
            (true, true) => {
                let account = BankAccount {
                    bank: row.text(Field::Bank),
                    account: row.get(Field::BankAccount).shown(),
                };
                check!(
                    Field::BankAccount,
                    account
                        .check()
                        .map(|_| Some(account.clone()))
                        .map_err(|e| vi_reason(&e))
                )
            }
            (true, false) => check!(
                Field::BankAccount,
                Err::<Option<BankAccount>, String>(
                    "thiếu số tài khoản — the bank is given but not the account number".into()
                )
            ),
            (false, true) => check!(
                Field::Bank,
                Err::<Option<BankAccount>, String>(
                    "thiếu ngân hàng — the account number is given but not the bank".into()
                )
            ),
        };

        // Duplicates in the file; the register is asked about a chunk of rows at a time.
        let mut candidate = None;
        if let (Some(id), Some(name), Some(birth)) = (&citizen_id, &name, &birth) {
            let key = id
                .as_str()
                .bytes()
                .fold(0u64, |k, b| k * 10 + u64::from(b.wrapping_sub(b'0')));
            if let Some(first) = self.seen_ids.get(&key).copied() {
                let (h, v) = row.shown(Field::CitizenId);
                self.problem(
                    number,
                    &h,
                    &v,
                    format!(
                        "số CCCD trùng với dòng {first} — the same citizen ID is on row {first}"
                    ),
                );
                ok = false;
            } else {
                self.seen_ids.insert(key, number);
            }
            candidate = Some(Candidate {
                row: number,
                citizen_id: id.clone(),
                shown_id: row.shown(Field::CitizenId),
                name_key: text::search_key(name),
                birth_date: *birth,
                outcome: Outcome::Reported,
            });
        }
        if !ok {
            return candidate;
        }
        let (
            Some(mut candidate),
            Some(name),
            Some(birth),
            Some(sex),
            Some(citizen_id),
            Some(category),
            Some(effective_date),
            Some(commune),
            Some(dependants),
            Some(bank_account),
        ) = (
            candidate,
            name,
            birth,
            sex,
            citizen_id,
            category,
            effective_date,
            commune,
            dependants,
            bank_account,
        )
        else {
            return None;
        };
        let effective = Period::of(effective_date);
        let nb = NewBeneficiary {
            program: ctx.program,
            full_name: name,
            birth_date: birth,
            sex,
            citizen_id,
            address: AddressSpell {
                from: effective.max(Period::of(birth)),
                commune,
                hamlet: Some(row.text(Field::Hamlet)).filter(|h| !h.is_empty()),
                street: Some(row.text(Field::Street)).filter(|s| !s.is_empty()),
                facility_id: None,
            },
            payment_point_id: point,
            home_delivery: None,
            bank_account,
            grant: NewDecision {
                kind: DecisionKind::Grant,
                number: Some(row.text(Field::DecisionNumber)).filter(|n| !n.is_empty()),
                category: Some(category),
                replaces: None,
                dependants,
                effective,
                signed_on: effective_date.min(ctx.today),
                signer: ctx.signer.clone(),
                reason: ctx.reason.clone(),
                death_date: None,
            },
        };
        // The register's own checks, so that the dry run finds what the import would refuse.
        let checked = nb.check(ctx.today).and_then(|_| {
            let b = as_beneficiary(&nb);
            check_decision(&b, &[], &nb.grant, &ctx.rules, ctx.today)
        });
        candidate.outcome = match checked {
            Ok(()) => Outcome::Add(Box::new(nb)),
            Err(e) => {
                let field = match e.field.as_str() {
                    "category" | "kind" => Field::Category,
                    "effective" | "signed_on" => Field::Effective,
                    "birth_date" | "address.from" => Field::BirthDate,
                    "hamlet" => Field::Hamlet,
                    "bank" | "bank_account" => Field::BankAccount,
                    _ => Field::Name,
                };
                let (column, value) = row.shown(field);
                // Reported only if the person is not already registered (then the row is skipped).
                Outcome::Refused(Problem {
                    row: number,
                    column,
                    value,
                    reason: vi_reason(&e),
                })
            }
        };
        Some(candidate)
    }

    fn category(&self, s: &str) -> std::result::Result<String, String> {
        let t = s.trim();
        if t.is_empty() {
            return Err("trống — empty: write the category code, e.g. K5c".into());
        }
        let c = self
            .ctx
            .rules
            .categories
            .iter()
            .find(|c| c.code.eq_ignore_ascii_case(t) && c.program == self.ctx.program);
        match c {
            Some(c) => Ok(c.code.clone()),
            None => {
                let mut known: Vec<&str> = self
                    .ctx
                    .rules
                    .categories
                    .iter()
                    .filter(|c| c.program == self.ctx.program)
                    .map(|c| c.code.as_str())
                    .collect();
                known.sort_unstable();
                known.dedup();
                Err(format!(
                    "không có diện đối tượng này — unknown category; known: {}",
                    known.join(", ")
                ))
            }
        }
    }

    fn commune(&self, row: &RowValues, on: NaiveDate) -> std::result::Result<CommuneCode, String> {
        let raw = row.get(Field::Commune).shown();
        let t = raw.trim();
        if t.is_empty() {
            return Err("trống — empty: write the commune's name or its 5-digit code".into());
        }
        let tree = &self.ctx.tree;
        if t.bytes().all(|b| b.is_ascii_digit()) {
            let code = format!("{t:0>5}");
            let code = CommuneCode::parse(&code).map_err(|e| vi_reason(&e))?;
            return match tree.commune(code.as_str(), on) {
                Ok(_) => Ok(code),
                Err(e) => Err(format!("không có xã này — unknown commune: {}", e.reason)),
            };
        }
        let units = tree.units();
        let district = row.text(Field::District);
        let found: Vec<&AdminUnit> = self
            .ctx
            .communes
            .get(&commune_key(t))
            .map(|v| v.iter().map(|i| &units[*i]).collect::<Vec<&AdminUnit>>())
            .unwrap_or_default()
            .into_iter()
            .filter(|u| u.valid_on(on))
            .filter(|u| match &self.ctx.province {
                Some(p) => tree
                    .ancestor(u, UnitLevel::Province, on)
                    .is_some_and(|a| &a.code == p),
                None => true,
            })
            .filter(|u| {
                district.is_empty()
                    || tree
                        .ancestor(u, UnitLevel::District, on)
                        .is_some_and(|d| district_key(&d.name) == district_key(&district))
            })
            .collect();
        match found.as_slice() {
            [one] => CommuneCode::parse(&one.code).map_err(|e| vi_reason(&e)),
            [] => Err(format!(
                "không có xã này — unknown commune: no commune named '{t}'{} on {}",
                if district.is_empty() {
                    String::new()
                } else {
                    format!(" in {district}")
                },
                on.format("%d/%m/%Y")
            )),
            many => Err(format!(
                "tên xã trùng — {} communes are named '{t}' ({}): add a \"Huyện\" column, give the province (--province) or write the 5-digit code",
                many.len(),
                many.iter()
                    .map(|u| u.code.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        }
    }
}

/// A beneficiary as the decision check sees it, before it has an id.
fn as_beneficiary(nb: &NewBeneficiary) -> Beneficiary {
    Beneficiary {
        id: 0,
        code: String::new(),
        program: nb.program,
        full_name: nb.full_name.clone(),
        birth_date: nb.birth_date,
        sex: nb.sex,
        citizen_id: nb.citizen_id.clone(),
        addresses: vec![nb.address.clone()],
        payment_point_id: nb.payment_point_id,
        home_delivery: nb.home_delivery.clone(),
        bank_account: nb.bank_account.clone(),
    }
}

fn vi_reason(e: &FieldError) -> String {
    e.reason.clone()
}

#[derive(Default)]
struct RowValues {
    values: Vec<(Field, String, Cell)>,
}

impl RowValues {
    fn get(&self, f: Field) -> &Cell {
        self.values
            .iter()
            .find(|(g, _, _)| *g == f)
            .map(|(_, _, c)| c)
            .unwrap_or(&Cell::Empty)
    }

    fn has(&self, f: Field) -> bool {
        !self.get(f).is_empty()
    }

    fn text(&self, f: Field) -> String {
        text::clean(&self.get(f).shown())
    }

    /// The column's header and the cell as shown, for a report.
    fn shown(&self, f: Field) -> (String, String) {
        match self.values.iter().find(|(g, _, _)| *g == f) {
            Some((_, h, c)) => (h.clone(), c.shown()),
            None => (f.headers()[0].to_owned(), String::new()),
        }
    }

    /// A date: dd/mm/yyyy (or d/m/yyyy, dd-mm-yyyy, dd.mm.yyyy, yyyy-mm-dd) text, or a spreadsheet
    /// date.
    fn date(&self, f: Field) -> std::result::Result<NaiveDate, String> {
        match self.get(f) {
            Cell::Date(d) => Ok(*d),
            Cell::Number(n) if n.fract() == 0.0 => sheet::serial_date(*n)
                .ok_or_else(|| format!("không phải ngày — {n} is not a spreadsheet date")),
            Cell::Empty => Err("trống — empty: write the date as dd/mm/yyyy".into()),
            c => parse_text_date(&c.shown()),
        }
    }
}

/// Dates as offices type them.
pub fn parse_text_date(s: &str) -> std::result::Result<NaiveDate, String> {
    let t = s.trim();
    for fmt in ["%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%Y-%m-%d"] {
        if let Ok(d) = NaiveDate::parse_from_str(t, fmt) {
            return Ok(d);
        }
    }
    if let Ok(n) = t.parse::<u32>()
        && let Some(d) = sheet::serial_date(f64::from(n))
        && t.len() == 5
    {
        return Ok(d);
    }
    Err(format!(
        "không phải ngày hợp lệ — '{t}' is not a date: write dd/mm/yyyy"
    ))
}

fn parse_citizen_id(c: &Cell) -> std::result::Result<CitizenId, String> {
    let shown = c.shown();
    if let Cell::Number(_) = c
        && shown.len() == 11
    {
        return Err(format!(
            "số CCCD phải có 12 chữ số — a citizen ID has 12 digits; this one has 11: the \
             spreadsheet probably dropped its leading 0 (format the column as Text): '{shown}'"
        ));
    }
    CitizenId::parse(&shown).map_err(|_| {
        format!(
            "số CCCD phải có đúng 12 chữ số — a citizen ID is exactly 12 digits: '{}' has {} characters",
            shown.trim(),
            shown.trim().chars().count()
        )
    })
}

/// An amount of đồng as offices write it: 405000, 405.000, 405,000 or "405.000 đ".
pub fn parse_amount(c: &Cell) -> std::result::Result<Dong, String> {
    match c {
        Cell::Number(n) if n.fract() == 0.0 && n.abs() < 9e15 => Ok(Dong(*n as i64)),
        Cell::Number(n) => Err(format!(
            "không phải số tiền — {n} is not a whole number of đồng"
        )),
        _ => {
            let s = c.shown();
            let digits: String = s
                .trim()
                .trim_end_matches(['đ', 'd', 'Đ', 'D'])
                .trim()
                .chars()
                .filter(|ch| !matches!(ch, '.' | ',' | ' ' | '\u{a0}'))
                .collect();
            if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
                digits
                    .parse::<i64>()
                    .map(Dong)
                    .map_err(|_| format!("số tiền quá lớn — '{s}' is too large"))
            } else {
                Err(format!(
                    "không phải số tiền — '{s}' is not an amount of đồng (whole đồng, e.g. 405000)"
                ))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_as_offices_type_them() {
        let d = NaiveDate::from_ymd_opt(1950, 3, 12);
        assert_eq!(parse_text_date("12/03/1950").ok(), d);
        assert_eq!(parse_text_date("12/3/1950").ok(), d);
        assert_eq!(parse_text_date("12-03-1950").ok(), d);
        assert_eq!(parse_text_date("1950-03-12").ok(), d);
        assert!(parse_text_date("31/02/1950").is_err());
        assert!(parse_text_date("1950").is_err());
    }

    #[test]
    fn amounts_as_offices_write_them() {
        for s in ["405000", "405.000", "405,000", "405.000 đ"] {
            assert_eq!(
                parse_amount(&Cell::Text(s.into())),
                Ok(Dong(405_000)),
                "{s}"
            );
        }
        assert_eq!(parse_amount(&Cell::Number(405_000.0)), Ok(Dong(405_000)));
        assert!(parse_amount(&Cell::Text("4O5.000".into())).is_err());
        assert!(parse_amount(&Cell::Number(405_000.5)).is_err());
    }

    #[test]
    fn a_citizen_id_that_lost_its_leading_zero_says_so() {
        let e = parse_citizen_id(&Cell::Number(83_190_001_234.0)).unwrap_err();
        assert!(e.contains("leading 0"), "{e}");
        assert!(parse_citizen_id(&Cell::Text("083190001234".into())).is_ok());
        assert!(parse_citizen_id(&Cell::Text("08319000123".into())).is_err());
    }

    #[test]
    fn headers_match_without_diacritics_and_can_be_remapped() {
        let m = ColumnMap::default();
        assert_eq!(m.field("HỌ VÀ TÊN"), Some(Field::Name));
        assert_eq!(m.field("Ho va ten"), Some(Field::Name));
        assert_eq!(m.field("Xã/Phường"), Some(Field::Commune));
        assert_eq!(m.field("Tên người hưởng"), None);
        let m = m.with(&["Tên người hưởng=name".into()]).unwrap();
        assert_eq!(m.field("Tên người hưởng"), Some(Field::Name));
        assert!(ColumnMap::default().with(&["X=nothing".into()]).is_err());
        assert!(ColumnMap::default().with(&["no equals".into()]).is_err());
    }
}
