"""Adapters for files in and out: tables (CSV, Parquet, JSON), data folders, plan files."""
