"""Analysis: pure functions from loaded frames to numbers and findings; no files, no templates."""
