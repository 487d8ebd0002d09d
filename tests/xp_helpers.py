"""A helper module of its own, with a global of its own (tests/test_array_api.py changes it)."""
K = 2.0


def scale(z):
    return z * K
