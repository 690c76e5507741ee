"""Numbers as people write them: the formatting rules against naive references, and the pages
built from run folders on disk that show them (docs/site.md, "How numbers are written")."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

import rundocs
from rundocs.formatting import (
    MISSING,
    counted,
    format_column,
    format_count,
    format_differences,
    format_duration,
    format_number,
    format_setting,
)
from rundocs.load.plans import load_plans
from rundocs.render.filters import FILTERS, cell
from rundocs.render.pages import PlanSet, SiteOptions, render_site
from tests.helpers import write_run

NOW = datetime(2026, 1, 2, 12, 0, tzinfo=UTC)
finite = st.floats(allow_nan=False, allow_infinity=False)
UNITS = {"k": 1e3, "M": 1e6, "B": 1e9, "T": 1e12}


def site(tmp_path: Path, plans: dict[str, str] | None = None) -> dict[str, str]:
    folder = tmp_path / "plans"
    folder.mkdir(exist_ok=True)
    for name, text in (plans or {}).items():
        (folder / f"{name}.yaml").write_text(text)
    runs = rundocs.load_runs(tmp_path / "runs", now=NOW)
    built = render_site(runs, SiteOptions(), plans=PlanSet(*load_plans(folder)))
    return {path: content.decode() for path, content in built.files.items() if path.endswith(".md")}


def significant(text: str) -> int:
    """Significant digits of a number's text (``0.00120`` has 2 once trailing zeros go)."""
    digits = text.lstrip("-").partition("e")[0].replace(".", "").lstrip("0").rstrip("0")
    return len(digits)


# The rules, against naive references


@given(finite.filter(lambda x: x != int(x)))
def test_a_fraction_keeps_five_significant_digits(value: float) -> None:
    text = format_number(value)
    reference = f"{value:.0f}" if 1e5 <= abs(value) < 1e6 else f"{value:.5g}"  # whole digits are never cut
    assert float(text) == float(reference)
    assert text not in ("0", "-0")
    assert significant(text) <= max(5, len(str(int(abs(value)))))
    assert ("e" in text) == (abs(value) < 1e-3 or abs(value) >= 1e6)


def test_the_values_the_issue_names() -> None:
    assert [format_number(v) for v in (190.17, 0.000123, 1.2372, 0.30000000000000004, 2.5e7 + 0.5)] == [
        "190.17", "1.23e-4", "1.2372", "0.3", "2.5e7",
    ]  # fmt: skip
    assert [format_number(v) for v in (1600000000, 1600000000.0, 584000, 12345, 9999, 999960)] == [
        "1.6 B", "1.6 B", "584 k", "12.3 k", "9999", "1 M",
    ]  # fmt: skip
    assert [format_setting(v) for v in (0.15000000000000002, 0.11203254019178545, 3e-4, 1e-05, 16384, None)] == [
        "0.15", "0.112033", "0.0003", "1e-5", "16384", MISSING,
    ]  # fmt: skip


@given(st.integers(min_value=-(10**15) + 1, max_value=10**15 - 1))
def test_a_whole_number_is_a_count(value: int) -> None:
    text = format_count(value)
    if abs(value) < 10_000:
        assert text == str(value)
        return
    if " " not in text:  # a thousand trillion and more
        assert re.fullmatch(r"-?\d(\.\d+)?e15", text) and math.isclose(float(text), value, rel_tol=5e-5)
        return
    number, unit = text.split(" ")
    assert significant(number) <= 3
    assert math.isclose(float(number) * UNITS[unit], value, rel_tol=5e-3)
    assert 1 <= abs(float(number)) < 1000


@given(finite)
def test_a_setting_reads_back_when_six_digits_hold_it(value: float) -> None:
    text = format_setting(value)
    assert significant(text) <= 6 or text == repr(value)  # a whole float such as 1234567.0 as Python writes it
    if float(f"{value:.6g}") == value:
        assert float(text) == value
        assert len(text) <= len(repr(value))
    else:
        assert math.isclose(float(text), value, rel_tol=5e-6)


@given(st.lists(st.floats(min_value=1e-3, max_value=9e5) | st.none(), min_size=1, max_size=8))
def test_a_column_shares_its_decimals(values: list[float | None]) -> None:
    texts = format_column(values)
    numbers = [(v, t) for v, t in zip(values, texts, strict=True) if v is not None]
    assert all(t == MISSING for v, t in zip(values, texts, strict=True) if v is None)
    if not any(v != int(v) for v, _ in numbers):
        assert texts == [format_number(v) for v in values]  # whole numbers are counts, each its own
        return
    shared = {len(t.partition(".")[2]) for _, t in numbers}
    if len(shared) == 1:
        (decimals,) = shared
        assert decimals <= 6
        for value, text in numbers:  # at least as precise as the value alone
            if value != int(value):
                assert abs(float(text) - value) <= abs(float(format_number(value)) - value) + 1e-9
            assert abs(float(text) - value) <= 0.5 * 10**-decimals * (1 + 1e-9) + 1e-12
    else:
        assert texts == [format_number(v) for v in values]  # more than 6 decimals: each value its own


def test_a_column_of_shares_shows_every_difference_in_one_place() -> None:
    assert format_column([0.8319, 0.5, None, 1, math.nan]) == ["0.8319", "0.5000", MISSING, "1.0000", "NaN"]
    assert format_column([0.000123, 0.5]) == ["1.23e-4", "0.5"]  # an exponent: each value its own
    assert format_column([584000, 1600000000]) == ["584 k", "1.6 B"]


@given(st.lists(st.tuples(st.floats(min_value=1e-3, max_value=9e5), st.floats(-1e3, 1e3)), min_size=1, max_size=8))
def test_a_difference_has_the_decimals_of_the_column_beside_it(rows: list[tuple[float, float]]) -> None:
    values, deltas = [v for v, _ in rows], [d for _, d in rows]
    shown, texts = format_column(values), format_differences(values, deltas)
    decimals = {len(t.partition(".")[2]) for t in shown}
    shared = any(v != int(v) for v in values) and not any("e" in t for t in shown) and len(decimals) == 1
    for delta, text in zip(deltas, texts, strict=True):
        assert text[0] in "+-" and (text[0] == "-") == (float(text) < 0)
        (places,) = decimals if shared else (7,)
        if places <= 6:  # the column shares a format: the same decimals
            assert len(text.partition(".")[2]) == places
            assert abs(float(text) - delta) <= 0.5 * 10**-places * (1 + 1e-9) + 1e-12
        else:
            assert text.lstrip("+") == format_number(delta)


def test_a_comparison_shows_its_differences_in_the_column_format() -> None:
    assert format_differences([0.96936, 0.9805], [-0.011142, 8.2e-7]) == ["-0.01114", "+0.00000"]
    assert format_differences([3, 5], [2, None]) == ["+2", MISSING]
    assert format_column([0.9805], joined=[0.96936]) == ["0.98050"]  # a gate's baseline shares the observed format
    best_and_final = [{"best": 0.96936, "final": 0.094708}, {"best": 0.9805, "final": 0.9805}]
    assert FILTERS["column"](best_and_final, "best", joined=[("final",)]) == ["0.969360", "0.980500"]


@given(st.floats(min_value=0, max_value=1e8))
def test_one_duration_format_reads_back(seconds: float) -> None:
    text = format_duration(seconds)
    parts = dict((unit, int(number)) for number, unit in re.findall(r"(\d+) (d|h|min|s)\b", text))
    assert re.fullmatch(r"\d+ s|\d+ min \d\d s|\d+ min|\d+ h \d\d min|\d+ d \d\d h", text)
    total = parts.get("d", 0) * 86400 + parts.get("h", 0) * 3600 + parts.get("min", 0) * 60 + parts.get("s", 0)
    slack = 1 if seconds < 600 else 30 if seconds < 3600 else 60 if seconds < 48 * 3600 else 1800
    assert abs(total - seconds) <= slack


def test_a_cell_writes_missing_values_and_settings_as_people_do() -> None:
    assert cell(None) == MISSING
    assert cell(0.15000000000000002) == "0.15"
    assert cell([0.1, 0.30000000000000004]) == "0.1, 0.3"
    assert FILTERS["number"](None) == MISSING and FILTERS["differences"](
        [{"d": None, "v": 1.5}], "d", beside=("v",)
    ) == [MISSING]
    assert FILTERS["column"]([{"a": {"b": 0.5}}, {"a": {"b": 0.8319}}, {"a": None}], "a", "b") == [
        "0.5000", "0.8319", MISSING,
    ]  # fmt: skip


# Pages built from run folders


def test_a_live_progress_line_keeps_the_digits_the_run_logged(tmp_path: Path) -> None:
    rows = [{"epoch": 1, "val_loss": 201.5}, {"epoch": 2, "val_loss": 190.17}]
    fields: dict[str, Any] = {"phase": "p1", "epochs": 30, "status": "running", "ended_at": None}
    write_run(tmp_path / "runs", "a", rows, **fields, updated_at="2026-01-02T11:59:00+00:00")
    page = site(tmp_path, {"p1": "title: P\nruns:\n  - {name: a}\n  - {name: b}\n"})["phases/p1.md"]
    assert "| E002/030 val\\_loss=190.17 |" in page
    assert "| b |  — | " not in page and re.search(r"\| b \| — \| .* \| — \| — \| — \|", page)  # queued: marks


def test_a_small_loss_and_a_count_on_the_run_page(tmp_path: Path) -> None:
    rows = [{"epoch": e, "val_loss": v, "lr": 0.001} for e, v in ((1, 0.00031), (2, 0.000123))]
    config = {"lr": 0.15000000000000002, "wd": 0.11203254019178545, "note": None, "betas": [0.9, 0.999]}
    write_run(tmp_path / "runs", "r", rows, config=config, summary={"n_params": 1600000000})
    page = site(tmp_path)["runs/r.md"]
    assert "| val\\_loss | 1.23e-4 | 2 | 1.23e-4 | 2 |" in page
    assert f"| lr | {MISSING} | {MISSING} | 0.001 | 2 |" in page  # no direction: no best, marked
    assert f"| n\\_params (summary) | {MISSING} | {MISSING} | 1.6 B | {MISSING} |" in page
    assert "| lr | 0.15 |" in page and "| wd | 0.112033 |" in page and "| betas | 0.9, 0.999 |" in page
    assert f"| note | {MISSING} |" in page
    assert "0.15000000000000002" not in page and "0.11203254019178545" not in page


def test_gate_and_comparison_columns_share_their_decimals(tmp_path: Path) -> None:
    """Observed values of one metric share their decimals; another metric's gates keep their own."""
    for run_id, acc, loss in (("a", 0.5, 1.5), ("b", 0.8319, 2.25)):
        write_run(tmp_path / "runs", run_id, [{"epoch": 1, "val_acc": acc, "val_loss": loss}], phase="p1")
    gates = '[{metric: val_acc, green: ">= 0.6"}, {metric: val_loss, green: "<= 2"}]'
    plan = f"title: P\ngates: {gates}\ncompare: {{metrics: {{val_acc: max}}, baseline: a}}\n"
    page = site(tmp_path, {"p1": plan})["phases/p1.md"]
    observed = sorted(re.findall(r"\| (?:&gt;|&lt;)= [\d.]+ \| — \| ([\d.]+) ", page.split("## Gates")[1]))
    assert observed == ["0.5000", "0.8319", "1.50", "2.25"]
    comparison = page.split("## Comparison")[1]
    assert "(baseline) | 0.5000 |" in comparison and "| **0.8319** (+0.3319) |" in comparison


def test_sweep_tables_show_settings_counts_and_shared_decimals(tmp_path: Path) -> None:
    for run_id, lr, acc, params in (("s1", 0.15000000000000002, 0.5, 584000), ("s2", 0.3, 0.8319, 1600000000)):
        rows = [{"epoch": 1, "val_acc": acc / 2}, {"epoch": 2, "val_acc": acc}]
        write_run(tmp_path / "runs", run_id, rows, sweep="s", config={"lr": lr}, summary={"n_params": params})
    page = site(tmp_path)["sweeps/s.md"]
    trials = page.split("## Trials")[1]
    assert "| 0.15 | 584 k | 0.5000 | 2 | 0.5000 | 2 |" in trials
    assert "| 0.3 | 1.6 B | 0.8319 | 2 | 0.8319 | 2 |" in trials
    assert "0.15000000000000002" not in page.split("## Best configurations")[0]


def test_index_pages_mark_what_is_not_there(tmp_path: Path) -> None:
    write_run(tmp_path / "runs", "x", [{"epoch": 1, "lr": 0.1}])  # no phase, no validation metric, no summary
    pages = site(tmp_path, {"later": "title: Later\nruns:\n  - {name: y}\n"})
    assert (
        f"| 0/1 runs | 0 | {MISSING} | {MISSING} | {MISSING} | {MISSING} |" in pages["phases/index.md"]
    )  # no verdict, no activity yet
    assert f"| {MISSING} | {MISSING} |" in pages["runs/index.md"]  # no phase, no results


@given(st.integers(min_value=0, max_value=10**12), st.sampled_from(["run", "problem", "run folder"]))
def test_a_count_names_its_noun_as_a_sentence_does(count: int, noun: str) -> None:
    assert counted(count, noun) == f"{count} {noun}" + ("" if count == 1 else "s")
    assert counted(count, "entry", "entries").endswith("entry" if count == 1 else "entries")
