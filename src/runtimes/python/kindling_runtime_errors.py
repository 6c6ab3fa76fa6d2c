"""
The errors this runtime reports, in the shape Lambda's Python runtime (awslambdaric) posts them:
{"errorMessage", "errorType", "requestId", "stackTrace": [lines]}.
"""

import os
import traceback

# Frames of this runtime that lead into user code are left out of stack traces, as Lambda leaves
# out its bootstrap's.
_RUNTIME_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


class FaultException(Exception):
    MARSHAL_ERROR = "Runtime.MarshalError"
    UNMARSHAL_ERROR = "Runtime.UnmarshalError"
    USER_CODE_SYNTAX_ERROR = "Runtime.UserCodeSyntaxError"
    HANDLER_NOT_FOUND = "Runtime.HandlerNotFound"
    IMPORT_MODULE_ERROR = "Runtime.ImportModuleError"
    BUILT_IN_MODULE_CONFLICT = "Runtime.BuiltInModuleConflict"
    MALFORMED_HANDLER_NAME = "Runtime.MalformedHandlerName"
    LAMBDA_CONTEXT_UNMARSHAL_ERROR = "Runtime.LambdaContextUnmarshalError"

    def __init__(self, exception_type, msg, trace=None):
        super().__init__(msg)
        self.msg = msg
        self.exception_type = exception_type
        self.trace = trace


def make_error(error_message, error_type, stack_trace, request_id=None):
    return {
        "errorMessage": error_message if error_message else "",
        "errorType": error_type if error_type else "",
        "requestId": request_id if request_id is not None else "",
        "stackTrace": stack_trace if stack_trace else [],
    }


def _safe_str(value):
    try:
        return str(value)
    except Exception:
        return object.__repr__(value)


def error_from_exception(error, request_id=None):
    """An exception raised by user code: its type name, message and the frames from user code on."""
    # Plain tuples, as awslambdaric formats them: Python 3.11's column carets (^^^) stay out.
    frames = [(f.filename, f.lineno, f.name, f.line) for f in traceback.extract_tb(error.__traceback__)]
    for i, frame in enumerate(frames):
        if not frame[0].startswith(_RUNTIME_DIR):
            frames = frames[i:]
            break
    return make_error(_safe_str(error), type(error).__name__, traceback.format_list(frames), request_id)


def error_from_fault(fault, request_id=None):
    return make_error(fault.msg, fault.exception_type, fault.trace, request_id)
