"""Kernel-free programs: the classic DPOR benchmarks and litmus tests.

They run on the checker alone and prove it exact (see ``dpor_bench``).
"""
