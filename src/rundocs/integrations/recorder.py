"""``Recorder``: the run a framework callback records, from the start of training to its true end.

Frameworks tell a callback when training starts and when it ends normally; most say nothing
when it dies. So a run is ended:

- ``completed`` by the framework's end hook, or as the exception the framework hands over
  says (``end``: ``failed`` with the error, ``interrupted`` for ``KeyboardInterrupt``);
- ``failed`` when the same callback starts a new training before the last one ended;
- at exit, if training never reached its end: an uncaught exception is recorded by ``Run``'s
  own exit handling; otherwise (the program caught the exception and went on) nothing of the
  error is left to see, and the run is recorded ``failed`` with a message that says so.

Values that arrive after training (an evaluation of the trained model) go to the summary of
the completed run: it is reopened (``Run(resume=True)``), given them, and ended again.
"""

from __future__ import annotations

import atexit
import sys
from collections.abc import Mapping
from typing import Any

from rundocs.format.schema import to_json_value
from rundocs.record.run import Run

#: The error of a run whose training stopped without the framework saying so.
UNFINISHED = "training stopped before its end (the program caught the exception, or exited during training)"
#: The error of a run whose callback started a new training while it was still open.
SUPERSEDED = "training stopped before its end: the same callback started a new training"


def as_settings(value: Any) -> dict[str, Any]:
    """A config (mapping, dataclass, ``Namespace``, OmegaConf...) as a JSON object, as ``Run`` reads it."""
    settings = to_json_value(value)
    if settings is None:
        return {}
    return settings if isinstance(settings, dict) else {"value": settings}


class Recorder:
    """The run of one callback: started, reopened, given final values and ended by it.

    Args:
        config: The user's settings; the framework's (``settings``) are added to them.
        epochs: The user's planned epochs; when None, the framework's are used.
        arguments: The other ``rundocs.Run`` arguments (name, phase, sweep, tags, id, dir...).
    """

    def __init__(self, config: Any, epochs: int | None, arguments: Mapping[str, Any]) -> None:
        self.run: Run | None = None
        #: Settings the framework reports (hyperparameters, training arguments), over the user's.
        self.settings: dict[str, Any] = {}
        self._config = as_settings(config)
        self._epochs = epochs
        self._arguments = dict(arguments)
        self._open = False

    @property
    def live(self) -> Run | None:
        """The run while it is open, else None."""
        return self.run if self._open else None

    @property
    def config(self) -> dict[str, Any]:
        return {**self._config, **self.settings}

    def start(self, epochs: int | None = None, **arguments: Any) -> Run:
        """Open a new run, ending one still open as ``failed`` (its training never ended).
        ``arguments`` replace the callback's ``Run`` arguments for this run."""
        self.end("failed", SUPERSEDED)
        planned = self._epochs if self._epochs is not None else epochs
        self.run = Run(**{**self._arguments, **arguments}, config=self.config, epochs=planned)
        self._track()
        return self.run

    def reopen(self) -> Run | None:
        """The run, open again if it had completed (a later stage of the same training)."""
        run = self.run
        if run is None or self._open or run.status != "completed" or run.folder is None:
            return self.live
        arguments = {**self._arguments, "id": run.id, "dir": run.store or run.folder.parent, "resume": True}
        self.run = Run(**arguments)
        self._track()
        return self.run

    def update_settings(self, settings: Mapping[str, Any]) -> None:
        """Add framework settings; an open run's config is rewritten at once."""
        self.settings.update(settings)
        if self.live is not None:
            self.live.update(config=self.config)

    def summary(self, values: Mapping[str, Any]) -> None:
        """Final values: into the open run, or into the completed one, reopened for them."""
        run = self.live
        if run is not None:
            run.summary(**values)
            return
        run = self.reopen()
        if run is not None:
            run.summary(**values)
            self.end()

    def end(self, status: str = "completed", error: BaseException | str | None = None) -> None:
        """End the open run: ``status``, or as the exception says (``Run``'s rules for ``with``)."""
        run = self.live
        if run is None:
            return
        self._open = False
        atexit.unregister(self._end_unfinished)
        if isinstance(error, BaseException):
            run.__exit__(type(error), error, error.__traceback__)
        else:
            run.end(status, error)

    def _track(self) -> None:
        self._open = True
        if self.run is not None and self.run.active:
            # Registered after the run's own exit hook, so it runs first (atexit is last-in, first-out).
            atexit.register(self._end_unfinished)

    def _end_unfinished(self) -> None:
        """At exit, with the run still open: its training never reached its end."""
        if getattr(sys, "last_value", None) is not None:
            return  # an uncaught exception ends the program: the run's own exit handling records it
        self.end("failed", UNFINISHED)
