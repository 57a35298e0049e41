"""The bundle contract: the only thing the scanner agent and Kela's ingest share.

A bundle is a zip holding ``manifest.json`` and one searchable PDF per document. The manifest
is described by one versioned JSON Schema (``schema/bundle-1.schema.json``) that both sides load.
"""

from aspa_contract.manifest import (
    MANIFEST_NAME,
    SCHEMA_ID,
    ContractViolation,
    load_schema,
    validate_manifest,
)

__all__ = ["MANIFEST_NAME", "SCHEMA_ID", "ContractViolation", "load_schema", "validate_manifest"]
