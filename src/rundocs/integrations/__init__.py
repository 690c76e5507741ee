"""Framework callbacks: a training run of Lightning, transformers or Keras recorded as a run.

Each framework has its own module and extra, imported only by the user:

- ``rundocs.integrations.lightning``: ``RundocsLogger`` (``pip install 'rundocs[lightning]'``),
- ``rundocs.integrations.transformers``: ``RundocsCallback`` (``pip install 'rundocs[transformers]'``),
- ``rundocs.integrations.keras``: ``RundocsCallback`` (``pip install 'rundocs[keras]'``).

``recorder`` holds what the three share: when the run starts, how it ends (also when the
framework never says), and final values that arrive after training. ``docs/integrations.md``
says what each records.
"""
