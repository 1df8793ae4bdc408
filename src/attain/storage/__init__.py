"""The system of record: SQL tables, append-only versioned records, and as-of reads (SQLite or PostgreSQL)."""
