"""neverblink benchmarks: `neverblink bench ...`; figures and method in BENCHMARKS.md."""
