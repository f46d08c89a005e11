"""Embedded benchmark tables (installed from the repository folder `tables/`)."""
