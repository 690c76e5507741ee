"""The writer writes only records the reader accepts: coerced where unambiguous, fixed with a warning elsewhere."""

from __future__ import annotations

import json
import math
import tempfile
import warnings
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import rundocs
from rundocs.load.records import read_record


def written(run: rundocs.Run) -> dict[str, Any]:
    assert run.folder is not None
    record, data, problems = read_record(run.folder)
    assert record is not None and data is not None, problems
    assert problems == []
    return data


@pytest.mark.parametrize(
    ("epochs", "expected"),
    [(np.int64(30), 30), (30.0, 30), (np.float32(30.0), 30), ("30", 30), (0, 0), (None, None)],
)
def test_unambiguous_epochs_are_coerced(tmp_path: Path, epochs: Any, expected: int | None) -> None:
    with rundocs.Run("e", epochs=epochs, dir=tmp_path) as run:
        pass
    assert written(run)["epochs"] == expected
    assert rundocs.load_runs(tmp_path, strict=True).records[run.id].epochs == expected


@pytest.mark.parametrize("epochs", [30.5, -1, np.int64(-3), "thirty", math.nan, True, [30], 10**30])
def test_other_epochs_warn_and_are_recorded_unknown(tmp_path: Path, epochs: Any) -> None:
    with pytest.warns(rundocs.RecordingWarning, match="epochs must be a non-negative integer"):
        run = rundocs.Run("e", epochs=epochs, dir=tmp_path)
    run.end()
    assert written(run)["epochs"] is None


def test_numbers_for_phase_and_sweep_are_written_as_text(tmp_path: Path) -> None:
    with rundocs.Run("p", phase=2, sweep=np.int64(7), dir=tmp_path) as run:
        pass
    data = written(run)
    assert (data["phase"], data["sweep"]) == ("2", "7")


@pytest.mark.parametrize(
    ("given_id", "expected"),
    [
        ("exp 1", "exp-1"),
        ("../x", "x"),
        ("/tmp/abs", "tmp-abs"),
        (".hidden", "hidden"),
        ("-dash", "dash"),
        ("<b>", "b"),
        ("café au lait", "cafe-au-lait"),
        ("a" * 250, "a" * 200),
    ],
)
def test_ids_are_made_valid_and_stay_inside_the_runs_folder(tmp_path: Path, given_id: str, expected: str) -> None:
    runs = tmp_path / "runs"
    with pytest.warns(rundocs.RecordingWarning, match="not a valid run id"), rundocs.Run(id=given_id, dir=runs) as run:
        pass
    assert run.id == expected and run.folder == runs / expected
    assert [p.name for p in tmp_path.iterdir()] == ["runs"]
    assert written(run)["id"] == expected


def test_an_id_with_nothing_usable_gets_a_fresh_one(tmp_path: Path) -> None:
    with (
        pytest.warns(rundocs.RecordingWarning, match="recorded as a new id"),
        rundocs.Run(id="..", dir=tmp_path) as run,
    ):
        pass
    assert run.folder is not None and run.folder.parent == tmp_path
    written(run)


def test_links_to_other_runs_are_cleaned_the_same_way(tmp_path: Path) -> None:
    with pytest.warns(rundocs.RecordingWarning, match="not a valid run id"):
        first = rundocs.Run(id="exp 1", dir=tmp_path)
        first.end()
        second = rundocs.Run(id="eval 1", kind="eval", evaluates="exp 1", restarts=first, dir=tmp_path)
        second.end()
    data = written(second)
    assert (data["evaluates"], data["restarts"]) == (["exp-1"], "exp-1")
    with rundocs.Run("e", kind="eval", evaluates=[first, "exp-1", None], tags="baseline", dir=tmp_path) as third:
        pass
    data = written(third)
    assert (data["evaluates"], data["tags"]) == (["exp-1"], ["baseline"])


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("succeeded", "completed"),
        ("Success", "completed"),
        ("done", "completed"),
        ("finished", "completed"),
        ("error", "failed"),
        ("crashed", "failed"),
        ("killed", "interrupted"),
        ("cancelled", "interrupted"),
        ("canceled", "interrupted"),
        ("interrupted", "interrupted"),
    ],
)
def test_end_maps_common_words_to_statuses(tmp_path: Path, given: str, expected: str) -> None:
    run = rundocs.Run("s", dir=tmp_path)
    run.end(given)
    assert written(run)["status"] == expected


@pytest.mark.parametrize("given", ["running", "weird", 3, None])
def test_end_with_an_unknown_status_warns_and_records_failed(tmp_path: Path, given: Any) -> None:
    run = rundocs.Run("s", dir=tmp_path)
    with pytest.warns(rundocs.RecordingWarning, match="recorded as 'failed'"):
        run.end(given)
    data = written(run)
    assert data["status"] == "failed" and any("end() got status" in w for w in data["warnings"])


def test_an_empty_or_odd_name_falls_back_to_text_or_the_id(tmp_path: Path) -> None:
    with rundocs.Run("", dir=tmp_path) as empty, rundocs.Run(name=0, dir=tmp_path) as zero:
        pass
    assert written(empty)["name"] == empty.id
    assert written(zero)["name"] == "0"


def test_a_checkpoint_arch_that_is_not_a_mapping_is_wrapped(tmp_path: Path) -> None:
    with rundocs.Run("c", dir=tmp_path) as run:
        run.record_checkpoint(tmp_path / "w.pt", sha256="0" * 64, size=1, epoch=1, arch="resnet18")
    assert written(run)["checkpoints"][0]["arch"] == {"value": "resnet18"}


def test_a_field_the_schema_still_refuses_is_reset_with_a_warning(tmp_path: Path) -> None:
    run = rundocs.Run("c", dir=tmp_path)
    with pytest.warns(rundocs.RecordingWarning, match="field 'checkpoints"):
        run.record_checkpoint(tmp_path / "w.pt", sha256="not a hash", size=-1, epoch=None, arch=None)
    run.end()
    assert written(run)["checkpoints"] == []


_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**25), 10**25),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.sampled_from(["exp 1", "../x", "/abs", ".h", "-d", "<b>", "a/b", "日本", "‮rtl", "a" * 300]),
    st.integers(-(2**40), 2**40).map(np.int64),
    st.floats(width=32).map(np.float32),
    st.integers(-(2**1100), 2**1100),
    st.sampled_from([2**53, 2**53 + 1, 2**64, 10**400, -(10**400), 2**1024 - 2**970, np.uint64(2**64 - 1)]),
    st.sampled_from([Decimal("1e400"), Decimal("-0.5"), Decimal("NaN"), Fraction(1, 3), Fraction(10**400, 3)]),
)
_VALUES = st.one_of(
    _SCALARS, st.lists(_SCALARS, max_size=3), st.dictionaries(st.text(max_size=5), _SCALARS, max_size=3)
)
_FIELDS = ("name", "phase", "sweep", "kind", "config", "epochs", "tags", "evaluates", "restarts", "id")


_NAMES = st.text(max_size=5).filter(lambda name: name not in ("epoch", "step", "value"))  # log's and this test's
_METRICS = st.dictionaries(_NAMES, _SCALARS, max_size=4)


@settings(max_examples=60, deadline=None)
@given(
    st.fixed_dictionaries({}, optional=dict.fromkeys(_FIELDS, _VALUES)),
    _VALUES,
    _VALUES,
    st.fixed_dictionaries({}, optional={"epoch": _SCALARS, "step": _SCALARS}),
    _METRICS,
)
def test_any_arguments_give_a_record_the_reader_accepts(
    arguments: dict[str, Any], summary: Any, status: Any, index: dict[str, Any], metrics: dict[str, Any]
) -> None:
    """Run(...), log() and summary() with arbitrary values (huge ints, big steps, blank names
    included) write files that load strictly, or warn; never raise."""
    with tempfile.TemporaryDirectory() as scratch, warnings.catch_warnings():
        warnings.simplefilter("ignore", rundocs.RecordingWarning)
        runs = Path(scratch) / "runs"
        run = rundocs.Run(**arguments, dir=runs)
        run.log(epoch=1, loss=0.5)
        run.log(**index, **metrics)
        run.summary(value=summary, **metrics)
        run.end(status)
        assert run.folder is not None and run.folder.parent == runs
        assert [p.name for p in Path(scratch).iterdir()] == ["runs"]
        data = written(run)
        json.loads((run.folder / "run.json").read_text(), parse_constant=lambda token: pytest.fail(token))
        assert data["id"] == run.id
        assert rundocs.load_runs(runs, strict=True).history(run.id)["loss"].iloc[0] == 0.5


def test_a_whole_float_epoch_is_logged_as_an_integer(tmp_path: Path) -> None:
    """``run.log(epoch=1.0)`` (a float from a schedule) keeps its epoch, as the reader would read it."""
    run = rundocs.Run(dir=tmp_path)
    run.log(epoch=1.0, loss=0.5)
    run.log(epoch=np.float32(2.0), step=3.0, loss=0.4)
    run.end()
    assert run.folder is not None
    lines = [json.loads(line) for line in (run.folder / "metrics.jsonl").read_text().splitlines()]
    assert [(line["epoch"], line.get("step")) for line in lines] == [(1, None), (2, 3)]


def test_an_epoch_given_as_text_is_dropped_with_a_warning(tmp_path: Path) -> None:
    """Text is not a number for an epoch any more than for a metric value."""
    run = rundocs.Run(dir=tmp_path)
    with pytest.warns(rundocs.RecordingWarning, match="epoch"):
        run.log(epoch="3", loss=0.5)
    run.end()
    assert run.folder is not None
    assert "epoch" not in json.loads((run.folder / "metrics.jsonl").read_text())
