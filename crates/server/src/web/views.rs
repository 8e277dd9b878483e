//! What the templates show: the frame of every page, and the parts pages are made of (facts,
//! tables with their CSV, forms with an error beside each field, charts).

use std::collections::HashMap;
use std::str::FromStr;

use chitra_core::access::{Action, Role};
use chitra_core::{Dong, FieldError};

use crate::auth::Caller;
use crate::web::Lang;
use crate::web::assets;

/// One entry of the menu.
pub struct NavItem {
    pub href: &'static str,
    pub label: &'static str,
    pub current: bool,
}

/// The frame of a page: language, title, the signed-in user and their menu.
pub struct Chrome {
    pub lang: Lang,
    pub title: String,
    pub user: Option<String>,
    pub role: String,
    pub csrf: String,
    pub nav: Vec<NavItem>,
    pub path: String,
    pub css: String,
    pub js: String,
    pub app: String,
}

impl Chrome {
    pub fn new(
        lang: Lang,
        title: String,
        caller: Option<&Caller>,
        csrf: String,
        path: String,
    ) -> Chrome {
        let nav = match caller {
            Some(c) => menu(lang, c.user.role, &path),
            None => Vec::new(),
        };
        Chrome {
            lang,
            title,
            user: caller.map(|c| format!("{} ({})", c.user.display_name, c.user.username)),
            role: caller
                .map(|c| role_name(lang, c.user.role).to_owned())
                .unwrap_or_default(),
            csrf,
            nav,
            path,
            css: assets::url("app.css"),
            js: assets::url("htmx.min.js"),
            app: assets::url("app.js"),
        }
    }

    pub fn t(&self, key: &'static str) -> &'static str {
        self.lang.t(key)
    }

    pub fn code(&self) -> &'static str {
        self.lang.code()
    }

    /// The link to the same page in the other language.
    pub fn switch_href(&self) -> String {
        let back = if self.path.is_empty() {
            "/"
        } else {
            &self.path
        };
        format!(
            "/lang/{}?back={}",
            self.lang.other().code(),
            url_encode(back)
        )
    }

    pub fn switch_label(&self) -> &'static str {
        match self.lang.other() {
            Lang::Vi => "Tiếng Việt",
            Lang::En => "English",
        }
    }
}

pub fn role_name(lang: Lang, role: Role) -> &'static str {
    match lang {
        Lang::Vi => role.name_vi(),
        Lang::En => match role {
            Role::Admin => "Administrator",
            Role::ProvinceOfficer => "Department officer",
            Role::LocalOfficer => "Local officer",
            Role::PostManager => "Post office manager",
            Role::Agent => "Payment agent",
            Role::Inspector => "Inspector",
        },
    }
}

fn menu(lang: Lang, role: Role, path: &str) -> Vec<NavItem> {
    let items: [(&'static str, &'static str, Option<Action>); 10] = [
        ("/", "nav_home", None),
        ("/agent", "nav_agent", Some(Action::RecordPayment)),
        ("/beneficiaries", "nav_register", Some(Action::ReadRegister)),
        ("/payrolls", "nav_month", Some(Action::ReadPayroll)),
        ("/points", "nav_points", Some(Action::ReadPoints)),
        ("/contracts", "nav_contracts", Some(Action::ReadContracts)),
        ("/reports", "nav_reports", Some(Action::ReadReports)),
        ("/anomalies", "nav_anomalies", Some(Action::ReadAnomalies)),
        ("/audit", "nav_audit", Some(Action::ReadAudit)),
        ("/lookup", "nav_lookup", None),
    ];
    items
        .into_iter()
        .filter(|(href, _, action)| {
            let allowed = action.is_none_or(|a| role.may(a));
            // The agent's screen is for agents; officers pay nobody from the web.
            allowed && (*href != "/agent" || role == Role::Agent)
        })
        .filter(|(href, _, _)| !(role == Role::Agent && *href == "/payrolls"))
        .map(|(href, key, _)| NavItem {
            href,
            label: lang.t(key),
            current: if href == "/" {
                path == "/"
            } else {
                path.starts_with(href)
            },
        })
        .collect()
}

/// A note above or inside a section.
pub struct Note {
    /// ok, error or info.
    pub kind: &'static str,
    pub text: String,
}

/// One part of a page.
#[derive(Default)]
pub struct Section {
    pub id: String,
    pub heading: Option<String>,
    pub note: Option<Note>,
    pub text: Vec<String>,
    pub facts: Vec<(String, String)>,
    pub links: Vec<(String, String)>,
    pub table: Option<Table>,
    pub form: Option<Form>,
    /// Forms of one button each (approve, fund, …), side by side.
    pub actions: Vec<Form>,
    /// A chart drawn by `charts`: markup made here, with every text escaped.
    pub svg: Option<String>,
}

impl Section {
    pub fn titled(id: &str, heading: impl Into<String>) -> Section {
        Section {
            id: id.to_owned(),
            heading: Some(heading.into()),
            ..Section::default()
        }
    }

    pub fn note(mut self, kind: &'static str, text: impl Into<String>) -> Section {
        self.note = Some(Note {
            kind,
            text: text.into(),
        });
        self
    }

    pub fn fact(mut self, label: impl Into<String>, value: impl Into<String>) -> Section {
        self.facts.push((label.into(), value.into()));
        self
    }

    pub fn para(mut self, text: impl Into<String>) -> Section {
        self.text.push(text.into());
        self
    }

    pub fn link(mut self, href: impl Into<String>, label: impl Into<String>) -> Section {
        self.links.push((href.into(), label.into()));
        self
    }

    pub fn table(mut self, t: Table) -> Section {
        self.table = Some(t);
        self
    }

    pub fn form(mut self, f: Form) -> Section {
        self.form = Some(f);
        self
    }

    pub fn action(mut self, f: Form) -> Section {
        self.actions.push(f);
        self
    }

    pub fn svg(mut self, svg: String) -> Section {
        self.svg = Some(svg);
        self
    }
}

/// A cell of a table, perhaps a link.
pub struct Cell {
    pub text: String,
    pub href: Option<String>,
    pub num: bool,
}

impl Cell {
    pub fn text(s: impl Into<String>) -> Cell {
        Cell {
            text: s.into(),
            href: None,
            num: false,
        }
    }

    pub fn num(s: impl Into<String>) -> Cell {
        Cell {
            text: s.into(),
            href: None,
            num: true,
        }
    }

    pub fn link(s: impl Into<String>, href: impl Into<String>) -> Cell {
        Cell {
            text: s.into(),
            href: Some(href.into()),
            num: false,
        }
    }
}

impl From<String> for Cell {
    fn from(s: String) -> Cell {
        Cell::text(s)
    }
}

impl From<&str> for Cell {
    fn from(s: &str) -> Cell {
        Cell::text(s)
    }
}

/// A table, with a link to the same rows as CSV and to the pages before and after.
#[derive(Default)]
pub struct Table {
    pub caption: String,
    pub headers: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
    pub csv: Option<String>,
    pub prev: Option<String>,
    pub next: Option<String>,
    pub empty: String,
}

impl Table {
    pub fn new(caption: impl Into<String>, headers: &[&str]) -> Table {
        Table {
            caption: caption.into(),
            headers: headers.iter().map(|h| (*h).to_owned()).collect(),
            ..Table::default()
        }
    }

    pub fn row(&mut self, cells: Vec<Cell>) {
        self.rows.push(cells);
    }

    /// The rows as CSV (RFC 4180, UTF-8 with a byte-order mark so spreadsheets read the accents).
    pub fn to_csv(&self) -> String {
        let mut out = String::from("\u{feff}");
        let line = |cells: &mut dyn Iterator<Item = &str>| {
            cells.map(csv_field).collect::<Vec<_>>().join(",") + "\r\n"
        };
        out.push_str(&line(&mut self.headers.iter().map(String::as_str)));
        for r in &self.rows {
            out.push_str(&line(&mut r.iter().map(|c| c.text.as_str())));
        }
        out
    }
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

/// A control of a form, with its label and, after a refusal, the error beside it.
#[derive(Clone, Default)]
pub struct Field {
    pub name: String,
    pub label: String,
    /// text, search, number, date, month, password, select, hidden.
    pub kind: &'static str,
    pub value: String,
    pub error: Option<String>,
    pub hint: Option<String>,
    pub options: Vec<(String, String)>,
    pub required: bool,
    pub autofocus: bool,
}

impl Field {
    pub fn new(name: &str, label: impl Into<String>, kind: &'static str) -> Field {
        Field {
            name: name.to_owned(),
            label: label.into(),
            kind,
            ..Field::default()
        }
    }

    pub fn value(mut self, v: impl Into<String>) -> Field {
        self.value = v.into();
        self
    }

    pub fn required(mut self) -> Field {
        self.required = true;
        self
    }

    pub fn hint(mut self, h: impl Into<String>) -> Field {
        self.hint = Some(h.into());
        self
    }

    pub fn options(mut self, o: Vec<(String, String)>) -> Field {
        self.options = o;
        self
    }

    pub fn autofocus(mut self) -> Field {
        self.autofocus = true;
        self
    }

    pub fn is_selected(&self, v: &str) -> bool {
        self.value == v
    }

    pub fn error_id(&self) -> String {
        format!("{}-error", self.name.replace('.', "-"))
    }

    pub fn input_id(&self) -> String {
        format!("f-{}", self.name.replace('.', "-"))
    }
}

/// A form: GET (filters, searches) or POST (changes, carrying the CSRF token).
#[derive(Default)]
pub struct Form {
    pub id: String,
    pub action: String,
    pub method: &'static str,
    pub fields: Vec<Field>,
    pub submit: String,
    pub csrf: Option<String>,
    /// A refusal that names no field of this form.
    pub error: Option<String>,
    /// Large touch targets (the agent's tablet).
    pub big: bool,
    /// A search form whose results (the section of this id) follow what is typed (htmx).
    pub live: Option<String>,
}

impl Form {
    pub fn get(id: &str, action: impl Into<String>, submit: impl Into<String>) -> Form {
        Form {
            id: id.to_owned(),
            action: action.into(),
            method: "get",
            submit: submit.into(),
            ..Form::default()
        }
    }

    pub fn post(
        id: &str,
        action: impl Into<String>,
        submit: impl Into<String>,
        csrf: &str,
    ) -> Form {
        Form {
            id: id.to_owned(),
            action: action.into(),
            method: "post",
            submit: submit.into(),
            csrf: Some(csrf.to_owned()),
            ..Form::default()
        }
    }

    pub fn field(mut self, f: Field) -> Form {
        self.fields.push(f);
        self
    }

    /// Puts a refusal beside the field it names (or above the form), and keeps what was typed.
    pub fn refused(
        mut self,
        field: Option<&str>,
        reason: String,
        typed: &std::collections::HashMap<String, String>,
    ) -> Form {
        for f in &mut self.fields {
            if f.kind != "hidden"
                && f.kind != "password"
                && let Some(v) = typed.get(&f.name)
            {
                f.value = v.clone();
            }
        }
        let at = field.and_then(|name| {
            self.fields.iter_mut().find(|f| {
                f.kind != "hidden"
                    && (f.name == name
                        || name.starts_with(&format!("{}.", f.name))
                        || name.ends_with(&format!(".{}", f.name)))
            })
        });
        match at {
            Some(f) => f.error = Some(reason),
            None => self.error = Some(reason),
        }
        self
    }

    /// Drops the form-level error (keeps the values typed).
    pub fn cleared(mut self) -> Form {
        self.error = None;
        self
    }

    pub fn has_errors(&self) -> bool {
        self.error.is_some() || self.fields.iter().any(|f| f.error.is_some())
    }
}

/// `1.624.000 đ`.
pub fn money(d: Dong) -> String {
    d.to_string()
}

/// `1.624.000`.
pub fn number(n: i64) -> String {
    Dong(n).grouped('.')
}

/// A query-string value.
pub fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Text for SVG or HTML written by hand.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A path back inside this site only (never another host).
pub fn local_path(s: Option<&str>) -> String {
    match s {
        Some(p) if p.starts_with('/') && !p.starts_with("//") && !p.contains('\\') => p.to_owned(),
        _ => "/".to_owned(),
    }
}

/// A form's or query's value, trimmed; `None` when absent or blank.
pub fn opt(values: &HashMap<String, String>, key: &str) -> Option<String> {
    values
        .get(key)
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// "is not a number", in the page's language.
pub fn not_number(lang: Lang) -> &'static str {
    match lang {
        Lang::Vi => "không phải là một số",
        Lang::En => "is not a number",
    }
}

/// The number typed in `field`, or `None` when blank; else an error naming the field.
pub fn opt_number<T: FromStr>(
    values: &HashMap<String, String>,
    field: &str,
    lang: Lang,
) -> Result<Option<T>, FieldError> {
    opt(values, field)
        .map(|s| {
            s.parse::<T>()
                .map_err(|_| FieldError::new(field, format!("'{s}' {}", not_number(lang))))
        })
        .transpose()
}

/// The number typed in `field`, or `default` when blank; else an error naming the field.
pub fn number_or<T: FromStr>(
    values: &HashMap<String, String>,
    field: &str,
    default: T,
    lang: Lang,
) -> Result<T, FieldError> {
    Ok(opt_number(values, field, lang)?.unwrap_or(default))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn csv_quotes_what_needs_quoting() {
        let mut t = Table::new("x", &["Họ và tên", "Số tiền"]);
        t.row(vec![Cell::text("Nguyễn, Văn \"Ân\""), Cell::num("540.000")]);
        assert_eq!(
            t.to_csv(),
            "\u{feff}Họ và tên,Số tiền\r\n\"Nguyễn, Văn \"\"Ân\"\"\",540.000\r\n"
        );
    }

    #[test]
    fn only_local_paths_are_followed_after_signing_in() {
        assert_eq!(local_path(Some("/payrolls/3")), "/payrolls/3");
        assert_eq!(local_path(Some("//evil.example")), "/");
        assert_eq!(local_path(Some("https://evil.example")), "/");
        assert_eq!(local_path(None), "/");
    }

    #[test]
    fn a_refusal_lands_beside_its_field() {
        let typed = std::collections::HashMap::from([("citizen_id".to_owned(), "12".to_owned())]);
        let f = Form::post("f", "/x", "ok", "t")
            .field(Field::new("full_name", "Name", "text"))
            .field(Field::new("citizen_id", "ID", "text"))
            .refused(Some("citizen_id"), "12 digits".into(), &typed);
        assert_eq!(f.fields[1].error.as_deref(), Some("12 digits"));
        assert_eq!(f.fields[1].value, "12");
        assert!(f.fields[0].error.is_none());
        let g = Form::post("g", "/x", "ok", "t")
            .field(Field::new("number", "Số", "text"))
            .refused(Some("identity.number"), "bad".into(), &typed);
        assert_eq!(g.fields[0].error.as_deref(), Some("bad"));
    }
}
