"""The tables of sweep and phase pages as CSV files, linked "Download CSV" under each table.

They are written into the assets folder rundocs owns (``pages.ASSETS_DIR``), not beside the
page: a CSV file cannot carry the generated-page mark without becoming bad CSV, and in the
owned folder ``build`` replaces and removes them and ``check`` compares them byte for byte,
as it does the pages. Each holds the rows its table shows, with numbers in full precision.

Cells come from runs and plans, that is from strangers, and a spreadsheet runs a cell that
starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return as a formula. Such a cell
is written with a ``'`` in front (which spreadsheets show as text), unless it is a finite
number (``-0.5`` stays a number).
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from rundocs.load.records import RunRecord
from rundocs.render.phase_models import PhasePage
from rundocs.render.sweep_models import SweepPage

#: Inside the site's assets folder (``pages.ASSETS_DIR``), which rundocs owns.
TABLES_DIR = "assets/rundocs/tables"
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def sweep_csv_path(slug: str) -> str:
    return f"{TABLES_DIR}/sweeps/{slug}.csv"


def phase_csv_path(phase_id: str, table: str) -> str:
    """``table``: ``gates`` or ``comparison``."""
    return f"{TABLES_DIR}/phases/{phase_id}-{table}.csv"


def sweep_trials_csv(page: SweepPage) -> str:
    """The Trials table: the runs best first, their varied settings and their scores."""
    report = page.report
    header = ["run_id", "run", *report.dimensions]
    header += ["parameters"] * page.show_parameters + ["reported"] * page.show_reported
    header += ["best", f"at_{report.axis}", "final", "epochs", "stopped_early", "running"]
    rows = []
    for trial in page.trials:
        score = trial.score
        settings = report.settings[score.run_id]
        row = [score.run_id, score.name, *(settings.get(d) for d in report.dimensions)]
        row += [trial.parameters] * page.show_parameters
        row += [score.score if score.reported else None] * page.show_reported
        row += [score.best, score.best_epoch, score.final, score.epochs, score.stopped_early, score.running]
        rows.append(row)
    return make_csv(header, rows)


def phase_gates_csv(page: PhasePage, records: Mapping[str, RunRecord]) -> str:
    """The Gates table: one row per gate and run."""
    header = ["run_id", "run", "metric", "reads", "green", "amber", "observed", "at_epoch", "baseline_run_id"]
    header += ["baseline_value", "result", "note"]
    rows = [
        (g.run_id, records[g.run_id].name, g.gate.metric, g.reads, str(g.gate.green),
         g.gate.amber and str(g.gate.amber), g.observed, g.at_epoch, g.baseline, g.baseline_value, g.colour, g.note)
        for g in page.gates
    ]  # fmt: skip
    return make_csv(header, rows)


def phase_comparison_csv(page: PhasePage) -> str:
    """The Comparison table: each model's value of every compared metric and its delta to the baseline."""
    metrics = list(page.report.compare_goals)
    header = ["run_id", "model", "baseline", *(f"{m}{suffix}" for m in metrics for suffix in ("", " delta"))]
    rows = [
        [row.run_id, row.name, row.is_baseline, *(v for m in metrics for v in (row.values.get(m), row.deltas.get(m)))]
        for row in page.comparison
    ]
    return make_csv(header, rows)


def make_csv(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """CSV text (``\\n`` line ends, quoted where needed) of cells made safe for spreadsheets."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([spreadsheet_safe(name) for name in header])
    writer.writerows([spreadsheet_safe(_text(value)) for value in row] for row in rows)
    return buffer.getvalue()


def spreadsheet_safe(text: str) -> str:
    """``text`` with a ``'`` in front when a spreadsheet would take it for a formula."""
    if not text.startswith(_FORMULA_STARTS):
        return text
    try:
        if math.isfinite(float(text)):
            return text
    except ValueError:
        pass
    return "'" + text


def _text(value: Any) -> str:
    """A cell: empty for None, ``true``/``false``, floats in their shortest exact form, lists comma-separated."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, list | tuple):
        return ", ".join(_text(item) for item in value)
    return str(value)
