//! Text from before Unicode: the TCVN3 (ABC) and VNI Windows encodings that old Vietnamese
//! spreadsheets still carry, detected and converted to Unicode (NFC).
//!
//! Both are 8-bit font encodings: the text was typed with a `.VnTime` (TCVN3) or `VNI-Times` (VNI)
//! font, so a spreadsheet stores each byte as the Windows-1252 character of the same code, and a
//! CSV file stores the bytes themselves. Either way the text is read back to its bytes, then
//! decoded:
//!
//! - TCVN3 (TCVN 5712:1993, the VN3 font set): one byte per letter. The lower-case letters with
//!   every tone, and the seven capitals Ă Â Ê Ô Ơ Ư Đ, have their own codes (0xA1–0xAE and
//!   0xB5–0xFE). Capitals with a tone mark were typed with a separate upper-case font (`.VnTimeH`)
//!   using the lower-case codes, which the bytes cannot tell apart: they come out in lower case.
//! - VNI Windows: an ASCII letter followed by one byte that adds the marks (`e` + `ã` = ễ); ơ, ư,
//!   đ, ỵ and the i with a tone are single bytes.
//!
//! Which encoding a file uses is decided once for the whole file ([`detect`]): each cell that could
//! be legacy text is decoded both ways, and the way that yields more well-formed Vietnamese
//! syllables wins. Cells that hold Vietnamese-only Unicode letters are left as they are.

use unicode_normalization::UnicodeNormalization;

/// An encoding text may arrive in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Encoding {
    Unicode,
    Tcvn3,
    Vni,
}

impl Encoding {
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Unicode => "Unicode",
            Encoding::Tcvn3 => "TCVN3 (ABC)",
            Encoding::Vni => "VNI Windows",
        }
    }
}

/// Windows-1252 characters for the bytes 0x80–0x9F (`None`: no character; read as U+0080 + n).
const CP1252_HIGH: [Option<char>; 32] = [
    Some('€'),
    None,
    Some('‚'),
    Some('ƒ'),
    Some('„'),
    Some('…'),
    Some('†'),
    Some('‡'),
    Some('ˆ'),
    Some('‰'),
    Some('Š'),
    Some('‹'),
    Some('Œ'),
    None,
    Some('Ž'),
    None,
    None,
    Some('‘'),
    Some('’'),
    Some('“'),
    Some('”'),
    Some('•'),
    Some('–'),
    Some('—'),
    Some('˜'),
    Some('™'),
    Some('š'),
    Some('›'),
    Some('œ'),
    None,
    Some('ž'),
    Some('Ÿ'),
];

/// Bytes that are not UTF-8, read as Windows-1252 (every byte becomes one character, so nothing
/// is lost and [`to_bytes`] gives the bytes back).
pub fn from_cp1252(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|&b| match b {
            0x80..=0x9F => CP1252_HIGH[usize::from(b - 0x80)]
                .unwrap_or_else(|| char::from_u32(u32::from(b)).unwrap_or('\u{FFFD}')),
            _ => char::from(b),
        })
        .collect()
}

/// The byte a character stood for, if it is one of Windows-1252's.
fn to_byte(c: char) -> Option<u8> {
    let u = u32::from(c);
    if u < 0x80 || (0xA0..=0xFF).contains(&u) || (0x80..=0x9F).contains(&u) {
        return u8::try_from(u).ok();
    }
    CP1252_HIGH
        .iter()
        .position(|h| *h == Some(c))
        .and_then(|p| u8::try_from(0x80 + p).ok())
}

fn to_bytes(s: &str) -> Option<Vec<u8>> {
    s.chars().map(to_byte).collect()
}

/// TCVN3 bytes 0xA1–0xFE. Each row of the published chart: a letter, then with sắc, huyền, hỏi,
/// ngã and nặng.
const TCVN3: &[(u8, char)] = &[
    // The seven capitals and their lower-case letters.
    (0xA1, 'Ă'),
    (0xA2, 'Â'),
    (0xA3, 'Ê'),
    (0xA4, 'Ô'),
    (0xA5, 'Ơ'),
    (0xA6, 'Ư'),
    (0xA7, 'Đ'),
    (0xA8, 'ă'),
    (0xA9, 'â'),
    (0xAA, 'ê'),
    (0xAB, 'ô'),
    (0xAC, 'ơ'),
    (0xAD, 'ư'),
    (0xAE, 'đ'),
    // a
    (0xB8, 'á'),
    (0xB5, 'à'),
    (0xB6, 'ả'),
    (0xB7, 'ã'),
    (0xB9, 'ạ'),
    // ă
    (0xBE, 'ắ'),
    (0xBB, 'ằ'),
    (0xBC, 'ẳ'),
    (0xBD, 'ẵ'),
    (0xC6, 'ặ'),
    // â
    (0xCA, 'ấ'),
    (0xC7, 'ầ'),
    (0xC8, 'ẩ'),
    (0xC9, 'ẫ'),
    (0xCB, 'ậ'),
    // e
    (0xD0, 'é'),
    (0xCC, 'è'),
    (0xCE, 'ẻ'),
    (0xCF, 'ẽ'),
    (0xD1, 'ẹ'),
    // ê
    (0xD5, 'ế'),
    (0xD2, 'ề'),
    (0xD3, 'ể'),
    (0xD4, 'ễ'),
    (0xD6, 'ệ'),
    // i
    (0xDD, 'í'),
    (0xD7, 'ì'),
    (0xD8, 'ỉ'),
    (0xDC, 'ĩ'),
    (0xDE, 'ị'),
    // o
    (0xE3, 'ó'),
    (0xDF, 'ò'),
    (0xE1, 'ỏ'),
    (0xE2, 'õ'),
    (0xE4, 'ọ'),
    // ô
    (0xE8, 'ố'),
    (0xE5, 'ồ'),
    (0xE6, 'ổ'),
    (0xE7, 'ỗ'),
    (0xE9, 'ộ'),
    // ơ
    (0xED, 'ớ'),
    (0xEA, 'ờ'),
    (0xEB, 'ở'),
    (0xEC, 'ỡ'),
    (0xEE, 'ợ'),
    // u
    (0xF3, 'ú'),
    (0xEF, 'ù'),
    (0xF1, 'ủ'),
    (0xF2, 'ũ'),
    (0xF4, 'ụ'),
    // ư
    (0xF8, 'ứ'),
    (0xF5, 'ừ'),
    (0xF6, 'ử'),
    (0xF7, 'ữ'),
    (0xF9, 'ự'),
    // y
    (0xFD, 'ý'),
    (0xFA, 'ỳ'),
    (0xFB, 'ỷ'),
    (0xFC, 'ỹ'),
    (0xFE, 'ỵ'),
];

fn tcvn3_char(b: u8) -> Option<char> {
    TCVN3.iter().find(|(code, _)| *code == b).map(|(_, c)| *c)
}

/// Decodes TCVN3 bytes. A byte with no letter in the chart is kept as its Windows-1252 character.
pub fn decode_tcvn3(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() + 8);
    for &b in bytes {
        match tcvn3_char(b) {
            Some(c) => out.push(c),
            None => out.push_str(&from_cp1252(&[b])),
        }
    }
    out.nfc().collect()
}

const ACUTE: char = '\u{301}';
const GRAVE: char = '\u{300}';
const HOOK: char = '\u{309}';
const TILDE: char = '\u{303}';
const DOT: char = '\u{323}';
const CIRCUMFLEX: char = '\u{302}';
const BREVE: char = '\u{306}';

/// What a VNI byte does: a letter of its own, or marks for the vowel before it.
enum Vni {
    Letter(&'static str),
    Marks(&'static [char]),
}

fn vni(b: u8) -> Option<Vni> {
    use Vni::*;
    Some(match b {
        // Tones (upper-case and lower-case forms of the same mark byte).
        0xD9 | 0xF9 => Marks(&[ACUTE]),
        0xD8 | 0xF8 => Marks(&[GRAVE]),
        0xDB | 0xFB => Marks(&[HOOK]),
        0xD5 | 0xF5 => Marks(&[TILDE]),
        0xCF | 0xEF => Marks(&[DOT]),
        // Circumflex, alone or with a tone.
        0xC2 | 0xE2 => Marks(&[CIRCUMFLEX]),
        0xC1 | 0xE1 => Marks(&[CIRCUMFLEX, ACUTE]),
        0xC0 | 0xE0 => Marks(&[CIRCUMFLEX, GRAVE]),
        0xC5 | 0xE5 => Marks(&[CIRCUMFLEX, HOOK]),
        0xC3 | 0xE3 => Marks(&[CIRCUMFLEX, TILDE]),
        0xC4 | 0xE4 => Marks(&[CIRCUMFLEX, DOT]),
        // Breve, alone or with a tone.
        0xCA | 0xEA => Marks(&[BREVE]),
        0xC9 | 0xE9 => Marks(&[BREVE, ACUTE]),
        0xC8 | 0xE8 => Marks(&[BREVE, GRAVE]),
        0xDA | 0xFA => Marks(&[BREVE, HOOK]),
        0xDC | 0xFC => Marks(&[BREVE, TILDE]),
        0xCB | 0xEB => Marks(&[BREVE, DOT]),
        // Letters of one byte.
        0xD4 => Letter("Ơ"),
        0xF4 => Letter("ơ"),
        0xD6 => Letter("Ư"),
        0xF6 => Letter("ư"),
        0xD1 => Letter("Đ"),
        0xF1 => Letter("đ"),
        0xCD => Letter("Í"),
        0xED => Letter("í"),
        0xCC => Letter("Ì"),
        0xEC => Letter("ì"),
        0xC6 => Letter("Ỉ"),
        0xE6 => Letter("ỉ"),
        0xD3 => Letter("Ĩ"),
        0xF3 => Letter("ĩ"),
        0xD2 => Letter("Ị"),
        0xF2 => Letter("ị"),
        0xCE => Letter("Ỵ"),
        0xEE => Letter("ỵ"),
        _ => return None,
    })
}

fn is_base_vowel(c: char) -> bool {
    matches!(
        c,
        'a' | 'e'
            | 'i'
            | 'o'
            | 'u'
            | 'y'
            | 'A'
            | 'E'
            | 'I'
            | 'O'
            | 'U'
            | 'Y'
            | 'ơ'
            | 'ư'
            | 'Ơ'
            | 'Ư'
    )
}

/// Decodes VNI Windows bytes. A mark byte that does not follow a vowel is kept as its
/// Windows-1252 character.
pub fn decode_vni(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() + 8);
    // The last character pushed was a vowel that has no marks yet.
    let mut after_vowel = false;
    for &b in bytes {
        match vni(b) {
            Some(Vni::Letter(s)) => {
                out.push_str(s);
                after_vowel = s.chars().all(is_base_vowel);
            }
            Some(Vni::Marks(marks)) if after_vowel => {
                out.extend(marks.iter());
                after_vowel = false;
            }
            _ => {
                let c = from_cp1252(&[b]);
                after_vowel = c.chars().all(is_base_vowel);
                out.push_str(&c);
            }
        }
    }
    out.nfc().collect()
}

/// Decodes a cell's text from `encoding` (nothing to do for Unicode, or for text that cannot be
/// legacy text).
pub fn decode(s: &str, encoding: Encoding) -> String {
    if encoding == Encoding::Unicode || !could_be_legacy(s) {
        return s.to_owned();
    }
    match to_bytes(s) {
        Some(bytes) => match encoding {
            Encoding::Tcvn3 => decode_tcvn3(&bytes),
            Encoding::Vni => decode_vni(&bytes),
            Encoding::Unicode => s.to_owned(),
        },
        None => s.to_owned(),
    }
}

/// Letters only Vietnamese Unicode text has: their presence says the text is already Unicode.
fn is_vietnamese_unicode(c: char) -> bool {
    matches!(u32::from(c),
        0x0102 | 0x0103 | 0x0110 | 0x0111 | 0x0128 | 0x0129 | 0x0168 | 0x0169
        | 0x01A0 | 0x01A1 | 0x01AF | 0x01B0 | 0x0300..=0x0323 | 0x1EA0..=0x1EF9)
}

/// Text that has bytes above ASCII, all of them Windows-1252 characters, and no letter that only
/// Unicode Vietnamese has.
pub fn could_be_legacy(s: &str) -> bool {
    !s.is_ascii()
        && !s.chars().any(is_vietnamese_unicode)
        && s.chars().all(|c| to_byte(c).is_some())
}

/// Votes over a file's text cells: which encoding makes them Vietnamese.
#[derive(Debug, Default, Clone)]
pub struct Detector {
    tcvn3: u64,
    vni: u64,
    unicode: u64,
}

impl Detector {
    /// Looks at one cell.
    pub fn observe(&mut self, s: &str) {
        if !could_be_legacy(s) {
            return;
        }
        let Some(bytes) = to_bytes(s) else {
            return;
        };
        let as_is = score(s);
        let t = score(&decode_tcvn3(&bytes));
        let v = score(&decode_vni(&bytes));
        if t > as_is && t > v {
            self.tcvn3 += 1;
        } else if v > as_is && v > t {
            self.vni += 1;
        } else if as_is > t && as_is > v {
            self.unicode += 1;
        }
    }

    /// The encoding most cells were better read in; Unicode unless a legacy one wins.
    pub fn verdict(&self) -> Encoding {
        if self.tcvn3 > self.vni && self.tcvn3 > self.unicode {
            Encoding::Tcvn3
        } else if self.vni > self.tcvn3 && self.vni > self.unicode {
            Encoding::Vni
        } else {
            Encoding::Unicode
        }
    }
}

/// Decides the encoding of a file from its cells.
pub fn detect<'a>(cells: impl IntoIterator<Item = &'a str>) -> Encoding {
    let mut d = Detector::default();
    for c in cells {
        d.observe(c);
    }
    d.verdict()
}

/// The number of words that are well-formed Vietnamese syllables, less those that are not.
fn score(s: &str) -> i64 {
    let mut n = 0;
    for word in s.split(|c: char| c.is_whitespace() || c.is_ascii_punctuation()) {
        if word.is_empty() || word.chars().all(|c| c.is_ascii_digit()) {
            continue;
        }
        n += if is_syllable(word) { 1 } else { -1 };
    }
    n
}

/// A tone mark of a decomposed letter.
fn is_tone(c: char) -> bool {
    matches!(c, ACUTE | GRAVE | HOOK | TILDE | DOT)
}

/// Vowel groups (without tones) a Vietnamese syllable may have.
const NUCLEI: &[&str] = &[
    "a", "ă", "â", "e", "ê", "i", "o", "ô", "ơ", "u", "ư", "y", "ai", "ao", "au", "ay", "âu", "ây",
    "eo", "êu", "ia", "iê", "iu", "oa", "oă", "oe", "oi", "ôi", "ơi", "oo", "ua", "uâ", "uê", "ui",
    "uô", "uơ", "uy", "ưa", "ưi", "ươ", "ưu", "yê", "iêu", "yêu", "oai", "oay", "oeo", "uây",
    "uôi", "ươi", "ươu", "uya", "uyê", "uyu", "uêu", "oao",
];

/// A word that is one Vietnamese syllable: Vietnamese letters only, capital first or all
/// capitals, one group of vowels that Vietnamese has, at most one tone.
fn is_syllable(word: &str) -> bool {
    let all_upper = word.chars().all(|c| !c.is_lowercase());
    if !all_upper && word.chars().skip(1).any(char::is_uppercase) {
        return false;
    }
    let lower: String = word.to_lowercase();
    let decomposed: Vec<char> = lower.nfd().collect();
    let mut tones = 0;
    let mut base = String::new();
    for &c in &decomposed {
        if is_tone(c) {
            tones += 1;
        } else {
            base.push(c);
        }
    }
    if tones > 1 {
        return false;
    }
    let base: String = base.nfc().collect();
    if !base
        .chars()
        .all(|c| c.is_ascii_lowercase() || matches!(c, 'ă' | 'â' | 'ê' | 'ô' | 'ơ' | 'ư' | 'đ'))
    {
        return false;
    }
    // "qu" and "gi" start with a consonant that is written with a vowel letter.
    let rest = base
        .strip_prefix("qu")
        .or_else(|| {
            base.strip_prefix("gi")
                .filter(|r| r.chars().any(is_vowel_letter))
        })
        .unwrap_or(&base);
    let groups: Vec<String> = rest
        .split(|c: char| !is_vowel_letter(c))
        .filter(|g| !g.is_empty())
        .map(str::to_owned)
        .collect();
    match groups.as_slice() {
        [] => rest.is_empty() && base != rest,
        [one] => NUCLEI.contains(&one.as_str()),
        _ => false,
    }
}

fn is_vowel_letter(c: char) -> bool {
    matches!(
        c,
        'a' | 'ă' | 'â' | 'e' | 'ê' | 'i' | 'o' | 'ô' | 'ơ' | 'u' | 'ư' | 'y'
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tcvn3_known_words() {
        assert_eq!(decode_tcvn3(b"Nguy\xD4n"), "Nguyễn");
        assert_eq!(decode_tcvn3(b"\xA7\xC6ng"), "Đặng");
        assert_eq!(decode_tcvn3(b"B\xD5n Tre"), "Bến Tre");
        assert_eq!(decode_tcvn3(b"Tr\xAD\xEAng"), "Trường");
        assert_eq!(decode_tcvn3(b"B\xB6o Th\xBEng"), "Bảo Thắng");
        assert_eq!(decode_tcvn3(b"M\xAD\xEAng Kh\xAD\xACng"), "Mường Khương");
        assert_eq!(decode_tcvn3(b"V\xA8n T\xB5i"), "Văn Tài");
        assert_eq!(
            decode_tcvn3(b"Ph\xA6\xEAc"),
            "PhƯờc",
            "a capital stays a capital"
        );
    }

    #[test]
    fn vni_known_words() {
        assert_eq!(decode_vni(b"Nguye\xE3n"), "Nguyễn");
        assert_eq!(decode_vni(b"\xD1a\xEBng"), "Đặng");
        assert_eq!(decode_vni(b"Be\xE1n Tre"), "Bến Tre");
        assert_eq!(decode_vni(b"Tr\xF6\xF4\xF8ng"), "Trường");
        assert_eq!(decode_vni(b"NGUYE\xC3N"), "NGUYỄN");
        assert_eq!(decode_vni(b"Va\xEAn Ta\xF8i"), "Văn Tài");
        assert_eq!(decode_vni(b"Th\xF2"), "Thị");
        assert_eq!(decode_vni(b"Ph\xF6\xF4\xF9c"), "Phước");
    }

    #[test]
    fn spreadsheet_text_is_read_back_to_its_bytes() {
        // What Excel keeps for a TCVN3 cell: each byte as its Windows-1252 character.
        let cell = from_cp1252(b"Nguy\xD4n V\xA8n \xA7\xC6ng");
        assert_eq!(cell, "NguyÔn V¨n §Æng");
        assert_eq!(decode(&cell, Encoding::Tcvn3), "Nguyễn Văn Đặng");
        let cell = from_cp1252(b"Nguye\xE3n Va\xEAn \xD1a\xEBng");
        assert_eq!(cell, "Nguyeãn Vaên Ñaëng");
        assert_eq!(decode(&cell, Encoding::Vni), "Nguyễn Văn Đặng");
    }

    #[test]
    fn a_file_is_recognised_by_its_words() {
        let tcvn3 = [
            from_cp1252(b"Nguy\xD4n V\xA8n A"),
            from_cp1252(b"Tr\xC7n Th\xDE B\xDE"),
            from_cp1252(b"B\xD5n Tre"),
        ];
        assert_eq!(detect(tcvn3.iter().map(String::as_str)), Encoding::Tcvn3);
        let vni = [
            from_cp1252(b"Nguye\xE3n Va\xEAn A"),
            from_cp1252(b"Tra\xE0n Th\xF2 Be\xF8"),
            from_cp1252(b"Be\xE1n Tre"),
        ];
        assert_eq!(detect(vni.iter().map(String::as_str)), Encoding::Vni);
        let unicode = ["Nguyễn Văn A", "Võ Tá", "Lê Hà", "Bến Tre"];
        assert_eq!(detect(unicode), Encoding::Unicode);
        assert_eq!(detect(["Tran Van B", "12/03/1950"]), Encoding::Unicode);
    }

    #[test]
    fn unicode_text_is_never_decoded() {
        assert_eq!(
            decode("Nguyễn Văn Đặng", Encoding::Tcvn3),
            "Nguyễn Văn Đặng"
        );
        assert_eq!(decode("Trần Thị Bé", Encoding::Vni), "Trần Thị Bé");
        assert!(!could_be_legacy("Tran Van B"));
    }

    #[test]
    fn syllables() {
        for ok in [
            "Nguyễn",
            "trường",
            "khuya",
            "quyển",
            "giường",
            "gì",
            "Đặng",
            "NGUYỄN",
            "A",
        ] {
            assert!(is_syllable(ok), "{ok}");
        }
        for bad in ["NguyÔn", "V¨n", "Nguyeãn", "Taøi", "Tµi", "nguyễnn̉"] {
            assert!(!is_syllable(bad), "{bad}");
        }
    }
}
