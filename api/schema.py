"""The OpenAPI contract: every operation with a summary, examples and its error responses.

Views describe themselves with a few attributes, read here:
- `example`: one object as the API returns it (wrapped in a page for lists);
- `request_example`: a body for create and change; `action_examples` per extra action;
- `summaries`: summaries for extra actions (standard actions are named from the model);
- `conflict_actions`: the actions that can answer 409.

The rest is decided here for every operation, so a new endpoint gets it without asking: its
tag (by its path), its operation id (an extra action is named for what it does), and its
error answers. The hooks at the end say what the API enforces, give ordering choices names a
generated client can use, and make every example's page links real addresses.
"""

import re

from drf_spectacular import openapi
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiExample, OpenApiResponse
from rest_framework import serializers

from api import authentication, problems

STANDARD_ACTIONS = {"list", "create", "retrieve", "update", "partial_update", "destroy"}

# The origin of the local server in the schema's `servers`, which examples' links use.
EXAMPLE_ORIGIN = "http://127.0.0.1:8000"

# The tag (SPECTACULAR_SETTINGS["TAGS"]) of each path, by its first segment after /api/v1/,
# or its first two for a part of one resource that belongs with another group.
TAG_OF_PATH = {
    "me": "me",
    "calendar": "me",
    "volunteers": "volunteers",
    "peers": "peers",
    "peers/suggestions": "matches",
    "peers/why-not": "matches",
    "matches": "matches",
    "exclusions": "matches",
    "waiting-list": "matches",
    "sessions": "sessions",
    "messages": "messages",
    "inbox": "messages",
    "opt-outs": "messages",
    "follow-ups": "follow-ups",
    "areas": "reference data",
    "courses": "reference data",
    "languages": "reference data",
    "focuses": "reference data",
}

STANDARD_SUMMARIES = {
    "list": "List {plural}",
    "create": "Add {a} {singular}",
    "retrieve": "Read {a} {singular}",
    "update": "Replace {a} {singular}",
    "partial_update": "Change {a} {singular}",
    "destroy": "Delete {a} {singular}",
}


class ProblemSerializer(serializers.Serializer):
    """An RFC 9457 problem: what went wrong, for a person and for a program."""

    type = serializers.CharField(help_text="A URI naming the kind of problem, or about:blank.")
    title = serializers.CharField(help_text="A short summary of the kind of problem.")
    status = serializers.IntegerField(help_text="The HTTP status code.")
    detail = serializers.CharField(help_text="What went wrong here, in words a person can act on.")
    code = serializers.CharField(help_text="A stable machine-readable code, e.g. not_found.")
    instance = serializers.CharField(required=False, help_text="The path that was requested.")


class ValidationProblemSerializer(ProblemSerializer):
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Field name (nested names joined by dots; non_field_errors for the whole "
        "request) to the messages about it.",
    )


def _problem_example(status, detail, code, name=None, **extra):
    body = problems.problem(status, detail, code=code, **extra)
    return OpenApiExample(
        name or f"{status}", value=body, status_codes=[str(status)], response_only=True
    )


ERRORS = {
    "400": OpenApiResponse(
        ValidationProblemSerializer,
        "The request is not valid; `errors` says which fields and why.",
        [
            _problem_example(
                400,
                "phone: “07911 12” is not a valid phone number: no number in use has that "
                "form; check the digits.",
                "invalid",
                type_=problems.VALIDATION_TYPE,
                title="The request is not valid",
                errors={
                    "phone": [
                        "“07911 12” is not a valid phone number: no number in use has that "
                        "form; check the digits."
                    ]
                },
            )
        ],
    ),
    "401": OpenApiResponse(
        ProblemSerializer,
        "Not signed in (no X-Session-Token), or the token sent is invalid or expired: "
        "sign in again for a new one.",
        [
            _problem_example(
                401,
                "Authentication credentials were not provided.",
                "not_authenticated",
                name="401 not signed in",
            ),
            _problem_example(
                401,
                authentication.TOKEN_INVALID_DETAIL,
                authentication.TOKEN_INVALID_CODE,
                name="401 token invalid or expired",
            ),
        ],
    ),
    "403": OpenApiResponse(
        ProblemSerializer,
        "Signed in, but not allowed to do this.",
        [
            _problem_example(
                403, "Only coordinators may use this part of the API.", "permission_denied"
            )
        ],
    ),
    "404": OpenApiResponse(
        ProblemSerializer,
        "No such record, or a page past the end of a list.",
        [_problem_example(404, "No Volunteer matches the given query.", "not_found")],
    ),
    "409": OpenApiResponse(
        ProblemSerializer,
        "Not possible in the record's current state.",
        [
            _problem_example(
                409,
                "Aileen is an applicant and cannot become active; from applicant they can "
                "become: in training, left.",
                "invalid_transition",
                type_=problems.STATE_CONFLICT_TYPE,
                title="Not possible in the current state",
            )
        ],
    ),
    "429": OpenApiResponse(
        ProblemSerializer,
        "Too many requests; `Retry-After` says how many seconds to wait.",
        [
            _problem_example(
                429, "Request was throttled. Expected available in 42 seconds.", "throttled"
            )
        ],
    ),
}


class AutoSchema(openapi.AutoSchema):
    def _action(self):
        return getattr(self.view, "action", None) or self.method.lower()

    def _model_names(self):
        queryset = getattr(self.view, "queryset", None)
        model = getattr(queryset, "model", None)
        if model is None:
            return None, None
        return str(model._meta.verbose_name), str(model._meta.verbose_name_plural)

    def get_tags(self):
        tokens = self._tokenize_path()
        for key in ("/".join(tokens[:2]), "/".join(tokens[:1])):
            if key in TAG_OF_PATH:
                return [TAG_OF_PATH[key]]
        return super().get_tags()

    def get_operation_id(self):
        """An extra action is named for what it does (`sessions_confirm`); the standard ones
        keep drf-spectacular's names (`sessions_list`, `sessions_retrieve`).

        An action bound to more than one method on its path adds the method, so ids stay
        unique: `me_preferences_get`, `me_preferences_patch`.
        """
        action = getattr(self.view, "action", None)
        if action is None or action in STANDARD_ACTIONS:
            return super().get_operation_id()
        name = "_".join(token.replace("-", "_") for token in self._tokenize_path())
        action_map = getattr(self.view, "action_map", None) or {}
        # DRF binds HEAD to the GET action once the view has answered a request; the schema
        # leaves HEAD out, so it does not count.
        methods = [method for method, bound in action_map.items() if bound == action]
        if len(set(methods) - {"head"}) > 1:
            name += f"_{self.method.lower()}"
        return name

    def get_summary(self):
        action = self._action()
        custom = getattr(self.view, "summaries", {}).get(action)
        if custom:
            return custom
        singular, plural = self._model_names()
        if action in STANDARD_SUMMARIES and singular:
            article = "an" if singular[0].lower() in "aeiou" else "a"
            return STANDARD_SUMMARIES[action].format(a=article, singular=singular, plural=plural)
        return None

    def get_examples(self):
        action = self._action()
        examples = []
        per_action = getattr(self.view, "action_examples", {}).get(action, {})
        request_body = per_action.get("request")
        if request_body is None and action in {"create", "update", "partial_update"}:
            request_body = getattr(self.view, "request_example", None)
        if request_body is not None:
            examples.append(OpenApiExample("Request", value=request_body, request_only=True))
        response_body = per_action.get("response", getattr(self.view, "example", None))
        if response_body is not None and self.method != "DELETE":
            examples.append(OpenApiExample("Response", value=response_body, response_only=True))
        return examples

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        action = self._action()
        codes = ["401", "403", "429"]
        if self.method in {"POST", "PUT", "PATCH"} or self._is_list_view():
            codes.append("400")
        if "{" in self.path or self._is_list_view():
            codes.append("404")
        if action in getattr(self.view, "conflict_actions", ()):
            codes.append("409")
        for code in sorted(codes):
            responses.setdefault(
                code,
                self._get_response_for_code(
                    ERRORS[code], code, media_types=[problems.CONTENT_TYPE], direction=direction
                ),
            )
        if "429" in responses:
            responses["429"]["headers"] = {
                "Retry-After": {
                    "schema": {"type": "integer"},
                    "description": "Seconds to wait before trying again.",
                }
            }
        return responses


class SessionTokenScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.SessionTokenAuthentication"
    name = "sessionToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "X-Session-Token",
            "description": "The session token from POST /_allauth/app/v1/auth/login.",
        }


def state_strictness(result, generator, request, public):
    """A drf-spectacular postprocessing hook: say in the schema what the API enforces.

    Request bodies refuse unknown fields (additionalProperties: false), and query parameters
    refuse empty values (minLength: 1).
    """
    for name, component in result.get("components", {}).get("schemas", {}).items():
        if name.endswith("Request") and component.get("type") == "object":
            component["additionalProperties"] = False
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                schema = parameter.get("schema", {})
                if parameter.get("in") == "query" and schema.get("type") == "string":
                    schema.setdefault("minLength", 1)
    return result


def _varname(value):
    """A name for an enum value that any generated client can use: -starts_at is
    STARTS_AT_DESC."""
    name = "_".join(re.findall(r"[A-Za-z0-9]+", value)).upper() or "BLANK"
    if not name[0].isalpha():
        name = f"V_{name}"
    return f"{name}_DESC" if value.startswith("-") else name


def _walk(node):
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def readable_enum_names(result, generator, request, public):
    """A postprocessing hook: name the values of enums that are not plain words.

    A generated client turns each enum value into a name; one that does not start with a
    letter (`-starts_at`, the descending ordering) would become VALUE_1.
    `x-enum-varnames` (read by openapi-python-client and openapi-generator) gives it
    STARTS_AT_DESC instead.
    """
    for node in _walk(result):
        values = node.get("enum")
        if not isinstance(values, list):
            continue
        texts = [value for value in values if isinstance(value, str)]
        if any(not value[:1].isalpha() for value in texts):
            node["x-enum-varnames"] = [_varname(value) for value in texts]
    return result


def page_links_of_each_list(result, generator, request, public):
    """A postprocessing hook: a list's example page links are the list's own address.

    DRF's pagination describes `next` and `previous` with one example for every list, on a
    host and path of no PeerPath server; each list's examples (and its page component's)
    get links to the list itself instead.
    """
    components = result.get("components", {}).get("schemas", {})
    linked = set()
    for path, operations in result.get("paths", {}).items():
        get = operations.get("get")
        if not get:
            continue
        address = EXAMPLE_ORIGIN + re.sub(r"\{[^}]+\}", "1", path)
        links = {"next": f"{address}?page=4", "previous": f"{address}?page=2"}
        for answer in get.get("responses", {}).values():
            for content in answer.get("content", {}).values():
                # A page component shared by several lists links to the first of them.
                page = content.get("schema", {}).get("$ref", "").rpartition("/")[2]
                properties = components.get(page, {}).get("properties", {})
                if page not in linked and properties.keys() >= links.keys():
                    linked.add(page)
                    for name, link in links.items():
                        properties[name]["example"] = link
                for example in content.get("examples", {}).values():
                    value = example.get("value")
                    if isinstance(value, dict) and {"next", "previous", "results"} <= set(value):
                        value.update(links)
    return result
