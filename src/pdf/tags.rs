//! The tagged PDF's logical structure: which marked content belongs to which element.
//!
//! In: the layout's structure elements (`Layout::nodes`), and, while the page contents
//! are written, each marked-content sequence (page, MCID, element) and each annotation
//! that belongs to an element (links, signature widgets). Out: the structure tree
//! (`/StructTreeRoot`, one `/StructElem` per element under a `Document` element) and its
//! `/ParentTree`, so that a screen reader reads the text in order as headings,
//! paragraphs, lists, tables and links (PDF 32000-1, 14.7-14.8).

use std::cell::RefCell;
use std::sync::Arc;

use pdf_writer::types::StructRole;
use pdf_writer::{Chunk, Finish, Name, Ref, TextStr};

use super::{Refs, Spliced};
use crate::cache::Memo;
use crate::layout::{Node, NodeKind};

/// A child of a structure element, in reading order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Kid {
    Element(u32),
    /// A marked-content sequence: page index and MCID.
    Content(usize, i32),
    /// An annotation (link, widget) on a page.
    Annotation(usize, Ref),
}

/// Collects the marked content of every element while the pages are written.
pub(super) struct Tagger<'a> {
    nodes: &'a [Node],
    kids: Vec<Vec<Kid>>,
    attached: Vec<bool>,
    roots: Vec<u32>,
    /// Per page: the element of each MCID, in MCID order.
    page_mcids: Vec<Vec<u32>>,
    /// Annotations with their element, in the order of their `/StructParent` keys.
    annotations: Vec<u32>,
    /// Elements added by the writer (form fields), after the layout's.
    extra: Vec<Node>,
}

impl<'a> Tagger<'a> {
    pub fn new(nodes: &'a [Node], pages: usize) -> Self {
        Tagger {
            nodes,
            kids: vec![Vec::new(); nodes.len()],
            attached: vec![false; nodes.len()],
            roots: Vec::new(),
            page_mcids: vec![Vec::new(); pages],
            annotations: Vec::new(),
            extra: Vec::new(),
        }
    }

    fn node(&self, id: u32) -> &Node {
        let i = id as usize;
        if i < self.nodes.len() {
            &self.nodes[i]
        } else {
            &self.extra[i - self.nodes.len()]
        }
    }

    /// Adds an element that the layout does not know (a form field), under `parent`.
    pub fn add(&mut self, kind: NodeKind, parent: Option<u32>) -> u32 {
        self.extra.push(Node { kind, parent });
        self.kids.push(Vec::new());
        self.attached.push(false);
        (self.kids.len() - 1) as u32
    }

    /// The tag of the marked content written for `node` (`P`, `H1`, `TD`, …).
    pub fn tag(&self, node: u32) -> &'static [u8] {
        role_name(&self.node(node).kind)
    }

    /// Records the next marked-content sequence of `node` on `page`; returns its MCID.
    pub fn content(&mut self, page: usize, node: u32) -> i32 {
        let mcids = &mut self.page_mcids[page];
        mcids.push(node);
        let mcid = (mcids.len() - 1) as i32;
        self.attach(node);
        self.kids[node as usize].push(Kid::Content(page, mcid));
        mcid
    }

    /// The element of each MCID on `page` so far, in MCID order.
    pub fn mcids(&self, page: usize) -> &[u32] {
        &self.page_mcids[page]
    }

    /// Records an annotation of `node`; returns its `/StructParent` key.
    pub fn annotation(&mut self, page: usize, node: u32, annotation: Ref) -> i32 {
        self.attach(node);
        self.kids[node as usize].push(Kid::Annotation(page, annotation));
        self.annotations.push(node);
        (self.page_mcids.len() + self.annotations.len() - 1) as i32
    }

    /// Links `node` (and its ancestors) into the tree the first time it has content,
    /// so that elements with text of their own list it in reading order.
    fn attach(&mut self, node: u32) {
        if std::mem::replace(&mut self.attached[node as usize], true) {
            return;
        }
        match self.node(node).parent {
            Some(parent) => {
                self.attach(parent);
                self.kids[parent as usize].push(Kid::Element(node));
            }
            None => self.roots.push(node),
        }
    }

    /// Writes the structure tree; returns the `/StructTreeRoot` reference.
    pub fn write(mut self, pdf: &mut Chunk, refs: &mut Refs, page_ids: &[Ref], lang: &str) -> Ref {
        // Elements without content (an empty table cell) still belong in the tree.
        for n in 0..self.kids.len() as u32 {
            self.attach(n);
        }
        // An element without text of its own (a list, a row) lists its children in the
        // order the layout made them, which is the reading order.
        for kids in self.kids.iter_mut() {
            if kids.iter().all(|k| matches!(k, Kid::Element(_))) {
                kids.sort_by_key(|k| match k {
                    Kid::Element(n) => *n,
                    _ => 0,
                });
            }
        }
        self.roots.sort_unstable();
        let count = self.kids.len() as u32;
        let key = TreeKey {
            first: refs.0,
            roles: (0..count).map(|n| role_name(&self.node(n).kind)).collect(),
            parents: (0..count).map(|n| self.node(n).parent).collect(),
            kids: self.kids,
            roots: self.roots,
            page_mcids: self.page_mcids,
            annotations: self.annotations,
            page_ids: page_ids.to_vec(),
            lang: lang.into(),
        };
        super::spliced(&TREES, key, pdf, refs, write_tree)
    }
}

/// Everything the structure tree's objects are written from: the first object number
/// they take, each element's tag, parent and children, the top elements, the elements of
/// each page's MCIDs and of each annotation, the pages' object numbers and the language.
#[derive(PartialEq, Eq, Hash)]
struct TreeKey {
    first: i32,
    roles: Vec<&'static [u8]>,
    parents: Vec<Option<u32>>,
    kids: Vec<Vec<Kid>>,
    roots: Vec<u32>,
    page_mcids: Vec<Vec<u32>>,
    annotations: Vec<u32>,
    page_ids: Vec<Ref>,
    lang: Box<str>,
}

thread_local! {
    /// Trees kept per thread: a batch's documents share one as long as the customer's
    /// text does not move an element to another page (about 0.5 M instructions each).
    static TREES: RefCell<Memo<TreeKey, Arc<Spliced<Ref>>>> = RefCell::new(Memo::new(8));
}

/// Writes the tree that `key` describes, taking object numbers from `refs`.
fn write_tree(pdf: &mut Chunk, refs: &mut Refs, key: &TreeKey) -> Ref {
    let root_id = refs.next();
    let document = refs.next();
    let ids: Vec<Ref> = (0..key.kids.len()).map(|_| refs.next()).collect();

    let mut root = pdf
        .indirect(root_id)
        .start::<pdf_writer::writers::StructTreeRoot>();
    root.child(document);
    let mut tree = root.parent_tree();
    let mut nums = tree.nums();
    let page_arrays: Vec<Ref> = key.page_mcids.iter().map(|_| refs.next()).collect();
    for (key, array) in page_arrays.iter().enumerate() {
        nums.insert(key as i32, *array);
    }
    for (k, node) in key.annotations.iter().enumerate() {
        nums.insert((key.page_mcids.len() + k) as i32, ids[*node as usize]);
    }
    nums.finish();
    tree.finish();
    root.parent_tree_next_key((key.page_mcids.len() + key.annotations.len()) as i32);
    root.finish();

    for (mcids, array) in key.page_mcids.iter().zip(&page_arrays) {
        pdf.indirect(*array)
            .array()
            .items(mcids.iter().map(|n| ids[*n as usize]));
    }

    let mut doc = pdf.struct_element(document);
    doc.kind(StructRole::Document)
        .parent(root_id)
        .lang(TextStr(&key.lang));
    let mut children = doc.children();
    for n in &key.roots {
        children.struct_element(ids[*n as usize]);
    }
    children.finish();
    doc.finish();

    for (n, kids) in key.kids.iter().enumerate() {
        // Written as a plain dictionary: `/Type /StructElem` is optional, and four
        // hundred of them were a sixth of the object stream.
        let mut el = pdf.indirect(ids[n]).dict();
        el.pair(Name(b"S"), Name(key.roles[n]));
        el.pair(
            Name(b"P"),
            key.parents[n].map_or(document, |p| ids[p as usize]),
        );
        // The page of the element's first content, so its MCIDs can be plain numbers.
        let home = kids.iter().find_map(|k| match k {
            Kid::Content(p, _) | Kid::Annotation(p, _) => Some(*p),
            Kid::Element(_) => None,
        });
        if let Some(p) = home {
            el.pair(Name(b"Pg"), key.page_ids[p]);
        }
        // A form field's element holds its widget alone, written as the bare object
        // reference: validators (pyHanko) recognise a signed field's widget in the
        // structure tree only at `/K /Obj`, and otherwise call signing it an illegal
        // change to a certified document.
        if let [Kid::Annotation(p, annotation)] = kids.as_slice() {
            el.insert(Name(b"K"))
                .dict()
                .pair(Name(b"Type"), Name(b"OBJR"))
                .pair(Name(b"Obj"), *annotation)
                .pair(Name(b"Pg"), key.page_ids[*p]);
            el.finish();
            continue;
        }
        let mut children = el.insert(Name(b"K")).array();
        for kid in kids {
            match *kid {
                Kid::Element(c) => {
                    children.item(ids[c as usize]);
                }
                Kid::Content(p, mcid) if Some(p) == home => {
                    children.item(mcid);
                }
                Kid::Content(p, mcid) => {
                    children
                        .push()
                        .dict()
                        .pair(Name(b"Type"), Name(b"MCR"))
                        .pair(Name(b"Pg"), key.page_ids[p])
                        .pair(Name(b"MCID"), mcid);
                }
                Kid::Annotation(p, annotation) => {
                    children
                        .push()
                        .dict()
                        .pair(Name(b"Type"), Name(b"OBJR"))
                        .pair(Name(b"Obj"), annotation)
                        .pair(Name(b"Pg"), key.page_ids[p]);
                }
            }
        }
        children.finish();
        el.finish();
    }
    root_id
}

/// The standard structure type of an element.
fn role_name(kind: &NodeKind) -> &'static [u8] {
    match kind {
        NodeKind::Heading(1) => b"H1",
        NodeKind::Heading(2) => b"H2",
        NodeKind::Heading(_) => b"H3",
        NodeKind::Paragraph => b"P",
        NodeKind::List => b"L",
        NodeKind::ListItem => b"LI",
        NodeKind::Label => b"Lbl",
        NodeKind::ListBody => b"LBody",
        NodeKind::Table => b"Table",
        NodeKind::Row => b"TR",
        NodeKind::HeaderCell => b"TH",
        NodeKind::Cell => b"TD",
        NodeKind::Link(_) => b"Link",
        NodeKind::Division => b"Div",
        NodeKind::Form => b"Form",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache;
    use crate::layout::{Node, NodeKind};

    type Written = (Vec<u8>, i32, Ref);
    /// Nodes, first object number, pages, language and marks (page, node).
    type Case<'a> = (&'a [Node], i32, Vec<Ref>, &'a str, Vec<(usize, u32)>);

    fn tree(
        nodes: &[Node],
        first: i32,
        pages: &[Ref],
        lang: &str,
        marks: &[(usize, u32)],
    ) -> Written {
        let mut tagger = Tagger::new(nodes, pages.len());
        for &(page, node) in marks {
            tagger.content(page, node);
        }
        let mut chunk = Chunk::with_settings(pdf_writer::Settings { pretty: false });
        let mut refs = Refs(first);
        let root = tagger.write(&mut chunk, &mut refs, pages, lang);
        (chunk.as_bytes().to_vec(), refs.0, root)
    }

    fn node(kind: NodeKind, parent: Option<u32>) -> Node {
        Node { kind, parent }
    }

    #[test]
    fn a_tree_from_the_table_is_the_tree_written_afresh() {
        let nodes = vec![
            node(NodeKind::Heading(1), None),
            node(NodeKind::Paragraph, None),
            node(NodeKind::List, None),
            node(NodeKind::ListItem, Some(2)),
        ];
        let mut retagged = nodes.clone();
        retagged[1] = node(NodeKind::Heading(2), None);
        let mut reparented = nodes.clone();
        reparented[3] = node(NodeKind::ListItem, Some(1));
        let pages = vec![Ref::new(3), Ref::new(4)];
        let marks = vec![(0, 0), (0, 1), (1, 3)];
        // Each case differs from the first in one input only; with the table on, a key
        // that left that input out would hand back the first case's objects.
        let cases: Vec<Case> = vec![
            (&nodes, 10, pages.clone(), "en", marks.clone()),
            (&nodes, 11, pages.clone(), "en", marks.clone()),
            (
                &nodes,
                10,
                vec![Ref::new(5), Ref::new(6)],
                "en",
                marks.clone(),
            ),
            (&nodes, 10, pages.clone(), "de", marks.clone()),
            (
                &nodes,
                10,
                pages.clone(),
                "en",
                vec![(0, 0), (1, 1), (1, 3)],
            ),
            (
                &nodes,
                10,
                pages.clone(),
                "en",
                vec![(0, 1), (0, 0), (1, 3)],
            ),
            (&retagged, 10, pages.clone(), "en", marks.clone()),
            (&reparented, 10, pages.clone(), "en", marks.clone()),
        ];
        let mut seen = Vec::new();
        for (nodes, first, pages, lang, marks) in &cases {
            cache::set_enabled(Some(false));
            let fresh = tree(nodes, *first, pages, lang, marks);
            cache::set_enabled(Some(true));
            let stored = tree(nodes, *first, pages, lang, marks);
            let reused = tree(nodes, *first, pages, lang, marks);
            assert_eq!(stored, fresh);
            assert_eq!(reused, fresh);
            seen.push(fresh.0);
        }
        cache::set_enabled(None);
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), cases.len(), "every case writes other objects");
    }
}
