"""Helpers the test suites share (a throwaway PostgreSQL server, ...)."""
