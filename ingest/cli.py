"""``aspa-ingest``: Kela's backoffice commands. Errors become exit codes here, only here.

Identity codes are always shown masked (``010594Y***2``); ``cases show`` records who looked.
"""

from __future__ import annotations

import getpass
import json
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer
from rich import box
from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine

from ingest.db import (
    CaseNotFound,
    CaseView,
    DatabaseUnavailable,
    ExceptionView,
    MalformedCaseRef,
    SchemaNotCurrent,
    list_cases,
    list_exceptions,
    make_engine,
    require_current,
    show_case,
    shown_url,
    upgrade_database,
)
from ingest.errors import IngestError
from ingest.keys_cli import keys_app
from ingest.settings import IngestConfig, IngestConfigError, load_ingest_config

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="ASPA ingest: verified bundles → pending cases at Kela.")
db_app = typer.Typer(no_args_is_help=True, help="The case database.")
cases_app = typer.Typer(no_args_is_help=True, help="Registered cases.")
exceptions_app = typer.Typer(no_args_is_help=True, help="Bundles that could not be registered.")
app.add_typer(db_app, name="db")
app.add_typer(cases_app, name="cases")
app.add_typer(exceptions_app, name="exceptions")
app.add_typer(keys_app, name="keys")

HELSINKI = ZoneInfo("Europe/Helsinki")
# Exit codes by error class; the first match wins, so subclasses come first.
EXIT_CODES: tuple[tuple[type[Exception], int], ...] = (
    (IngestConfigError, 2),
    (DatabaseUnavailable, 3),
    (SchemaNotCurrent, 3),
    (CaseNotFound, 1),
    (MalformedCaseRef, 1),
    (IngestError, 1),
)

ConfigOpt = Annotated[Path | None, typer.Option("--config", "-c", help="ingest.toml to read.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]


@db_app.command("upgrade")
def db_upgrade(config: ConfigOpt = None) -> None:
    """Create or migrate the case database to this version's schema (safe to repeat)."""
    cfg = load_ingest_config(config)
    revision = upgrade_database(cfg.db_url)
    typer.echo(f"database {shown_url(cfg.db_url)} is at schema revision {revision}")


@cases_app.command("list")
def cases_list(
    as_json: JsonOpt = False,
    point: Annotated[str | None, typer.Option("--point", help="Only this service point.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=10_000,
                                       help="At most this many, newest first.")] = 50,
    config: ConfigOpt = None,
) -> None:
    """List the newest cases: reference, arrival, point, status, masked identity code."""
    with _database(config) as engine:
        cases = list_cases(engine, point_id=point, limit=limit)
    if as_json:
        _print_json([case.to_json() for case in cases])
    else:
        _print_case_table(cases)


@cases_app.command("show")
def cases_show(
    ref: Annotated[str, typer.Argument(help="Case reference (ASPA-…) or bundle id.")],
    as_json: JsonOpt = False,
    config: ConfigOpt = None,
) -> None:
    """Show one case and its documents. The view is recorded in the access log."""
    with _database(config) as engine:
        case = show_case(engine, ref, viewer=getpass.getuser(), channel="cli")
    if as_json:
        _print_json(case.to_json())
    else:
        _print_case(case)


@exceptions_app.command("list")
def exceptions_list(
    as_json: JsonOpt = False,
    limit: Annotated[int, typer.Option("--limit", min=1, max=10_000,
                                       help="At most this many, newest first.")] = 100,
    config: ConfigOpt = None,
) -> None:
    """List rejected bundles: when, why, and where the quarantined copy is."""
    with _database(config) as engine:
        rejects = list_exceptions(engine, limit=limit)
    if as_json:
        _print_json([reject.to_json() for reject in rejects])
    else:
        _print_exception_table(rejects)


def main() -> None:
    """Console entry point: one place maps errors to exit codes and plain messages."""
    try:
        app()
    except Exception as exc:
        code = exit_code(exc)
        if code is None:
            raise
        print(f"aspa-ingest: {exc}", file=sys.stderr)
        sys.exit(code)


def exit_code(exc: BaseException) -> int | None:
    """The exit code for a deliberate error; None for a bug (let it show its traceback)."""
    return next((code for kind, code in EXIT_CODES if isinstance(exc, kind)), None)


@contextmanager
def _database(config_path: Path | None) -> Iterator[Engine]:
    cfg: IngestConfig = load_ingest_config(config_path)
    engine = make_engine(cfg.db_url)
    try:
        require_current(engine)
        yield engine
    finally:
        engine.dispose()


def _print_json(document: Any) -> None:
    json.dump(document, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")


def _local(instant: datetime, zone: bool = True) -> str:
    return instant.astimezone(HELSINKI).strftime("%Y-%m-%d %H:%M" + (" %Z" if zone else ""))


def _forms(case: CaseView) -> str:
    """``TO 1, SV 178 +2``: the forms, then how many attachments or unknown documents."""
    forms = [d.form_code for d in case.documents if d.form_code]
    others = len(case.documents) - len(forms)
    return ", ".join(forms) + (f" +{others}" if others else "")


def _print_case_table(cases: Sequence[CaseView]) -> None:
    table = Table(caption="times in Helsinki", box=box.SIMPLE_HEAD, pad_edge=False)
    # References and keys are read out and copied: wrap other columns, never cut these.
    table.add_column("case", no_wrap=True, min_width=23)
    table.add_column("received", no_wrap=True, min_width=16)
    table.add_column("point", overflow="fold")
    table.add_column("status", overflow="fold")
    table.add_column("hetu", no_wrap=True, min_width=11)
    table.add_column("documents", overflow="fold")
    for case in cases:
        table.add_row(case.case_ref, _local(case.received_at, zone=False), case.point_id,
                      case.status, case.hetu or "—", _forms(case))
    Console().print(table)


def _print_case(case: CaseView) -> None:
    console = Console()
    console.print(f"[bold]{case.case_ref}[/bold]  {case.status}  bundle {case.bundle_id}")
    console.print(f"customer {case.hetu or '— (no identity code)'}")
    console.print(f"point {case.point_id}, clerk {case.clerk_id}")
    for label, instant in (("handed in", case.handed_in_at), ("scanned", case.scanned_at),
                           ("received", case.received_at), ("registered", case.registered_at)):
        console.print(f"{label:>10}  {_local(instant)}")
    console.print(f"{'arrival':>10}  {case.arrival_date.isoformat()}")
    table = Table("#", "form", "kind", "pages", "language", "confidence", "by")
    for doc in case.documents:
        form = f"{doc.form_code} ({doc.form_variant})" if doc.form_variant else doc.form_code
        table.add_row(str(doc.position), form or "—", doc.kind, str(doc.pages), doc.language,
                      f"{doc.confidence:.2f}", doc.classified_by)
    console.print(table)


def _print_exception_table(rejects: Sequence[ExceptionView]) -> None:
    table = Table(caption="times in Helsinki", box=box.SIMPLE_HEAD, pad_edge=False)
    for name in ("detected", "code", "object", "reason", "quarantine"):
        table.add_column(name, overflow="fold")
    for reject in rejects:
        table.add_row(_local(reject.detected_at, zone=False), reject.code, reject.object_key,
                      reject.reason, reject.quarantine_key or "—")
    Console().print(table)


@app.command("doctor")
def doctor(config: ConfigOpt = None) -> None:
    """Check the store, the queue and the bucket's notifications to it, and the database;
    each problem says its fix. Exit 3 on a problem."""
    from aspa_contract.checks import print_checks
    from ingest.doctor import run_checks

    if print_checks(run_checks(load_ingest_config(config))):
        raise typer.Exit(3)


@app.command("run")
def run(
    config: ConfigOpt = None,
    json_logs: Annotated[bool, typer.Option("--json-logs",
                                            help="Log one JSON object per line.")] = False,
) -> None:
    """Run the ingest workers until SIGINT or SIGTERM: new bundles become pending cases."""
    import signal
    import threading

    from aspa_contract.logs import setup_logging
    from ingest.doctor import log_notification_problems
    from ingest.worker import run_workers

    cfg = load_ingest_config(config)
    setup_logging(json_logs)
    log_notification_problems(cfg)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    run_workers(cfg, stop)
