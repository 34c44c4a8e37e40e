"""Benchmarks of mailtls against its peers on real servers; see bench/README.md. Not tests."""
