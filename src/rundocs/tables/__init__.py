"""Every run as two tables for other tools: ``runs`` (one row per run) and ``metrics`` (one row
per logged value). ``columns`` builds them from a loaded runs folder, ``export`` writes them as
Parquet or CSV files, ``query`` runs SQL over them with DuckDB. Needs the ``export`` or
``query`` extra (pyarrow, DuckDB); nothing else in rundocs imports this package.
"""
