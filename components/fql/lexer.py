"""The fql-ts lexer: a faithful port of segmentio/fql-ts src/lexer.ts 1.10.x."""

from __future__ import annotations

from typing import Final

from components.fql.js import from_utf16_units, utf16_units

_EOS_FLAG: Final = "-1"
MAX_LITERAL: Final = 100000
Token = tuple[str, str]


class LexerError(Exception):
    pass


def _is_alpha(c: str) -> bool:
    return len(c) == 1 and ("a" <= c <= "z" or "A" <= c <= "Z")


def _is_digit(c: str) -> bool:
    return len(c) == 1 and "0" <= c <= "9"


def _is_whitespace(c: str) -> bool:
    return c in (" ", "\t", "\n")


def _is_ident(c: str) -> bool:
    return c != _EOS_FLAG and (_is_alpha(c) or _is_digit(c) or c in ("_", "-", "\\"))


def _is_terminator(c: str) -> bool:
    return c == _EOS_FLAG or _is_whitespace(c) or c in (",", "]", ")")


class Lexer:
    """Port of fql-ts ``Lexer``; works on UTF-16 code units exactly like the JavaScript."""

    def __init__(self, code: str) -> None:
        self.code = utf16_units(code)
        self.position = 0

    def next(self) -> tuple[str, bool]:
        if self.position == len(self.code):
            return _EOS_FLAG, True
        char = self.code[self.position]
        self.position += 1
        return char, False

    def peek(self) -> str:
        char, is_eos = self.next()
        if not is_eos:
            self.backup(1)
        return char

    def backup(self, count: int) -> None:
        for _ in range(count):
            if self.position == 0:
                return
            self.position -= 1

    def accept(self, expected: str) -> bool:
        chars = ""
        for _ in expected:
            char, is_eos = self.next()
            chars += char
            if is_eos:
                return False
            if _is_terminator(char):
                break
        if expected == chars and _is_terminator(self.peek()):
            return True
        self.backup(len(chars))
        return False

    def lex(self) -> list[Token]:
        tokens: list[Token] = []
        while True:
            char, is_eos = self.next()
            if is_eos:
                tokens.append(("eos", "eos"))
                return tokens
            if _is_whitespace(char):
                continue
            if char == "!":
                following = self.peek()
                if _is_alpha(following) or following == "(":
                    tokens.append(("operator", "!"))
                    continue
            if _is_alpha(char) or char in ("!", "=", ">", "<", "\\", "_"):
                tokens.append(self.lex_operator_or_conditional(char))
                continue
            if _is_digit(char) or char in ("-", "+"):
                tokens.append(self.lex_number(char))
                continue
            if char in ('"', "'"):
                tokens.append(self.lex_string(char))
                continue
            simple = {".": "dot", "[": "brackleft", "]": "brackright", ",": "comma"}
            if char in simple:
                tokens.append((simple[char], char))
                continue
            if char in ("(", ")"):
                tokens.append(("parenleft" if char == "(" else "parenright", char))
                continue
            raise LexerError(f'invalid character "{from_utf16_units(char)}"')

    def lex_string(self, quote: str) -> Token:
        text = ""
        while self.peek() != quote:
            char, is_eos = self.next()
            text += char
            if is_eos:
                raise LexerError("unterminated string")
            if len(text) >= MAX_LITERAL:
                raise LexerError("unreasonable string length")
        self.accept(quote)
        return ("string", f"{quote}{text}{quote}")

    def lex_number(self, previous: str) -> Token:
        text = ""
        coming_up = self.peek()
        is_decimal = False
        while _is_digit(coming_up) or coming_up == ".":
            char, _ = self.next()
            text += char
            if coming_up == ".":
                if _is_terminator(self.peek()):
                    raise LexerError("unexpected terminator after decimal point")
                if is_decimal:
                    raise LexerError("multiple decimal points in one number")
                is_decimal = True
            if len(text) >= MAX_LITERAL:
                raise LexerError("unreasonable number length")
            coming_up = self.peek()
        return ("number", previous + text)

    def lex_operator_or_conditional(self, previous: str) -> Token:
        if previous == "=":
            return ("operator", "=")
        if previous == "!":
            if self.accept("="):
                return ("operator", "!=")
            raise LexerError(f"expected '=' after '!', got '{self.peek()}'")
        keywords = {"a": ("nd", "conditional", "and"), "o": ("r", "conditional", "or")}
        keywords["n"] = ("ull", "null", "null")
        if previous in keywords:
            rest, kind, value = keywords[previous]
            if self.accept(rest):
                return (kind, value)
            return self.lex_ident(previous)
        if previous in ("<", ">"):
            if self.accept("="):
                return ("operator", previous + "=")
            return ("operator", previous)
        return self.lex_ident(previous)

    def lex_ident(self, previous: str) -> Token:
        text = ""
        char = previous
        while True:
            if char == "\\":
                if self.peek() == _EOS_FLAG:
                    raise LexerError("expected character after escape character, got EOS")
                char, _ = self.next()
            text += char
            if len(text) >= MAX_LITERAL:
                raise LexerError("unreasonable literal length")
            if not _is_ident(self.peek()):
                break
            char, _ = self.next()
        coming_up = self.peek()
        if not (_is_terminator(coming_up) or coming_up in (".", "(", "=", "!")):
            raise LexerError(
                f"expected termination character after identifier, got "
                f"{from_utf16_units(coming_up)}"
            )
        return ("ident", text)


def lex(fql: str) -> list[Token]:
    """fql-ts ``lex``: tokens with values converted back from UTF-16 units."""
    return [(kind, from_utf16_units(value)) for kind, value in Lexer(fql).lex()]
