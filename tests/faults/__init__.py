"""Fault injection: kill -9 of the agent and of ingest workers, and a misbehaving S3."""
