"""The prestarted Python forks what a real start would be (tests/support/prestarted.py).

The deployment tests rely on it: a forked ``worker.py`` must see only its
topology's environment, write to its own log, lead its own process group (so a
SIGKILL takes its children too) and report its exit status as ``Popen`` does.
"""

from __future__ import annotations

import os
import signal
import sys

from tests.support.topology import Process, base_environment, wait_until

SCRIPT = """
import logging, os, sys, time
from app.platform.logs import configure_logging
configure_logging()
logging.getLogger("probe").info("json? %s", os.environ.get("LOG_FORMAT"))
print("argv", sys.argv[1:], "pgid-is-pid", os.getpgid(0) == os.getpid())
print("setting", os.environ.get("PROBE_SETTING"), "runner", os.environ.get("PYTEST_XDIST_WORKER"))
print("name", __name__)
if sys.argv[1:] == ["--wait"]:
    time.sleep(60)
sys.exit(3)
"""


def test_a_forked_start_has_its_own_environment_log_group_and_exit_status(tmp_path, prestarted):
    script = tmp_path / "probe.py"
    script.write_text(SCRIPT)
    env = base_environment({"PROBE_SETTING": "from the topology", "LOG_FORMAT": "json"})
    assert prestarted.can_fork(env)

    done = Process("probe", [sys.executable, str(script), "--flag"], env, tmp_path / "p.log",
                   prestarted)  # fmt: skip
    assert done.popen.wait(timeout=30) == 3
    output = done.output()
    assert "argv ['--flag'] pgid-is-pid True" in output
    assert "setting from the topology runner None" in output
    assert "name __main__" in output
    # Logging configured again under the child's environment, not the server's.
    assert '"message": "json? json"' in output

    waiting = Process("waiting", [sys.executable, str(script), "--wait"], env,
                      tmp_path / "w.log", prestarted)  # fmt: skip
    wait_until(lambda: "name __main__" in waiting.output(), 30, "the child started")
    assert waiting.alive()
    waiting.kill()  # SIGKILL to its group
    assert waiting.popen.returncode == -signal.SIGKILL
    assert not waiting.alive()
    assert os.getpid() not in (done.pid, waiting.pid)


def test_what_the_imports_read_from_the_environment_is_started_for_real(prestarted):
    """prometheus_client picks its value class on import: no fork can change it."""
    assert not prestarted.can_fork(base_environment({"PROMETHEUS_MULTIPROC_DIR": "metrics"}))
    assert not prestarted.can_fork(base_environment({"PYTHONHASHSEED": "1"}))
    assert prestarted.can_fork(base_environment({"PORT": "5999", "REDIS_URL": "redis://x/1"}))
