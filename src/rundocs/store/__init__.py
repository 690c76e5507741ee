"""Runs in an object store (``s3://``, ``gs://``, ``az://``, ``file://``), through fsspec.

``locations`` tells a URL from a path and opens the store; ``sides`` lists, reads and writes
the files of run folders on either side (a local folder, a store prefix) under one rule for
object names; ``sync`` copies what changed from one side to the other (``rundocs sync``, and
the mirror every reader loads a store through); ``upload`` publishes a recording run's local
staging copy at its heartbeats and at its end.
"""
