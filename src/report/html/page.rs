//! The HTML around the charts: escaping, the style sheet, and two small inline scripts that
//! let a headless browser test check the page (errors go to `data-errors` on `<html>`, the
//! number of drawn charts to `data-charts-rendered`). A Content-Security-Policy forbids every
//! fetch, so the file works from disk and can never call out.

/// Escape text for HTML element content and attribute values.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

const STYLE: &str = "\
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:24px auto;max-width:1360px;color:#1d1d1f;padding:0 12px}
h1{font-size:26px;margin-bottom:4px}h2{font-size:20px;margin-top:36px;border-bottom:1px solid #ddd;padding-bottom:4px}
p.note{color:#555;font-size:14px;max-width:1000px}
table{border-collapse:collapse;font-size:13px;margin:8px 0}
th,td{border:1px solid #ddd;padding:4px 8px;text-align:left}th{background:#f4f4f6}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(660px,1fr));gap:16px}
figure.chart{margin:0;border:1px solid #e4e4e8;border-radius:6px;padding:6px;background:#fff}
figure.chart figcaption{font-size:13px;color:#444;padding:2px 6px 4px}
figure.chart svg{display:block;max-width:100%;height:auto}
div.banner{border:2px solid #c62828;background:#fdecea;border-radius:6px;padding:8px 16px;margin:12px 0}
div.banner ul{margin:4px 0}
";

/// Runs first: record script errors, failed loads, CSP violations and console errors.
const ERROR_PROBE: &str = "\
(function(){var seen=[];function note(m){seen.push(String(m));document.documentElement.setAttribute('data-errors',seen.join(' | '));}
window.addEventListener('error',function(e){var t=e.target;note(e.message||('failed to load '+(t&&(t.src||t.href)||'resource')));},true);
window.addEventListener('unhandledrejection',function(e){note('unhandled rejection: '+e.reason);});
document.addEventListener('securitypolicyviolation',function(e){note('blocked '+e.blockedURI);});
var error=console.error;console.error=function(){note(Array.prototype.join.call(arguments,' '));error.apply(console,arguments);};})();";

/// Runs last: count the charts whose SVG the browser laid out with a non-empty box.
const CHART_PROBE: &str = "\
(function(){var figures=document.querySelectorAll('figure.chart');var drawn=0;
figures.forEach(function(f){var s=f.querySelector('svg');if(!s){return;}var b=s.getBoundingClientRect();if(b.width>0&&b.height>0&&s.querySelectorAll('text').length>0){drawn++;}});
document.documentElement.setAttribute('data-charts-expected',String(figures.length));
document.documentElement.setAttribute('data-charts-rendered',String(drawn));})();";

/// The document head (title escaped) up to and including `<body>`.
pub fn head(title: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\n\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
<title>{}</title>\n<script>{ERROR_PROBE}</script>\n<style>\n{STYLE}</style>\n</head>\n<body>\n",
        escape(title)
    )
}

/// The end of the document.
pub fn tail() -> String {
    format!("<script>{CHART_PROBE}</script>\n</body>\n</html>\n")
}

/// The warning at the top of a page of a run that cannot be trusted (empty without lines).
pub fn banner(title: &str, lines: &[String]) -> String {
    if lines.is_empty() {
        return String::new();
    }
    let mut out = format!(
        "<div class=\"banner\" id=\"distrust\" role=\"alert\">\n<strong>{}</strong>\n<ul>\n",
        escape(title)
    );
    for line in lines {
        out.push_str(&format!("<li>{}</li>\n", escape(line)));
    }
    out.push_str("</ul>\n</div>\n");
    out
}

/// One chart: `<figure id=… class="chart">` with the SVG inlined and a caption.
pub fn figure(id: &str, svg: &str, caption: &str) -> String {
    // plotters writes an XML declaration-free `<svg …>`; inline it as is.
    format!(
        "<figure class=\"chart\" id=\"{}\">\n{}\n<figcaption>{}</figcaption>\n</figure>\n",
        escape(id),
        svg.trim(),
        escape(caption)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_in_names_is_escaped() {
        assert_eq!(escape("a<b & \"c\">"), "a&lt;b &amp; &quot;c&quot;&gt;");
        assert!(head("x</title><script>").contains("<title>x&lt;/title&gt;&lt;script&gt;</title>"));
    }
}
