"""The s2sgrad benchmark: workloads (bench/workloads.py) and the runner (bench/run.py)."""
