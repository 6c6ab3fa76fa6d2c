"""
The `context` argument, with the attributes and methods of Lambda's Python runtime.
"""

import json
import os
import sys
import time

from kindling_runtime_errors import FaultException

# Per-function values, read once: they do not change while the environment lives. Strings, as on
# Lambda (memory_limit_in_mb included: it comes from AWS_LAMBDA_FUNCTION_MEMORY_SIZE).
_env = os.environ
_LOG_GROUP_NAME = _env.get("AWS_LAMBDA_LOG_GROUP_NAME")
_LOG_STREAM_NAME = _env.get("AWS_LAMBDA_LOG_STREAM_NAME")
_FUNCTION_NAME = _env.get("AWS_LAMBDA_FUNCTION_NAME")
_MEMORY_LIMIT_IN_MB = _env.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
_FUNCTION_VERSION = _env.get("AWS_LAMBDA_FUNCTION_VERSION")


class LambdaContext(object):
    def __init__(
        self,
        invoke_id,
        client_context,
        cognito_identity,
        epoch_deadline_time_in_ms,
        invoked_function_arn=None,
        tenant_id=None,
    ):
        self.aws_request_id = invoke_id
        self.log_group_name = _LOG_GROUP_NAME
        self.log_stream_name = _LOG_STREAM_NAME
        self.function_name = _FUNCTION_NAME
        self.memory_limit_in_mb = _MEMORY_LIMIT_IN_MB
        self.function_version = _FUNCTION_VERSION
        self.invoked_function_arn = invoked_function_arn
        self.tenant_id = tenant_id

        self.client_context = _from_dict(ClientContext, client_context)
        if self.client_context is not None:
            self.client_context.client = _from_dict(Client, self.client_context.client)

        # Always an object, with None members when the caller has no Cognito identity.
        self.identity = _from_dict(CognitoIdentity, {})
        if cognito_identity is not None:
            self.identity.cognito_identity_id = cognito_identity.get("cognitoIdentityId")
            self.identity.cognito_identity_pool_id = cognito_identity.get("cognitoIdentityPoolId")

        self._epoch_deadline_time_in_ms = epoch_deadline_time_in_ms

    def get_remaining_time_in_millis(self):
        delta_ms = self._epoch_deadline_time_in_ms - int(time.time() * 1000)
        return delta_ms if delta_ms > 0 else 0

    def log(self, msg):
        sys.stdout.write(str(msg))

    def __repr__(self):
        return (
            f"{self.__class__.__name__}(["
            f"aws_request_id={self.aws_request_id},"
            f"log_group_name={self.log_group_name},"
            f"log_stream_name={self.log_stream_name},"
            f"function_name={self.function_name},"
            f"memory_limit_in_mb={self.memory_limit_in_mb},"
            f"function_version={self.function_version},"
            f"invoked_function_arn={self.invoked_function_arn},"
            f"client_context={self.client_context},"
            f"identity={self.identity},"
            f"tenant_id={self.tenant_id}"
            "])"
        )


class CognitoIdentity(object):
    __slots__ = ["cognito_identity_id", "cognito_identity_pool_id"]

    def __repr__(self):
        return (
            f"{self.__class__.__name__}(["
            f"cognito_identity_id={self.cognito_identity_id},"
            f"cognito_identity_pool_id={self.cognito_identity_pool_id}"
            "])"
        )


class Client(object):
    __slots__ = ["installation_id", "app_title", "app_version_name", "app_version_code", "app_package_name"]

    def __repr__(self):
        return (
            f"{self.__class__.__name__}(["
            f"installation_id={self.installation_id},"
            f"app_title={self.app_title},"
            f"app_version_name={self.app_version_name},"
            f"app_version_code={self.app_version_code},"
            f"app_package_name={self.app_package_name}"
            "])"
        )


class ClientContext(object):
    __slots__ = ["custom", "env", "client"]

    def __repr__(self):
        return f"{self.__class__.__name__}([custom={self.custom},env={self.env},client={self.client}])"


def _from_dict(cls, values):
    if values is None:
        return None
    obj = cls()
    for field in cls.__slots__:
        setattr(obj, field, values.get(field))
    return obj


def _parse_json_header(header, name):
    try:
        return json.loads(header)
    except Exception as e:
        raise FaultException(
            FaultException.LAMBDA_CONTEXT_UNMARSHAL_ERROR,
            "Unable to parse {} JSON: {}".format(name, e),
            None,
        )


def create_context(invocation):
    client_context = None
    if invocation.client_context:
        client_context = _parse_json_header(invocation.client_context, "Client Context")
    cognito_identity = None
    if invocation.cognito_identity:
        cognito_identity = _parse_json_header(invocation.cognito_identity, "Cognito Identity")
    return LambdaContext(
        invocation.request_id,
        client_context,
        cognito_identity,
        invocation.deadline_ms,
        invocation.invoked_function_arn,
        invocation.tenant_id,
    )
