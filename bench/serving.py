"""gunicorn for the benchmarks that go over HTTP (bench/load.py, bench/serve.py): start it
from the repo's gunicorn.conf.py on a free loopback port, wait until it answers, read its
CPU time, and stop it with every process it started."""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def start_gunicorn(env: dict, log_path: Path, app: str = "app:app", *args: str):
    """gunicorn with the repo's gunicorn.conf.py, in a process group of its own (so that
    stop_gunicorn can end the workers too) and without a control socket, so that two
    instances never clash over the default one."""
    out = open(log_path, "wb")  # noqa: SIM115 (closed with the process)
    command = [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py"]
    command += ["--no-control-socket", *args, app]
    return subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def cpu_by_process(pid: int) -> dict[int, float]:
    """CPU time (user + system, seconds) of a process and of each of its children alive
    now, from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    pids = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        children = []
    pids += [int(c) for c in children]
    times = {}
    for p in pids:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        times[p] = (int(fields[11]) + int(fields[12])) / tick
    return times


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of a process and its children alive now, from /proc."""
    return sum(cpu_by_process(pid).values())


def machine_cpu() -> tuple[float, float]:
    """(busy, all) CPU seconds of the whole machine since boot, every core, from /proc/stat."""
    tick = os.sysconf("SC_CLK_TCK")
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle and iowait
    return (sum(fields) - idle) / tick, sum(fields) / tick


def wait_ready(port: int, server: subprocess.Popen, timeout: float = 30, path="/readyz") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit("gunicorn exited during start-up; see its log above.")
        try:
            conn = http.client.HTTPConnection(HOST, port, timeout=2)
            conn.request("GET", path)
            if conn.getresponse().status == 200:
                conn.close()
                return
            conn.close()
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"gunicorn did not answer {path} in time.")


def stop_gunicorn(server: subprocess.Popen) -> None:
    """SIGTERM to the master (a graceful stop), then SIGKILL to whatever of its process
    group is left, so that no worker outlives the benchmark."""
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    with contextlib.suppress(ProcessLookupError):
        os.killpg(server.pid, signal.SIGKILL)
