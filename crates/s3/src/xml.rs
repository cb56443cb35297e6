//! Writing S3's XML responses and reading its few XML request bodies.

use quick_xml::events::Event;
use quick_xml::Reader;

pub const NAMESPACE: &str = "http://s3.amazonaws.com/doc/2006-03-01/";

pub fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // XML 1.0 cannot carry most control characters even escaped as references; S3
            // itself answers such keys only with encoding-type=url.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {
                out.push_str(&format!("&#x{:X};", c as u32))
            }
            c => out.push(c),
        }
    }
    out
}

/// Builds a response document element by element.
pub struct XmlWriter {
    out: String,
}

impl XmlWriter {
    pub fn new(root: &str) -> XmlWriter {
        XmlWriter {
            out: format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<{root} xmlns=\"{NAMESPACE}\">"
            ),
        }
    }

    pub fn open(&mut self, name: &str) -> &mut Self {
        self.out.push('<');
        self.out.push_str(name);
        self.out.push('>');
        self
    }

    pub fn close(&mut self, name: &str) -> &mut Self {
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push('>');
        self
    }

    pub fn element(&mut self, name: &str, value: &str) -> &mut Self {
        self.open(name);
        self.out.push_str(&escape(value));
        self.close(name)
    }

    pub fn finish(mut self, root: &str) -> String {
        self.close(root);
        self.out
    }
}

/// A parsed element: local name, text content, children.
#[derive(Debug, Default)]
pub struct Node {
    pub name: String,
    pub text: String,
    pub children: Vec<Node>,
}

impl Node {
    pub fn child(&self, name: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.name == name)
    }

    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Node> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }
}

/// Parses a small XML document into a tree of local names (namespaces ignored).
pub fn parse(body: &[u8]) -> Option<Node> {
    let mut reader = Reader::from_reader(body);
    reader.config_mut().trim_text(true);
    let mut stack: Vec<Node> = Vec::new();
    let mut root = None;
    loop {
        match reader.read_event().ok()? {
            Event::Start(e) => stack.push(Node {
                name: String::from_utf8(e.local_name().as_ref().to_vec()).ok()?,
                ..Default::default()
            }),
            Event::Empty(e) => {
                let node = Node {
                    name: String::from_utf8(e.local_name().as_ref().to_vec()).ok()?,
                    ..Default::default()
                };
                match stack.last_mut() {
                    Some(parent) => parent.children.push(node),
                    None => root = Some(node),
                }
            }
            Event::End(_) => {
                let node = stack.pop()?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(node),
                    None => root = Some(node),
                }
            }
            Event::Text(t) => stack.last_mut()?.text.push_str(&t.decode().ok()?),
            Event::CData(t) => stack
                .last_mut()?
                .text
                .push_str(std::str::from_utf8(&t).ok()?),
            Event::GeneralRef(r) => {
                let resolved = match r.resolve_char_ref().ok()? {
                    Some(c) => c.to_string(),
                    None => {
                        quick_xml::escape::resolve_predefined_entity(&r.decode().ok()?)?.to_string()
                    }
                };
                stack.last_mut()?.text.push_str(&resolved);
            }
            Event::Eof => break,
            Event::Decl(_) | Event::Comment(_) | Event::PI(_) | Event::DocType(_) => {}
        }
    }
    if !stack.is_empty() {
        return None;
    }
    root
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_complete_multipart_upload() {
        let body = br#"<?xml version="1.0" encoding="UTF-8"?>
<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Part><ETag>"a&amp;b"</ETag><PartNumber>1</PartNumber></Part>
  <Part><ETag>&quot;c&#x41;&quot;</ETag><PartNumber>2</PartNumber></Part>
</CompleteMultipartUpload>"#;
        let root = parse(body).unwrap();
        assert_eq!(root.name, "CompleteMultipartUpload");
        let parts: Vec<_> = root
            .children_named("Part")
            .map(|p| {
                (
                    p.child("PartNumber").unwrap().text.clone(),
                    p.child("ETag").unwrap().text.clone(),
                )
            })
            .collect();
        assert_eq!(
            parts,
            vec![
                ("1".to_string(), "\"a&b\"".to_string()),
                ("2".to_string(), "\"cA\"".to_string())
            ]
        );
        assert!(parse(b"<a><b></a>").is_none());
        assert!(parse(b"not xml <").is_none());
    }

    #[test]
    fn escapes_markup() {
        assert_eq!(escape("a<b>&'\"\u{1}"), "a&lt;b&gt;&amp;&apos;&quot;&#x1;");
    }
}
