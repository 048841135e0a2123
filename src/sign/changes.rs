//! What changed between two revisions of a PDF, object by object, and whether a DocMDP
//! certification permits it.
//!
//! In: the file bytes and the end of a signed revision. Out: a list of [`Change`]s, each
//! named as a reader would see it (a page's content, an annotation on page N, a form
//! field, the catalog) and each either permitted after a certification of level P or not:
//! level 2 allows signing an existing empty signature field, that widget's appearance,
//! form resources, validation data and metadata; level 3 also annotations; level 1 only
//! validation data. Both revisions are read from their byte prefixes with hayro-syntax;
//! objects are compared as values (references stay references, streams by the SHA-256 of
//! their bytes), starting from the catalog, so only what a reader can reach counts.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;

use hayro_syntax::Pdf;
use hayro_syntax::object::{Dict, MaybeRef, Object, ObjectIdentifier};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::pdfsig::{MAX_DEPTH, decode_text, open_prefix};
use super::pkix::escape_untrusted;

/// Objects read per revision at most; a DPA has about a hundred.
const MAX_OBJECTS: usize = 200_000;

/// Snapshots already read, by revision end, shared between the signatures of one file.
pub(crate) type SnapshotCache = BTreeMap<usize, Result<Snapshot, String>>;

type Id = (u32, i32);

/// A PDF object as a comparable value; references stay references, streams are hashed.
#[derive(Debug, Clone, PartialEq)]
enum Value {
    Null,
    Bool(bool),
    Num(f64),
    Name(Vec<u8>),
    Str(Vec<u8>),
    Array(Vec<Value>),
    Dict(BTreeMap<Vec<u8>, Value>),
    Ref(Id),
    Stream(BTreeMap<Vec<u8>, Value>, [u8; 32]),
}

impl Value {
    fn dict(&self) -> Option<&BTreeMap<Vec<u8>, Value>> {
        match self {
            Value::Dict(d) | Value::Stream(d, _) => Some(d),
            _ => None,
        }
    }

    fn get(&self, key: &str) -> Option<&Value> {
        self.dict()?.get(key.as_bytes())
    }

    fn name(&self, key: &str) -> Option<String> {
        match self.get(key)? {
            Value::Name(n) => Some(String::from_utf8_lossy(n).into_owned()),
            _ => None,
        }
    }

    fn as_ref(&self) -> Option<Id> {
        match self {
            Value::Ref(id) => Some(*id),
            _ => None,
        }
    }

    /// Every reference inside this value.
    fn refs(&self, out: &mut Vec<Id>) {
        match self {
            Value::Ref(id) => out.push(*id),
            Value::Array(items) => items.iter().for_each(|v| v.refs(out)),
            Value::Dict(d) | Value::Stream(d, _) => d.values().for_each(|v| v.refs(out)),
            _ => {}
        }
    }
}

fn id_of(id: ObjectIdentifier) -> Id {
    (id.obj_number, id.gen_number)
}

fn convert(object: Object<'_>, depth: usize) -> Value {
    if depth > MAX_DEPTH {
        return Value::Null;
    }
    let entry = |item: MaybeRef<Object<'_>>| match item {
        MaybeRef::Ref(r) => Value::Ref((r.obj_number, r.gen_number)),
        MaybeRef::NotRef(o) => convert(o, depth + 1),
    };
    let dict = |d: &Dict<'_>| -> BTreeMap<Vec<u8>, Value> {
        d.entries()
            .map(|(k, v)| (k.as_ref().to_vec(), entry(v)))
            .collect()
    };
    match object {
        Object::Null(_) => Value::Null,
        Object::Boolean(b) => Value::Bool(b),
        Object::Number(n) => Value::Num(n.as_f64()),
        Object::String(s) => Value::Str(s.as_bytes().to_vec()),
        Object::Name(n) => Value::Name(n.as_ref().to_vec()),
        Object::Dict(d) => Value::Dict(dict(&d)),
        Object::Array(a) => Value::Array(a.raw_iter().map(entry).collect()),
        Object::Stream(s) => Value::Stream(dict(s.dict()), Sha256::digest(s.raw_data()).into()),
    }
}

/// The objects reachable from the catalog of one revision.
#[derive(Debug)]
pub(crate) struct Snapshot {
    root: Id,
    objects: BTreeMap<Id, Value>,
    /// References to objects the revision does not define.
    dangling: BTreeSet<Id>,
    info: hayro_syntax::metadata::Metadata,
}

fn snapshot(pdf: &Pdf) -> Result<Snapshot, String> {
    let xref = pdf.xref();
    // hayro rebuilds a damaged cross-reference table by scanning the whole file, which
    // can bring back objects an update replaced; a changed map size shows it happened.
    let entries = pdf.len();
    let root = id_of(xref.root_id());
    let mut objects = BTreeMap::new();
    let mut dangling = BTreeSet::new();
    let mut stack = vec![root];
    while let Some(id) = stack.pop() {
        if objects.contains_key(&id) || dangling.contains(&id) {
            continue;
        }
        if objects.len() >= MAX_OBJECTS {
            return Err(format!("more than {MAX_OBJECTS} objects"));
        }
        match xref.get::<Object<'_>>(ObjectIdentifier::new(id.0, id.1)) {
            Some(object) => {
                let value = convert(object, 0);
                let mut refs = Vec::new();
                value.refs(&mut refs);
                stack.extend(refs);
                objects.insert(id, value);
            }
            None => {
                dangling.insert(id);
            }
        }
    }
    if pdf.len() != entries {
        return Err("its cross-reference data is damaged, so what it contains is ambiguous".into());
    }
    Ok(Snapshot {
        root,
        objects,
        dangling,
        info: pdf.metadata().clone(),
    })
}

/// One difference between a signed revision and a later one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum Change {
    /// An empty signature field was signed (a new signature dictionary in it).
    FieldSigned { field: String },
    /// The appearance of a signature field that was signed.
    SignatureAppearance { field: String },
    /// The form's shared resources or signature flags.
    FormResources,
    /// Validation data (certificates, revocation) in the document security store.
    ValidationData,
    /// Document metadata (information dictionary or XMP).
    Metadata,
    /// A page's content was changed.
    PageContent { page: usize },
    /// Other properties of a page were changed.
    PageChanged { page: usize, keys: Vec<String> },
    /// A page was added or removed.
    PagesChanged,
    /// An annotation was added to a page.
    AnnotationAdded { page: usize, subtype: String },
    /// An annotation was removed from a page.
    AnnotationRemoved { page: usize, subtype: String },
    /// An annotation was changed.
    AnnotationChanged { page: usize, subtype: String },
    /// A form field was added.
    FieldAdded { field: String },
    /// A form field other than an empty signature field was changed.
    FieldChanged { field: String, keys: Vec<String> },
    /// The document catalog was changed in entries that matter.
    CatalogChanged { keys: Vec<String> },
    /// The document catalog was replaced by another object.
    CatalogReplaced,
    /// Some other object was changed.
    ObjectChanged { object: String, kind: String },
    /// An object was removed while still in use.
    ObjectRemoved { object: String, kind: String },
    /// An object that was missing when signed (referenced, undefined) is now defined.
    DefinedLater { object: String },
    /// An added object that no permitted change accounts for.
    ObjectAdded { object: String, kind: String },
    /// A revision could not be read.
    Unreadable { detail: String },
}

impl Change {
    /// Whether the change is allowed after a certification with DocMDP level `p`.
    pub fn permitted_under(&self, p: u8) -> bool {
        let form_filling = matches!(
            self,
            Change::FieldSigned { .. }
                | Change::SignatureAppearance { .. }
                | Change::FormResources
                | Change::ValidationData
                | Change::Metadata
        );
        let annotating = matches!(
            self,
            Change::AnnotationAdded { .. }
                | Change::AnnotationRemoved { .. }
                | Change::AnnotationChanged { .. }
        );
        match p {
            1 => matches!(self, Change::ValidationData),
            2 => form_filling,
            _ => form_filling || annotating,
        }
    }
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Change::FieldSigned { field } => {
                write!(f, "the empty signature field {field} was signed")
            }
            Change::SignatureAppearance { field } => {
                write!(f, "the appearance of signature field {field}")
            }
            Change::FormResources => f.write_str("form resources (fonts, signature flags)"),
            Change::ValidationData => {
                f.write_str("validation data (certificates, revocation information)")
            }
            Change::Metadata => f.write_str("document metadata (title, dates, producer)"),
            Change::PageContent { page } => write!(f, "the content of page {page} was changed"),
            Change::PageChanged { page, keys } => {
                write!(f, "page {page} was changed ({})", keys.join(", "))
            }
            Change::PagesChanged => f.write_str("pages were added, removed or reordered"),
            Change::AnnotationAdded { page, subtype } => {
                write!(f, "a {subtype} annotation was added on page {page}")
            }
            Change::AnnotationRemoved { page, subtype } => {
                write!(f, "a {subtype} annotation was removed from page {page}")
            }
            Change::AnnotationChanged { page, subtype } => {
                write!(f, "a {subtype} annotation on page {page} was changed")
            }
            Change::FieldAdded { field } => write!(f, "a form field {field} was added"),
            Change::FieldChanged { field, keys } => {
                write!(f, "form field {field} was changed ({})", keys.join(", "))
            }
            Change::CatalogChanged { keys } => {
                write!(f, "the document catalog was changed ({})", keys.join(", "))
            }
            Change::CatalogReplaced => f.write_str("the document catalog was replaced"),
            Change::ObjectChanged { object, kind } => {
                write!(f, "object {object} ({kind}) was changed")
            }
            Change::ObjectRemoved { object, kind } => {
                write!(f, "object {object} ({kind}) was removed")
            }
            Change::DefinedLater { object } => write!(
                f,
                "object {object}, missing when signed, was defined afterwards"
            ),
            Change::ObjectAdded { object, kind } => write!(f, "object {object} ({kind}) was added"),
            Change::Unreadable { detail } => write!(f, "a later revision cannot be read: {detail}"),
        }
    }
}

/// Facts about a snapshot used to name changes.
struct Layout {
    /// Page object -> page number (1-based).
    pages: BTreeMap<Id, usize>,
    /// Content stream -> page number.
    contents: BTreeMap<Id, usize>,
    /// Annotation -> (page number, subtype).
    annots: BTreeMap<Id, (usize, String)>,
    /// Form field -> fully qualified name.
    fields: BTreeMap<Id, String>,
    /// Signature fields that are empty: field -> its widget objects (itself when merged).
    empty_sig_fields: BTreeMap<Id, Vec<Id>>,
    /// The AcroForm dictionary, when it is an object of its own.
    acroform: Option<Id>,
    /// Objects in the document security store.
    dss: Option<Id>,
    /// The XMP metadata stream.
    metadata: Option<Id>,
    /// Page objects in order.
    page_order: Vec<Id>,
}

fn layout(snap: &Snapshot) -> Layout {
    let mut out = Layout {
        pages: BTreeMap::new(),
        contents: BTreeMap::new(),
        annots: BTreeMap::new(),
        fields: BTreeMap::new(),
        empty_sig_fields: BTreeMap::new(),
        acroform: None,
        dss: None,
        metadata: None,
        page_order: Vec::new(),
    };
    let get = |id: Id| snap.objects.get(&id);
    let Some(catalog) = get(snap.root) else {
        return out;
    };
    // Page tree, depth-first in order.
    let mut stack: Vec<(Id, usize)> = catalog
        .get("Pages")
        .and_then(Value::as_ref)
        .map(|id| vec![(id, 0)])
        .unwrap_or_default();
    let mut seen = BTreeSet::new();
    while let Some((id, depth)) = stack.pop() {
        if depth > MAX_DEPTH || !seen.insert(id) {
            continue;
        }
        let Some(node) = get(id) else { continue };
        if let Some(Value::Array(kids)) = node.get("Kids") {
            stack.extend(
                kids.iter()
                    .rev()
                    .filter_map(Value::as_ref)
                    .map(|k| (k, depth + 1)),
            );
        } else {
            out.page_order.push(id);
            let page = out.page_order.len();
            out.pages.insert(id, page);
            match node.get("Contents") {
                Some(Value::Ref(c)) => {
                    out.contents.insert(*c, page);
                }
                Some(Value::Array(items)) => {
                    for c in items.iter().filter_map(Value::as_ref) {
                        out.contents.insert(c, page);
                    }
                }
                _ => {}
            }
            let annots = match node.get("Annots") {
                Some(Value::Array(items)) => items.clone(),
                Some(Value::Ref(r)) => match get(*r) {
                    Some(Value::Array(items)) => items.clone(),
                    _ => Vec::new(),
                },
                _ => Vec::new(),
            };
            for a in annots.iter().filter_map(Value::as_ref) {
                let subtype = get(a)
                    .and_then(|v| v.name("Subtype"))
                    .unwrap_or_else(|| "unknown".into());
                out.annots.insert(a, (page, subtype));
            }
        }
    }
    let form = match catalog.get("AcroForm") {
        Some(Value::Ref(id)) => {
            out.acroform = Some(*id);
            get(*id)
        }
        other => other,
    };
    out.dss = catalog.get("DSS").and_then(Value::as_ref);
    out.metadata = catalog.get("Metadata").and_then(Value::as_ref);
    let mut stack: Vec<(Id, String, Option<String>, usize)> =
        match form.and_then(|f| f.get("Fields")) {
            Some(Value::Array(items)) => items
                .iter()
                .rev()
                .filter_map(Value::as_ref)
                .map(|id| (id, String::new(), None, 0))
                .collect(),
            _ => Vec::new(),
        };
    let mut seen = BTreeSet::new();
    while let Some((id, parent, inherited, depth)) = stack.pop() {
        if depth > MAX_DEPTH || !seen.insert(id) {
            continue;
        }
        let Some(field) = get(id) else { continue };
        let partial = match field.get("T") {
            Some(Value::Str(t)) => Some(escape_untrusted(&decode_text(t))),
            _ => None,
        };
        let full = match (&partial, parent.is_empty()) {
            (Some(t), true) => t.clone(),
            (Some(t), false) => format!("{parent}.{t}"),
            (None, _) => parent.clone(),
        };
        out.fields.insert(id, full.clone());
        let ft = field.name("FT").or(inherited);
        let kids: Vec<Id> = match field.get("Kids") {
            Some(Value::Array(items)) => items.iter().filter_map(Value::as_ref).collect(),
            _ => Vec::new(),
        };
        let (sub_fields, widgets): (Vec<Id>, Vec<Id>) = kids.into_iter().partition(|k| {
            get(*k).is_some_and(|v| v.get("T").is_some() || v.get("Kids").is_some())
        });
        for k in sub_fields.into_iter().rev() {
            stack.push((k, full.clone(), ft.clone(), depth + 1));
        }
        if ft.as_deref() == Some("Sig") && field.get("V").is_none() {
            let mut w = widgets;
            if field.name("Subtype").as_deref() == Some("Widget") {
                w.push(id);
            }
            out.empty_sig_fields.insert(id, w);
        }
    }
    out
}

/// Keys whose values differ between two dictionaries.
fn changed_keys(old: &Value, new: &Value) -> Vec<String> {
    let empty = BTreeMap::new();
    let (a, b) = (old.dict().unwrap_or(&empty), new.dict().unwrap_or(&empty));
    let mut keys: BTreeSet<&Vec<u8>> = a.keys().collect();
    keys.extend(b.keys());
    let mut out: Vec<String> = keys
        .into_iter()
        .filter(|k| a.get(*k) != b.get(*k))
        .map(|k| escape_untrusted(&String::from_utf8_lossy(k)))
        .collect();
    if let (Value::Stream(_, x), Value::Stream(_, y)) = (old, new)
        && x != y
    {
        out.push("stream data".into());
    }
    if old.dict().is_none() && old != new {
        out.push("value".into());
    }
    out
}

fn kind_of(value: &Value) -> String {
    let typed = value.name("Type").or_else(|| value.name("Subtype"));
    match (typed, value) {
        (Some(t), _) => t,
        (None, Value::Stream(..)) => "stream".into(),
        (None, Value::Dict(_)) => "dictionary".into(),
        (None, Value::Array(_)) => "array".into(),
        (None, _) => "value".into(),
    }
}

fn object_name(id: Id) -> String {
    format!("{} {}", id.0, id.1)
}

/// Every difference between the signed revision `old` and the later revision `new`.
fn diff(old: &Snapshot, new: &Snapshot) -> Vec<Change> {
    let mut changes = Vec::new();
    if old.root != new.root {
        return vec![Change::CatalogReplaced];
    }
    let before = layout(old);
    let after = layout(new);
    if before.page_order != after.page_order {
        changes.push(Change::PagesChanged);
    }
    // Objects whose new content is accounted for by a permitted change.
    let mut roots: Vec<Id> = Vec::new();
    let mut judged: BTreeSet<Id> = BTreeSet::new();
    let refs_of = |v: Option<&Value>, roots: &mut Vec<Id>| {
        if let Some(v) = v {
            v.refs(roots);
        }
    };

    for (&field_id, widgets) in &before.empty_sig_fields {
        let name = before.fields.get(&field_id).cloned().unwrap_or_default();
        let (Some(was), Some(now)) = (old.objects.get(&field_id), new.objects.get(&field_id))
        else {
            continue;
        };
        if was != now {
            judged.insert(field_id);
            let keys = changed_keys(was, now);
            let allowed = keys.iter().all(|k| k == "V" || k == "AP");
            let v_new = now.get("V").and_then(Value::as_ref).filter(|v| {
                !old.objects.contains_key(v)
                    && new
                        .objects
                        .get(v)
                        .is_some_and(|s| s.get("ByteRange").is_some())
            });
            if allowed && (now.get("V").is_none() || v_new.is_some()) {
                if now.get("V").is_some() {
                    changes.push(Change::FieldSigned {
                        field: name.clone(),
                    });
                }
                if keys.iter().any(|k| k == "AP") {
                    changes.push(Change::SignatureAppearance {
                        field: name.clone(),
                    });
                }
                refs_of(now.get("V"), &mut roots);
                refs_of(now.get("AP"), &mut roots);
            } else {
                changes.push(Change::FieldChanged {
                    field: name.clone(),
                    keys,
                });
            }
        }
        for &w in widgets.iter().filter(|&&w| w != field_id) {
            let (Some(was), Some(now)) = (old.objects.get(&w), new.objects.get(&w)) else {
                continue;
            };
            if was != now {
                judged.insert(w);
                let keys = changed_keys(was, now);
                if keys.iter().all(|k| k == "AP") {
                    changes.push(Change::SignatureAppearance {
                        field: name.clone(),
                    });
                    refs_of(now.get("AP"), &mut roots);
                } else {
                    changes.push(Change::FieldChanged {
                        field: name.clone(),
                        keys,
                    });
                }
            }
        }
    }

    let form_rules = |was: &Value, now: &Value, changes: &mut Vec<Change>, roots: &mut Vec<Id>| {
        let keys = changed_keys(was, now);
        let (fine, bad): (Vec<String>, Vec<String>) = keys
            .into_iter()
            .partition(|k| matches!(k.as_str(), "SigFlags" | "DR" | "DA" | "NeedAppearances"));
        if !fine.is_empty() {
            changes.push(Change::FormResources);
            refs_of(now.get("DR"), roots);
        }
        if bad.iter().any(|k| k == "Fields") {
            let listed = |v: &Value| -> BTreeSet<Id> {
                match v.get("Fields") {
                    Some(Value::Array(items)) => items.iter().filter_map(Value::as_ref).collect(),
                    _ => BTreeSet::new(),
                }
            };
            let (a, b) = (listed(was), listed(now));
            for added in b.difference(&a) {
                let field = after
                    .fields
                    .get(added)
                    .cloned()
                    .unwrap_or_else(|| object_name(*added));
                changes.push(Change::FieldAdded { field });
            }
            for removed in a.difference(&b) {
                let field = before
                    .fields
                    .get(removed)
                    .cloned()
                    .unwrap_or_else(|| object_name(*removed));
                changes.push(Change::FieldChanged {
                    field,
                    keys: vec!["removed".into()],
                });
            }
        }
        let other: Vec<String> = bad.into_iter().filter(|k| k != "Fields").collect();
        if !other.is_empty() {
            changes.push(Change::CatalogChanged {
                keys: other.into_iter().map(|k| format!("AcroForm {k}")).collect(),
            });
        }
    };

    if let (Some(was), Some(now)) = (old.objects.get(&old.root), new.objects.get(&new.root))
        && was != now
    {
        judged.insert(new.root);
        let mut bad = Vec::new();
        for key in changed_keys(was, now) {
            match key.as_str() {
                "DSS" => {
                    changes.push(Change::ValidationData);
                    refs_of(now.get("DSS"), &mut roots);
                }
                "Metadata" => {
                    changes.push(Change::Metadata);
                    refs_of(now.get("Metadata"), &mut roots);
                }
                "Extensions" | "Version" => {}
                "AcroForm" => match (was.get("AcroForm"), now.get("AcroForm")) {
                    (Some(a @ Value::Dict(_)), Some(b @ Value::Dict(_))) => {
                        form_rules(a, b, &mut changes, &mut roots);
                    }
                    _ => bad.push(key),
                },
                _ => bad.push(key),
            }
        }
        if !bad.is_empty() {
            changes.push(Change::CatalogChanged { keys: bad });
        }
    }
    if let Some(form) = before.acroform
        && after.acroform == Some(form)
        && let (Some(was), Some(now)) = (old.objects.get(&form), new.objects.get(&form))
        && was != now
    {
        judged.insert(form);
        form_rules(was, now, &mut changes, &mut roots);
    }
    for (special, change) in [
        (before.dss, Change::ValidationData),
        (before.metadata, Change::Metadata),
    ] {
        if let Some(id) = special
            && let (Some(was), Some(now)) = (old.objects.get(&id), new.objects.get(&id))
            && was != now
        {
            judged.insert(id);
            changes.push(change);
            refs_of(Some(now), &mut roots);
        }
    }

    // Every other changed object is not permitted; name it as precisely as we can.
    for (id, now) in &new.objects {
        let Some(was) = old.objects.get(id) else {
            continue;
        };
        if was == now || judged.contains(id) {
            continue;
        }
        if let Some(&page) = after.pages.get(id) {
            let keys = changed_keys(was, now);
            for key in &keys {
                if key == "Contents" {
                    changes.push(Change::PageContent { page });
                }
            }
            if keys.iter().any(|k| k == "Annots") {
                annotation_changes(&before, &after, page, &mut changes);
            }
            let rest: Vec<String> = keys
                .into_iter()
                .filter(|k| k != "Contents" && k != "Annots")
                .collect();
            if !rest.is_empty() {
                changes.push(Change::PageChanged { page, keys: rest });
            }
        } else if let Some(&page) = after.contents.get(id).or(before.contents.get(id)) {
            changes.push(Change::PageContent { page });
        } else if let Some((page, subtype)) = after.annots.get(id).or(before.annots.get(id)) {
            if before.annots.contains_key(id) && !after.annots.contains_key(id) {
                // Reported with the page's /Annots.
                continue;
            }
            changes.push(Change::AnnotationChanged {
                page: *page,
                subtype: subtype.clone(),
            });
        } else if let Some(field) = after.fields.get(id) {
            changes.push(Change::FieldChanged {
                field: field.clone(),
                keys: changed_keys(was, now),
            });
        } else {
            changes.push(Change::ObjectChanged {
                object: object_name(*id),
                kind: kind_of(now),
            });
        }
    }
    for id in old.objects.keys().filter(|id| new.dangling.contains(id)) {
        let kind = old.objects.get(id).map(kind_of).unwrap_or_default();
        changes.push(Change::ObjectRemoved {
            object: object_name(*id),
            kind,
        });
    }
    for id in new.objects.keys().filter(|id| old.dangling.contains(id)) {
        changes.push(Change::DefinedLater {
            object: object_name(*id),
        });
    }

    // New objects reached from a permitted change are part of it.
    let mut permitted_new = BTreeSet::new();
    while let Some(id) = roots.pop() {
        if old.objects.contains_key(&id) || !permitted_new.insert(id) {
            continue;
        }
        if let Some(v) = new.objects.get(&id) {
            v.refs(&mut roots);
        }
    }
    let reported_forbidden = changes.iter().any(|c| !c.permitted_under(2));
    if !reported_forbidden {
        // Defensive: a new object must be explained by a permitted change.
        for (id, v) in &new.objects {
            if !old.objects.contains_key(id) && !permitted_new.contains(id) {
                changes.push(Change::ObjectAdded {
                    object: object_name(*id),
                    kind: kind_of(v),
                });
            }
        }
    }
    if old.info != new.info {
        changes.push(Change::Metadata);
    }
    changes.dedup();
    changes
}

fn annotation_changes(before: &Layout, after: &Layout, page: usize, changes: &mut Vec<Change>) {
    let on_page = |layout: &Layout| -> BTreeSet<Id> {
        layout
            .annots
            .iter()
            .filter(|(_, (p, _))| *p == page)
            .map(|(id, _)| *id)
            .collect()
    };
    let (a, b) = (on_page(before), on_page(after));
    for id in b.difference(&a) {
        let subtype = after
            .annots
            .get(id)
            .map(|x| x.1.clone())
            .unwrap_or_default();
        changes.push(Change::AnnotationAdded { page, subtype });
    }
    for id in a.difference(&b) {
        let subtype = before
            .annots
            .get(id)
            .map(|x| x.1.clone())
            .unwrap_or_default();
        changes.push(Change::AnnotationRemoved { page, subtype });
    }
}

/// Every difference between the revision ending at `signed_end` and the whole file.
pub fn changes(bytes: &[u8], signed_end: usize) -> Vec<Change> {
    let shared = Arc::new(bytes.to_vec());
    let mut cache = BTreeMap::new();
    changes_cached(&shared, signed_end, &mut cache)
}

pub(crate) fn changes_cached(
    shared: &Arc<Vec<u8>>,
    signed_end: usize,
    cache: &mut SnapshotCache,
) -> Vec<Change> {
    let len = shared.len();
    for end in [signed_end, len] {
        cache.entry(end).or_insert_with(|| {
            if end > len {
                return Err("the signed revision lies past the end of the file".into());
            }
            open_prefix(shared, end)
                .ok_or_else(|| "its structure cannot be read".to_string())
                .and_then(|pdf| snapshot(&pdf))
        });
    }
    match (&cache[&signed_end], &cache[&len]) {
        (Ok(old), Ok(new)) => diff(old, new),
        (Err(e), _) | (_, Err(e)) => vec![Change::Unreadable { detail: e.clone() }],
    }
}
