"""Which run a run is compared with, and what its configuration changed against it.

The baseline is, first found:

1. the run named in the run's ``config["baseline"]`` or in a ``baseline:<name>`` tag (a run id,
   or a run name: the latest run of that name), when it names a run;
2. the run the phase plan's ``compare.baseline`` names (``phases.compare_baseline``: the same
   run the phase's comparison table measures deltas against), for every run of that phase;
3. the first train run of the run's phase.

A run without a phase and without a named baseline has none.

Beside the baseline run, two references the experiment log reads: the settings that vary in a
run's group (``group_settings``) and chance level, the baseline of a run that learned nothing
(``at_chance``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from rundocs.analyse.curves import CLASS_COUNT_KEYS, VALIDATION_SPLITS, Curve, Finding, summarize
from rundocs.analyse.phases import compare_baseline, phase_members
from rundocs.analyse.rules import Relaunches
from rundocs.analyse.sweep_groups import names_setting, varied_settings
from rundocs.format.schema import flatten
from rundocs.load.plans import Plan
from rundocs.load.records import RunRecord


class ConfigRow(NamedTuple):
    key: str
    value: Any
    baseline_value: Any
    changed: bool
    bookkeeping: bool = False  # not a hyperparameter: never marked changed
    #: "run" or "baseline": the only record that has the key (``diff_config(shared_only=True)``).
    only: str | None = None


_MISSING = object()


def find_baselines(records: Mapping[str, RunRecord], plans: Mapping[str, Plan] | None = None) -> dict[str, str | None]:
    """Run id to the id of its baseline run (None when it has none or is its own)."""
    by_name: dict[str, str] = {}
    first_in_phase: dict[str, str] = {}
    for run_id, record in sorted(records.items(), key=lambda item: (item[1].started_at, item[0])):
        by_name[record.name] = run_id  # later runs of the same name win
        if record.phase and record.kind == "train":
            first_in_phase.setdefault(record.phase, run_id)
    planned: dict[str, str] = {}
    relaunches = Relaunches(records) if plans else None
    for plan in (plans or {}).values():
        chosen = compare_baseline(plan, records, relaunches)
        if chosen is not None:
            for member in phase_members(plan, records):
                planned.setdefault(member, chosen)
    baselines: dict[str, str | None] = {}
    for run_id, record in records.items():
        named = _named_baseline(record)
        chosen = None
        if named is not None:
            chosen = named if named in records else by_name.get(named)
        if chosen is None:
            chosen = planned.get(run_id) or (first_in_phase.get(record.phase) if record.phase else None)
        baselines[run_id] = chosen if chosen != run_id else None
    return baselines


def diff_config(
    config: Mapping[str, Any],
    baseline: Mapping[str, Any] | None,
    bookkeeping: Sequence[str] = (),
    *,
    shared_only: bool = False,
) -> list[ConfigRow]:
    """Every setting of ``config`` (dotted keys, sorted), marked where it differs from the baseline.

    Settings the baseline has and the run lacks are listed too, with value None. Bookkeeping
    settings (``sweep_groups.names_setting``) are listed, never marked. ``shared_only``: only the
    keys both records have are compared; a key one of them lacks is not recorded there, not
    changed (an eval run's config holds what it evaluated with, not how the model trained).
    """
    own = dict(flatten(config))
    if baseline is None:
        return [
            ConfigRow(key, value, None, False, names_setting(key, bookkeeping)) for key, value in sorted(own.items())
        ]
    theirs = dict(flatten(baseline))
    rows = []
    for key in sorted(own.keys() | theirs.keys()):
        value, other = own.get(key, _MISSING), theirs.get(key, _MISSING)
        kept = names_setting(key, bookkeeping)
        only = None
        if shared_only and (value is _MISSING or other is _MISSING):
            only = "baseline" if value is _MISSING else "run"
        shown, theirs_shown = (None if v is _MISSING else v for v in (value, other))
        rows.append(ConfigRow(key, shown, theirs_shown, only is None and value != other and not kept, kept, only))
    return rows


def group_settings(records: Mapping[str, RunRecord]) -> dict[str, str]:
    """Run id to its values of the settings that vary in its group (``sweep_groups.varied_settings``):
    the runs of its kind in its sweep, else in its phase. A run in neither has none."""
    groups: dict[tuple[str, str, str], list[str]] = {}
    for run_id, record in records.items():
        if record.sweep or record.phase:
            place = ("sweep", record.sweep) if record.sweep else ("phase", record.phase or "")
            groups.setdefault((*place, record.kind), []).append(run_id)
    shown: dict[str, str] = {}
    for ids in groups.values():
        settings = {
            run_id: {
                key: value
                for key, value in flatten(records[run_id].config)
                if not names_setting(key, (*records[run_id].bookkeeping, "baseline"))
            }
            for run_id in ids
        }
        shown.update(varied_settings(settings))
    return shown


def at_chance(findings: Sequence[Finding], curves: Sequence[Curve], config: Mapping[str, Any]) -> bool:
    """Whether a run learned nothing: its validation accuracy peaked near chance (the ``chance``
    finding of ``curves.find_findings``: 1/classes for a config that gives its class count), or,
    for a config that gives none, every validation loss it logged was never below its first value."""
    if any(finding.kind == "chance" for finding in findings):
        return True
    if any(isinstance(config.get(key), int) for key in CLASS_COUNT_KEYS):
        return False
    losses = [c for c in curves if c.metric.split in VALIDATION_SPLITS and c.metric.base == "loss" and c.y.size > 1]
    firsts = [(summarize(curve), int(curve.x[0])) for curve in losses]
    return bool(firsts) and all(summary is not None and summary.best_at == first for summary, first in firsts)


def _named_baseline(record: RunRecord) -> str | None:
    named = record.config.get("baseline")
    if isinstance(named, str) and named:
        return named
    tags: Sequence[str] = [tag.removeprefix("baseline:") for tag in record.tags if tag.startswith("baseline:")]
    return tags[0] if tags else None
