//! `plan.html`: the plan's Markdown as one self-contained page (inline CSS, the charts as
//! inline SVG, no network): the recommendations, the cost chart, the evidence, the SLO chart.

use std::fmt::Write as _;

use super::output::{EVIDENCE_HEADING, plan_markdown};
use super::search::PlanResult;

/// The plan as a self-contained HTML page with `slo_svg` and `cost_svg` inline.
pub fn plan_html(plan: &PlanResult, slo_svg: &str, cost_svg: &str) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Capacity plan: {}</title>\n<style>body{{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;color:#222}}table{{border-collapse:collapse;margin:1em 0}}td,th{{border:1px solid #ccc;padding:4px 8px;text-align:left}}th{{background:#f3f3f3}}code{{background:#f3f3f3;padding:0 3px}}li{{margin:0.5em 0}}</style></head><body>\n",
        escape(&plan.scenario)
    );
    let markdown = plan_markdown(plan);
    let (head, evidence) = markdown
        .split_once(EVIDENCE_HEADING)
        .unwrap_or((markdown.as_str(), ""));
    out.push_str(&markdown_to_html(head));
    let _ = write!(
        out,
        "<h2>Monthly cost against load</h2>\n<figure>{cost_svg}</figure>\n"
    );
    out.push_str(&markdown_to_html(&format!("{EVIDENCE_HEADING}{evidence}")));
    let _ = write!(
        out,
        "<h2>SLO metrics against load</h2>\n<figure>{slo_svg}</figure>\n</body></html>\n"
    );
    out
}

/// The small subset of Markdown `plan_markdown` writes: headings, tables (first row the
/// header), bullets (with indented continuation lines), paragraphs, `code` and **bold**.
fn markdown_to_html(markdown: &str) -> String {
    let mut out = String::new();
    let mut table_rows = 0;
    let mut in_list = false;
    for line in markdown.lines() {
        let is_row = line.starts_with('|');
        if !is_row && table_rows > 0 {
            out.push_str("</table>\n");
            table_rows = 0;
        }
        let continues_item = in_list && line.starts_with("  ");
        if in_list && !line.starts_with("- ") && !continues_item {
            out.push_str("</li></ul>\n");
            in_list = false;
        }
        if line.starts_with("|---") {
            continue;
        }
        if let Some(row) = line.strip_prefix('|') {
            if table_rows == 0 {
                out.push_str("<table>\n");
            }
            let tag = if table_rows == 0 { "th" } else { "td" };
            out.push_str("<tr>");
            for cell in row.trim_end_matches('|').split(" | ") {
                let _ = write!(out, "<{tag}>{}</{tag}>", inline(cell.trim()));
            }
            out.push_str("</tr>\n");
            table_rows += 1;
        } else if let Some(heading) = line.strip_prefix("### ") {
            let _ = writeln!(out, "<h3>{}</h3>", inline(heading));
        } else if let Some(heading) = line.strip_prefix("## ") {
            let _ = writeln!(out, "<h2>{}</h2>", inline(heading));
        } else if let Some(heading) = line.strip_prefix("# ") {
            let _ = writeln!(out, "<h1>{}</h1>", inline(heading));
        } else if let Some(item) = line.strip_prefix("- ") {
            out.push_str(if in_list { "</li><li>" } else { "<ul><li>" });
            in_list = true;
            out.push_str(&inline(item));
        } else if continues_item {
            let _ = write!(out, "<br>{}", inline(line.trim()));
        } else if !line.is_empty() {
            let _ = writeln!(out, "<p>{}</p>", inline(line));
        }
    }
    if in_list {
        out.push_str("</li></ul>\n");
    }
    if table_rows > 0 {
        out.push_str("</table>\n");
    }
    out
}

fn inline(text: &str) -> String {
    let mut out = String::new();
    let escaped = escape(text);
    let mut bold = false;
    let mut code = false;
    let mut rest = escaped.as_str();
    while let Some(index) = rest.find(['*', '`']) {
        out.push_str(&rest[..index]);
        if rest[index..].starts_with("**") {
            out.push_str(if bold { "</b>" } else { "<b>" });
            bold = !bold;
            rest = &rest[index + 2..];
        } else if rest[index..].starts_with('`') {
            out.push_str(if code { "</code>" } else { "<code>" });
            code = !code;
            rest = &rest[index + 1..];
        } else {
            out.push('*');
            rest = &rest[index + 1..];
        }
    }
    out.push_str(rest);
    out
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
