//! `--chart out.svg`: a report's numbers as grouped bars (one group per
//! row, one bar per counted column), drawn with plotters' SVG backend.
//! The "all" row is left out: it would dwarf the rest.

use std::path::Path;

use plotters::prelude::*;

use super::Table;

const PALETTE: [RGBColor; 4] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
];

#[derive(Debug, thiserror::Error)]
pub enum ChartError {
    #[error("the {0} report has no chart; leave --chart out")]
    NoChart(String),
    #[error("only SVG charts are drawn; name the file {0}.svg")]
    NotSvg(String),
    #[error("cannot draw {path}: {message}")]
    Draw { path: String, message: String },
}

/// The bars of each group: its name, and one value per counted column.
pub fn groups(table: &Table) -> Option<Vec<(String, Vec<f64>)>> {
    let (labels, values) = table.chart.as_ref()?;
    Some(
        table
            .rows
            .iter()
            .filter(|r| r[labels[0]] != "all")
            .map(|r| {
                let name = labels
                    .iter()
                    .map(|&i| r[i].as_str().map_or(r[i].to_string(), str::to_owned))
                    .collect::<Vec<_>>()
                    .join(" ");
                let bars = values
                    .iter()
                    .map(|&i| r[i].as_f64().unwrap_or(0.0))
                    .collect();
                (name, bars)
            })
            .collect(),
    )
}

pub fn draw(table: &Table, path: &Path) -> Result<(), ChartError> {
    if path.extension().and_then(|e| e.to_str()) != Some("svg") {
        let stem = path.with_extension("");
        return Err(ChartError::NotSvg(stem.display().to_string()));
    }
    let groups = groups(table).ok_or_else(|| ChartError::NoChart(table.report.clone()))?;
    let series: Vec<&str> = table.chart.as_ref().map_or(vec![], |(_, v)| {
        v.iter().map(|&i| table.columns[i].as_str()).collect()
    });
    let fail = |e: &dyn std::fmt::Display| ChartError::Draw {
        path: path.display().to_string(),
        message: e.to_string(),
    };
    let top = groups
        .iter()
        .flat_map(|(_, bars)| bars.iter().copied())
        .fold(1.0, f64::max)
        * 1.15;
    let width = (160 + 110 * groups.len() as u32).max(640);
    let root = SVGBackend::new(path, (width, 520)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| fail(&e))?;
    let mut chart = ChartBuilder::on(&root)
        .caption(&table.title, ("sans-serif", 18))
        .margin(16)
        .x_label_area_size(70)
        .y_label_area_size(80)
        .build_cartesian_2d(0f64..groups.len() as f64, 0f64..top)
        .map_err(|e| fail(&e))?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(0)
        .y_desc("count")
        .draw()
        .map_err(|e| fail(&e))?;
    let width_of_bar = 0.8 / series.len().max(1) as f64;
    for (s, name) in series.iter().enumerate() {
        let color = PALETTE[s % PALETTE.len()];
        chart
            .draw_series(groups.iter().enumerate().map(|(g, (_, bars))| {
                let left = g as f64 + 0.1 + s as f64 * width_of_bar;
                Rectangle::new(
                    [(left, 0.0), (left + width_of_bar, bars[s])],
                    color.filled(),
                )
            }))
            .map_err(|e| fail(&e))?
            .label(*name)
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 10, y + 5)], color.filled()));
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(|e| fail(&e))?;
    for (g, (name, _)) in groups.iter().enumerate() {
        let (x, y) = chart.backend_coord(&(g as f64 + 0.5, 0.0));
        root.draw(&Text::new(
            name.clone(),
            (x - 4 * name.len() as i32 / 2, y + 12),
            ("sans-serif", 13),
        ))
        .map_err(|e| fail(&e))?;
    }
    root.present().map_err(|e| fail(&e))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fta_table() -> Table {
        let mut t = Table::new(
            "fta-by-fiscal-year",
            "FTAs",
            String::new(),
            &["fiscal_year", "ftas", "followed_up"],
        );
        t.row(vec![json!("FY2020"), json!(3), json!(1)]);
        t.row(vec![json!("FY2021"), json!(5), json!(2)]);
        t.row(vec![json!("all"), json!(8), json!(3)]);
        t.chart = Some((vec![0], vec![1, 2]));
        t
    }

    #[test]
    fn one_group_of_bars_per_row_without_the_total() {
        assert_eq!(
            groups(&fta_table()).unwrap(),
            vec![
                ("FY2020".to_owned(), vec![3.0, 1.0]),
                ("FY2021".to_owned(), vec![5.0, 2.0])
            ]
        );
    }

    #[test]
    fn the_svg_names_every_group_and_series() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fta.svg");
        draw(&fta_table(), &path).unwrap();
        let svg = std::fs::read_to_string(&path).unwrap();
        for text in ["FY2020", "FY2021", "ftas", "followed_up"] {
            assert!(svg.contains(text), "{text} missing");
        }
        assert!(!svg.contains(">all<"), "the total is not drawn");
        let png = draw(&fta_table(), &dir.path().join("fta.png")).unwrap_err();
        assert!(png.to_string().contains("fta.svg"), "{png}");
    }
}
