"""``rundocs.current_run()``: the run that code deep in a training loop should log to."""

from __future__ import annotations

from contextvars import ContextVar

from rundocs.record import exits
from rundocs.record.run import Run

#: The run of the Optuna trial this thread or task runs (set by ``RundocsCallback.track``).
trial_run: ContextVar[Run | None] = ContextVar("rundocs_trial_run", default=None)


def current_run() -> Run | None:
    """The run of the Optuna trial this thread runs (``rundocs.optuna.RundocsCallback.track``),
    else the run this process started last and has not ended, else None.

    For code that cannot be handed the run (a callback, a helper deep in the loop)::

        run = rundocs.current_run()
        if run is not None:
            run.log(epoch=epoch, grad_norm=norm)
    """
    run = trial_run.get()
    if run is not None:
        return run
    newest = exits.newest()
    return newest if isinstance(newest, Run) else None
