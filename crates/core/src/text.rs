//! Vietnamese text: stored in NFC; searched by a key without case or diacritics.

use std::borrow::Cow;

use unicode_normalization::UnicodeNormalization;

use crate::error::FieldError;

/// Text as it is stored: NFC, surrounding and repeated spaces removed.
pub fn clean(s: &str) -> String {
    cleaned(s).into_owned()
}

/// [`clean`], borrowing the text when it already is clean (as nearly all is: an import checks
/// millions of cells, and the store checks them again).
pub fn cleaned(s: &str) -> Cow<'_, str> {
    if is_clean(s) {
        return Cow::Borrowed(s);
    }
    let nfc: Cow<'_, str> = if unicode_normalization::is_nfc_quick(s.chars())
        == unicode_normalization::IsNormalized::Yes
    {
        Cow::Borrowed(s)
    } else {
        Cow::Owned(s.nfc().collect())
    };
    if single_spaced(&nfc) {
        return nfc;
    }
    Cow::Owned(nfc.split_whitespace().collect::<Vec<_>>().join(" "))
}

/// A character that is NFC whatever surrounds it: not combining, and never composed with what
/// precedes it. Below U+0300 (ASCII, Latin-1, Latin Extended-A and -B, IPA) and the precomposed
/// Latin letters of U+1E00–U+1EFF (every Vietnamese letter with its marks) all are; the test
/// `plain_characters_are_nfc` checks it against the Unicode tables.
fn plainly_nfc(c: char) -> bool {
    c < '\u{300}' || ('\u{1E00}'..='\u{1EFF}').contains(&c)
}

/// Already what `clean` makes of it: NFC, single spaces, none at either end. One pass over
/// plain text; anything else is asked of the Unicode tables.
fn is_clean(s: &str) -> bool {
    let mut previous_space = true;
    for c in s.chars() {
        if !plainly_nfc(c) {
            return unicode_normalization::is_nfc_quick(s.chars())
                == unicode_normalization::IsNormalized::Yes
                && single_spaced(s);
        }
        if c == ' ' {
            if previous_space {
                return false;
            }
            previous_space = true;
        } else if c.is_whitespace() {
            return false;
        } else {
            previous_space = false;
        }
    }
    !previous_space || s.is_empty()
}

/// No space at either end, no space but ' ', never two in a row: what `clean` makes of spaces.
fn single_spaced(s: &str) -> bool {
    let mut previous_space = true;
    for c in s.chars() {
        if c.is_whitespace() {
            if c != ' ' || previous_space {
                return false;
            }
            previous_space = true;
        } else {
            previous_space = false;
        }
    }
    !previous_space || s.is_empty()
}

/// A required text field: cleaned, not empty, not longer than `max` characters.
pub fn required(field: &str, s: &str, max: usize) -> Result<String, FieldError> {
    checked(field, s, max).map(Cow::into_owned)
}

/// [`required`] when only the verdict matters: nothing is copied when the text is clean.
pub fn check_required(field: &str, s: &str, max: usize) -> Result<(), FieldError> {
    checked(field, s, max).map(|_| ())
}

fn checked<'a>(field: &str, s: &'a str, max: usize) -> Result<Cow<'a, str>, FieldError> {
    let t = cleaned(s);
    if t.is_empty() {
        return Err(FieldError::new(field, "must not be empty"));
    }
    if t.chars().count() > max {
        return Err(FieldError::new(
            field,
            format!("is longer than {max} characters"),
        ));
    }
    if t.chars().any(char::is_control) {
        return Err(FieldError::new(field, "contains control characters"));
    }
    Ok(t)
}

/// The search key: lower case, no diacritics, `Đ` → `d`. "Nguyễn Văn Ân" → "nguyen van an".
pub fn search_key(s: &str) -> String {
    // deunicode writes ASCII only: lower-casing it in place is the whole of `to_lowercase`.
    let mut folded = deunicode::deunicode(&cleaned(s));
    folded.make_ascii_lowercase();
    folded
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nfd_input_is_stored_as_nfc() {
        let nfd = "Nguye\u{302}\u{303}n"; // e + combining circumflex + combining tilde
        assert_eq!(clean(nfd), "Nguyễn");
        assert_eq!(clean("  Trần   Thị  Bé "), "Trần Thị Bé");
        for (given, stored) in [
            ("Trần Thị Bé", "Trần Thị Bé"),
            ("", ""),
            (" ", ""),
            ("Bé ", "Bé"),
            (" Bé", "Bé"),
            ("Thị\tBé", "Thị Bé"),
            ("Thị\u{a0}Bé", "Thị Bé"),
            ("Thị\nBé", "Thị Bé"),
        ] {
            assert_eq!(clean(given), stored, "{given:?}");
        }
    }

    #[test]
    fn plain_characters_are_nfc() {
        use unicode_normalization::char::canonical_combining_class;
        for c in ('\0'..'\u{300}').chain('\u{1E00}'..='\u{1EFF}') {
            assert!(plainly_nfc(c));
            assert_eq!(canonical_combining_class(c), 0, "{c:?} combines");
            assert_eq!(
                unicode_normalization::is_nfc_quick(std::iter::once(c)),
                unicode_normalization::IsNormalized::Yes,
                "{c:?}"
            );
            // Nothing plain composes with a plain character before it.
            for before in ['a', 'A', 'e', 'o', 'u', 'ơ', 'ư', 'â', 'ê', 'ô', 'ă'] {
                let pair: String = [before, c].iter().collect();
                assert_eq!(pair.nfc().collect::<String>(), pair, "{before:?} {c:?}");
            }
        }
        assert!(!plainly_nfc('\u{300}') && !plainly_nfc('\u{1F00}'));
    }

    #[test]
    fn clean_text_is_borrowed_and_the_rest_cleaned() {
        for clean_text in ["", "Nguyễn Văn Ân", "Ấp Phú Lợi", "a b", "Đặng Thị Đào"]
        {
            assert!(
                matches!(cleaned(clean_text), Cow::Borrowed(_)),
                "{clean_text:?}"
            );
        }
        for (given, stored) in [
            ("Nguye\u{302}\u{303}n Văn", "Nguyễn Văn"),
            ("Ân ", "Ân"),
            (" Ân", "Ân"),
            ("Văn  Ân", "Văn Ân"),
            ("Văn\u{a0}Ân", "Văn Ân"),
            ("Văn\u{2003}Ân", "Văn Ân"),
            ("A\u{301}", "Á"),
            ("\u{3b1}\u{301}", "\u{3ac}"),
        ] {
            assert!(matches!(cleaned(given), Cow::Owned(_)), "{given:?}");
            assert_eq!(cleaned(given), stored, "{given:?}");
        }
    }

    #[test]
    fn search_key_ignores_case_and_diacritics() {
        assert_eq!(search_key("Nguyễn Văn Ân"), "nguyen van an");
        assert_eq!(search_key("Đặng Thị Đào"), "dang thi dao");
        assert_eq!(search_key("Nguye\u{302}\u{303}n"), "nguyen");
    }

    #[test]
    fn required_names_the_field() {
        assert_eq!(required("name", "  ", 10).unwrap_err().field, "name");
        assert!(required("name", "abcdefghijk", 10).is_err());
        assert!(required("name", "a\u{7}b", 10).is_err());
        assert_eq!(check_required("name", "  ", 10).unwrap_err().field, "name");
        assert!(check_required("name", "Nguyễn Văn Ân", 20).is_ok());
        assert!(check_required("name", "Nguyễn Văn Ân", 5).is_err());
    }
}
