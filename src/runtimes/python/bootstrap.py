"""
Entry point of Kindling's Python runtime, started by the host inside an execution environment:
    python3 <runtime dir>/python/bootstrap.py
with cwd = LAMBDA_TASK_ROOT and Lambda's reserved environment variables (pre-started: see
_await_function). Standard library only; its
modules are named kindling_runtime_* so that they do not meet the function's own.
"""

import os
import sys

RUNTIME_DIR = os.path.dirname(os.path.realpath(__file__))

# Pre-started (the host's worker/prestart-pool.ts): started with neutral variables and this marker,
# the runtime loads what it can ahead of demand, says so on stdout, and waits on stdin for the one
# function it will ever run: a line of JSON with that function's variables.
PRESTARTED_VARIABLE = "_KINDLING_PRESTARTED"
READY_LINE = b"kindling-prestarted-runtime-ready\n"


def _await_function():
    # The standard library the runtime uses, loaded before the wait; the runtime's own modules
    # read the function's variables when they load, so they load after it.
    import http.client  # noqa: F401
    import importlib  # noqa: F401
    import json
    import logging  # noqa: F401
    import traceback  # noqa: F401
    import urllib.parse  # noqa: F401

    from kindling_runtime_api import RuntimeApiClient

    client = RuntimeApiClient(os.environ["AWS_LAMBDA_RUNTIME_API"])
    client.connect()
    os.write(1, READY_LINE)
    line = sys.stdin.buffer.readline()
    if not line:
        sys.exit(0)
    bound = json.loads(line)["env"]
    for name in list(os.environ):
        if name not in bound and name not in SANDBOX_VARIABLES:
            del os.environ[name]
    os.environ.update(bound)
    return client


# What the sandbox itself set when it started (its Runtime API, the API bridge, a home): they stay
# when the function's variables replace the pre-started runtime's (unless the function sets them).
SANDBOX_VARIABLES = frozenset(("AWS_LAMBDA_RUNTIME_API", "_KINDLING_RUNTIME_API_SOCKET", "AWS_ENDPOINT_URL", "HOME"))


def _user_paths(task_root):
    """
    The function's folders in Lambda's order: the task root, then /opt/python/lib/pythonX.Y/site-packages,
    then /opt/python (the layer folders come from PYTHONPATH, wherever the sandbox shows /opt).
    """
    layers = []
    for entry in os.environ.get("PYTHONPATH", "").split(os.pathsep):
        if entry and os.path.realpath(entry) not in (RUNTIME_DIR, os.path.realpath(task_root)) and entry not in layers:
            layers.append(entry)
    layers.sort(key=lambda entry: not entry.rstrip("/").endswith("site-packages"))
    return [task_root] + layers


def main():
    client = _await_function() if PRESTARTED_VARIABLE in os.environ else None
    runtime_api = os.environ.get("AWS_LAMBDA_RUNTIME_API")
    if not runtime_api:
        sys.stderr.write("kindling runtime: AWS_LAMBDA_RUNTIME_API is not set\n")
        sys.exit(1)
    task_root = os.environ.get("LAMBDA_TASK_ROOT") or os.getcwd()

    # The runtime's own imports (json, logging, http.client...) must come from the standard library
    # even when the function ships a module of the same name: the function's folders join sys.path
    # only once they are done, ahead of everything else, as on Lambda.
    user = _user_paths(task_root)
    hidden = {os.path.realpath(entry) for entry in user}
    hidden.add(RUNTIME_DIR)
    rest = [entry for entry in sys.path if os.path.realpath(entry or ".") not in hidden]
    sys.path[:] = [RUNTIME_DIR] + rest

    import site

    from kindling_runtime import run
    from kindling_runtime_api import RuntimeApiClient

    sys.path[:] = user + [RUNTIME_DIR] + rest
    # Lambda reads .pth files in the task root (and the layers' site-packages) like a site directory.
    for entry in user:
        if (entry == task_root or entry.rstrip("/").endswith("site-packages")) and os.path.isdir(entry):
            site.addsitedir(entry)

    run(os.environ.get("_HANDLER", ""), client or RuntimeApiClient(runtime_api))


if __name__ == "__main__":
    main()
