"""Errors the admin tools raise on purpose; each message says what to do.

    AdminError (ValueError)
    ├── DatasetError       labels.csv or a page file is wrong: names the row and the fix
    ├── ModelIncompatible  a model file of another format/version: says how to retrain
    └── CatalogueError     (classifiers.catalogue) the form catalogue is invalid
"""

from __future__ import annotations


class AdminError(ValueError):
    """Base of the admin tools' deliberate errors: printed as one line, exit code 2."""


class DatasetError(AdminError):
    """A dataset folder cannot be used as it is."""


class ModelIncompatible(AdminError):
    """A model file that this version cannot use; the message says how to retrain."""
