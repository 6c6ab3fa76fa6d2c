"""
Lambda's text log format for Python. `print` goes to stdout as it is; records of the `logging`
module become `[LEVEL]\t<UTC time>Z\t<request id>\t<message>`, and an error the runtime reports
becomes `[ERROR] <Type>: <message>` with its traceback. A record is one line on stdout: its inner
newlines are written as `\r`, which the host turns back into newlines within one log event.
"""

import logging
import os
import sys
import time

_FORMAT = "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s\n"
_DATE_FORMAT = "%Y-%m-%dT%H:%M:%S"
_LINE_BREAK = "\r"
# Lambda indents trace lines with no-break spaces, which log viewers do not collapse.
_INDENT = "\u00a0"

# Lambda's `logging` warning when Init fails, ahead of the error itself.
UNHANDLED_EXCEPTION_WARNING = (
    "LAMBDA_WARNING: Unhandled exception. The most likely cause is an issue in the function code. However, in rare "
    "cases, a Lambda runtime update can cause unexpected function behavior. For functions using managed runtimes, "
    "runtime updates can be triggered by a function change, or can be applied automatically. To determine if the "
    "runtime has been updated, check the runtime version in the INIT_START log entry. If this error correlates with "
    "a change in the runtime version, you may be able to mitigate this error by temporarily rolling back to the "
    "previous runtime version. For more information, see https://docs.aws.amazon.com/lambda/latest/dg/runtimes-update.html"
)

# The invocation being served; empty during Init, as on Lambda.
_request_id = ""
_tenant_id = None


def set_invocation(request_id, tenant_id):
    global _request_id, _tenant_id
    _request_id = request_id
    _tenant_id = tenant_id


class LambdaLoggerFilter(logging.Filter):
    """Puts the request id on every record, so user formatters may name `%(aws_request_id)s` too."""

    def filter(self, record):
        record.aws_request_id = _request_id
        record.tenant_id = _tenant_id
        return True


class LambdaLoggerHandler(logging.Handler):
    def emit(self, record):
        try:
            text = self.format(record)
            # The format's own final newline ends the line; any other (a multi-line message, a
            # traceback from logger.exception) stays inside the event.
            if text.endswith("\n"):
                text = text[:-1]
            if "\n" in text:
                text = text.replace("\n", _LINE_BREAK)
            sys.stdout.write(text + "\n")
        except RecursionError:
            raise
        except Exception:
            self.handleError(record)


def setup_logging():
    """The root logger's handler, as Lambda installs it before loading the function."""
    logging.Formatter.converter = time.gmtime
    root = logging.getLogger()
    handler = LambdaLoggerHandler()
    handler.setFormatter(logging.Formatter(_FORMAT, _DATE_FORMAT))
    handler.addFilter(LambdaLoggerFilter())
    # Lambda leaves the root logger at Python's default (WARNING) unless a log level is configured.
    level = os.environ.get("AWS_LAMBDA_LOG_LEVEL", "").upper()
    if level in ("DEBUG", "INFO", "WARNING", "WARN", "ERROR", "CRITICAL"):
        root.setLevel("WARNING" if level == "WARN" else level)
    root.addHandler(handler)


def _indent(line):
    stripped = line.lstrip(" ")
    return _INDENT * (len(line) - len(stripped)) + stripped


def log_error(error):
    """The log line of an error the runtime reports: `[ERROR] Type: message`, then the traceback."""
    description = "[ERROR]"
    error_type = error.get("errorType")
    if error_type:
        description += " " + error_type
    message = error.get("errorMessage")
    if message:
        if error_type:
            description += ":"
        description += " " + message
    lines = [description]
    stack_trace = error.get("stackTrace")
    if stack_trace is not None:
        lines.append("Traceback (most recent call last):")
        for element in stack_trace:
            if element == "":
                lines.append("")
            else:
                lines.extend(_indent(line) for line in element.splitlines())
    # A message may hold newlines of its own: one error is still one log event.
    text = _LINE_BREAK.join(lines)
    if "\n" in text:
        text = text.replace("\n", _LINE_BREAK)
    sys.stdout.write(text + "\n")


def flush():
    """Writes out what the function printed, before its answer is posted (the host reads stdout)."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass
