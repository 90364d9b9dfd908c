//! The one escaping helper of the site: every text and attribute value written into a page goes
//! through [`esc`]; everything else written is a literal of the rendering code.

use std::fmt;

/// `s` escaped for HTML text and for a double- or single-quoted attribute value.
pub fn esc(s: &str) -> Escaped<'_> {
    Escaped(s)
}

/// A string that writes itself escaped (see [`esc`]).
pub struct Escaped<'a>(&'a str);

impl fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rest = self.0;
        while let Some(i) = rest.find(['&', '<', '>', '"', '\'']) {
            f.write_str(&rest[..i])?;
            f.write_str(match rest.as_bytes()[i] {
                b'&' => "&amp;",
                b'<' => "&lt;",
                b'>' => "&gt;",
                b'"' => "&quot;",
                _ => "&#39;",
            })?;
            rest = &rest[i + 1..];
        }
        f.write_str(rest)
    }
}

/// A query string (`a=1&b=2`, form-encoded) from pairs, to be written through [`esc`].
pub fn query_string<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

/// A path segment percent-encoded (slugs are already plain, ids too; anything else is made so).
pub fn segment(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC)
        .to_string()
        .replace("%2D", "-")
        .replace("%5F", "_")
        .replace("%2E", ".")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_and_quotes_are_escaped() {
        assert_eq!(
            esc(r#"<a href="x" onclick='y'>&amp;</a>"#).to_string(),
            "&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;amp;&lt;/a&gt;"
        );
        assert_eq!(esc("plain é").to_string(), "plain é");
    }

    #[test]
    fn segments_are_percent_encoded() {
        assert_eq!(segment("my-data_set.v2"), "my-data_set.v2");
        assert_eq!(segment("a/b?c"), "a%2Fb%3Fc");
    }
}
