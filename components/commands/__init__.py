"""Sub-commands of ``python -m components``, one module each."""
