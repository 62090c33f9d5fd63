"""Tests of components.pendula: client, provider, real dynamic-provider host, mocks."""
