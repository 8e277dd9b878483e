//! Vietnamese text: stored in NFC; searched by a key without case or diacritics.

use unicode_normalization::UnicodeNormalization;

use crate::error::FieldError;

/// Text as it is stored: NFC, surrounding and repeated spaces removed.
pub fn clean(s: &str) -> String {
    // Most text already is (an import cleans millions of cells): then it is only copied.
    let nfc: std::borrow::Cow<'_, str> = if unicode_normalization::is_nfc_quick(s.chars())
        == unicode_normalization::IsNormalized::Yes
    {
        std::borrow::Cow::Borrowed(s)
    } else {
        std::borrow::Cow::Owned(s.nfc().collect())
    };
    if single_spaced(&nfc) {
        return nfc.into_owned();
    }
    nfc.split_whitespace().collect::<Vec<_>>().join(" ")
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
    let t = clean(s);
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
    let folded = deunicode::deunicode(&clean(s));
    folded.to_lowercase()
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
    }
}
