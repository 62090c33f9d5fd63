"""Local stand-ins for Pendula and the Segment Public API over real HTTP, for tests and demos."""
