"""Loading: runs folders into records and pandas frames, with every problem listed."""
