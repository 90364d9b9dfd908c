//! Slugs as udata makes them: transliterated, lowercase, `-` between words.

/// Slugifies `text`: accents transliterated, lowercase, every run of other characters a single `-`.
/// `keep_dots` keeps `.` (file names keep their extensions).
pub fn slugify(text: &str, keep_dots: bool) -> String {
    let ascii = deunicode::deunicode(text).to_lowercase();
    let mut out = String::with_capacity(ascii.len());
    let mut pending_dash = false;
    for c in ascii.chars() {
        let keep = c.is_ascii_alphanumeric() || (keep_dots && c == '.');
        if keep {
            if pending_dash && !out.is_empty() {
                out.push('-');
            }
            pending_dash = false;
            out.push(c);
        } else if c == '\'' {
            // udata drops apostrophes inside words: "l'été" → "lete".
        } else {
            pending_dash = true;
        }
    }
    out
}

/// A dataset or organization slug: words joined by `-` up to 255 characters (a word that would
/// not fit is skipped, as udata does). rudata never hands out an empty slug: it would make the
/// object unreachable by slug, so such titles get `dataset`.
pub fn make_slug(title: &str) -> String {
    const MAX: usize = 255;
    let mut s = String::new();
    for word in slugify(title, false).split('-').filter(|w| !w.is_empty()) {
        if s.is_empty() {
            s.push_str(&word[..word.len().min(MAX)]);
        } else if s.len() + 1 + word.len() <= MAX {
            s.push('-');
            s.push_str(word);
        }
    }
    if s.is_empty() {
        s.push_str("dataset");
    }
    // A slug that could be mistaken for a resource id gets a suffix, as in udata.
    if uuid::Uuid::parse_str(&s).is_ok() {
        s.push_str("-uuid");
    }
    s
}

/// The slug made unique with udata's `-1`, `-2`… suffixes, given a predicate telling which are taken.
pub fn with_suffix(base: &str, n: u32) -> String {
    if n == 0 {
        base.to_string()
    } else {
        format!("{base}-{n}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transliterates_and_collapses() {
        assert_eq!(slugify(" Aaa bBB $$ $$-µ  ", false), "aaa-bbb-u");
        assert_eq!(
            make_slug("Élections municipales 2020"),
            "elections-municipales-2020"
        );
        assert_eq!(slugify("Mon Fichier.CSV", true), "mon-fichier.csv");
        assert_eq!(slugify("test_update.txt", true), "test-update.txt");
        assert_eq!(
            slugify("L'été à Paris (v2).CSV", true),
            "lete-a-paris-v2-.csv"
        );
        assert_eq!(make_slug("L'été à Paris"), "lete-a-paris");
    }

    #[test]
    fn empty_titles_still_get_a_slug() {
        assert_eq!(make_slug("$$$"), "dataset");
    }

    #[test]
    fn long_titles_skip_words_that_do_not_fit() {
        let title = format!("{} {} end", "ab ".repeat(80), "x".repeat(30));
        let slug = make_slug(&title);
        assert_eq!(slug.len(), 243);
        assert!(slug.ends_with("-ab-end"));
    }
}
