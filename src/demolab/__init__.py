"""demolab: a research project in miniature whose runs rundocs records and documents.

Digits (scikit-learn's bundled 8x8 set) classified by a small CNN, in three phases: a
learning-rate sweep, a capacity comparison evaluated in and out of distribution, and a
warm-started fine-tune on shifted data. Run it with ``PYTHONPATH=src python -m demolab``.
"""
