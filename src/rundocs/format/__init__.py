"""The on-disk format of a run folder, shared by ``rundocs.record`` and ``rundocs.load``.

Neither of those imports the other: both depend on this package for the vocabulary of
fields and states (``schema``), the JSON Schemas (``schemas/``) and their validation
(``validate``), and the reading rules for records written by other languages (``decode``).
"""
