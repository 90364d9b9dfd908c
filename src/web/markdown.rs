//! Descriptions rendered from Markdown, safely: pulldown-cmark's events with raw HTML turned into
//! text (never passed through), link and image targets limited to `http`, `https`, `mailto` and
//! relative URLs (a link to anything else keeps its text, an image its alternative text), and
//! headings moved under the page's own (a description's first level of heading, `#` or `##`, is
//! a third-level heading, under the page's `h1` and the section's `h2`).
//! pulldown-cmark's writer escapes text and attribute values itself.

use pulldown_cmark::{Event, HeadingLevel, Options, Parser, Tag, TagEnd, html};

/// The HTML of `source`, safe to put into a page.
pub fn render(source: &str) -> String {
    let mut options = Options::empty();
    options.insert(Options::ENABLE_TABLES);
    options.insert(Options::ENABLE_STRIKETHROUGH);
    // Links do not nest in CommonMark, images may sit inside links: one flag for each.
    let mut dropped_link = false;
    let mut dropped_image = false;
    let top = Parser::new_ext(source, options)
        .filter_map(|event| match event {
            Event::Start(Tag::Heading { level, .. }) => Some(level as usize),
            _ => None,
        })
        .min()
        .unwrap_or(1);
    let lowered = |level: HeadingLevel| {
        HeadingLevel::try_from((level as usize + 3 - top).min(6)).unwrap_or(HeadingLevel::H6)
    };
    let events = Parser::new_ext(source, options).filter_map(|event| match event {
        Event::Html(raw) | Event::InlineHtml(raw) => Some(Event::Text(raw)),
        Event::Start(Tag::Link { ref dest_url, .. }) if !safe_url(dest_url) => {
            dropped_link = true;
            None
        }
        Event::End(TagEnd::Link) if dropped_link => {
            dropped_link = false;
            None
        }
        Event::Start(Tag::Image { ref dest_url, .. }) if !safe_url(dest_url) => {
            dropped_image = true;
            None
        }
        Event::End(TagEnd::Image) if dropped_image => {
            dropped_image = false;
            None
        }
        Event::Start(Tag::Heading {
            level,
            id,
            classes,
            attrs,
        }) => Some(Event::Start(Tag::Heading {
            level: lowered(level),
            id,
            classes,
            attrs,
        })),
        Event::End(TagEnd::Heading(level)) => Some(Event::End(TagEnd::Heading(lowered(level)))),
        other => Some(other),
    });
    let mut out = String::with_capacity(source.len() * 3 / 2);
    html::push_html(&mut out, events);
    out
}

/// The plain text of `source` (what its Markdown would show), cut at a word boundary before
/// `max` characters with an ellipsis: a dataset's summary in a list.
pub fn excerpt(source: &str, max: usize) -> String {
    let mut text = String::new();
    for event in Parser::new(source) {
        match event {
            Event::Text(t) | Event::Code(t) | Event::Html(t) | Event::InlineHtml(t) => {
                text.push_str(&t)
            }
            Event::SoftBreak | Event::HardBreak | Event::End(_) => text.push(' '),
            _ => {}
        }
        if text.chars().count() > max {
            break;
        }
    }
    let words: Vec<&str> = text.split_whitespace().collect();
    let mut out = String::new();
    for word in words {
        if out.chars().count() + word.chars().count() + 1 > max {
            out.push('…');
            return out;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// Whether a link or image target may be written into a page: `http`, `https`, `mailto`, or a
/// relative URL. A target holding whitespace or a control character is refused whole (browsers
/// drop tabs and newlines, so `java\tscript:` would be `javascript:`).
pub fn safe_url(url: &str) -> bool {
    if url
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || c == '\\')
    {
        return false;
    }
    match url.find([':', '/', '?', '#']) {
        Some(i) if url.as_bytes()[i] == b':' => {
            let scheme = url[..i].to_ascii_lowercase();
            matches!(scheme.as_str(), "http" | "https" | "mailto")
        }
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_html_is_text() {
        let out = render("<script>alert(1)</script>\n\nHi <img src=x onerror=alert(1)>");
        assert!(!out.contains("<script"), "{out}");
        assert!(!out.contains("<img"), "{out}");
        assert!(
            out.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{out}"
        );
    }

    #[test]
    fn only_safe_targets_are_linked() {
        let out = render(
            "[a](javascript:alert(1)) [b](JaVaScRiPt:x) [c](data:text/html,x) [d](https://e.org/) [e](/fr/datasets/x/) <vbscript:x> [f](mailto:a@b.c)",
        );
        // Three links written, the autolink's text kept as text.
        assert_eq!(out.matches("<a ").count(), 3, "{out}");
        assert!(out.contains(" vbscript:x "), "{out}");
        assert!(out.contains(r#"<a href="https://e.org/">d</a>"#), "{out}");
        assert!(out.contains(r#"<a href="/fr/datasets/x/">e</a>"#), "{out}");
        assert!(out.contains(r#"<a href="mailto:a@b.c">f</a>"#), "{out}");
        // The refused links keep their text.
        assert!(
            out.contains('a') && out.contains('b') && out.contains('c'),
            "{out}"
        );
        let img = render("![alt text](javascript:alert(1)) ![ok](https://e.org/i.png)");
        assert!(!img.contains("javascript"), "{img}");
        assert!(img.contains("alt text"), "{img}");
        assert!(
            img.contains(r#"<img src="https://e.org/i.png" alt="ok" />"#),
            "{img}"
        );
    }

    #[test]
    fn attributes_cannot_be_broken_out_of() {
        let out = render(r#"[x](https://e.org/"onmouseover="alert(1) "t")"#);
        assert!(!out.contains(r#"" onmouseover"#), "{out}");
        assert!(!out.contains(r#""onmouseover=""#), "{out}");
    }

    #[test]
    fn excerpts_are_plain_text_cut_between_words() {
        assert_eq!(
            excerpt("# Budget\n\nThe **city** budget.", 100),
            "Budget The city budget."
        );
        assert_eq!(excerpt("one two three four", 10), "one two…");
        assert_eq!(excerpt("<b>x</b>", 10), "<b>x</b>");
    }

    #[test]
    fn headings_sit_under_the_page() {
        assert_eq!(render("# Title").trim(), "<h3>Title</h3>");
        assert_eq!(
            render("## A\n\n### B\n\n###### C").replace('\n', ""),
            "<h3>A</h3><h4>B</h4><h6>C</h6>"
        );
        assert!(safe_url("relative/path") && safe_url("#frag") && safe_url("?q=a:b"));
        assert!(!safe_url("java\tscript:x") && !safe_url("file:///etc/passwd"));
    }
}
