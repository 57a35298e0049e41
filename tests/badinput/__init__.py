"""Corpora of bad scan input and bad bundles, each kind with its expected outcome (issue 7)."""
