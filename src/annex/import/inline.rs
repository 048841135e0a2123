//! Markdown inline text to plain text: emphasis, code spans, escapes, entities and
//! HTML tags removed, links reduced to their text with the first target kept, whitespace
//! collapsed (a line break marked by the HTML reader becomes a line end).

/// Plain text of a Markdown fragment, and the first link target in it.
pub(super) fn inline(s: &str) -> (String, Option<String>) {
    let mut out = String::new();
    let mut link = None;
    inline_into(s, &mut out, &mut link);
    // An HTML line break (marked by the HTML reader) is the one line end kept.
    let collapsed = out
        .split(super::html::BREAK)
        .map(|part| part.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join("\n");
    (collapsed, link)
}

pub(super) fn inline_into(s: &str, out: &mut String, link: &mut Option<String>) {
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let prev = if i > 0 { Some(chars[i - 1]) } else { None };
        let next = chars.get(i + 1).copied();
        match c {
            '\\' if next.is_some_and(|n| n.is_ascii_punctuation()) => {
                out.extend(next);
                i += 2;
            }
            '`' => i += 1,
            '!' if next == Some('[') => i += 1,
            '[' => {
                if let Some((text, url, end)) = parse_link(&chars, i) {
                    inline_into(&text, out, link);
                    if link.is_none() && !url.is_empty() {
                        *link = Some(url);
                    }
                    i = end;
                } else {
                    out.push(c);
                    i += 1;
                }
            }
            '<' => {
                let close = chars[i..].iter().position(|&x| x == '>').map(|p| i + p);
                let inner: String = match close {
                    Some(e) => chars[i + 1..e].iter().collect(),
                    None => String::new(),
                };
                if let Some(e) = close
                    && (inner.starts_with("http://") || inner.starts_with("https://"))
                {
                    out.push_str(&inner);
                    link.get_or_insert(inner);
                    i = e + 1;
                } else if let Some(e) = close
                    && inner
                        .chars()
                        .next()
                        .is_some_and(|f| f.is_ascii_alphabetic() || f == '/')
                {
                    // An HTML tag: a line break becomes a space, other tags vanish.
                    out.push(' ');
                    i = e + 1;
                } else {
                    out.push(c);
                    i += 1;
                }
            }
            '*' | '_' | '~' => {
                let run = chars[i..].iter().take_while(|&&x| x == c).count();
                let before = prev.is_some_and(|p| !p.is_whitespace());
                let after = chars.get(i + run).is_some_and(|n| !n.is_whitespace());
                let word_inner = c == '_'
                    && prev.is_some_and(|p| p.is_alphanumeric())
                    && chars.get(i + run).is_some_and(|n| n.is_alphanumeric());
                // Emphasis delimiters touch text on one side; "5 * 3" and snake_case stay.
                if (before || after) && !word_inner && !(c == '~' && run == 1) {
                    i += run;
                } else {
                    out.extend(std::iter::repeat_n(c, run));
                    i += run;
                }
            }
            '&' => {
                let rest: String = chars[i..chars.len().min(i + 8)].iter().collect();
                let entity = [
                    ("&amp;", '&'),
                    ("&nbsp;", ' '),
                    ("&lt;", '<'),
                    ("&gt;", '>'),
                    ("&quot;", '"'),
                    ("&#39;", '\''),
                ]
                .into_iter()
                .find(|(e, _)| rest.starts_with(e));
                match entity {
                    Some((e, ch)) => {
                        out.push(ch);
                        i += e.chars().count();
                    }
                    None => {
                        out.push(c);
                        i += 1;
                    }
                }
            }
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
}

/// Parses `[text](url)` or `[text][ref]` starting at `start`; returns text, url and end.
pub(super) fn parse_link(chars: &[char], start: usize) -> Option<(String, String, usize)> {
    let mut depth = 0;
    let mut close = None;
    for (j, &c) in chars.iter().enumerate().skip(start) {
        match c {
            '[' => depth += 1,
            ']' => {
                depth -= 1;
                if depth == 0 {
                    close = Some(j);
                    break;
                }
            }
            _ => {}
        }
    }
    let close = close?;
    let text: String = chars[start + 1..close].iter().collect();
    match chars.get(close + 1) {
        Some('(') => {
            let end = chars[close + 1..].iter().position(|&c| c == ')')? + close + 1;
            let target: String = chars[close + 2..end].iter().collect();
            // A link title ("...") after the URL is not part of it.
            let url = target
                .split_whitespace()
                .next()
                .unwrap_or("")
                .trim_matches(['<', '>'])
                .to_string();
            Some((text, url, end + 1))
        }
        Some('[') => {
            let end = chars[close + 1..].iter().position(|&c| c == ']')? + close + 1;
            Some((text, String::new(), end + 1))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::inline;

    #[test]
    fn emphasis_code_and_escapes_go() {
        assert_eq!(
            inline("**Has access to:** the *raw* `logs`").0,
            "Has access to: the raw logs"
        );
        assert_eq!(
            inline("_Last updated on July 1_").0,
            "Last updated on July 1"
        );
        assert_eq!(
            inline(r"Relay \| Chat \*not bold\*").0,
            "Relay | Chat *not bold*"
        );
        assert_eq!(inline("Q&amp;A<br>desk &nbsp; ~~old~~").0, "Q&A desk old");
    }

    #[test]
    fn plain_symbols_stay() {
        assert_eq!(
            inline("snake_case_name and 5 * 3 < 20").0,
            "snake_case_name and 5 * 3 < 20"
        );
        assert_eq!(inline("[not a link] here").0, "[not a link] here");
    }

    #[test]
    fn links_keep_text_and_first_target() {
        let (text, link) =
            inline("[AWS (US)](https://aws.example/ \"title\") and [B](https://b.example)");
        assert_eq!(text, "AWS (US) and B");
        assert_eq!(link.as_deref(), Some("https://aws.example/"));
        let (text, link) = inline("see <https://x.example/p>");
        assert_eq!(
            (text.as_str(), link.as_deref()),
            ("see https://x.example/p", Some("https://x.example/p"))
        );
    }
}
