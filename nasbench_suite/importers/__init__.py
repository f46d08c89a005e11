"""Importers of published benchmark results into suite tables."""
