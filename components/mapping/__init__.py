"""Segment mapping-kit directives: validate a mapping and render the body Pendula receives.

A faithful port of ``@segment/actions-core`` ``mapping-kit`` (``transform``/``validate``) for the
directives ``@path``, ``@template``, ``@literal``, ``@if``, ``@case``, ``@replace``, ``@arrayPath``,
``@json``, ``@flatten``, ``@merge``, ``@excludeWhenNull`` and ``@transform``, with JavaScript value
semantics (``undefined`` drops a key, ``null`` stays). ``@liquid`` and unknown directives are
rejected with a :class:`MappingError` naming the key path, never passed through.

:func:`render` gives what actions-core's ``transform({data: mapping}, event).data`` gives (``None``
when the mapping yields nothing); :func:`validate_mapping` applies Segment's validation rules and,
stricter than Segment, also checks directives inside arrays so mistakes fail at config load.
Known approximation: a path through a JavaScript built-in member (``$.properties.constructor``)
yields nothing here, where JavaScript would reach a function.

The package's public names are re-exported here (``from components.mapping import render``):
``kit`` holds what both passes share, ``validation`` and ``rendering`` one pass each.
"""

from components.mapping.kit import SUPPORTED_DIRECTIVES, MappingError
from components.mapping.rendering import render
from components.mapping.validation import validate_mapping

__all__ = ["SUPPORTED_DIRECTIVES", "MappingError", "render", "validate_mapping"]
