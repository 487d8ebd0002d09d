"""Programs written the way scientists write them (neural nets with lists of layers,
Gaussian processes, variational inference with random draws, HMMs, simulations, RNNs,
classes, lambdas, comprehensions, prints, SciPy calls), each run through s2sgrad exactly
as written (tests/test_programs.py). Each defines `objective` (or `TARGET`), `ARGS()`
and `WRT`."""
