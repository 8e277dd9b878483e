//! PDF through typst, as a library: a template embedded in the binary reads its data from a JSON
//! file that exists only in memory; the fonts (DejaVu Sans Condensed, which has every Vietnamese
//! letter) are embedded too, so a PDF looks the same on every machine and nothing is read from
//! the system or the network.

use std::sync::OnceLock;

use typst::diag::{FileError, FileResult};
use typst::foundations::{Bytes, Datetime, Duration};
use typst::syntax::{FileId, RootedPath, Source, VirtualPath, VirtualRoot};
use typst::text::{Font, FontBook};
use typst::utils::LazyHash;
use typst::{Library, LibraryExt, World};
use typst_layout::{Page, PagedDocument};

use crate::error::{Error, Result};

static REGULAR: &[u8] = include_bytes!("../fonts/DejaVuSansCondensed.ttf");
static BOLD: &[u8] = include_bytes!("../fonts/DejaVuSansCondensed-Bold.ttf");

struct Fonts {
    book: LazyHash<FontBook>,
    fonts: Vec<Font>,
}

fn fonts() -> &'static Fonts {
    static FONTS: OnceLock<Fonts> = OnceLock::new();
    FONTS.get_or_init(|| {
        let fonts: Vec<Font> = [REGULAR, BOLD]
            .into_iter()
            .flat_map(|data| Font::iter(Bytes::new(data)))
            .collect();
        Fonts {
            book: LazyHash::new(FontBook::from_fonts(&fonts)),
            fonts,
        }
    })
}

fn library() -> &'static LazyHash<Library> {
    static LIBRARY: OnceLock<LazyHash<Library>> = OnceLock::new();
    LIBRARY.get_or_init(|| LazyHash::new(Library::default()))
}

/// One document to typeset: a template and its data.
struct Job {
    main: Source,
    data_id: FileId,
    data: Bytes,
    today: Datetime,
}

impl World for Job {
    fn library(&self) -> &LazyHash<Library> {
        library()
    }

    fn book(&self) -> &LazyHash<FontBook> {
        &fonts().book
    }

    fn main(&self) -> FileId {
        self.main.id()
    }

    fn source(&self, id: FileId) -> FileResult<Source> {
        if id == self.main.id() {
            Ok(self.main.clone())
        } else {
            Err(FileError::AccessDenied)
        }
    }

    fn file(&self, id: FileId) -> FileResult<Bytes> {
        if id == self.data_id {
            Ok(self.data.clone())
        } else {
            Err(FileError::AccessDenied)
        }
    }

    fn font(&self, index: usize) -> Option<Font> {
        fonts().fonts.get(index).cloned()
    }

    fn today(&self, _offset: Option<Duration>) -> Option<Datetime> {
        Some(self.today)
    }
}

fn file_id(path: &str) -> Result<FileId> {
    let vpath = VirtualPath::new(path).map_err(|e| Error::Typeset(format!("{path}: {e:?}")))?;
    Ok(RootedPath::new(VirtualRoot::Project, vpath).intern())
}

/// Lays out `template` (typst markup, which reads `data.json`) with `data`; `today` is the date
/// the document is made, printed on it.
fn layout(
    name: &str,
    template: &str,
    data: &impl serde::Serialize,
    today: chrono::NaiveDate,
) -> Result<PagedDocument> {
    use chrono::Datelike;
    let data = serde_json::to_vec(data).map_err(|e| Error::Typeset(e.to_string()))?;
    let job = Job {
        main: Source::new(file_id(&format!("/{name}.typ"))?, template.to_owned()),
        data_id: file_id("/data.json")?,
        data: Bytes::new(data),
        today: Datetime::from_ymd(today.year(), today.month() as u8, today.day() as u8)
            .ok_or_else(|| Error::Typeset(format!("{today} is not a date typst knows")))?,
    };
    typst::compile(&job)
        .output
        .map_err(|errors| Error::Typeset(describe(&errors)))
}

fn export(name: &str, document: &PagedDocument, tagged: bool) -> Result<Vec<u8>> {
    let options = typst_pdf::PdfOptions {
        ident: typst::foundations::Smart::Custom(name.to_owned()),
        tagged,
        ..Default::default()
    };
    typst_pdf::pdf(document, &options).map_err(|errors| Error::Typeset(describe(&errors)))
}

/// Typesets `template` with `data` as a PDF; `today` is the date the document is made, printed on
/// it. `tagged` adds the accessibility structure (tagged PDF), which costs much memory on
/// documents of thousands of pages.
pub fn render(
    name: &str,
    template: &str,
    data: &impl serde::Serialize,
    today: chrono::NaiveDate,
    tagged: bool,
) -> Result<Vec<u8>> {
    export(name, &layout(name, template, data, today)?, tagged)
}

/// A long document typeset in parts, one typst document each, whose pages are joined into one
/// PDF. typst keeps what it computed while laying out a document until it is told to forget it,
/// and a document of thousands of pages needs gigabytes for that; laid out in parts, with that
/// memory freed after each, only the finished pages are kept. What depends on the whole document
/// (its page count) is typeset afterwards on blank pages and laid over the parts' pages.
pub struct Parts {
    name: String,
    pages: typst::ecow::EcoVec<Page>,
    info: Option<typst::model::DocumentInfo>,
}

impl Parts {
    pub fn new(name: &str) -> Parts {
        Parts {
            name: name.to_owned(),
            pages: typst::ecow::EcoVec::new(),
            info: None,
        }
    }

    /// Pages so far.
    pub fn len(&self) -> usize {
        self.pages.len()
    }

    /// Lays out the next part and adds its pages; the document's title is the first part's.
    pub fn typeset(
        &mut self,
        template: &str,
        data: &impl serde::Serialize,
        today: chrono::NaiveDate,
    ) -> Result<()> {
        let document = layout(&self.name, template, data, today)?;
        if self.info.is_none() {
            self.info = Some(typst::model::Document::info(&document).clone());
        }
        self.pages.extend(document.pages().iter().map(|page| {
            let mut page = page.clone();
            strip_tags(&mut page.frame);
            page
        }));
        drop(document);
        forget_layout();
        Ok(())
    }

    /// Lays out a document of as many pages as the parts made (a page's furniture, such as its
    /// footer, on otherwise blank pages) and lays each of its pages over the part's page.
    pub fn lay_over(
        &mut self,
        template: &str,
        data: &impl serde::Serialize,
        today: chrono::NaiveDate,
    ) -> Result<()> {
        let over = layout(&self.name, template, data, today)?;
        if over.pages().len() != self.pages.len() {
            return Err(Error::Typeset(format!(
                "{} pages laid over {} pages",
                over.pages().len(),
                self.pages.len()
            )));
        }
        for (page, top) in self.pages.make_mut().iter_mut().zip(over.pages()) {
            page.frame
                .push_frame(typst::layout::Point::zero(), top.frame.clone());
        }
        drop(over);
        forget_layout();
        Ok(())
    }

    /// The joined pages as one PDF (untagged: the parts' structure trees are not joined).
    pub fn pdf(self) -> Result<Vec<u8>> {
        let document = PagedDocument::new(self.pages, self.info.unwrap_or_default());
        export(&self.name, &document, false)
    }
}

/// Removes the introspection tags from a laid-out frame: each holds the element it marks, so a
/// page's tags keep the part's whole content alive; an untagged PDF does not read them.
fn strip_tags(frame: &mut typst::layout::Frame) {
    use typst::layout::FrameItem;
    frame.retain(|item| match item {
        FrameItem::Tag(_) => false,
        FrameItem::Group(group) => {
            strip_tags(&mut group.frame);
            true
        }
        _ => true,
    });
}

/// Frees what typst remembered of the layouts done so far.
fn forget_layout() {
    typst::comemo::evict(0);
}

fn describe(errors: &[typst::diag::SourceDiagnostic]) -> String {
    errors
        .iter()
        .map(|e| e.message.to_string())
        .collect::<Vec<_>>()
        .join("; ")
}
