"""YAML from untrusted text (a plan in a stranger's pull request), read safely and bounded.

``yaml.safe_load`` constructs no objects of its own choosing, but it still accepts two things a
plan must not have. An alias names a node again without copying it, so ten lines can stand for a
billion values (a "billion laughs"): anything that walks or prints the result never ends. And a
key given twice silently keeps its last value. ``read_yaml`` first streams the parser's events,
counting values as if every alias were a copy and checking each mapping's keys, and refuses the
text at the first value past ``MAX_VALUES`` or nested past ``MAX_DEPTH``, the first alias
inside the node it names, or the first key given twice. Only then does libyaml's loader build
the result, at its full speed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

#: The most values (scalars, lists, mappings) a YAML text may hold, counting each alias as a copy
#: of what it names. A plan holds a few hundred.
MAX_VALUES = 100_000

#: The deepest nesting of lists and mappings (libyaml stops at 1,000; deeper than Python's own
#: recursion limit, so that printing or walking the result would fail). A plan nests a few levels.
MAX_DEPTH = 100

#: libyaml's safe loader when PyYAML was built with it (ten times faster), else the Python one.
_SAFE_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_MERGE = "tag:yaml.org,2002:merge"


class RefusedYAML(yaml.MarkedYAMLError):
    """Text that parses, refused for what it holds; ``str()`` is the message, ``problem_mark`` the place."""

    def __str__(self) -> str:
        return str(self.problem)


class _Loader(_SAFE_LOADER):  # type: ignore[misc]
    """The safe loader, with a value its constructor cannot make (month 13, an integer of 5,000
    digits) reported as a YAML error at its place instead of a bare ``ValueError``."""

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep)
        except (ValueError, OverflowError) as error:
            raise RefusedYAML(problem=f"cannot read this value: {error}", problem_mark=node.start_mark) from error


@dataclass
class _Open:
    """A list or mapping whose end event has not come yet."""

    anchor: str | None
    start: int  # values counted before it
    mapping: bool
    children: int = 0
    keys: dict[tuple[str, str], int] = field(default_factory=dict)  # of a mapping: (tag, text) to line


def read_yaml(text: str) -> Any:
    """The data of a YAML text, as ``yaml.safe_load`` reads it.

    Raises:
        RefusedYAML: For too many values, nesting too deep, an alias inside what it names, or a
            key given twice.
        yaml.YAMLError: For text that is not YAML.
    """
    _check_events(text)
    return yaml.load(text, Loader=_Loader)


def _check_events(text: str) -> None:
    loader = _SAFE_LOADER(text)
    try:
        anchors: dict[str, _Open | int] = {}  # to the values it stands for, or the node still open
        open_: list[_Open] = []
        count = 0
        while loader.check_event():
            event = loader.get_event()
            if isinstance(event, yaml.CollectionEndEvent):
                done = open_.pop()
                if done.anchor is not None:
                    anchors[done.anchor] = count - done.start
                if open_:
                    open_[-1].children += 1
                continue
            if not isinstance(event, yaml.NodeEvent):
                continue
            if open_ and open_[-1].mapping and open_[-1].children % 2 == 0 and isinstance(event, yaml.ScalarEvent):
                _check_key(loader, open_[-1].keys, event)
            if isinstance(event, yaml.CollectionStartEvent):
                if len(open_) == MAX_DEPTH:
                    raise _refused(f"lists and mappings nested more than {MAX_DEPTH} deep; not read", event)
                open_.append(_Open(event.anchor, count, isinstance(event, yaml.MappingStartEvent)))
                if event.anchor is not None:
                    anchors[event.anchor] = open_[-1]
                count += 1
            else:
                count += _alias_size(anchors, event) if isinstance(event, yaml.AliasEvent) else 1
                if event.anchor is not None and isinstance(event, yaml.ScalarEvent):
                    anchors[event.anchor] = 1
                if open_:
                    open_[-1].children += 1
            if count > MAX_VALUES:
                raise _refused(f"more than {MAX_VALUES:,} values, counting each alias as a copy; not read", event)
    finally:
        loader.dispose()


def _alias_size(anchors: dict[str, _Open | int], event: yaml.AliasEvent) -> int:
    """How many values an alias stands for (1 for an undefined one: the loader names it)."""
    size = anchors.get(event.anchor or "", 1)
    if isinstance(size, _Open):
        raise _refused(f"alias *{event.anchor} is inside the node it names; not read", event)
    return size


def _check_key(loader: Any, keys: dict[tuple[str, str], int], event: yaml.ScalarEvent) -> None:
    """Refuse a key its mapping already has (``<<``, a merge, may come more than once)."""
    tag = event.tag if event.tag not in (None, "!") else loader.resolve(yaml.ScalarNode, event.value, event.implicit)
    if tag == _MERGE:
        return
    first = keys.get((tag, event.value))
    if first is not None:
        raise _refused(f"key {event.value[:80]!r} is given twice (first on line {first}); not read", event)
    mark: Any = event.start_mark  # the parser gives every event its place
    keys[(tag, event.value)] = mark.line + 1


def _refused(message: str, event: yaml.Event) -> RefusedYAML:
    mark: Any = event.start_mark
    return RefusedYAML(problem=message, problem_mark=mark)
