//! Charts drawn on the server as SVG: bars with their values, every text escaped.

use crate::web::views::escape;

/// A bar chart of `(label, value)`, values in `unit`, with an accessible title.
pub fn bars(title: &str, unit: &str, items: &[(String, f64)]) -> String {
    let width = 760.0_f64;
    let left = 150.0_f64;
    let row = 22.0_f64;
    let top = 8.0_f64;
    let height = top * 2.0 + row * items.len().max(1) as f64;
    let max = items.iter().map(|(_, v)| *v).fold(0.0_f64, f64::max);
    let scale = if max > 0.0 {
        (width - left - 90.0) / max
    } else {
        0.0
    };
    let mut s = format!(
        "<svg class=\"chart\" role=\"img\" aria-label=\"{t}\" viewBox=\"0 0 {width} {height}\" xmlns=\"http://www.w3.org/2000/svg\"><title>{t}</title>",
        t = escape(title)
    );
    for (i, (label, v)) in items.iter().enumerate() {
        let y = top + row * i as f64;
        let w = (v * scale).max(0.0);
        s.push_str(&format!(
            "<text x=\"{lx}\" y=\"{ty:.1}\" text-anchor=\"end\">{l}</text><rect class=\"bar\" x=\"{left}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{h:.1}\"><title>{l}: {vv} {u}</title></rect><text x=\"{vx:.1}\" y=\"{ty:.1}\">{vv}</text>",
            lx = left - 6.0,
            ty = y + row * 0.7,
            l = escape(label),
            h = row - 6.0,
            vx = left + w + 4.0,
            vv = escape(&format_value(*v)),
            u = escape(unit),
        ));
    }
    s.push_str(&format!(
        "<line class=\"axis\" x1=\"{left}\" y1=\"{top}\" x2=\"{left}\" y2=\"{y2}\"/></svg>",
        y2 = height - top
    ));
    s
}

/// Columns over time (months or years), labelled every `every` columns.
pub fn columns(title: &str, unit: &str, items: &[(String, f64)], every: usize) -> String {
    let width = 760.0_f64;
    let height = 240.0_f64;
    let (left, bottom, top) = (60.0_f64, 40.0_f64, 10.0_f64);
    let n = items.len().max(1) as f64;
    let slot = (width - left - 10.0) / n;
    let max = items.iter().map(|(_, v)| *v).fold(0.0_f64, f64::max);
    let scale = if max > 0.0 {
        (height - bottom - top) / max
    } else {
        0.0
    };
    let mut s = format!(
        "<svg class=\"chart\" role=\"img\" aria-label=\"{t}\" viewBox=\"0 0 {width} {height}\" xmlns=\"http://www.w3.org/2000/svg\"><title>{t}</title>",
        t = escape(title)
    );
    s.push_str(&format!(
        "<text x=\"{x}\" y=\"{y}\" text-anchor=\"end\">{m}</text><text x=\"{x}\" y=\"{b}\" text-anchor=\"end\">0</text>",
        x = left - 6.0,
        y = top + 10.0,
        b = height - bottom,
        m = escape(&format_value(max)),
    ));
    for (i, (label, v)) in items.iter().enumerate() {
        let h = (v * scale).max(0.0);
        let x = left + slot * i as f64;
        s.push_str(&format!(
            "<rect class=\"bar\" x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{h:.1}\"><title>{l}: {vv} {u}</title></rect>",
            y = height - bottom - h,
            w = (slot * 0.8).max(1.0),
            l = escape(label),
            vv = escape(&format_value(*v)),
            u = escape(unit),
        ));
        if every > 0 && i % every == 0 {
            s.push_str(&format!(
                "<text x=\"{x:.1}\" y=\"{y:.1}\">{l}</text>",
                y = height - bottom + 16.0,
                l = escape(label)
            ));
        }
    }
    s.push_str(&format!(
        "<line class=\"axis\" x1=\"{left}\" y1=\"{b}\" x2=\"{r}\" y2=\"{b}\"/></svg>",
        b = height - bottom,
        r = width - 10.0
    ));
    s
}

fn format_value(v: f64) -> String {
    let rounded = v.round() as i64;
    chitra_core::Dong(rounded).grouped('.')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_escaped_and_bars_scale_to_the_largest() {
        let svg = bars(
            "Tổng <chi>",
            "đ",
            &[
                ("Ba Tri & Giồng Trôm".into(), 50.0),
                ("Mỏ Cày".into(), 100.0),
            ],
        );
        assert!(svg.contains("Tổng &lt;chi&gt;"));
        assert!(svg.contains("Ba Tri &amp; Giồng Trôm"));
        assert!(!svg.contains("<chi>"));
        // The largest bar takes the whole width left for bars (760 − 150 − 90 = 520).
        assert!(svg.contains("width=\"520.0\""));
        assert!(svg.contains("width=\"260.0\""));
    }
}
