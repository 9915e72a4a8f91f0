//! A small table model rendered two ways: aligned plain text for the terminal and a Markdown
//! table for `report.md`, so both always show the same cells.

/// How a column's cells line up in the text rendering.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    /// Names.
    Left,
    /// Numbers.
    Right,
}

/// Headers, alignments and rows of text cells.
#[derive(Debug, Clone, Default)]
pub struct Table {
    columns: Vec<(String, Align)>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these columns.
    pub fn new(columns: &[(&str, Align)]) -> Table {
        Table {
            columns: columns
                .iter()
                .map(|(name, align)| (name.to_string(), *align))
                .collect(),
            rows: Vec::new(),
        }
    }

    /// Append a row (missing cells render empty, extra cells are dropped).
    pub fn push(&mut self, mut row: Vec<String>) {
        row.resize(self.columns.len(), String::new());
        self.rows.push(row);
    }

    /// Columns separated by two spaces, padded to the widest cell, with a dashed rule under
    /// the header; no trailing spaces.
    pub fn render_text(&self) -> String {
        let widths: Vec<usize> = self
            .columns
            .iter()
            .enumerate()
            .map(|(index, (name, _))| {
                self.rows
                    .iter()
                    .map(|row| row[index].chars().count())
                    .chain([name.chars().count()])
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let mut out = String::new();
        let header: Vec<String> = self.columns.iter().map(|(name, _)| name.clone()).collect();
        let rule: Vec<String> = widths.iter().map(|width| "-".repeat(*width)).collect();
        for row in [&header, &rule].into_iter().chain(&self.rows) {
            let cells: Vec<String> = row
                .iter()
                .zip(&self.columns)
                .zip(&widths)
                .map(|((cell, (_, align)), width)| match align {
                    Align::Left => format!("{cell:<width$}"),
                    Align::Right => format!("{cell:>width$}"),
                })
                .collect();
            out.push_str(cells.join("  ").trim_end());
            out.push('\n');
        }
        out
    }

    /// A GitHub-flavoured Markdown table (pipes in cells escaped).
    pub fn render_markdown(&self) -> String {
        let escape = |cell: &str| cell.replace('|', "\\|");
        let mut out = String::new();
        let line = |cells: Vec<String>| format!("| {} |\n", cells.join(" | "));
        out.push_str(&line(
            self.columns.iter().map(|(name, _)| escape(name)).collect(),
        ));
        out.push_str(&line(
            self.columns
                .iter()
                .map(|(_, align)| match align {
                    Align::Left => ":---".to_string(),
                    Align::Right => "---:".to_string(),
                })
                .collect(),
        ));
        for row in &self.rows {
            out.push_str(&line(row.iter().map(|cell| escape(cell)).collect()));
        }
        out
    }

    /// An HTML `<table>` (cells escaped; numeric columns get `class="num"`).
    pub fn render_html(&self) -> String {
        let escape = |cell: &str| {
            cell.replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
                .replace('"', "&quot;")
        };
        let class = |align: &Align| match align {
            Align::Left => "",
            Align::Right => " class=\"num\"",
        };
        let mut out = String::from("<table>\n<thead><tr>");
        for (name, align) in &self.columns {
            out.push_str(&format!("<th{}>{}</th>", class(align), escape(name)));
        }
        out.push_str("</tr></thead>\n<tbody>\n");
        for row in &self.rows {
            out.push_str("<tr>");
            for (cell, (_, align)) in row.iter().zip(&self.columns) {
                out.push_str(&format!("<td{}>{}</td>", class(align), escape(cell)));
            }
            out.push_str("</tr>\n");
        }
        out.push_str("</tbody>\n</table>\n");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_rendering_escapes_cells_and_marks_numeric_columns() {
        let mut table = Table::new(&[("strategy", Align::Left), ("p99 s", Align::Right)]);
        table.push(vec!["a<b>&\"c\"".to_string(), "1.250".to_string()]);
        let html = table.render_html();
        assert!(
            html.contains("<th>strategy</th><th class=\"num\">p99 s</th>"),
            "{html}"
        );
        assert!(html.contains("<td>a&lt;b&gt;&amp;&quot;c&quot;</td><td class=\"num\">1.250</td>"));
        assert!(!html.contains("<b>"));
    }
}
