"""Benchmarks: one script per capability, each printing one JSON object."""
