"""Facts as data: versioned TOML files under ``data/``, each entry with its public source."""
