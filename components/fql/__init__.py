"""FQL, Segment's trigger language: text <-> AST, evaluation, and the stack-file YAML form.

The AST is the JSON shape of ``@segment/destination-subscriptions`` (``types.ts``): groups
``{"type": "group", "operator": "and"|"or", "children": [...]}`` and leaves
``{"type": <leaf type>, "operator": <operator>, "value"?: ..., "name"?: ...}``.

Segment's runtime reads a subscription trigger with ``parseFql`` and filters every event with
``validate``. That parser understands only a subset of FQL and silently misreads some
valid-looking strings, so this package carries faithful ports of ``parseFql``/``generateFql`` (and
of the fql-ts lexer beneath them) and accepts only what Segment reads back unchanged:

* :func:`generate_fql` returns exactly Segment's ``generateFql`` text, and raises
  :class:`ConditionError` for every AST that Segment's parser would read back differently or that
  FQL means differently (a ``"`` in a value, ``contains``/``match`` in a nested group, glob
  characters in a starts/ends-with value, field names Segment cannot address, ...).
* :func:`parse_fql` reads FQL with a strict grammar of its own and with the Segment port, and
  returns Segment's AST only when both agree.
* :func:`validate` / :func:`compile_trigger` give Segment's ``validate`` verdict (JavaScript
  semantics: type-strict equality, ``!=`` true on a missing value, the small ``get`` helper).

Stack-file YAML form (1:1 with the AST; :func:`conditions_from_yaml`/:func:`conditions_to_yaml`)::

    all:                                  # or any:  (group operator "and" / "or")
      - event_type: {is: track}           # type = "track"
      - any:                              # a nested group (one level, as Segment reads it)
          - event: {is: Signed Up}
          - event: {is: Order Completed}
      - user_id: {starts_with: SA}        # match(userId, "SA*")
      - property: {name: price, gte: 100} # properties.price >= 100
      - trait: {name: plan, is_not: pro}  # traits.plan != "pro"
      - context: {name: page.path, contains: pricing}

Fields: ``event_type`` (type), ``event``, ``name`` (page name), ``user_id``, and ``property`` /
``trait`` / ``context`` with a ``name``. Operator keys: ``is`` (=), ``is_not`` (!=), ``equals`` /
``not_equals`` (number_equals / number_not_equals), ``lt``, ``lte``, ``gt``, ``gte``,
``contains``, ``not_contains``, ``starts_with``, ``not_starts_with``, ``ends_with``,
``not_ends_with``, ``exists: true``, ``not_exists: true``, ``is_true: true``, ``is_false: true``.

Typing rule (so YAML maps 1:1 onto what ``parseFql`` produces): ``is``/``is_not`` and the text
operators take **strings only**; ``is: 5`` and ``is: true`` are errors that point to
``equals: 5`` (the number) / ``is: "5"`` (the string) and ``is_true: true`` / ``is: "true"``.
``equals``/``not_equals``/``lt``/``lte``/``gt``/``gte`` take numbers only; on ``event``, ``name``,
``user_id`` and ``event_type`` Segment stores such a number as its JavaScript string (``"5"``),
and so does :func:`conditions_from_yaml`. ``event_type`` accepts only ``is``/``is_not`` with one
of Segment's event types. A group with one condition is normalised the way Segment's parser
reads it (a lone condition is an ``and`` group; a nested group of one is lifted into its parent).


Modules, one concern each: :mod:`~components.fql.vocabulary` (types, operators, errors),
:mod:`~components.fql.js` (JavaScript value semantics), :mod:`~components.fql.lexer` (fql-ts),
:mod:`~components.fql.segment_parser` / :mod:`~components.fql.segment_generator` (Segment's ports),
:mod:`~components.fql.checks` (what Segment reads back), :mod:`~components.fql.reader` (the strict
reader), :mod:`~components.fql.evaluator` (verdicts), :mod:`~components.fql.compiler` (the same
verdicts as generated straight-line Python, for the backtest) and :mod:`~components.fql.yaml_form`.
"""

from __future__ import annotations

from components.fql.checks import generate_fql
from components.fql.compiler import CompiledSet, CompiledTrigger, compile_fast, compile_many
from components.fql.evaluator import compile_trigger, explain, field_values, validate
from components.fql.js import js_number_to_string, js_to_number, js_to_string
from components.fql.reader import parse_fql
from components.fql.vocabulary import (
    ALLOWED_OPERATORS,
    EVENT_TYPES,
    LEAF_TYPES,
    NAMED_TYPES,
    NUMERIC_OPERATORS,
    OPERATORS,
    TEXT_OPERATORS,
    VALUELESS_OPERATORS,
    ConditionError,
    LeafVerdict,
)
from components.fql.yaml_form import (
    YAML_FIELDS,
    YAML_OPERATORS,
    conditions_from_yaml,
    conditions_to_yaml,
)

__all__ = [
    "ALLOWED_OPERATORS",
    "EVENT_TYPES",
    "LEAF_TYPES",
    "NAMED_TYPES",
    "NUMERIC_OPERATORS",
    "OPERATORS",
    "TEXT_OPERATORS",
    "VALUELESS_OPERATORS",
    "YAML_FIELDS",
    "YAML_OPERATORS",
    "CompiledSet",
    "CompiledTrigger",
    "ConditionError",
    "LeafVerdict",
    "compile_fast",
    "compile_many",
    "compile_trigger",
    "conditions_from_yaml",
    "conditions_to_yaml",
    "explain",
    "field_values",
    "generate_fql",
    "js_number_to_string",
    "js_to_number",
    "js_to_string",
    "parse_fql",
    "validate",
]
