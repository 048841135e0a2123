//! The tagged PDF's logical structure: which marked content belongs to which element.
//!
//! In: the layout's structure elements (`Layout::nodes`), and, while the page contents
//! are written, each marked-content sequence (page, MCID, element) and each annotation
//! that belongs to an element (links, signature widgets). Out: the structure tree
//! (`/StructTreeRoot`, one `/StructElem` per element under a `Document` element) and its
//! `/ParentTree`, so that a screen reader reads the text in order as headings,
//! paragraphs, lists, tables and links (PDF 32000-1, 14.7-14.8).

use pdf_writer::types::StructRole;
use pdf_writer::{Chunk, Finish, Name, Ref, TextStr};

use super::Refs;
use crate::layout::{Node, NodeKind};

/// A child of a structure element, in reading order.
#[derive(Debug, Clone, Copy)]
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
        let containers: Vec<bool> = self
            .kids
            .iter()
            .map(|kids| kids.iter().all(|k| matches!(k, Kid::Element(_))))
            .collect();
        for (kids, container) in self.kids.iter_mut().zip(&containers) {
            if *container {
                kids.sort_by_key(|k| match k {
                    Kid::Element(n) => *n,
                    _ => 0,
                });
            }
        }
        self.roots.sort_unstable();

        let root_id = refs.next();
        let document = refs.next();
        let ids: Vec<Ref> = (0..self.kids.len()).map(|_| refs.next()).collect();

        let mut root = pdf
            .indirect(root_id)
            .start::<pdf_writer::writers::StructTreeRoot>();
        root.child(document);
        let mut tree = root.parent_tree();
        let mut nums = tree.nums();
        let page_arrays: Vec<Ref> = self.page_mcids.iter().map(|_| refs.next()).collect();
        for (key, array) in page_arrays.iter().enumerate() {
            nums.insert(key as i32, *array);
        }
        for (k, node) in self.annotations.iter().enumerate() {
            nums.insert((self.page_mcids.len() + k) as i32, ids[*node as usize]);
        }
        nums.finish();
        tree.finish();
        root.parent_tree_next_key((self.page_mcids.len() + self.annotations.len()) as i32);
        root.finish();

        for (mcids, array) in self.page_mcids.iter().zip(&page_arrays) {
            pdf.indirect(*array)
                .array()
                .items(mcids.iter().map(|n| ids[*n as usize]));
        }

        let mut doc = pdf.struct_element(document);
        doc.kind(StructRole::Document)
            .parent(root_id)
            .lang(TextStr(lang));
        let mut children = doc.children();
        for n in &self.roots {
            children.struct_element(ids[*n as usize]);
        }
        children.finish();
        doc.finish();

        for (n, kids) in self.kids.iter().enumerate() {
            let node = self.node(n as u32);
            // Written as a plain dictionary: `/Type /StructElem` is optional, and four
            // hundred of them were a sixth of the object stream.
            let mut el = pdf.indirect(ids[n]).dict();
            el.pair(Name(b"S"), Name(role_name(&node.kind)));
            el.pair(
                Name(b"P"),
                node.parent.map_or(document, |p| ids[p as usize]),
            );
            // The page of the element's first content, so its MCIDs can be plain numbers.
            let home = kids.iter().find_map(|k| match k {
                Kid::Content(p, _) | Kid::Annotation(p, _) => Some(*p),
                Kid::Element(_) => None,
            });
            if let Some(p) = home {
                el.pair(Name(b"Pg"), page_ids[p]);
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
                    .pair(Name(b"Pg"), page_ids[*p]);
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
                            .pair(Name(b"Pg"), page_ids[p])
                            .pair(Name(b"MCID"), mcid);
                    }
                    Kid::Annotation(p, annotation) => {
                        children
                            .push()
                            .dict()
                            .pair(Name(b"Type"), Name(b"OBJR"))
                            .pair(Name(b"Obj"), annotation)
                            .pair(Name(b"Pg"), page_ids[p]);
                    }
                }
            }
            children.finish();
            el.finish();
        }
        root_id
    }
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
