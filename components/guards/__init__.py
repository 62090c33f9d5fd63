"""Guards shared by the stack config, the token provider, the policy rules and every output:
endpoints, escaping, validators, redaction, files, placeholders, unreachable (docs/security.md)."""
