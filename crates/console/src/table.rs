//! Tables and paging, in USWDS's markup: a caption that says what the
//! table holds, column headers with `scope`, sortable headers as links
//! (with `aria-sort`), and a scrollable container a keyboard can reach.

use maud::{html, Markup};

/// A header cell: its text, and for a sortable column the link that sorts
/// by it and the direction it is sorted now.
pub struct Column {
    pub heading: String,
    pub numeric: bool,
    pub sort_link: Option<String>,
    /// `ascending` or `descending` when the table is sorted by it.
    pub sorted: Option<&'static str>,
}

impl Column {
    /// A column that is not sortable.
    pub fn plain(heading: impl Into<String>, numeric: bool) -> Column {
        Column {
            heading: heading.into(),
            numeric,
            sort_link: None,
            sorted: None,
        }
    }
}

pub fn table(caption: Markup, columns: &[Column], rows: &[Vec<Markup>]) -> Markup {
    html! {
        div class="usa-table-container--scrollable" tabindex="0" role="region" aria-label="Table, scrolls sideways" {
            table class="usa-table usa-table--striped usa-table--compact width-full" {
                caption { (caption) }
                thead {
                    tr {
                        @for c in columns {
                            th scope="col" aria-sort=[c.sorted] class=[c.numeric.then_some("handoff-numeric")] {
                                @if let Some(link) = &c.sort_link {
                                    a class="usa-link" href=(link) {
                                        (c.heading)
                                        @match c.sorted {
                                            Some("ascending") => span aria-hidden="true" { " ▲" },
                                            Some(_) => span aria-hidden="true" { " ▼" },
                                            None => {},
                                        }
                                        span class="usa-sr-only" { ", sort" }
                                    }
                                } @else {
                                    (c.heading)
                                }
                            }
                        }
                    }
                }
                tbody {
                    @for row in rows {
                        tr {
                            @for (cell, c) in row.iter().zip(columns) {
                                td class=[c.numeric.then_some("handoff-numeric")] { (cell) }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// "Rows 51–100 of 1,234" with previous and next links; `href(offset)`
/// links to the page at that offset.
pub fn pagination(
    offset: i64,
    shown: usize,
    total: i64,
    limit: i64,
    href: impl Fn(i64) -> String,
) -> Markup {
    let first = if shown == 0 { 0 } else { offset + 1 };
    let last = offset + shown as i64;
    html! {
        nav aria-label="Pages" class="usa-pagination" {
            p class="margin-y-1" data-total=(total) {
                "Rows " (thousands(first)) "–" (thousands(last)) " of " strong { (thousands(total)) }
            }
            ul class="usa-pagination__list" {
                @if offset > 0 {
                    li class="usa-pagination__item usa-pagination__arrow" {
                        a class="usa-pagination__link usa-pagination__previous-page" href=(href((offset - limit).max(0))) aria-label="Previous page" {
                            span class="usa-pagination__link-text" { "Previous" }
                        }
                    }
                }
                @if last < total {
                    li class="usa-pagination__item usa-pagination__arrow" {
                        a class="usa-pagination__link usa-pagination__next-page" href=(href(last)) aria-label="Next page" {
                            span class="usa-pagination__link-text" { "Next" }
                        }
                    }
                }
            }
        }
    }
}

/// 1234567 as "1,234,567".
pub fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 {
        format!("-{out}")
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn thousands_group_by_three() {
        assert_eq!(super::thousands(0), "0");
        assert_eq!(super::thousands(448_820), "448,820");
        assert_eq!(super::thousands(-1_000), "-1,000");
    }
}
