"""The ``conditions`` form to suggest for a trigger Segment cannot read as written.

A trigger whose meaning is clear (Segment's parser only misreads it) gets the exact
``conditions`` form of that meaning. A trigger that does not read at all gets the form of the
nearest trigger that does, found by undoing one common slip at a time where the reader stopped
(a misspelt field, ``&&``/``||``/``==``, an unquoted or single-quoted text, a quoted number),
said as "did you mean". Never ``unsafeTrigger: true``: the policy pack refuses every trigger
Segment's parser does not read as written, so that advice could not work.
"""

from __future__ import annotations

import difflib
import re

from components.fql.caret import TriggerError, conditions_text
from components.fql.reader import meaning
from components.fql.vocabulary import ConditionError
from components.fql.yaml_form import conditions_to_yaml

MAX_REPAIRS = 5
EXAMPLE = {"all": [{"event_type": {"is": "track"}}, {"event": {"is": "Signed Up"}}]}
_FIELDS = ("type", "event", "name", "userId", "properties", "traits", "context")
_ALIASES = {
    "user_id": "userId",
    "userid": "userId",
    "property": "properties",
    "props": "properties",
    "trait": "traits",
    "event_type": "type",
    "eventType": "type",
}
_SYMBOLS = ((re.compile(r"&&"), "and"), (re.compile(r"\|\|"), "or"), (re.compile(r"=="), "="))
_NUMBER = re.compile(r"^[\"']-?\d+(?:\.\d+)?[\"']$")


def suggest_conditions(fql: str) -> str:
    """One sentence: the ``conditions`` form that expresses ``fql`` (or its likely intent)."""
    text = fql
    for _ in range(MAX_REPAIRS + 1):
        try:
            form = conditions_to_yaml(meaning(text))
        except TriggerError as exc:
            repaired = _repair(text, exc)
            if repaired is None or repaired == text:
                break
            text = repaired
            continue
        except ConditionError:
            break
        lead = "Write it as" if text == fql else "Did you mean"
        return f"{lead} {conditions_text(form)}"
    return f"Write it as conditions (docs/conditions.md), e.g. {conditions_text(EXAMPLE)}"


def _repair(text: str, error: TriggerError) -> str | None:
    """``text`` with the slip at the error's token undone, or None if none is recognised."""
    for pattern, word in _SYMBOLS:
        if pattern.search(text):
            return pattern.sub(word, text, count=1)
    token = text[error.start : error.end]
    message = str(error)
    replacement: str | None = None
    if "unsupported field" in message:
        root, dot, rest = token.partition(".")
        close = difflib.get_close_matches(root, _FIELDS, n=1, cutoff=0.6)
        fixed: str | None = _ALIASES.get(root) or (close[0] if close else None)
        replacement = f"{fixed}{dot}{rest}" if fixed else None
    elif "got ident" in message and re.fullmatch(r"[A-Za-z_][\w-]*", token):
        replacement = f'"{token}"'
    elif "single-quoted value" in message:
        replacement = '"' + token[1:-1] + '"'
    elif "needs a number, got the string" in message and _NUMBER.match(token):
        replacement = token[1:-1]
    if replacement is None:
        return None
    return text[: error.start] + replacement + text[error.end :]
