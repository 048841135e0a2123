//! Where each customer stands: the latest list issued, the latest list accepted and how,
//! objections, running notice periods.
//!
//! In: the register's issued rows and events, and the day to answer for (`as_of`). Out:
//! a [`Report`], derived from those alone, so the same register and day give the same
//! answer. Nothing dated after `as_of` counts (documents issued, acceptances signed or
//! recorded, objections received).
//!
//! A change notice's list is deemed approved from the day after its deadline when no
//! objection was received by the deadline; until the deadline it is pending. An explicit
//! acceptance (countersigned or manual) counts from its day.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::Serialize;

use crate::compose::Kind;
use crate::register::{Acceptance, Event, EventRow, Method, Row, Signer};

/// The state of one list version for one customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Countersigned or recorded manually.
    Accepted,
    /// The notice period ended without an objection.
    DeemedApproved,
    /// An objection was received by the deadline.
    Objected,
    /// A change notice whose period is still running.
    NoticeRunning,
    /// Issued, neither accepted nor objected, and no notice period applies.
    AwaitingSignature,
}

/// One list version issued to a customer and where it stands.
#[derive(Debug, Clone, Serialize)]
pub struct Version {
    pub annex_version: String,
    /// The newest document issued with it: `dpa` or `notice`.
    pub kind: String,
    /// Its register id and issue day.
    pub issued_id: i64,
    pub issued: String,
    pub state: State,
    /// A change notice's objection deadline.
    pub deadline: Option<String>,
    /// How it was accepted (`accepted` and `deemed_approved` only).
    pub acceptance: Option<How>,
    /// The objection received by the deadline, if any.
    pub objection: Option<Objected>,
    /// A later version issued to the customer, which replaces this one.
    pub superseded_by: Option<String>,
}

/// How a version was accepted.
#[derive(Debug, Clone, Serialize)]
pub struct How {
    /// `countersigned`, `manual` or `deemed`.
    pub method: String,
    /// The day from which it counts.
    pub on: String,
    /// The acceptance's register id (none for deemed approval).
    pub record_id: Option<i64>,
    /// Countersigned: the customer's signatures (certificates not checked unless a
    /// trusted root was given when accepting: see `trusted_root`).
    pub signers: Vec<Signer>,
    /// Manual: who was recorded as accepting, and the note.
    pub by: Option<String>,
    pub note: Option<String>,
    /// Manual acceptances are not linked to the issued bytes.
    pub linked: bool,
    pub evidence: Option<String>,
}

/// An objection that counts.
#[derive(Debug, Clone, Serialize)]
pub struct Objected {
    pub record_id: i64,
    pub received: String,
    pub note: Option<String>,
}

/// Where one customer stands.
#[derive(Debug, Clone, Serialize)]
pub struct Customer {
    pub customer_id: String,
    /// The latest version issued to them.
    pub latest_issued: Option<Version>,
    /// The latest version they accepted (explicitly or deemed), if any.
    pub latest_accepted: Option<Version>,
    /// An objection to their latest version, not followed by an acceptance of it.
    pub open_objection: Option<Objected>,
    /// The deadline of a notice period still running on the as-of day.
    pub notice_running_until: Option<String>,
    /// Every version issued to them, oldest first.
    pub versions: Vec<Version>,
}

/// The answer for every customer (or one) on one day.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub as_of: String,
    /// Where the as-of day came from: `--as-of` or `today`.
    pub as_of_from: String,
    pub customers: Vec<Customer>,
    /// Customers with no accepted version at all.
    pub without_acceptance: Vec<String>,
}

fn day(text: &str) -> Option<NaiveDate> {
    text.parse().ok()
}

/// Derives the report from the register's rows and events as of `as_of`.
pub fn report(rows: &[Row], events: &[EventRow], as_of: NaiveDate, as_of_from: &str) -> Report {
    let not_later = |text: &str| day(text).is_some_and(|d| d <= as_of);
    let mut by_customer: BTreeMap<&str, Vec<&Row>> = BTreeMap::new();
    for row in rows.iter().filter(|r| not_later(&r.record.issued)) {
        by_customer
            .entry(row.record.customer_id.as_str())
            .or_default()
            .push(row);
    }
    let mut customers = Vec::new();
    for (id, rows) in by_customer {
        // One entry per version, in the order first issued; the newest row of it counts.
        let mut order: Vec<&str> = Vec::new();
        let mut newest: BTreeMap<&str, &Row> = BTreeMap::new();
        for row in &rows {
            let v = row.record.annex_version.as_str();
            if !order.contains(&v) {
                order.push(v);
            }
            newest.insert(v, row);
        }
        let mut versions: Vec<Version> = Vec::new();
        for (i, v) in order.iter().enumerate() {
            let row = newest[v];
            // A notice's deadline comes from the notice row even if a DPA was issued after.
            let deadline = rows
                .iter()
                .filter(|r| r.record.annex_version == *v && r.record.kind == Kind::Notice)
                .find_map(|r| r.record.deadline.clone());
            let acceptance = events.iter().rev().find_map(|e| match &e.event {
                Event::Accepted(a)
                    if a.customer_id == id
                        && a.annex_version == *v
                        && not_later(&a.accepted_on) =>
                {
                    Some((e.id, a))
                }
                _ => None,
            });
            let objection = events.iter().find_map(|e| match &e.event {
                Event::Objected(o)
                    if o.customer_id == id
                        && o.annex_version == *v
                        && not_later(&o.received)
                        && deadline
                            .as_deref()
                            .is_none_or(|d| day(&o.received) <= day(d)) =>
                {
                    Some(Objected {
                        record_id: e.id,
                        received: o.received.clone(),
                        note: o.note.clone(),
                    })
                }
                _ => None,
            });
            let deadline_day = deadline.as_deref().and_then(day);
            let (state, how) = if let Some((rid, a)) = acceptance {
                (State::Accepted, Some(explicit(rid, a)))
            } else if objection.is_some() {
                (State::Objected, None)
            } else if let Some(d) = deadline_day {
                if as_of > d {
                    let on = d.succ_opt().unwrap_or(d).to_string();
                    (State::DeemedApproved, Some(deemed(on)))
                } else {
                    (State::NoticeRunning, None)
                }
            } else {
                (State::AwaitingSignature, None)
            };
            versions.push(Version {
                annex_version: v.to_string(),
                kind: row.record.kind.as_str().to_string(),
                issued_id: row.id,
                issued: row.record.issued.clone(),
                state,
                deadline,
                acceptance: how,
                objection,
                superseded_by: order.get(i + 1).map(|s| s.to_string()),
            });
        }
        let latest_issued = versions.last().cloned();
        let latest_accepted = versions
            .iter()
            .rev()
            .find(|v| matches!(v.state, State::Accepted | State::DeemedApproved))
            .cloned();
        let open_objection = latest_issued
            .as_ref()
            .filter(|v| v.state == State::Objected)
            .and_then(|v| v.objection.clone());
        let notice_running_until = versions
            .iter()
            .rev()
            .find(|v| v.state == State::NoticeRunning)
            .and_then(|v| v.deadline.clone());
        customers.push(Customer {
            customer_id: id.to_string(),
            latest_issued,
            latest_accepted,
            open_objection,
            notice_running_until,
            versions,
        });
    }
    let without_acceptance = customers
        .iter()
        .filter(|c| c.latest_accepted.is_none())
        .map(|c| c.customer_id.clone())
        .collect();
    Report {
        as_of: as_of.to_string(),
        as_of_from: as_of_from.to_string(),
        customers,
        without_acceptance,
    }
}

fn explicit(id: i64, a: &Acceptance) -> How {
    How {
        method: a.method.as_str().to_string(),
        on: a.accepted_on.clone(),
        record_id: Some(id),
        signers: a.signers.clone(),
        by: a.by.clone(),
        note: a.note.clone(),
        linked: a.linked && a.method == Method::Countersigned,
        evidence: Some(a.evidence.clone()),
    }
}

fn deemed(on: String) -> How {
    How {
        method: "deemed".into(),
        on,
        record_id: None,
        signers: Vec::new(),
        by: None,
        note: None,
        linked: false,
        evidence: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::register::{Objection, Record};

    fn row(id: i64, kind: Kind, version: &str, issued: &str, deadline: Option<&str>) -> Row {
        Row {
            id,
            record: Record {
                customer_id: "acme".into(),
                kind,
                annex_version: version.into(),
                annex_sha256: String::new(),
                template_sha256: String::new(),
                inputs_sha256: String::new(),
                pdf_sha256: String::new(),
                key_id: String::new(),
                issued: issued.into(),
                path: "acme/x.pdf".into(),
                files: Vec::new(),
                deadline: deadline.map(Into::into),
            },
            hash: String::new(),
        }
    }

    fn on(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    #[test]
    fn a_notice_is_pending_until_its_deadline_and_deemed_approved_the_day_after() {
        let rows = [
            row(1, Kind::Dpa, "v1", "2026-06-01", None),
            row(2, Kind::Notice, "v2", "2026-06-10", Some("2026-07-10")),
        ];
        let before = report(&rows, &[], on("2026-07-10"), "--as-of");
        let c = &before.customers[0];
        assert_eq!(c.versions[1].state, State::NoticeRunning);
        assert_eq!(c.notice_running_until.as_deref(), Some("2026-07-10"));
        assert_eq!(before.without_acceptance, vec!["acme".to_string()]);
        let after = report(&rows, &[], on("2026-07-11"), "--as-of");
        let c = &after.customers[0];
        assert_eq!(c.versions[1].state, State::DeemedApproved);
        let how = c
            .latest_accepted
            .as_ref()
            .unwrap()
            .acceptance
            .clone()
            .unwrap();
        assert_eq!(
            (how.method.as_str(), how.on.as_str()),
            ("deemed", "2026-07-11")
        );
        assert_eq!(c.notice_running_until, None);
        // Before the notice was issued, it does not exist.
        let earlier = report(&rows, &[], on("2026-06-05"), "--as-of");
        assert_eq!(earlier.customers[0].versions.len(), 1);
    }

    #[test]
    fn an_objection_by_the_deadline_stops_deemed_approval() {
        let rows = [row(2, Kind::Notice, "v2", "2026-06-10", Some("2026-07-10"))];
        let objection = |received: &str| EventRow {
            id: 3,
            event: Event::Objected(Objection {
                customer_id: "acme".into(),
                annex_version: "v2".into(),
                received: received.into(),
                note: None,
            }),
            hash: String::new(),
        };
        let r = report(
            &rows,
            &[objection("2026-07-01")],
            on("2026-08-01"),
            "--as-of",
        );
        assert_eq!(r.customers[0].versions[0].state, State::Objected);
        assert!(r.customers[0].open_objection.is_some());
        // One received after the deadline is late: the list was deemed approved.
        let r = report(
            &rows,
            &[objection("2026-07-20")],
            on("2026-08-01"),
            "--as-of",
        );
        assert_eq!(r.customers[0].versions[0].state, State::DeemedApproved);
        // One received after the as-of day does not count yet.
        let r = report(
            &rows,
            &[objection("2026-07-01")],
            on("2026-06-20"),
            "--as-of",
        );
        assert_eq!(r.customers[0].versions[0].state, State::NoticeRunning);
    }
}
