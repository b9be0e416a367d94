"""Self-contained ``report.html`` pages: one per run (:func:`render_run`), per batch and per
Pareto front (:mod:`model.report_html.compare`). Inline SVG and CSS, a few lines of inline
JS for tooltips; nothing is loaded from anywhere, and the same results give the same bytes.
Every string from a data set is HTML-escaped."""

from model.report_html.run import render_run

__all__ = ["render_run"]
