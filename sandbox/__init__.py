"""Local stand-ins for Pendula and the Segment Public API, served over real HTTP for tests and demos."""
