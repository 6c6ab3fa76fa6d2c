"""
Client for the Lambda Runtime API (2018-06-01) at AWS_LAMBDA_RUNTIME_API, over one keep-alive
connection: /next and the post that answers it never overlap.
"""

import http.client
import os
import socket
from urllib.parse import quote

_BASE = "/2018-06-01/runtime"
_NEXT = _BASE + "/invocation/next"
_INIT_ERROR = _BASE + "/init/error"
_NO_HEADERS = {}

# What a keep-alive connection the server has closed meanwhile looks like: nothing of an answer came.
_STALE = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError, ConnectionAbortedError)


# Kindling's sandboxes name the environment's unix socket here (src/sandbox/runtime-api-bridge.ts):
# the same Runtime API without the TCP bridge. Not a Lambda variable: taken out before the handler loads.
_SOCKET_VARIABLE = "_KINDLING_RUNTIME_API_SOCKET"


class _UnixConnection(http.client.HTTPConnection):
    """HTTP over the environment's unix socket; `host` and `port` only name the server."""

    def __init__(self, host, port, path):
        super().__init__(host, port)
        self._path = path

    def connect(self):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.connect(self._path)
        except OSError:
            sock.close()
            raise
        self.sock = sock


class RuntimeApiError(Exception):
    """The Runtime API could not be reached, or answered that the runtime should exit."""


class Invocation(object):
    __slots__ = (
        "request_id",
        "body",
        "content_type",
        "deadline_ms",
        "invoked_function_arn",
        "trace_id",
        "client_context",
        "cognito_identity",
        "tenant_id",
    )


def _header_safe(value):
    """Header values may not hold control characters; an exception's type name could (it is user data)."""
    return "".join(c for c in value if " " <= c <= "~") or "Unhandled"


class RuntimeApiClient(object):
    def __init__(self, address, socket_path=None):
        """`address` is AWS_LAMBDA_RUNTIME_API: `host:port`; `socket_path`, the same API on a unix socket."""
        host, _, port = address.rpartition(":")
        self._host, self._port = host.strip("[]"), int(port)
        if socket_path is None:
            socket_path = os.environ.pop(_SOCKET_VARIABLE, None)
        # No timeout: /next is a long poll that the host answers when there is work.
        if socket_path:
            self._conn = _UnixConnection(self._host, self._port, socket_path)
        else:
            self._conn = http.client.HTTPConnection(self._host, self._port)
        self._used = False

    def connect(self):
        """Connects ahead of the first call (a pre-started runtime, while it waits)."""
        self._conn.connect()

    def next(self):
        status, headers, body = self._send("GET", _NEXT, None, _NO_HEADERS)
        if status != 200:
            raise RuntimeApiError("/next answered {}: {!r}".format(status, body[:200]))
        request_id = headers.get("lambda-runtime-aws-request-id")
        if not request_id:
            raise RuntimeApiError("/next answered without Lambda-Runtime-Aws-Request-Id")
        invocation = Invocation()
        invocation.request_id = request_id
        invocation.body = body
        invocation.content_type = headers.get("content-type", "application/json")
        invocation.deadline_ms = int(headers.get("lambda-runtime-deadline-ms") or 0)
        invocation.invoked_function_arn = headers.get("lambda-runtime-invoked-function-arn")
        invocation.trace_id = headers.get("lambda-runtime-trace-id")
        invocation.client_context = headers.get("lambda-runtime-client-context")
        invocation.cognito_identity = headers.get("lambda-runtime-cognito-identity")
        invocation.tenant_id = headers.get("lambda-runtime-aws-tenant-id")
        return invocation

    def post_response(self, request_id, body, content_type):
        """Posts the handler's result (bytes); returns the HTTP status (202 expected)."""
        path = "{}/invocation/{}/response".format(_BASE, quote(request_id, safe=""))
        return self._send("POST", path, body, {"Content-Type": content_type})[0]

    def post_error(self, request_id, error_type, body):
        path = "{}/invocation/{}/error".format(_BASE, quote(request_id, safe=""))
        return self._post_error(path, error_type, body)

    def post_init_error(self, error_type, body):
        return self._post_error(_INIT_ERROR, error_type, body)

    def _post_error(self, path, error_type, body):
        headers = {"Content-Type": "application/json", "Lambda-Runtime-Function-Error-Type": _header_safe(error_type)}
        return self._send("POST", path, body, headers)[0]

    def _send(self, method, path, body, headers):
        """One request; sent again once if a reused connection turned out closed before any answer."""
        reused = self._used
        self._used = True
        try:
            return self._exchange(method, path, body, headers)
        except (FileNotFoundError, ConnectionRefusedError, PermissionError) as err:
            if not isinstance(self._conn, _UnixConnection) or self._conn.sock is not None:
                raise RuntimeApiError("{} {} failed: {}".format(method, path, err)) from err
            # The unix socket is a shortcut: when it cannot be reached, TCP (the bridge) it is.
            self._conn = http.client.HTTPConnection(self._host, self._port)
            return self._send(method, path, body, headers)
        except _STALE as err:
            self._conn.close()
            if not reused:
                raise RuntimeApiError("{} {} failed: {}".format(method, path, err)) from err
            try:
                return self._exchange(method, path, body, headers)
            except (OSError, http.client.HTTPException) as again:
                raise RuntimeApiError("{} {} failed: {}".format(method, path, again)) from again
        except (OSError, http.client.HTTPException) as err:
            raise RuntimeApiError("{} {} failed: {}".format(method, path, err)) from err

    def _exchange(self, method, path, body, headers):
        conn = self._conn
        conn.request(method, path, body, headers)
        response = conn.getresponse()
        data = response.read()
        # One pass into a dict: cheaper than HTTPMessage's case-insensitive scans, one per header read.
        return response.status, {name.lower(): value for name, value in response.getheaders()}, data
