"""
Entry point of Kindling's Python runtime, started by the host inside an execution environment:
    python3 <runtime dir>/python/bootstrap.py
with cwd = LAMBDA_TASK_ROOT and Lambda's reserved environment variables. Standard library only; its
modules are named kindling_runtime_* so that they do not meet the function's own.
"""

import os
import sys

RUNTIME_DIR = os.path.dirname(os.path.realpath(__file__))


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

    run(os.environ.get("_HANDLER", ""), RuntimeApiClient(runtime_api))


if __name__ == "__main__":
    main()
