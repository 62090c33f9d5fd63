"""One escaping function per medium: nothing from a stack file, event or server keeps its power."""

from __future__ import annotations

import json
import re

import pytest

from components.guards.escaping import (
    escape_json,
    escape_markdown,
    escape_terminal,
    markdown_code,
    markdown_fence,
)

HOSTILE = [
    "\x1b[2J\x1b[31mred",  # clear screen, colour
    "\x1b]8;;https://evil.example\x07link\x1b]8;;\x07",  # OSC 8 hyperlink
    "abc\u202eexe.txt",  # right-to-left override (Trojan Source)
    "line one\nConfiguration valid; all policies pass.",  # forged output line
    "bell\x07 backspace\x08 del\x7f c1\x9b",
    "zero\u200bwidth\ufeff",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_terminal_text_has_no_control_or_layout_characters(text: str) -> None:
    escaped = escape_terminal(text)
    assert not re.search(
        r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]", escaped
    )
    assert "\n" not in escaped


def test_terminal_escapes_are_visible_and_layout_kept_on_request() -> None:
    assert escape_terminal("a\x1bb\u202ec\nd") == "a\\x1bb\\u202ec\\nd"
    assert escape_terminal("a\nb\x1b", keep_newlines=True) == "a\nb\\x1b"
    assert escape_terminal("plain, ünïcode and emoji 🎉") == "plain, ünïcode and emoji 🎉"


@pytest.mark.parametrize(
    "text",
    [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "<!-- hide the rest -->",
        "<details open>",
        "[click](https://evil.example)",
        "![img](https://evil.example/x.png)",
        "**bold** _it_ ~~s~~ `code`",
        "a | b | c",
        "# heading",
        "- list",
        "1. ordered",
        "> quote",
        "x\n\n## injected heading",
    ],
)
def test_markdown_text_keeps_no_html_or_formatting(text: str) -> None:
    escaped = escape_markdown(text)
    assert "<" not in escaped and ">" not in escaped
    assert "\n" not in escaped
    # Every Markdown punctuation character that could format is backslash-escaped.
    assert not re.search(r"(?<!\\)[`*_\[\]()|~!]", escaped)
    assert not re.match(r"\s*([-+#]|\d+\.)", escaped)


@pytest.mark.parametrize("text", ["a`b", "``x``", "`", "a|b", "<b>x</b>", "x\ny", "\x1b[0m", ""])
def test_markdown_code_span_cannot_be_closed_early(text: str) -> None:
    span = markdown_code(text)
    fence = re.match(r"`+", span)
    assert fence is not None
    inner = span[len(fence.group()) : len(span) - len(fence.group())]
    assert fence.group() not in inner  # no run of the fence's length inside
    assert span.endswith(fence.group())
    assert "\n" not in span and "\x1b" not in span
    assert "|" not in inner.replace("\\|", "")


@pytest.mark.parametrize("text", ["```\n</details>\n```", "````", "a\nb"])
def test_markdown_fence_outlasts_any_fence_inside(text: str) -> None:
    block = markdown_fence(text, "json")
    first, *_, last = block.split("\n")
    assert first.startswith("```") and first.endswith("json")
    assert last == first.removesuffix("json")
    assert all(not line.startswith(last) for line in block.split("\n")[1:-1])


def test_json_is_ascii_and_refuses_non_finite_numbers() -> None:
    text = escape_json({"name": "\x1b[31m\u202eé"})
    assert text.isascii()
    assert json.loads(text) == {"name": "\x1b[31m\u202eé"}
    for bad in (float("nan"), float("inf"), -float("inf")):
        with pytest.raises(ValueError):
            escape_json({"x": [bad]})


# Invisible by Unicode property: one of each kind the hand list of the first round missed.
INVISIBLE_BY_PROPERTY = [
    "\u00ad",  # soft hyphen (Cf, default-ignorable)
    "\u034f",  # combining grapheme joiner (default-ignorable, Mn)
    "\u115f",  # Hangul choseong filler (default-ignorable, Lo)
    "\u3164",  # Hangul filler (default-ignorable, Lo)
    "\uffa0",  # halfwidth Hangul filler
    "\u180e",  # Mongolian vowel separator
    "\u17b4",  # Khmer inherent vowel
    "\ufe0f",  # variation selector 16
    "\u2064",  # invisible plus
    "\u206a",  # inhibit symmetric swapping (deprecated format character)
    "\ue000",  # private use
    "\U000f0000",  # supplementary private use
    "\U000e0041",  # tag letter A (hidden "ASCII smuggling")
    "\U000e0001",  # language tag
    "\U000e0100",  # variation selector 17
    "\U0001bca0",  # shorthand format letter overlap
    "\U0001d173",  # musical symbol begin beam
    "\u2028",  # line separator
    "\u2800",  # braille blank, a common filler
]


@pytest.mark.parametrize("char", INVISIBLE_BY_PROPERTY, ids=lambda c: f"U+{ord(c):04X}")
def test_invisible_characters_are_shown_escaped_in_every_text_medium(char: str) -> None:
    text = f"pay{char}ment"
    for shown in (
        escape_terminal(text),
        escape_terminal(text, keep_newlines=True),
        escape_markdown(text),
        markdown_code(text),
        markdown_fence(text),
    ):
        assert char not in shown
        assert f"{ord(char):x}" in shown.lower()


def test_every_format_and_private_use_character_is_escaped() -> None:
    # By property, so a character this list never named is covered too.
    import unicodedata

    missed = [
        f"U+{code:04X}"
        for code in range(0x110000)
        if unicodedata.category(chr(code)) in ("Cf", "Co", "Cc")
        and chr(code) not in ("\n",)
        and escape_terminal(chr(code)) == chr(code)
    ]
    assert missed == []


def test_visible_text_in_any_script_is_kept() -> None:
    for text in ("Zoë Ångström", "東京 ソウル 서울", "مرحبا", "naïve café", "🎉 ok", "a\u00a0b"):
        assert escape_terminal(text) == text
