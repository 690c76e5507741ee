"""Plotly figures as plain figure specs (the JSON plotly.js draws), built from curves.

Specs are built as dicts rather than ``go.Figure`` objects because a site can hold thousands
of run pages and plotly's validation costs milliseconds per figure; the tests check that
every spec is a valid ``go.Figure``. Long curves are downsampled by keeping the first, last,
lowest and highest point of each bucket, so spikes and divergences survive.
"""

from __future__ import annotations

import itertools
import json
import secrets
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from rundocs.analyse.curves import Curve

#: Points per trace at most; the page stays small and the figure responsive.
MAX_POINTS = 400
#: A positive metric whose largest value is this many times its smallest gets a log axis.
LOG_SPAN = 100
#: The legend sits above the plot, where neither an axis title nor a tick label can be.
LEGEND_ABOVE = {"orientation": "h", "x": 0, "xanchor": "left", "y": 1.0, "yanchor": "bottom"}
#: What plotly.js reads as markup in the text it draws: its HTML subset (``<a href>``,
#: ``<span style>``, ``<b>``...), entities, and ``$...$`` for MathJax when a page loads it.
#: As entities, which plotly decodes back for display, the text shows as written.
_PLOTLY_TEXT = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "$": "&#36;"})
#: Strings plotly.js draws as plain text (d3's ``text()``), by trace type: left as written.
_PLAIN_TEXT = {"parcoords": frozenset({"ticktext"})}
_SPLIT_ORDER = ("train", "val", "valid", "validation", "test", "ood", "eval", "dev", "holdout", None)


class _PanelInfo(NamedTuple):
    base: str
    axis: str
    traces: list[tuple[str, np.ndarray, np.ndarray]]


def downsample(x: np.ndarray, y: np.ndarray, max_points: int = MAX_POINTS) -> tuple[np.ndarray, np.ndarray]:
    """At most ``max_points`` points that keep the curve's shape and its extremes."""
    if x.size <= max_points:
        return x, y
    buckets = max_points // 4
    edges = np.linspace(0, x.size, buckets + 1).astype(int)
    keep: list[int] = []
    for start, stop in itertools.pairwise(edges):
        part = y[start:stop]
        finite = np.where(np.isfinite(part), part, np.nan)
        picks = {start, stop - 1}
        if not np.isnan(finite).all():
            picks |= {start + int(np.nanargmin(finite)), start + int(np.nanargmax(finite))}
        keep.extend(sorted(picks))
    index = np.array(keep)
    return x[index], y[index]


def get_panels(curves: Sequence[Curve]) -> list[_PanelInfo]:
    """One panel per base metric and x axis (loss first, epochs before steps), one trace per
    split, train first: a per-step ``train_loss`` and a per-epoch ``val_loss`` get a panel each."""

    def order(c: Curve) -> tuple[Any, ...]:
        return (c.metric.base != "loss", c.metric.base, _axis_rank(c.axis), _split_rank(c.metric.split))

    panels: dict[tuple[str, str], list[tuple[str, np.ndarray, np.ndarray]]] = {}
    for curve in sorted(curves, key=order):
        if curve.x.size:
            x, y = downsample(curve.x, curve.y)
            panels.setdefault((curve.metric.base, curve.axis), []).append((curve.metric.name, x, y))
    return [_PanelInfo(base, axis, traces) for (base, axis), traces in panels.items()]


def plot_curves(curves: Sequence[Curve], axis: str | None = None) -> dict[str, Any] | None:
    """Train vs validation curves, a panel per metric and x axis; None when there is nothing to
    draw. Panels on the same axis zoom together; each axis is titled with its own name
    (``axis`` is unused: every curve carries its own)."""
    panels = get_panels(curves)
    if not panels:
        return None
    rows = len(panels)
    mixed = len({panel.axis for panel in panels}) > 1
    first_of: dict[str, str] = {}
    gap = 0.08 if rows > 1 else 0.0
    height = (1 - gap * (rows - 1)) / rows
    data: list[dict[str, Any]] = []
    layout: dict[str, Any] = {
        "height": 260 * rows,
        "margin": {"l": 60, "r": 20, "t": 30, "b": 40},
        "legend": dict(LEGEND_ABOVE),
        "hovermode": "x unified",
    }
    for row, panel in enumerate(panels, start=1):
        suffix = "" if row == 1 else str(row)
        top = 1 - (row - 1) * (height + gap)
        titled = mixed or row == rows
        layout[f"xaxis{suffix}"] = {
            "anchor": f"y{suffix}",
            "title": {"text": panel.axis} if titled else {},
            "automargin": True,
        }
        if panel.axis in first_of:
            layout[f"xaxis{suffix}"]["matches"] = first_of[panel.axis]
        else:
            first_of[panel.axis] = f"x{suffix}"
        domain = [max(round(top - height, 4), 0.0) + 0.0, round(top, 4)]
        layout[f"yaxis{suffix}"] = {
            "anchor": f"x{suffix}",
            "domain": domain,
            "title": {"text": panel.base},
            "automargin": True,
            **value_axis([y for _, _, y in panel.traces]),
        }
        for name, x, y in panel.traces:
            data.append(
                {
                    "type": "scatter",
                    "mode": "lines+markers" if x.size <= 60 else "lines",
                    "name": name,
                    "x": x,
                    "y": y,
                    "xaxis": f"x{suffix}",
                    "yaxis": f"y{suffix}",
                }
            )
    return {"data": data, "layout": layout}


def value_axis(values: Sequence[np.ndarray]) -> dict[str, Any]:
    """``{"type": "log"}`` for a positive metric that spans more than ``LOG_SPAN`` times (a loss falling
    from 2.3 to 0.01 is read in decades), else nothing."""
    finite = [part[np.isfinite(part)] for part in values]
    joined = np.concatenate(finite) if finite else np.array([])
    if joined.size and joined.min() > 0 and joined.max() / joined.min() > LOG_SPAN:
        return {"type": "log", "exponentformat": "power"}
    return {}


def figure_json(spec: dict[str, Any]) -> str:
    """The spec as compact JSON (templates put it into its ``<script>`` with ``script_json``).

    Every string is escaped for plotly's text renderer, so no name or value from a run makes
    a link, a style or a formula in a figure. Arrays are written by numpy with 6 significant
    digits (non-finite values as gaps), which is what keeps thousands of figures cheap to write.
    """
    arrays: dict[str, str] = {}
    nonce = secrets.token_hex(8)  # no string from a run can collide with a placeholder

    def encode_array(value: object) -> str:
        if not isinstance(value, np.ndarray):
            raise TypeError(f"cannot encode {type(value).__name__} in a figure")
        placeholder = f"@{nonce}:{len(arrays)}@"
        arrays[f'"{placeholder}"'] = _array_json(value)
        return placeholder

    escaped = _escape_text(spec, frozenset())
    text = json.dumps(escaped, separators=(",", ":"), sort_keys=True, allow_nan=False, default=encode_array)
    for placeholder, array in arrays.items():
        text = text.replace(placeholder, array, 1)
    return text


def _escape_text(value: Any, plain: frozenset[str]) -> Any:
    """``value`` with every string in it escaped for plotly, but those under the ``plain`` keys
    (set by the innermost trace type that has any)."""
    if isinstance(value, str):
        return value.translate(_PLOTLY_TEXT)
    if isinstance(value, dict):
        plain = _PLAIN_TEXT.get(value.get("type", ""), plain)
        return {key: item if key in plain else _escape_text(item, plain) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_escape_text(item, plain) for item in value]
    return value


def _array_json(values: np.ndarray) -> str:
    text = np.char.mod("%.6g", values.astype(np.float64)).astype(object)  # room for "null"
    text[~np.isfinite(values)] = "null"
    return "[" + ",".join(text.tolist()) + "]"


def _axis_rank(axis: str) -> int:
    return ("epoch", "step", "line").index(axis) if axis in ("epoch", "step", "line") else 3


def _split_rank(split: str | None) -> int:
    return _SPLIT_ORDER.index(split) if split in _SPLIT_ORDER else len(_SPLIT_ORDER)
