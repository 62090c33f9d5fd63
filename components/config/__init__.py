"""The stack config: its models, the checks of what values mean, and the one reading of a stack file
(the engine's: engine YAML, config values, a stack at a git ref)."""
