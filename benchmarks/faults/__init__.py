"""Bad inputs and faults to throw at the pipeline, shared by the benchmarks and the tests.

They live here, not in ``tests/``, because the benchmarks run them too: the tests may import
from ``benchmarks``, the benchmarks never from ``tests``.
"""
