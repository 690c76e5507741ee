"""Runs logged by other trackers, written as rundocs run folders (``rundocs import SOURCE``).

Each source module reads its tracker's files into ``ImportedRun`` objects; ``store`` writes
them, the same way for every source: fixed ids, rewritten only when the source changed.
"""
