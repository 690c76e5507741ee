"""``optuna_simple.py`` recorded live with rundocs' Optuna integration: two added lines.

The objective is unchanged (it reports from epoch 0); ``RundocsCallback(epochs=EPOCHS)``
wraps it with ``track``, so each trial is a run of the sweep named after the study.
"""

import sys

from optuna_simple import EPOCHS, objective, run_study

import rundocs.optuna

if __name__ == "__main__":
    recorder = rundocs.optuna.RundocsCallback(epochs=EPOCHS)
    run_study(sys.argv[1], sys.argv[2], recorder.track(objective))
