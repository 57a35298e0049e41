"""``aspa-agent``: the clerk workstation's commands. Errors become exit codes here, only here."""

from __future__ import annotations

import json
import logging
import signal
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from classifiers.errors import AdminError
from scanner_agent import report
from scanner_agent.config import AgentConfig, load_config
from scanner_agent.errors import AgentError, ConfigError, InputRejected
from scanner_agent.keys_cli import keys_app

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="ASPA capture agent: scanned pages → verified case bundles.")
app.add_typer(keys_app, name="keys")
log = logging.getLogger("aspa-agent")

ConfigOpt = Annotated[Path | None, typer.Option("--config", "-c", help="agent.toml to read.")]
JsonLogs = Annotated[bool, typer.Option("--json-logs", help="One JSON object per log line.")]


def _config(path: Path | None, **overrides: Any) -> AgentConfig:
    return load_config(path, **{k: v for k, v in overrides.items() if v is not None})


@app.command()
def bundle(
    paths: Annotated[list[Path], typer.Argument(help="Scan files or folders; one bundle each.")],
    out: Annotated[Path, typer.Option("--out", help="Folder to write the bundles to.")],
    point: Annotated[str | None, typer.Option("--point", help="Service point id.")] = None,
    clerk: Annotated[str | None, typer.Option("--clerk", help="Clerk id.")] = None,
    config: ConfigOpt = None,
    json_logs: JsonLogs = False,
) -> None:
    """Make bundles from files or folders (no upload) and print a JSON summary."""
    from scanner_agent.batch import bundle_paths

    report.setup(json_logs, quiet=True)
    cfg = _config(config, point__point_id=point, point__clerk_id=clerk)
    summary = bundle_paths(paths, out, cfg)
    json.dump(summary, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")
    if summary["rejected"]:
        raise typer.Exit(1)


@app.command()
def run(config: ConfigOpt = None, json_logs: JsonLogs = False) -> None:
    """Watch the inbox and turn every scan into a bundle in the outbox, until Ctrl-C."""
    from classifiers.loading import load_classifier
    from scanner_agent.service import Service

    report.setup(json_logs)
    cfg = _config(config)
    service = Service(cfg, load_classifier(cfg.classifier.catalogue, cfg.classifier.model),
                      on_outcome=report.outcome)
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: service.stop())
    service.run()


@app.command()
def scan(
    config: ConfigOpt = None,
    clerk: Annotated[str | None, typer.Option("--clerk", help="Clerk id.")] = None,
    reason: Annotated[str | None, typer.Option("--reason", help="Visit reason.")] = None,
    json_logs: JsonLogs = False,
) -> None:
    """Scan one job on the configured SANE device into a bundle in the outbox."""
    from scanner_agent.scan_job import scan_to_outbox

    report.setup(json_logs)
    cfg = _config(config, point__clerk_id=clerk)
    outcome = scan_to_outbox(cfg, visit_reason=reason)
    report.outcome(outcome)


@app.command()
def demo(
    config: ConfigOpt = None,
    once: Annotated[bool, typer.Option("--once", help="Stop after the samples.")] = False,
) -> None:
    """Run the agent on the embedded default with sample scans dropped into the inbox."""
    from scanner_agent.demo import run_demo

    report.setup(json_logs=False, quiet=True)
    run_demo(_config(config), once)


@app.command()
def status(config: ConfigOpt = None,
           as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Outbox and quarantine: counts and the age of the oldest item."""
    from scanner_agent.status import collect

    facts = collect(_config(config))
    if as_json:
        print(json.dumps(facts, indent=2))
    else:
        report.status_table(facts)


@app.command()
def doctor(config: ConfigOpt = None) -> None:
    """Check tesseract and its languages, the scanner, the folders and the config."""
    from aspa_contract.checks import print_checks
    from scanner_agent.doctor import run_checks

    cfg = _config(config)
    problems = print_checks(run_checks(cfg))
    if problems:
        raise typer.Exit(3)


def main() -> None:
    """Console entry point: one place maps errors to exit codes and plain messages."""
    try:
        app()
    except InputRejected as exc:  # the clerk's paper could not become a bundle: say why, fi/sv
        print(f"aspa-agent: {exc.reason_text()}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except AgentError as exc:
        print(f"aspa-agent: {exc}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except AdminError as exc:  # the configured form catalogue or model cannot be used
        print(f"aspa-agent: classifier configuration: {exc}", file=sys.stderr)
        sys.exit(ConfigError.exit_code)
