"""
The runtime loop: load the handler (Init), then /next -> handler -> /response or /error, forever.
An Init failure is logged, posted to /runtime/init/error, and ends the process, as on Lambda.
"""

import logging
import os
import sys

from kindling_runtime_api import RuntimeApiError
from kindling_runtime_context import create_context
from kindling_runtime_errors import FaultException, error_from_exception, error_from_fault
from kindling_runtime_handler import load_handler
from kindling_runtime_logging import UNHANDLED_EXCEPTION_WARNING, flush, log_error, set_invocation, setup_logging
from kindling_runtime_marshal import marshal_response, to_json, unmarshal_request

# Lambda's Python runtime exits with 1 after posting an Init error.
EXIT_INIT_ERROR = 1
# The Runtime API could not be reached or answered 5xx ("the runtime should exit").
EXIT_RUNTIME_API_FAILURE = 1


def run(handler_name, client):
    try:
        _serve(handler_name, client)
    except RuntimeApiError as err:
        sys.stderr.write("kindling runtime: {}\n".format(err))
        sys.exit(EXIT_RUNTIME_API_FAILURE)


def _serve(handler_name, client):
    setup_logging()
    error = None
    try:
        handler = load_handler(handler_name)
    except FaultException as fault:
        error = error_from_fault(fault)
    except Exception as err:
        error = error_from_exception(err)
    if error is not None:
        logging.warning(UNHANDLED_EXCEPTION_WARNING)
        log_error(error)
        flush()
        client.post_init_error(error["errorType"], to_json(error).encode("utf-8"))
        sys.exit(EXIT_INIT_ERROR)

    environ = os.environ
    while True:
        invocation = client.next()
        set_invocation(invocation.request_id, invocation.tenant_id)
        if invocation.trace_id is None:
            environ.pop("_X_AMZN_TRACE_ID", None)
        else:
            environ["_X_AMZN_TRACE_ID"] = invocation.trace_id
        _check(_invoke(client, handler, invocation))


def _invoke(client, handler, invocation):
    request_id = invocation.request_id
    try:
        context = create_context(invocation)
        event = unmarshal_request(invocation.body, invocation.content_type)
        body, content_type = marshal_response(handler(event, context))
    except FaultException as fault:
        error = error_from_fault(fault, request_id)
    except Exception as err:
        error = error_from_exception(err, request_id)
    else:
        flush()
        return client.post_response(request_id, body, content_type)
    log_error(error)
    flush()
    return client.post_error(request_id, error["errorType"], to_json(error).encode("utf-8"))


def _check(status):
    if status >= 500:
        raise RuntimeApiError("the Runtime API answered {}".format(status))
    # A 4xx (payload too large, a stale id) concerns this invocation only: the host reports it.
    if status >= 300:
        sys.stderr.write("kindling runtime: the Runtime API answered {}\n".format(status))
