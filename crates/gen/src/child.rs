//! One child's life across the three agencies, written into the three
//! exports as it happens: encounter and transfer (ICE), placement and
//! release (ORR), the Notice to Appear (ICE), the court case and hearings
//! (EOIR), follow-ups, address changes, safety concerns. Each decision is
//! drawn from the child's own seeded generator, so the history is the same
//! for the same seed whatever else changes.

use chrono::{Duration, NaiveDate, NaiveDateTime, NaiveTime};
use rand::seq::IndexedRandom;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde_json::json;

use crate::addresses::AddressHistory;
use crate::config::GenConfig;
use crate::pools::*;
use crate::truth::{fiscal_year, nta_age_bucket, Truth};
use crate::write::Writers;

type Io = std::io::Result<()>;

fn us_datetime(dt: NaiveDateTime) -> String {
    dt.format("%m/%d/%Y %H:%M").to_string()
}

fn us_date(d: NaiveDate) -> String {
    d.format("%m/%d/%Y").to_string()
}

fn eoir_ts(d: NaiveDate) -> String {
    d.format("%Y-%m-%d 00:00:00.000").to_string()
}

fn iso(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

fn days(rng: &mut ChaCha8Rng, lo: i64, hi: i64) -> Duration {
    Duration::days(rng.random_range(lo..=hi))
}

/// A release address: good, or blank, undeliverable, or missing its unit.
fn address(rng: &mut ChaCha8Rng, bad: Option<&str>) -> serde_json::Value {
    let (city, state, zip3) = *PLACES.choose(rng).expect("non-empty");
    let zip = format!("{zip3}{:02}", rng.random_range(0..100));
    let number = rng.random_range(10..9999);
    let multi = rng.random_bool(0.3);
    let building = *BUILDINGS.choose(rng).expect("non-empty");
    let street = *STREETS.choose(rng).expect("non-empty");
    match bad {
        Some("blank") => json!({"street": "", "unit": "", "city": "", "state": "", "zip": ""}),
        Some("undeliverable") => {
            json!({"street": format!("{number} {street}"), "unit": "", "city": city, "state": "ZZ", "zip": zip})
        }
        Some(_) => {
            json!({"street": format!("{number} {building}"), "unit": "", "city": city, "state": state, "zip": zip})
        }
        None if multi => {
            json!({"street": format!("{number} {building}"), "unit": format!("Apt {}", rng.random_range(1..40)), "city": city, "state": state, "zip": zip})
        }
        None => {
            json!({"street": format!("{number} {street}"), "unit": "", "city": city, "state": state, "zip": zip})
        }
    }
}

fn text(v: &serde_json::Value, k: &str) -> String {
    v[k].as_str().unwrap_or_default().to_owned()
}

/// Everything ICE's case_actions file needs for one row.
#[derive(Default)]
struct Action<'a> {
    id: String,
    system: &'a str,
    kind: &'a str,
    date: String,
    nta: String,
    method: &'a str,
    address: Option<&'a serde_json::Value>,
    court: &'a str,
    aor: &'a str,
    category: &'a str,
    severity: &'a str,
    schedule: String,
    hearing: String,
    outcome: &'a str,
}

pub fn generate(
    i: u64,
    cfg: &GenConfig,
    rng: &mut ChaCha8Rng,
    w: &mut Writers,
    t: &mut Truth,
) -> Io {
    let rates = &cfg.rates;
    let a = format!("A{:09}", 200_000_000 + i);
    let sep = rng.random_bool(w.a_number_separators());
    if sep {
        t.faults.a_numbers_with_separators += 1;
    }
    let a_written = if sep {
        format!("A-{}-{}-{}", &a[1..4], &a[4..7], &a[7..])
    } else {
        a.clone()
    };
    let subject = format!("S-{i}");
    let as_of = cfg.as_of;
    t.facts.children += 1;

    // ICE: encounter and book-out to ORR.
    let span = (cfg.to - cfg.from).num_days();
    let encountered = cfg.from + days(rng, 0, span);
    let enc_at = encountered.and_time(
        NaiveTime::from_hms_opt(rng.random_range(0..24), rng.random_range(0..60), 0)
            .expect("valid time"),
    );
    let aor = *AORS.choose(rng).expect("non-empty");
    let birth = encountered - days(rng, 6 * 365, 17 * 365);
    let book_out = enc_at + Duration::hours(rng.random_range(20..=71));
    let facility = *FACILITIES.choose(rng).expect("non-empty");
    let row = vec![
        subject.clone(),
        a_written.clone(),
        format!("E-{i}"),
        us_datetime(enc_at),
        aor.to_owned(),
        "Y".to_owned(),
        us_date(birth),
        (*COUNTRIES.choose(rng).expect("non-empty")).to_owned(),
        (if rng.random_bool(0.5) { "F" } else { "M" }).to_owned(),
        us_datetime(book_out),
        "TRANSFERRED TO ORR".to_owned(),
        facility.to_owned(),
    ];
    w.encounter(rng, t, &row, 2)?;
    t.facts.encounters += 1;
    t.facts.transfers_to_orr += 1;

    // ORR: placement, then release or another way out of care.
    let orr_case = format!("ORR-{i}");
    let hhs = |kind: &str, id: &str, date: NaiveDate| json!({"record_type": kind, "record_id": id, "orr_case_number": orr_case, "a_number": a_written, "event_date": iso(date)});
    let mut placement = hhs("placement", &format!("P{i}"), book_out.date());
    placement["facility_id"] = facility.into();
    placement["placement_type"] = (*PLACEMENT_TYPES.choose(rng).expect("non-empty")).into();
    w.uc_path(rng, t, &placement)?;
    t.facts.placements += 1;
    if rng.random_bool(w.unmatched_a_number()) {
        // The same placement keyed in again under a mistyped A-number: a
        // child only ORR's records know.
        let typo = format!("A{:09}", 900_000_000 + i);
        let mut orphan = placement.clone();
        orphan["a_number"] = typo.into();
        orphan["record_id"] = format!("P{i}-typo").into();
        w.uc_path(rng, t, &orphan)?;
        t.facts.placements += 1;
        t.faults.unmatched_a_numbers += 1;
        t.facts.single_agency_a_numbers += 1;
    }

    if !rng.random_bool(rates.released) {
        let roll: f64 = rng.random();
        let (reason, key) = if roll < 0.6 {
            ("Aged Out", "AGED_OUT")
        } else if roll < 0.85 {
            ("Runaway", "RAN_AWAY")
        } else {
            ("Other", "OTHER")
        };
        let mut discharge = hhs(
            "discharge",
            &format!("D{i}"),
            book_out.date() + days(rng, 30, 200),
        );
        discharge["reason"] = reason.into();
        w.uc_path(rng, t, &discharge)?;
        *t.facts.left_care.entry(key.to_owned()).or_default() += 1;
        return Ok(());
    }

    let released = book_out.date() + days(rng, 15, 75);
    let roll: f64 = rng.random();
    let category = if roll < 0.45 {
        "1"
    } else if roll < 0.75 {
        "2A"
    } else if roll < 0.9 {
        "2B"
    } else {
        "3"
    };
    let relationship = RELATIONSHIPS
        .iter()
        .find(|(c, _)| *c == category)
        .map(|(_, r)| *r.choose(rng).expect("non-empty"))
        .unwrap_or("Other");
    let bad = rng.random_bool(rates.bad_release_address).then(|| {
        let r: f64 = rng.random();
        if r < 2.0 / 7.0 {
            "blank"
        } else if r < 4.0 / 7.0 {
            "undeliverable"
        } else {
            "missing_secondary_unit"
        }
    });
    let home = address(rng, bad);
    let mut release = hhs("release", &format!("R{i}"), released);
    release["sponsor"] = json!({"sponsor_id": format!("SP-{i}"), "category": category, "relationship": relationship, "address": home});
    release["sca_signed"] = true.into();
    w.uc_path(rng, t, &release)?;
    t.facts.releases += 1;
    *t.facts
        .releases_by_category
        .entry(format!("CAT_{category}"))
        .or_default() += 1;
    if let Some(kind) = bad {
        *t.facts
            .bad_release_addresses
            .entry(kind.to_owned())
            .or_default() += 1;
    }
    let call = released + Duration::days(30);
    if call <= as_of {
        let mut record = hhs("wellbeing_call", &format!("W{i}"), call);
        record["reached"] = rng.random_bool(0.85).into();
        record["attempt"] = 1.into();
        w.uc_path(rng, t, &record)?;
        t.facts.wellbeing_calls += 1;
    }

    // ICE: the Notice to Appear.
    let nta = format!("NTA-{i}");
    let mut actions: Vec<Action> = Vec::new();
    let never_served = rng.random_bool(rates.nta_never_served);
    let issued = if never_served {
        rng.random_bool(rates.nta_issued_not_served)
            .then(|| released + days(rng, 10, 300))
    } else {
        Some(released + days(rng, 10, 200))
    };
    let issued = issued.filter(|d| *d <= as_of);
    let served = issued
        .filter(|_| !never_served)
        .map(|d| d + days(rng, 0, 60))
        .filter(|d| *d <= as_of);
    let filed = served.map(|d| d + days(rng, 5, 30)).filter(|d| *d <= as_of);
    let served_aor = *AORS.choose(rng).expect("non-empty");
    let court = *COURTS.choose(rng).expect("non-empty");
    if let Some(d) = issued {
        actions.push(Action {
            id: format!("N{i}-1"),
            kind: "NTA_ISSUED",
            date: us_date(d),
            nta: nta.clone(),
            ..Default::default()
        });
        t.facts.nta_issued += 1;
    }
    if let Some(d) = served {
        let mail = rng.random_bool(0.7);
        actions.push(Action {
            id: format!("N{i}-2"),
            kind: "NTA_SERVED",
            date: us_date(d),
            nta: nta.clone(),
            method: if mail { "MAIL" } else { "PERSONAL" },
            address: Some(&home),
            ..Default::default()
        });
        actions.push(Action {
            id: format!("N{i}-4"),
            kind: "AOR_ASSIGNED",
            date: us_date(d),
            aor: served_aor,
            ..Default::default()
        });
        t.facts.nta_served += 1;
    } else {
        t.facts.released_without_served_nta += 1;
        let days = (as_of - released).num_days() + 1;
        *t.facts
            .nta_backlog_by_days_since_release
            .entry(nta_age_bucket(days).to_owned())
            .or_default() += 1;
    }
    if let Some(d) = filed {
        actions.push(Action {
            id: format!("N{i}-3"),
            kind: "NTA_FILED",
            date: us_date(d),
            nta: nta.clone(),
            court,
            ..Default::default()
        });
        t.facts.nta_filed += 1;
    }

    // Address change after release: reported to ORR, EOIR (EOIR-33) or ICE.
    let change = rng.random_bool(rates.address_change).then(|| {
        let r: f64 = rng.random();
        let agency = if r < 0.5 {
            "HHS_ORR"
        } else if r < 0.8 {
            "DOJ_EOIR"
        } else {
            "ICE"
        };
        (agency, released + days(rng, 60, 500), address(rng, None))
    });
    // Never on the day ICE serves the NTA: "the most recent address" of a
    // child is then never a tie (see addresses.rs).
    let change = change.map(|(agency, d, addr)| {
        let d = if Some(d) == served {
            d + Duration::days(1)
        } else {
            d
        };
        (agency, d, addr)
    });
    let change = change.filter(|(_, d, _)| *d <= as_of);
    let change = change.map(|(agency, d, addr)| {
        if agency == "DOJ_EOIR" && filed.is_none_or(|f| f > d) {
            ("HHS_ORR", d, addr)
        } else {
            (agency, d, addr)
        }
    });
    if let (Some(("ICE", d, addr)), Some(s)) = (&change, served) {
        if *d <= s {
            // ICE serves the notice to the address it holds by then.
            if let Some(a) = actions.iter_mut().find(|a| a.kind == "NTA_SERVED") {
                a.address = Some(addr);
            }
        }
    }
    let history = AddressHistory {
        released,
        home_finding: bad,
        served,
        change: change.as_ref().map(|(agency, d, _)| (*agency, *d)),
    };
    if history.agencies_disagree() {
        t.facts.address_disagreements += 1;
    }
    if let Some(finding) = history.latest_finding() {
        *t.facts
            .bad_latest_addresses
            .entry(finding.to_owned())
            .or_default() += 1;
    }
    if served.is_none() && released + Duration::days(60) <= as_of {
        t.facts.released_without_served_nta_over_60_days += 1;
    }
    if let Some((agency, d, addr)) = &change {
        *t.facts
            .address_changes
            .entry((*agency).to_owned())
            .or_default() += 1;
        match *agency {
            "HHS_ORR" => {
                let mut record = hhs("sponsor_address_update", &format!("U{i}"), *d);
                record["address"] = addr.clone();
                record["reported_by"] = "SPONSOR".into();
                w.uc_path(rng, t, &record)?;
            }
            "ICE" => actions.push(Action {
                id: format!("N{i}-5"),
                kind: "ADDRESS_UPDATE",
                date: us_date(*d),
                address: Some(addr),
                ..Default::default()
            }),
            _ => {} // EOIR: written into the case row below.
        }
    }

    if rng.random_bool(rates.safety_concern) {
        let d = released + days(rng, 30, 300);
        if d <= as_of {
            let category = *[
                "TRAFFICKING",
                "EXPLOITATION",
                "FORCED_LABOR",
                "ABUSE_OR_NEGLECT",
                "SPONSOR_CONCERN",
            ]
            .choose(rng)
            .expect("non-empty");
            actions.push(Action {
                id: format!("N{i}-6"),
                kind: "SAFETY_CONCERN",
                date: us_date(d),
                aor: served_aor,
                category,
                severity: ["MEDIUM", "HIGH", "CRITICAL"]
                    .choose(rng)
                    .expect("non-empty"),
                ..Default::default()
            });
            t.facts.safety_concerns += 1;
        }
    }

    // EOIR: the case, its hearings and outcomes.
    if let Some(filed) = filed {
        eoir_case(
            i,
            cfg,
            rng,
            w,
            t,
            &a,
            &home,
            filed,
            issued.expect("filed NTAs were issued"),
            court,
            served_aor,
            change
                .as_ref()
                .filter(|c| c.0 == "DOJ_EOIR")
                .map(|c| (c.1, &c.2)),
            &mut actions,
        )?;
    }

    for (n, action) in actions.iter().enumerate() {
        let addr = action.address;
        let row = vec![
            if action.id.is_empty() {
                format!("N{i}-x{n}")
            } else {
                action.id.clone()
            },
            (if action.system.is_empty() {
                "EARM"
            } else {
                action.system
            })
            .to_owned(),
            subject.clone(),
            a_written.clone(),
            action.kind.to_owned(),
            action.date.clone(),
            action.nta.clone(),
            action.method.to_owned(),
            addr.map(|v| text(v, "street")).unwrap_or_default(),
            addr.map(|v| text(v, "unit")).unwrap_or_default(),
            addr.map(|v| text(v, "city")).unwrap_or_default(),
            addr.map(|v| text(v, "state")).unwrap_or_default(),
            addr.map(|v| text(v, "zip")).unwrap_or_default(),
            action.court.to_owned(),
            action.aor.to_owned(),
            action.category.to_owned(),
            action.severity.to_owned(),
            action.schedule.clone(),
            action.hearing.clone(),
            action.outcome.to_owned(),
        ];
        w.case_action(rng, t, &row)?;
    }
    Ok(())
}

/// One hearing slot as planned.
struct Hearing {
    id: u64,
    at: NaiveDateTime,
    calendar: &'static str,
    adjourned: Option<&'static str>,
    appearance: &'static str,
    represented: bool,
}

#[allow(clippy::too_many_arguments)]
fn eoir_case<'a>(
    i: u64,
    cfg: &GenConfig,
    rng: &mut ChaCha8Rng,
    w: &mut Writers,
    t: &mut Truth,
    a: &str,
    home: &serde_json::Value,
    filed: NaiveDate,
    issued: NaiveDate,
    court: &'static str,
    aor: &'static str,
    eoir_change: Option<(NaiveDate, &serde_json::Value)>,
    actions: &mut Vec<Action<'a>>,
) -> Io {
    let rates = &cfg.rates;
    let as_of = cfg.as_of;
    let idncase = 1_000_000 + i;
    let idnproc = 2_000_000 + i;
    t.facts.eoir_cases += 1;

    // Plan the hearings: a master calendar hearing, then more.
    let count = rng.random_range(1..=4);
    let mut at = filed + days(rng, 30, 120);
    let mut hearings = Vec::new();
    for n in 0..count {
        let time = NaiveTime::from_hms_opt(
            rng.random_range(8..15),
            if rng.random_bool(0.5) { 0 } else { 30 },
            0,
        )
        .expect("valid time");
        hearings.push(Hearing {
            id: 3_000_000_000 + i * 8 + n,
            at: at.and_time(time),
            calendar: if n == 0 { "M" } else { "I" },
            adjourned: None,
            appearance: "",
            represented: rng.random_bool(0.4),
        });
        at += days(rng, 30, 150);
    }
    let past: Vec<usize> = (0..hearings.len())
        .filter(|&n| hearings[n].at.date() <= as_of)
        .collect();
    let fta = !past.is_empty() && rng.random_bool(rates.fta);
    let fta_at = fta.then(|| *past.choose(rng).expect("non-empty"));
    let absentia = fta && rng.random_bool(rates.in_absentia);
    if let (Some(k), true) = (fta_at, absentia) {
        hearings.truncate(k + 1); // the order ends the case
    }
    let mut ftas: Vec<(u64, NaiveDateTime)> = Vec::new();
    for (n, h) in hearings.iter_mut().enumerate() {
        if h.at.date() > as_of {
            continue; // scheduled, not yet held
        }
        if Some(n) == fta_at {
            if !absentia {
                h.appearance = "F";
                h.adjourned = Some(ADJ_FTA_CONTINUED);
            }
            ftas.push((h.id, h.at));
        } else if rng.random_bool(rates.hearing_without_outcome) {
            t.facts.hearings_without_outcome += 1;
        } else if rng.random_bool(0.1) {
            h.adjourned = Some(*ADJ_REASONS.choose(rng).expect("non-empty"));
        } else {
            h.appearance = "P";
        }
    }
    let last_past = hearings
        .iter()
        .rev()
        .find(|h| h.at.date() <= as_of)
        .map(|h| h.at.date());
    let completed = if absentia {
        Some((
            "X",
            fta_at
                .map(|k| hearings[k].at.date())
                .expect("absentia has an FTA"),
        ))
    } else if fta_at.is_none()
        && last_past.is_some()
        && hearings.iter().all(|h| h.at.date() <= as_of)
        && rng.random_bool(0.4)
    {
        Some((
            *DECISIONS.choose(rng).expect("non-empty"),
            last_past.expect("checked"),
        ))
    } else {
        None
    };
    let venue = rng.random_bool(0.05).then(|| {
        (
            *COURTS.choose(rng).expect("non-empty"),
            filed + days(rng, 10, 25),
        )
    });

    // The case row (with an EOIR-33 address change, if any).
    let (mut upd, mut changed_on) = (vec![String::new(); 5], String::new());
    if let Some((d, addr)) = eoir_change {
        upd = vec![
            text(addr, "street"),
            text(addr, "unit"),
            text(addr, "city"),
            text(addr, "state"),
            text(addr, "zip"),
        ];
        changed_on = eoir_ts(d);
    }
    let latest = hearings.last().expect("at least one hearing");
    let mut case_row = vec![
        idncase.to_string(),
        a.to_owned(),
        text(home, "city"),
        text(home, "state"),
        text(home, "zip"),
    ];
    case_row.extend(upd);
    case_row.extend([
        changed_on,
        (*COUNTRIES.choose(rng).expect("non-empty")).to_owned(),
        "SP".to_owned(),
        "R".to_owned(),
        "RMV".to_owned(),
        eoir_ts(latest.at.date()),
        latest.at.format("%H%M").to_string(),
        latest.calendar.to_owned(),
        eoir_ts(filed - Duration::days(5000)),
        eoir_ts(filed - Duration::days(200)),
        "F".to_owned(),
        String::new(),
        String::new(),
        String::new(),
    ]);
    w.eoir_case(rng, t, case_row, u64::from(eoir_change.is_some()))?;

    // The proceeding.
    let (absentia_flag, hearing_date, hearing_time) = match (absentia, fta_at) {
        (true, Some(k)) => (
            "Y",
            eoir_ts(hearings[k].at.date()),
            hearings[k].at.format("%H%M").to_string(),
        ),
        _ => ("N", String::new(), String::new()),
    };
    let proc_row = vec![
        // The export sometimes types the letter O for zero in ids.
        if i.is_multiple_of(97) {
            idnproc.to_string().replace('0', "O")
        } else {
            idnproc.to_string()
        },
        idncase.to_string(),
        a.to_owned(),
        eoir_ts(issued),
        eoir_ts(filed),
        court.to_owned(),
        court.to_owned(),
        format!("IJ{}", rng.random_range(1..60)),
        venue.map(|(_, d)| eoir_ts(d)).unwrap_or_default(),
        hearing_date,
        hearing_time,
        completed.map(|_| "O".to_owned()).unwrap_or_default(),
        completed.map(|(c, _)| c.to_owned()).unwrap_or_default(),
        String::new(),
        completed.map(|(_, d)| eoir_ts(d)).unwrap_or_default(),
        absentia_flag.to_owned(),
        venue.map(|(c, _)| c.to_owned()).unwrap_or_default(),
        "RMV".to_owned(),
    ];
    let proc_events = 1
        + u64::from(venue.is_some())
        + if absentia { 2 } else { 0 }
        + u64::from(completed.is_some());
    w.eoir_proceeding(rng, t, &proc_row, proc_events)?;
    if venue.is_some() {
        t.facts.venue_changes += 1;
    }
    if completed.is_some() {
        t.facts.cases_completed += 1;
    }
    if absentia {
        t.facts.in_absentia_orders += 1;
        let day = fta_at
            .map(|k| hearings[k].at.date())
            .expect("absentia has an FTA");
        *t.facts
            .in_absentia_by_fiscal_year
            .entry(fiscal_year(day).to_string())
            .or_default() += 1;
    }

    // The schedule.
    for (n, h) in hearings.iter().enumerate() {
        let time = match n % 3 {
            0 => h.at.format("%H%M").to_string(),
            1 => h.at.format("%-H:%M").to_string(),
            _ => h.at.format("%-H%M").to_string(),
        };
        let row = vec![
            h.id.to_string(),
            idnproc.to_string(),
            idncase.to_string(),
            a.to_owned(),
            h.calendar.to_owned(),
            eoir_ts(h.at.date()),
            time,
            String::new(),
            h.adjourned.unwrap_or_default().to_owned(),
            "IP".to_owned(),
            String::new(),
            court.to_owned(),
            "IJ1".to_owned(),
            "N".to_owned(),
            "1".to_owned(),
            eoir_ts(filed),
            h.appearance.to_owned(),
            (if h.represented { "Y" } else { "N" }).to_owned(),
        ];
        let events = 1 + u64::from(h.adjourned.is_some()) + u64::from(!h.appearance.is_empty());
        w.eoir_schedule(rng, t, &row, events)?;
        t.facts.hearings_scheduled += 1;
        if h.adjourned.is_some() {
            t.facts.hearings_adjourned += 1;
        }
        if h.appearance == "P" {
            t.facts.hearings_attended += 1;
            // OPLA records the outcome too, now and then wrongly as an FTA.
            let wrong = rng.random_bool(rates.opla_false_fta);
            if wrong {
                t.facts.opla_fta_missing_in_eoir += 1;
            }
            actions.push(Action {
                id: format!("O{}", h.id),
                system: "PLANET",
                kind: "HEARING_OUTCOME",
                date: us_date(h.at.date()),
                court,
                schedule: h.id.to_string(),
                hearing: us_datetime(h.at),
                outcome: if wrong {
                    "FAILED_TO_APPEAR"
                } else {
                    "ATTENDED"
                },
                ..Default::default()
            });
        }
    }
    w.eoir_juvenile(
        t,
        &[
            (4_000_000 + i).to_string(),
            idncase.to_string(),
            idnproc.to_string(),
            "1".to_owned(),
        ],
    )?;

    // Failures to appear: OPLA's record, ERO's follow-up, ORR's services.
    if !ftas.is_empty() {
        t.facts.fta_children += 1;
    }
    for (n, (schedule_id, at)) in ftas.iter().enumerate() {
        t.facts.fta_events += 1;
        *t.facts
            .fta_by_fiscal_year
            .entry(fiscal_year(at.date()).to_string())
            .or_default() += 1;
        if rng.random_bool(rates.opla_missing_fta) {
            t.facts.eoir_fta_missing_in_opla += 1;
        } else {
            actions.push(Action {
                id: format!("O{schedule_id}"),
                system: "PLANET",
                kind: "HEARING_OUTCOME",
                date: us_date(at.date()),
                court,
                schedule: schedule_id.to_string(),
                hearing: us_datetime(*at),
                outcome: "FAILED_TO_APPEAR",
                ..Default::default()
            });
        }
        let follow = at.date() + days(rng, 3, 20);
        if rng.random_bool(rates.ero_follow_up) && follow <= as_of {
            actions.push(Action {
                id: format!("F{schedule_id}"),
                kind: "FTA_FOLLOW_UP",
                date: us_date(follow),
                aor,
                schedule: schedule_id.to_string(),
                hearing: us_datetime(*at),
                outcome: [
                    "LOCATED",
                    "NOT_LOCATED",
                    "CONTACT_ATTEMPTED",
                    "REFERRED_TO_ORR",
                ]
                .choose(rng)
                .expect("non-empty"),
                ..Default::default()
            });
            t.facts.fta_follow_ups += 1;
            *t.facts
                .fta_follow_ups_by_fiscal_year
                .entry(fiscal_year(at.date()).to_string())
                .or_default() += 1;
        } else {
            t.facts.ftas_without_follow_up += 1;
        }
        if n == 0 && rng.random_bool(0.5) {
            let d = at.date() + days(rng, 2, 10);
            if d <= as_of {
                let record = json!({"record_type": "prs_start", "record_id": format!("PRS{i}"), "orr_case_number": format!("ORR-{i}"), "a_number": a, "event_date": iso(d), "provider": "PRS-PROVIDER-1", "reason": "FTA_REFERRAL"});
                w.uc_path(rng, t, &record)?;
                t.facts.post_release_services += 1;
            }
        }
    }
    Ok(())
}
