"""Ingest throughput and latency: `aspa-ingest run` processes on moto S3 + SQS events.

For each configuration — PostgreSQL with 1, 2 and 4 worker processes, SQLite with 1 — the
benchmark makes a fresh bucket, a fresh SQS queue that gets the bucket's ``ObjectCreated``
events for ``incoming/``, and a fresh database (migrated before the workers start), starts the
`aspa-ingest run` processes and then, after a few warm-up bundles that are not counted:

* paced phase: N bundles uploaded one by one at a steady ``--rate`` per second, below what one
  worker handles, so the latency is the pipeline's own, not time spent waiting in a queue;
* burst phase: N more bundles uploaded all at once from ``--upload-threads`` threads; the
  throughput is N / (last case's ``registered_at`` − start of the first upload).

Latency of a bundle = its case's ``registered_at`` (stamped by the worker inside the registering
transaction, just before commit; the receipt is written right after) − the instant the
uploader's ``PutObject`` returned. Both clocks are this machine's. S3's ``LastModified`` is not
used: moto, like S3, gives it to the second.

Only the queue discovers bundles: the reconciling listing runs once at start (on an empty
bucket) and then every hour. Everything runs on this machine — moto_server, PostgreSQL, the
uploader and the workers share its cores — so read the numbers as relative.

Columns besides those: burst p50/p95 latency (mostly time queued behind the backlog), CPU per
bundle in the burst of the worker processes, moto_server and the PostgreSQL backends serving the
benchmark's database (SQLite's work is inside the workers), the share of all cores busy during
the burst (any process, other users' included) and the 1-minute load average at the start.

    .venv/bin/python bench/ingest_throughput.py -n 200

Starts and stops moto_server itself (free port), starts the local PostgreSQL cluster if it is
down (and stops it again at the end if it started it and nobody else is connected), and drops
every database it created. Prints one Markdown table.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import boto3
import psycopg
from botocore.config import Config
from sqlalchemy import Engine, func, select, text
from sqlalchemy.engine import make_url

from aspa_contract.layout import incoming_key
from aspa_contract.sealing import SealedBundle
from aspa_contract.storage import Storage, StorageSettings, open_storage
from ingest.db import make_engine
from ingest.db.models import BundleException, Case
from tests.bundles import seal, valid_bundle
from tests.exchange import ingest_sealing, trust_test_keys
from tests.postgres import fresh_database
from tests.s3server import CLEARED_ENV, FAKE_ENV, REGION, answers_http

BIN = Path(sys.executable).parent
INGEST = BIN / "aspa-ingest"
PG_ADMIN_URL = os.environ.get("ASPA_TEST_PG_ADMIN_URL",
                              "postgresql+psycopg://postgres@127.0.0.1:5432/test")
POINTS = ("hki-kallio", "tku-keskusta", "oulu-keskusta")
PREFIX = "exchange"
WARMUP = 3
START_TIMEOUT_S = 60.0
CLK_TCK = os.sysconf("SC_CLK_TCK")

Bundle = tuple[str, str, SealedBundle]  # (bundle_id, key, the zip sealed as the agent seals it)


@dataclass(frozen=True)
class Setup:
    """One row of the table: which database and how many `aspa-ingest run` processes."""

    database: str  # "postgresql" | "sqlite"
    processes: int


@dataclass(frozen=True)
class Phase:
    """What one phase measured. ``latencies_s`` is per bundle; CPU is in seconds."""

    uploaded: int
    seconds: float  # first upload start → last registered_at
    upload_seconds: float  # first upload start → last upload return
    latencies_s: list[float]
    cpu_s: dict[str, float]  # "ingest" (the workers), "moto", "postgres" (its backends)
    machine_busy: float  # share of all cores' time not idle, any process

    @property
    def per_s(self) -> float:
        """Bundles registered per second over the whole phase."""
        return self.uploaded / self.seconds


@dataclass(frozen=True)
class Row:
    """One configuration's results."""

    setup: Setup
    threads: int
    load_1m: float
    paced_rate: float  # achieved upload rate
    paced: Phase
    burst: Phase


# --- environment, moto_server, PostgreSQL --------------------------------------------------


def fake_aws_env(home: Path) -> None:
    """Fake credentials and no AWS config, for this process and the workers it starts."""
    for name in CLEARED_ENV:
        os.environ.pop(name, None)
    os.environ.update(FAKE_ENV)
    os.environ["AWS_CONFIG_FILE"] = str(home / "no-config")
    os.environ["AWS_SHARED_CREDENTIALS_FILE"] = str(home / "no-credentials")
    os.environ["NO_PROXY"] = "127.0.0.1,localhost"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def moto_server(workdir: Path) -> Iterator[tuple[str, int]]:
    """A moto_server child process; yields ``(endpoint_url, pid)`` and stops it on leaving."""
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    script = BIN / "moto_server"
    command = [str(script)] if script.exists() else [sys.executable, "-m", "moto.server"]
    with open(workdir / "moto_server.log", "wb") as log:
        process = subprocess.Popen([*command, "-H", "127.0.0.1", "-p", str(port)], stdout=log,
                                   stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        wait_for(f"moto_server on {endpoint}", lambda: answers_http(endpoint), START_TIMEOUT_S,
                 alive=lambda: process.poll() is None)
        yield endpoint, process.pid
    finally:
        stop_process(process)


def stop_process(process: subprocess.Popen[bytes]) -> int:
    """SIGTERM, then SIGKILL after 60 s; the exit code."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.wait(timeout=10)


def _dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _pg_problem(admin_url: str) -> str | None:
    try:
        with psycopg.connect(_dsn(admin_url), connect_timeout=3):
            return None
    except psycopg.OperationalError as exc:
        return str(exc).strip()


def _pg_clusters(action: str) -> None:
    for version in sorted(p.name for p in Path("/etc/postgresql").glob("*")):
        subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", action],
                       capture_output=True, timeout=60, check=False)


def ensure_postgres(admin_url: str) -> bool:
    """Make sure PostgreSQL answers; True when this run had to start the local cluster."""
    if _pg_problem(admin_url) is None:
        return False
    _pg_clusters("start")
    timed_out = wait_for("PostgreSQL", lambda: _pg_problem(admin_url) is None, 20.0,
                         fail=False)
    if timed_out:
        raise SystemExit(f"PostgreSQL is not usable: {_pg_problem(admin_url)}; start it "
                         "(pg_ctlcluster 15 main start) or set ASPA_TEST_PG_ADMIN_URL")
    return True


def stop_postgres_if_unused(admin_url: str) -> str:
    """Stop the cluster this run started, unless other clients use it meanwhile; say what."""
    with psycopg.connect(_dsn(admin_url)) as admin:
        row = admin.execute("SELECT count(*) FROM pg_stat_activity WHERE backend_type = "
                            "'client backend' AND pid <> pg_backend_pid()").fetchone()
    others = int(row[0]) if row else 0
    if others:
        return f"left PostgreSQL running (started by this run): {others} other client(s)"
    _pg_clusters("stop")
    return "stopped PostgreSQL again (this run had started it)"


@contextmanager
def postgres_database(admin_url: str) -> Iterator[str]:
    """A new empty database, dropped on leaving; yields its SQLAlchemy URL."""
    with fresh_database(admin_url, "aspa_bench") as url:
        yield url


@contextmanager
def sqlite_database(workdir: Path) -> Iterator[str]:
    """A new SQLite file (with its WAL files) under ``workdir``, removed on leaving."""
    folder = Path(tempfile.mkdtemp(prefix="sqlite-", dir=workdir))
    try:
        yield f"sqlite:///{folder / 'ingest.db'}"
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# --- store, queue and workers ------------------------------------------------------------


def client(service: str, endpoint: str) -> Any:
    """A boto3 client for ``service`` on moto."""
    make: Any = boto3.client  # the stubs type only literal service names
    return make(service, endpoint_url=endpoint, region_name=REGION,
                config=Config(retries={"mode": "standard", "max_attempts": 3}))


def bucket_with_queue(endpoint: str) -> tuple[str, str]:
    """A fresh bucket whose ``incoming/`` ObjectCreated events go to a fresh queue;
    ``(store url, queue url)``."""
    name = f"aspa-bench-{secrets.token_hex(6)}"
    client("s3", endpoint).create_bucket(
        Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
    sqs = client("sqs", endpoint)
    queue_url: str = sqs.create_queue(QueueName=f"{name}-events")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue_url,
                                   AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    prefix = {"Key": {"FilterRules": [{"Name": "prefix", "Value": f"{PREFIX}/incoming/"}]}}
    client("s3", endpoint).put_bucket_notification_configuration(
        Bucket=name, NotificationConfiguration={"QueueConfigurations": [
            {"QueueArn": arn, "Events": ["s3:ObjectCreated:*"], "Filter": prefix}]})
    return f"s3://{name}/{PREFIX}", queue_url


def worker_env(store_url: str, queue_url: str, db_url: str, endpoint: str,
               threads: int) -> dict[str, str]:
    """`aspa-ingest run` configuration: events only (the listing runs at start, then hourly)."""
    return {
        "ASPA_INGEST_STORAGE_URL": store_url,
        "ASPA_INGEST_STORAGE__ENDPOINT_URL": endpoint,
        "ASPA_INGEST_STORAGE__REGION": REGION,
        "ASPA_INGEST_STORAGE__ADDRESSING_STYLE": "path",
        "ASPA_INGEST_DB_URL": db_url,
        "ASPA_INGEST_QUEUE_URL": queue_url,
        "ASPA_INGEST_SQS__ENDPOINT_URL": endpoint,
        "ASPA_INGEST_SQS__REGION": REGION,
        # Long polls return as soon as a message arrives; 5 s only bounds the shutdown.
        "ASPA_INGEST_SQS__WAIT_TIME_S": "5",
        "ASPA_INGEST_SQS__VISIBILITY_TIMEOUT_S": "120",
        "ASPA_INGEST_RECONCILE_INTERVAL_S": "3600",
        "ASPA_INGEST_WORKERS": str(threads),
    }


@contextmanager
def ingest_processes(count: int, env: dict[str, str], workdir: Path) -> Iterator[list[int]]:
    """``count`` × `aspa-ingest run`, each running when this yields their pids; SIGTERM on
    leaving. A worker that dies or does not exit 0 shows its log's tail."""
    logs = [workdir / f"ingest-{secrets.token_hex(3)}-{n}.log" for n in range(count)]
    processes: list[subprocess.Popen[bytes]] = []
    try:
        for log in logs:
            with open(log, "wb") as out:
                processes.append(subprocess.Popen(
                    [str(INGEST), "run"], env=os.environ | env, cwd=workdir, stdout=out,
                    stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL))
        for process, log in zip(processes, logs, strict=True):
            wait_for(f"`aspa-ingest run` ({log.name})", partial(_says_running, log),
                     START_TIMEOUT_S, alive=partial(_alive, process), log=log)
        yield [process.pid for process in processes]
    finally:
        codes = [stop_process(process) for process in processes]
        for code, log in zip(codes, logs, strict=True):
            if code != 0:
                print(f"{log.name} exited {code}:\n{tail(log)}", file=sys.stderr)


def _says_running(log: Path) -> bool:
    return "ingest running" in log.read_text(errors="replace")


def _alive(process: subprocess.Popen[bytes]) -> bool:
    return process.poll() is None


def tail(log: Path, chars: int = 3000) -> str:
    """The end of a log file."""
    return log.read_text(errors="replace")[-chars:] if log.exists() else "(no log)"


def wait_for(what: str, condition: Callable[[], bool], timeout_s: float, *,
             alive: Callable[[], bool] = lambda: True, log: Path | None = None,
             fail: bool = True, poll_s: float = 0.1) -> bool:
    """Poll ``condition``; raise (or return True when ``fail`` is False) on timeout or death."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if not alive() or time.monotonic() > deadline:
            if not fail:
                return True
            shown = f"\n{tail(log)}" if log else ""
            raise RuntimeError(f"never happened within {timeout_s:.0f} s: {what}{shown}")
        time.sleep(poll_s)
    return False


# --- measuring -----------------------------------------------------------------------------


def make_bundles(count: int) -> list[Bundle]:
    """``count`` valid one-document bundles spread over a few service points."""
    out = []
    for n in range(count):
        point = POINTS[n % len(POINTS)]
        bundle_id, data = valid_bundle(point, documents=1)
        out.append((bundle_id, incoming_key(point, bundle_id), seal(point, bundle_id, data)))
    return out


def cpu_ticks(pids: Sequence[int]) -> dict[int, int]:
    """User + system CPU ticks of each live process in ``pids`` so far (not its children)."""
    ticks = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        ticks[pid] = int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15)
    return ticks


def machine_ticks() -> tuple[int, int]:
    """``(busy, total)`` CPU ticks of all cores since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return sum(values) - idle, sum(values)


@dataclass(frozen=True)
class Watched:
    """The processes whose CPU a phase reports."""

    workers: Sequence[int]
    moto: int
    engine: Engine  # for PostgreSQL: finds the server processes of the benchmark's database

    def postgres(self) -> list[int]:
        """PIDs of the PostgreSQL backends serving the workers (none for SQLite, whose work
        is done inside the workers)."""
        if self.engine.dialect.name != "postgresql":
            return []
        with self.engine.connect() as connection:
            # Our own polling connection is left out: it is the benchmark, not the ingest.
            return list(connection.execute(text(
                "SELECT pid FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()")).scalars())

    def snapshot(self) -> dict[str, dict[int, int]]:
        """CPU ticks so far: workers, moto, postgres; and the machine's busy/total ticks."""
        busy, total = machine_ticks()
        return {"ingest": cpu_ticks(self.workers), "moto": cpu_ticks([self.moto]),
                "postgres": cpu_ticks(self.postgres()), "machine": {0: busy, 1: total}}


def cpu_used(before: dict[int, int], after: dict[int, int]) -> float:
    """Seconds of CPU between two snapshots; a process that started in between counts from 0
    (one that ended in between is lost: the workers' pooled connections live throughout)."""
    return sum(ticks - before.get(pid, 0) for pid, ticks in after.items()) / CLK_TCK


Upload = tuple[str, datetime, datetime]  # (bundle_id, PUT started, PUT returned)


def upload(store: Storage, bundle: Bundle) -> Upload:
    """PUT one bundle, timed by the wall clock (the workers stamp cases with the same one)."""
    bundle_id, key, sealed = bundle
    started = datetime.now(UTC)
    if not store.put_new(key, sealed.data, metadata=sealed.metadata):
        raise RuntimeError(f"{key} was already there")
    return bundle_id, started, datetime.now(UTC)


def upload_paced(store: Storage, bundles: Sequence[Bundle], rate: float) -> list[Upload]:
    """One upload every 1/``rate`` s on a fixed schedule (late ones go at once)."""
    t0 = time.monotonic()
    done = []
    for n, bundle in enumerate(bundles):
        delay = t0 + n / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        done.append(upload(store, bundle))
    return done


def upload_burst(store: Storage, bundles: Sequence[Bundle], threads: int) -> list[Upload]:
    """Every upload at once from ``threads`` threads."""
    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(lambda bundle: upload(store, bundle), bundles))


def registered(engine: Engine, bundle_ids: Sequence[str], timeout_s: float
               ) -> dict[str, datetime]:
    """Wait until every bundle is a case; its ``registered_at`` by bundle id."""
    ids = list(bundle_ids)

    def count() -> int:
        with engine.connect() as connection:
            return int(connection.execute(select(func.count()).select_from(Case)
                                          .where(Case.bundle_id.in_(ids))).scalar_one())

    wait_for(f"{len(ids)} cases", lambda: count() == len(ids), timeout_s, poll_s=0.25)
    with engine.connect() as connection:
        rejected = connection.execute(select(func.count()).select_from(BundleException))
        if rejected.scalar_one():
            raise RuntimeError("the ingest rejected bundles; see the exceptions table")
        return {row.bundle_id: row.registered_at for row in connection.execute(
            select(Case.bundle_id, Case.registered_at).where(Case.bundle_id.in_(ids)))}


def run_phase(upload_all: Callable[[], list[Upload]], watched: Watched,
              timeout_s: float) -> Phase:
    """Upload, wait for every case, and measure."""
    before = watched.snapshot()
    uploads = upload_all()
    cases = registered(watched.engine, [bundle_id for bundle_id, _, _ in uploads], timeout_s)
    after = watched.snapshot()
    machine = [after["machine"][n] - before["machine"][n] for n in (0, 1)]
    first_start = min(started for _, started, _ in uploads)
    return Phase(
        uploaded=len(uploads),
        seconds=(max(cases.values()) - first_start).total_seconds(),
        upload_seconds=(max(put_at for _, _, put_at in uploads) - first_start).total_seconds(),
        latencies_s=[(cases[bundle_id] - put_at).total_seconds()
                     for bundle_id, _, put_at in uploads],
        cpu_s={name: cpu_used(before[name], after[name])
               for name in ("ingest", "moto", "postgres")},
        machine_busy=machine[0] / max(machine[1], 1),
    )


def measure(setup: Setup, args: argparse.Namespace, endpoint: str, moto_pid: int,
            workdir: Path, bundles: dict[str, list[Bundle]]) -> Row:
    """One configuration: fresh bucket, queue and database; warm-up, paced, burst."""
    store_url, queue_url = bucket_with_queue(endpoint)
    store = open_storage(store_url, StorageSettings(
        endpoint_url=endpoint, region=REGION, addressing_style="path", max_attempts=3,
        read_timeout=30.0))
    with ExitStack() as stack:
        db_url = stack.enter_context(postgres_database(args.pg_admin_url)
                                     if setup.database == "postgresql"
                                     else sqlite_database(workdir))
        # Migrated (test keys registered) first, as deployment does, so start-up is not part
        # of any phase.
        trust_test_keys(db_url, POINTS)
        engine = make_engine(db_url)
        stack.callback(engine.dispose)
        env = worker_env(store_url, queue_url, db_url, endpoint, args.threads)
        env["ASPA_INGEST_SEALING__IDENTITIES_DIR"] = str(
            ingest_sealing(workdir / "kela-keys").identities_dir)
        load_1m = os.getloadavg()[0]
        pids = stack.enter_context(ingest_processes(setup.processes, env, workdir))
        watched = Watched(pids, moto_pid, engine)
        run_phase(lambda: upload_paced(store, bundles["warmup"], 2.0), watched, args.timeout)
        paced = run_phase(lambda: upload_paced(store, bundles["paced"], args.rate), watched,
                          args.timeout)
        burst = run_phase(lambda: upload_burst(store, bundles["burst"], args.upload_threads),
                          watched, args.timeout)
    achieved = (paced.uploaded - 1) / paced.upload_seconds if paced.uploaded > 1 else args.rate
    return Row(setup, args.threads, load_1m, min(achieved, args.rate), paced, burst)


# --- the table -----------------------------------------------------------------------------


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile ``p`` (0–100) of ``values``."""
    ordered = sorted(values)
    return ordered[max(math.ceil(p / 100 * len(ordered)) - 1, 0)]


def ms(seconds: float) -> str:
    """Seconds as whole milliseconds."""
    return f"{seconds * 1000:.0f}"


HEADER = ("| database | worker processes × threads | burst: bundles/s | burst: upload s "
          "| paced: rate/s | paced: p50 ms | paced: p95 ms | paced: max ms "
          "| burst: p50 / p95 s | burst CPU ms/bundle: ingest / moto / postgres "
          "| burst: machine CPU busy "
          "| load 1 m at start |")


def table(rows: Sequence[Row]) -> str:
    """The results as a Markdown table."""
    lines = [HEADER, "|" + "---|" * HEADER.count(" | ") + "---|"]
    for row in rows:
        paced, burst = row.paced, row.burst
        per_bundle = [ms(burst.cpu_s[name] / burst.uploaded) for name in ("ingest", "moto")]
        per_bundle.append(ms(burst.cpu_s["postgres"] / burst.uploaded)
                          if row.setup.database == "postgresql" else "(in ingest)")
        lines.append(
            f"| {row.setup.database} | {row.setup.processes} × {row.threads} "
            f"| {burst.per_s:.1f} ({burst.uploaded} in {burst.seconds:.1f} s) "
            f"| {burst.upload_seconds:.1f} | {row.paced_rate:.1f} "
            f"| {ms(percentile(paced.latencies_s, 50))} | {ms(percentile(paced.latencies_s, 95))} "
            f"| {ms(max(paced.latencies_s))} "
            f"| {percentile(burst.latencies_s, 50):.1f} / {percentile(burst.latencies_s, 95):.1f} "
            f"| {' / '.join(per_bundle)} "
            f"| {burst.machine_busy:.0%} | {row.load_1m:.2f} |")
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("-n", type=int, default=200, help="bundles per phase (default 200)")
    parser.add_argument("--rate", type=float, default=5.0,
                        help="paced phase: uploads per second (default 5)")
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2, 4],
                        help="PostgreSQL runs: worker process counts (default 1 2 4)")
    parser.add_argument("--threads", type=int, default=1,
                        help="worker threads per process, ASPA_INGEST_WORKERS (default 1)")
    parser.add_argument("--upload-threads", type=int, default=8,
                        help="burst phase: concurrent uploads (default 8)")
    parser.add_argument("--no-sqlite", action="store_true", help="skip the SQLite run")
    parser.add_argument("--timeout", type=float, default=600.0,
                        help="give up on a phase after this many seconds (default 600)")
    parser.add_argument("--pg-admin-url", default=PG_ADMIN_URL,
                        help="database to connect to for CREATE/DROP DATABASE "
                        "(default $ASPA_TEST_PG_ADMIN_URL or the local server)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    """Run every configuration and print the table."""
    args = parse_args(argv)
    setups = [Setup("postgresql", p) for p in args.processes]
    if not args.no_sqlite:
        setups.append(Setup("sqlite", 1))
    print(f"uptime at start: {uptime()}", file=sys.stderr)
    bundles = {"warmup": make_bundles(WARMUP), "paced": make_bundles(args.n),
               "burst": make_bundles(args.n)}
    rows = []
    with tempfile.TemporaryDirectory(prefix="aspa-ingest-bench-") as tmp:
        workdir = Path(tmp)
        fake_aws_env(workdir)
        started_pg = ensure_postgres(args.pg_admin_url)
        try:
            with moto_server(workdir) as (endpoint, moto_pid):
                for setup in setups:
                    print(f"running {setup.database} × {setup.processes} …", file=sys.stderr)
                    rows.append(measure(setup, args, endpoint, moto_pid, workdir, bundles))
        finally:
            if started_pg:
                print(stop_postgres_if_unused(args.pg_admin_url), file=sys.stderr)
    print(f"uptime at end: {uptime()}", file=sys.stderr)
    print(json.dumps({"n": args.n, "rate": args.rate, "cores": os.cpu_count()}),
          file=sys.stderr)
    print(table(rows))


def uptime() -> str:
    """`uptime`'s line, for the table caption."""
    done = subprocess.run(["uptime"], capture_output=True, text=True, check=False)
    return done.stdout.strip()


if __name__ == "__main__":
    main()
