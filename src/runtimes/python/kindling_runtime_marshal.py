"""
Events in, results out: JSON as Lambda's Python runtime reads and writes it.
"""

import json
import math
import os
import sys

from kindling_runtime_errors import FaultException


class _Encoder(json.JSONEncoder):
    """
    Lambda's runtime encodes with simplejson, which writes Decimal (what boto3's DynamoDB types
    return) as a number; the standard library cannot write a raw number, so a Decimal becomes an int
    when it is whole and a float otherwise.
    """

    def default(self, obj):
        # A Decimal exists only once someone imported decimal: no import (and no cost) before that.
        decimal = sys.modules.get("decimal")
        if decimal is not None and isinstance(obj, decimal.Decimal):
            if obj.is_nan():
                return math.nan
            if obj.is_finite() and obj == obj.to_integral_value():
                return int(obj)
            return float(obj)
        return super().default(obj)


# Lambda's python3.12 runtime alone writes non-ASCII characters as they are rather than as \u escapes.
_ENCODER = _Encoder(ensure_ascii=os.environ.get("AWS_EXECUTION_ENV") != "AWS_Lambda_python3.12")


def to_json(obj):
    return _ENCODER.encode(obj)


def unmarshal_request(body, content_type):
    if content_type != "application/json":
        return body
    try:
        return json.loads(body)
    except Exception as e:
        raise FaultException(FaultException.UNMARSHAL_ERROR, "Unable to unmarshal input: {}".format(e), None)


def marshal_response(response):
    """The body to post (bytes) and its content type; bytes results are posted as they are."""
    if isinstance(response, bytes):
        return response, "application/unknown"
    try:
        return _ENCODER.encode(response).encode("utf-8"), "application/json"
    except Exception as e:
        raise FaultException(FaultException.MARSHAL_ERROR, "Unable to marshal response: {}".format(e), None)
