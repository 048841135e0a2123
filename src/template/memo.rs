//! Memoised blocks: a top-level block of a template rendered once per distinct value of
//! the context it reads, and its text reused for every customer with the same values.
//!
//! In: a compiled template and the registry it renders with. Out: the template with each
//! top-level block worth it (one holding an `{{#each}}`, whose cost grows with the data)
//! wrapped in a private block helper, and that helper, which keys the block's text on the
//! values of the context paths the block can read.
//!
//! Most of a DPA's template reads only vendor, annex and feature data: the annex table
//! (`{{#each published.sections}}`) is a third of a document's rendering and the same for
//! every customer with the same features. The template is the user's (`template =` in
//! dpa.toml), so what a block reads is worked out from its tags, conservatively: paths at
//! the top level (or reached from inside a block with `../` or `@root`) are read where
//! they point; inside `{{#each}}` and `{{#with}}` everything relative lies within the
//! block's own argument, which is read whole. Only the helpers registered by
//! [`super::Template::new`] that are pure functions of their arguments are followed
//! (`if`/`unless`/`each`/`with` as blocks); a block with anything else (another helper,
//! `log`, a decorator or partial, a path that climbs out of the template) is rendered as
//! before. The reused text is only used when the values read are equal (compared in full,
//! not by a digest), and an error is never stored, so the output is the text rendering
//! gives, byte for byte, with or without the table (`DPA_NO_CACHE=1` turns it off).

use std::collections::HashMap;
use std::hash::{BuildHasher, Hash, Hasher};
use std::sync::Arc;

use handlebars::template::{
    ExpressionSpecBuilder, HelperTemplate, Parameter, Template, TemplateElement as E,
};
use handlebars::{
    Context, Handlebars, Helper, HelperDef, HelperResult, Output, Path, PathSeg, RenderContext,
    Renderable, StringOutput,
};
use serde_json::Value;

/// The private helper's name: a private-use character first, so no template can call it.
pub(super) const HELPER: &str = "\u{E000}memo";

/// Helpers whose result depends on their arguments alone (and, for blocks, on the
/// template they render): what a block may call and still be memoised. Each of them is
/// registered (by handlebars, or by [`super::Template::new`]), so a call never falls
/// through to a path.
const PURE: [&str; 19] = [
    "if", "unless", "each", "with", "lookup", "eq", "ne", "gt", "gte", "lt", "lte", "and", "or",
    "not", "len", "date", "join", "list", "sentence",
];

/// The helpers handlebars registers that do more than return a value of their arguments.
const IMPURE: [&str; 2] = ["log", "raw"];

/// The context paths a memoised block reads, from the root, by name.
type Reads = Vec<Vec<String>>;

/// Wraps the top-level blocks worth memoising in [`HELPER`] and returns the helper that
/// renders them; `None` (and the template untouched) when there is none.
pub(super) fn wrap(template: &mut Template) -> Option<MemoHelper> {
    let mut blocks = Vec::new();
    for element in &mut template.elements {
        let E::HelperBlock(block) = element else {
            continue;
        };
        if !has_each(block) {
            continue;
        }
        let mut reads = Vec::new();
        if block_reads(block, 0, &mut reads).is_none() {
            continue;
        }
        reads.sort();
        reads.dedup();
        let inner = std::mem::replace(element, E::Comment(String::new()));
        *element = E::HelperBlock(Box::new(wrapper(
            inner,
            blocks.len(),
            template.name.clone(),
        )?));
        blocks.push(reads);
    }
    static NEXT_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    (!blocks.is_empty()).then(|| MemoHelper {
        id: NEXT_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        blocks,
    })
}

/// `{{#HELPER n}}element{{/HELPER}}`: the element alone in the block's template, which
/// carries the template's name so errors name it as before.
fn wrapper(element: E, n: usize, name: Option<String>) -> Option<HelperTemplate> {
    let spec = ExpressionSpecBuilder::default()
        .name(Parameter::Name(HELPER.to_string()))
        .params(vec![Parameter::Literal(Value::from(n))])
        .hash(HashMap::new())
        .omit_pre_ws(false)
        .omit_pro_ws(false)
        .build()
        .ok()?;
    let mut helper = HelperTemplate::new(spec, true, false);
    let mut inner = Template::new();
    inner.name = name;
    inner.elements.push(element);
    helper.template = Some(inner);
    Some(helper)
}

/// Whether a block holds an `{{#each}}` (itself included), at any depth.
fn has_each(block: &HelperTemplate) -> bool {
    let each = helper_name(&block.name) == Some("each");
    each || block
        .template
        .iter()
        .chain(block.inverse.iter())
        .flat_map(|t| &t.elements)
        .any(|e| matches!(e, E::HelperBlock(h) if has_each(h)))
}

/// Adds what a template reads to `reads`; `depth` counts the `each`/`with` blocks around
/// it. `None` when it holds anything not followed.
fn template_reads(template: &Template, depth: usize, reads: &mut Reads) -> Option<()> {
    for element in &template.elements {
        match element {
            E::RawString(_) | E::Comment(_) => {}
            E::Expression(h) => expression_reads(h, depth, reads)?,
            E::HelperBlock(h) => block_reads(h, depth, reads)?,
            _ => return None,
        }
    }
    Some(())
}

/// What a block reads: its arguments where it stands, its template one level deeper for
/// `each` and `with` (which render it inside their argument), and its `else` branch
/// where it stands.
fn block_reads(block: &HelperTemplate, depth: usize, reads: &mut Reads) -> Option<()> {
    let inner = match helper_name(&block.name)? {
        "if" | "unless" => depth,
        "each" | "with" => depth + 1,
        _ => return None,
    };
    arguments_reads(block, depth, reads)?;
    if let Some(t) = &block.template {
        template_reads(t, inner, reads)?;
    }
    if let Some(t) = &block.inverse {
        template_reads(t, depth, reads)?;
    }
    Some(())
}

/// What `{{name args}}` (or a subexpression) reads: a pure helper's arguments, or the
/// value of the path when the name is no helper (as handlebars decides).
fn expression_reads(h: &HelperTemplate, depth: usize, reads: &mut Reads) -> Option<()> {
    if !h.block && h.params.is_empty() && h.hash.is_empty() {
        // `{{name}}` calls the helper of that name if there is one, else prints the path.
        // Handlebars does not say which names it has, so a name that is a pure helper
        // (which reads nothing without arguments) is recorded as a path all the same.
        if let Parameter::Path(Path::Local(_)) = &h.name {
            return Some(());
        }
        if IMPURE.contains(&helper_name(&h.name)?) {
            return None;
        }
        return parameter_reads(&h.name, depth, reads);
    }
    helper_reads(h, depth, reads)
}

/// What a call of a pure helper (not a block) reads: its arguments.
fn helper_reads(h: &HelperTemplate, depth: usize, reads: &mut Reads) -> Option<()> {
    let name = helper_name(&h.name)?;
    if !PURE.contains(&name) || h.template.is_some() {
        return None;
    }
    arguments_reads(h, depth, reads)
}

fn arguments_reads(h: &HelperTemplate, depth: usize, reads: &mut Reads) -> Option<()> {
    for p in h.params.iter().chain(h.hash.values()) {
        parameter_reads(p, depth, reads)?;
    }
    Some(())
}

fn parameter_reads(p: &Parameter, depth: usize, reads: &mut Reads) -> Option<()> {
    match p {
        // A name or literal argument reads no data (handlebars gives a name no value).
        Parameter::Name(_) | Parameter::Literal(_) => Some(()),
        // Handlebars calls a subexpression as a helper, even a bare name.
        Parameter::Subexpression(s) => match s.as_element() {
            E::Expression(h) => helper_reads(h, depth, reads),
            _ => None,
        },
        Parameter::Path(path) => path_reads(path, depth, reads),
        _ => None,
    }
}

/// Records a path that reads from the root: at the top level, or climbing there with
/// `../` or `@root`. A path inside an `each` or `with` that stays there reads within the
/// block's argument, which is recorded already; `@index` and the like follow from it.
fn path_reads(path: &Path, depth: usize, reads: &mut Reads) -> Option<()> {
    let Path::Relative((segments, _)) = path else {
        return Some(());
    };
    let mut level = depth;
    let mut names = Vec::new();
    for (i, segment) in segments.iter().enumerate() {
        match segment {
            PathSeg::Named(n) => names.push(n.clone()),
            PathSeg::Ruled(rule) if names.is_empty() => match format!("{rule:?}").as_str() {
                "path_root" if i == 0 => level = 0,
                "path_up" => level = level.checked_sub(1)?,
                _ => return None,
            },
            _ => return None,
        }
    }
    if level == 0 {
        reads.push(names);
    }
    Some(())
}

/// The name a tag calls, as handlebars looks it up among the helpers.
fn helper_name(name: &Parameter) -> Option<&str> {
    match name {
        Parameter::Name(n) => Some(n),
        Parameter::Path(Path::Relative((_, raw))) => Some(raw),
        _ => None,
    }
}

/// Renders [`HELPER`] blocks: the wrapped block's text, from the table when the values it
/// reads are the ones it was rendered with.
#[derive(Debug, Clone)]
pub(super) struct MemoHelper {
    /// Names this template in the per-thread table.
    id: u64,
    /// For each wrapped block, by number, the paths it reads.
    blocks: Vec<Reads>,
}

/// A block's text and the values it was rendered with (see [`locate`]).
#[derive(Debug)]
struct Stored {
    values: Vec<(usize, Option<Value>)>,
    text: String,
}

/// A template, a block of it, and a digest of the values it reads.
type Key = (u64, usize, u64);

thread_local! {
    /// A handful of entries per feature set of a run; 64 keeps memory small either way.
    static BLOCKS: std::cell::RefCell<crate::cache::Memo<Key, Arc<Stored>>> =
        std::cell::RefCell::new(crate::cache::Memo::new(64));
}

thread_local! {
    /// The blocks this thread has rendered (a template and a block of it).
    static RENDERED: std::cell::RefCell<crate::cache::Memo<(u64, usize), ()>> =
        std::cell::RefCell::new(crate::cache::Memo::new(64));
}

#[cfg(test)]
thread_local! {
    /// How many blocks this thread took from the table.
    static HITS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Whether this thread renders a block for the first time (and from now on, has not).
fn first_sight(block: (u64, usize)) -> bool {
    RENDERED.with_borrow_mut(|seen| {
        let first = seen.lookup(&block).is_none();
        if first {
            seen.store(block, ());
        }
        first
    })
}

impl HelperDef for MemoHelper {
    fn call<'reg: 'rc, 'rc>(
        &self,
        h: &Helper<'rc>,
        r: &'reg Handlebars<'reg>,
        ctx: &'rc Context,
        rc: &mut RenderContext<'reg, 'rc>,
        out: &mut dyn Output,
    ) -> HelperResult {
        let Some(template) = h.template() else {
            return Ok(());
        };
        let reads = h
            .param(0)
            .and_then(|p| p.value().as_u64())
            .and_then(|n| self.blocks.get(usize::try_from(n).ok()?).map(|r| (n, r)));
        // A helper that replaced the context would make the paths read other data. A
        // block's first render on a thread is plain: a process that makes one document
        // (`dpa generate`) would only pay for keys and copies nobody asks for again.
        let (Some((n, reads)), None) = (reads, rc.context()) else {
            return template.render(r, ctx, rc, out);
        };
        if !crate::cache::enabled() || first_sight((self.id, n as usize)) {
            return template.render(r, ctx, rc, out);
        }
        let values: Vec<(usize, Option<&Value>)> =
            reads.iter().map(|path| locate(ctx.data(), path)).collect();
        let key = (self.id, n as usize, digest(&values));
        let stored = BLOCKS.with_borrow_mut(|table| table.lookup(&key));
        if let Some(stored) = stored.filter(|s| same(&s.values, &values)) {
            #[cfg(test)]
            HITS.set(HITS.get() + 1);
            // As handlebars writes text (there is no indentation: partials are refused).
            if !stored.text.is_empty() {
                rc.set_content_produced(true);
                out.write(&stored.text)?;
                rc.set_trailing_newline(stored.text.ends_with('\n'));
            }
            return Ok(());
        }
        let mut text = StringOutput::new();
        template.render(r, ctx, rc, &mut text)?;
        let text = text.into_string()?;
        out.write(&text)?;
        let values = values.iter().map(|(n, v)| (*n, v.cloned())).collect();
        BLOCKS.with_borrow_mut(|table| table.store(key, Arc::new(Stored { values, text })));
        Ok(())
    }
}

/// The value a path reads, as far as it can be followed through objects: `(n, value)`
/// where `value` is what the first `n` names lead to (an array or other value that
/// handlebars looks into further, or the end of the path), or `None` when the `n`-th name
/// is missing. Whatever handlebars reads along the path follows from it.
fn locate<'a>(root: &'a Value, path: &[String]) -> (usize, Option<&'a Value>) {
    let mut value = root;
    for (i, name) in path.iter().enumerate() {
        match value {
            Value::Object(map) => match map.get(name) {
                Some(v) => value = v,
                None => return (i + 1, None),
            },
            _ => return (i, Some(value)),
        }
    }
    (path.len(), Some(value))
}

/// Whether stored values are the located ones, compared in full.
fn same(stored: &[(usize, Option<Value>)], located: &[(usize, Option<&Value>)]) -> bool {
    stored.len() == located.len()
        && stored
            .iter()
            .zip(located)
            .all(|((n, v), (m, w))| n == m && v.as_ref() == *w)
}

/// A digest of located values, to find a stored block (which [`same`] then confirms).
fn digest(values: &[(usize, Option<&Value>)]) -> u64 {
    let mut hasher = foldhash::fast::FixedState::default().build_hasher();
    for (n, value) in values {
        n.hash(&mut hasher);
        match value {
            Some(v) => hash_value(v, &mut hasher),
            None => hasher.write_u8(0xff),
        }
    }
    hasher.finish()
}

fn hash_value(value: &Value, hasher: &mut impl Hasher) {
    match value {
        Value::Null => hasher.write_u8(0),
        Value::Bool(b) => {
            hasher.write_u8(1);
            b.hash(hasher);
        }
        Value::Number(n) => {
            hasher.write_u8(2);
            n.hash(hasher);
        }
        Value::String(s) => {
            hasher.write_u8(3);
            s.hash(hasher);
        }
        Value::Array(items) => {
            hasher.write_u8(4);
            hasher.write_usize(items.len());
            for item in items {
                hash_value(item, hasher);
            }
        }
        Value::Object(map) => {
            hasher.write_u8(5);
            hasher.write_usize(map.len());
            for (k, v) in map {
                k.hash(hasher);
                hash_value(v, hasher);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::{RunContext, SigningInfo, Template, TemplateError};
    use serde_json::json;

    /// The reads of each block `wrap` memoises in `source`.
    fn planned(source: &str) -> Vec<Reads> {
        let mut compiled = handlebars::Template::compile(source).unwrap();
        wrap(&mut compiled).map_or_else(Vec::new, |h| h.blocks)
    }

    /// A template compiled with and without memoised blocks.
    struct Both {
        memo: Template,
        plain: Template,
    }

    impl Both {
        fn new(source: &str) -> Both {
            Both {
                memo: Template::build(source, "t.md.hbs", true).unwrap(),
                plain: Template::build(source, "t.md.hbs", false).unwrap(),
            }
        }

        /// Renders both ways, the memoised template three times (a block's first render
        /// is plain, the next stores it or finds it), and checks all agree, text and
        /// errors alike. One `Both` over many contexts finds a block kept for another.
        fn render(&self, context: &Value) -> Result<String, TemplateError> {
            let want = self.plain.render(context);
            for _ in 0..3 {
                let got = self.memo.render_owned(context.clone());
                assert_eq!(format!("{got:?}"), format!("{want:?}"), "{context}");
            }
            want
        }
    }

    fn path(p: &str) -> Vec<String> {
        p.split('.').map(String::from).collect()
    }

    #[test]
    fn a_block_is_keyed_on_every_path_it_reads_above_its_own_argument() {
        let source = "Start {{title}}\n{{#each items}}{{name}} {{../unit}} {{@root.sep}} \
                      {{#each tags as |t|}}{{t}}{{../../suffix}}{{/each}}{{@index}}\n{{/each}}End\n";
        assert_eq!(
            planned(source),
            vec![vec![
                path("items"),
                path("sep"),
                path("suffix"),
                path("unit")
            ]]
        );
        let base = json!({"title": "T", "unit": "kg", "sep": ";", "suffix": "?",
            "items": [{"name": "a", "tags": ["x", "y"]}, {"name": "b", "tags": []}]});
        let both = Both::new(source);
        let first = both.render(&base).unwrap();
        assert_eq!(first, "Start T\na kg ; x?y?0\nb kg ; 1\nEnd\n");
        // Rendered plain, stored, then found (tests run on threads of their own).
        assert_eq!(HITS.get(), 1);
        // Each value the block reads changes its text; the title is outside the block.
        for (field, value) in [
            ("unit", json!("lb")),
            ("sep", json!("/")),
            ("suffix", json!("%")),
            ("items", json!([{"name": "c", "tags": ["z"]}])),
            ("title", json!("U")),
        ] {
            let mut changed = base.clone();
            changed[field] = value;
            let text = both.render(&changed).unwrap();
            assert_ne!(text, first, "{field}");
        }
        // And back: the first text again, from the table.
        assert_eq!(both.render(&base).unwrap(), first);
    }

    #[test]
    fn a_nested_path_is_read_as_far_as_objects_lead() {
        let source = "{{#if a.b}}{{#each a.b.c}}{{this}}{{/each}}{{a.d}}{{/if}}";
        assert_eq!(
            planned(source),
            vec![vec![path("a.b"), path("a.b.c"), path("a.d")]]
        );
        let both = Both::new(source);
        for context in [
            json!({"a": {"b": {"c": [1, 2]}, "d": "x"}}),
            json!({"a": {"b": {"c": [1, 3]}, "d": "x"}}),
            json!({"a": {"b": {"c": [1, 3]}, "d": "y"}}),
            json!({"a": {"b": {"c": [1, 3]}, "d": "y", "e": 1}}),
            json!({"a": {"b": {"c": {"k": 5}}, "d": "y"}}),
            json!({"a": {"b": [], "d": "y"}}),
            json!({"a": {"b": {"c": [1, 3]}}}),
        ] {
            // The missing `a.d` is an error, the same with and without the table.
            let _ = both.render(&context);
        }
        assert!(both.render(&json!({"a": {"b": {"c": [1]}}})).is_err());
    }

    #[test]
    fn blocks_with_anything_not_followed_are_rendered_as_before() {
        for source in [
            "{{#each items}}{{log name}}{{/each}}",
            "{{#each items}}{{log}}{{/each}}",
            "{{#each items}}{{shout name}}{{/each}}",
            "{{#each items}}{{../../x}}{{/each}}",
            "{{#each items}}{{#raw}}{{x}}{{/raw}}{{/each}}",
            "{{#each items}}{{#*inline \"p\"}}x{{/inline}}{{/each}}",
            "{{#each items}}{{#eq a b}}x{{/eq}}{{/each}}",
        ] {
            assert!(planned(source).is_empty(), "{source}");
        }
        // A block with no `each` is cheap to render and not worth a key.
        assert!(planned("{{#if a}}{{b}}{{/if}}").is_empty());
        assert_eq!(
            planned("{{#if a}}{{#each b}}{{c}}{{/each}}{{/if}}").len(),
            1
        );
    }

    #[test]
    fn errors_are_the_same_and_never_stored() {
        let source = "line 1\n{{#each items}}\n{{name}} {{missing}}\n{{/each}}\n";
        let context = json!({"items": [{"name": "a"}]});
        let both = Both::new(source);
        let err = both.render(&context).unwrap_err().to_string();
        assert!(
            err.contains("t.md.hbs:3:") && err.contains("missing"),
            "{err}"
        );
        let fixed = json!({"items": [{"name": "a", "missing": "m"}]});
        assert_eq!(both.render(&fixed).unwrap(), "line 1\na m\n");
        assert!(both.render(&context).is_err());
    }

    #[test]
    fn the_bundled_templates_render_the_same_for_varied_customers() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"));
        let read = |f: &str| std::fs::read_to_string(format!("{dir}/{f}")).unwrap();
        let dpa = read("templates/dpa.md.hbs");
        let plans = planned(&dpa);
        assert!(
            plans
                .iter()
                .any(|r| r.contains(&path("published.sections"))),
            "the annex table is memoised: {plans:?}"
        );
        // It reads none of the customer's own fields, so customers share it.
        assert!(
            plans.iter().flatten().all(|p| p[0] != "customer"),
            "{plans:?}"
        );
        let vendor = crate::load::vendor(format!("{dir}/fixtures/segmetrics/vendor.toml")).unwrap();
        let runs = ["annex.toml", "annex-next.toml"].map(|f| {
            let a = crate::load::annex(format!("{dir}/fixtures/segmetrics/{f}")).unwrap();
            let fingerprint = crate::annex::fingerprint(&a);
            RunContext::new(vendor.clone(), a, fingerprint)
        });
        let signing = SigningInfo {
            key_id: "4A988A749CF5D816".into(),
            issued: chrono::NaiveDate::from_ymd_opt(2026, 6, 1).unwrap(),
            verify_hint: "h".into(),
        };
        let both = Both::new(&dpa);
        let mut texts = std::collections::BTreeSet::new();
        for file in std::fs::read_dir(format!("{dir}/fixtures/customers")).unwrap() {
            let mut customer = crate::load::customer(file.unwrap().path()).unwrap();
            for features in [vec![], vec!["ai"], vec![]] {
                customer.features = features.into_iter().map(String::from).collect();
                for run in &runs {
                    let specimen = run.specimen(&customer, &signing.key_id);
                    let context = run.context(&customer, &signing, &specimen);
                    texts.insert(both.render(&context).unwrap());
                }
            }
        }
        assert!(texts.len() > 20, "{}", texts.len());
        assert!(HITS.get() > 0);
    }
}
