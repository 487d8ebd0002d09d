"""Rules of scipy.signal, registered once the user's program has imported it
(rules.optional): convolution and correlation of arrays of any number of dimensions,
in every mode, by any method. Each is bilinear, so forward mode needs no rule of its
own; the adjoints correlate the output's adjoint with the other input
(runtime/shapes.py: unconvolve_nd).
"""
try:
    from scipy import signal
except ImportError:  # SciPy is optional: without it there is nothing to register
    signal = None

from .table import adjoint
from ..runtime import unconvolve_nd  # noqa: F401 (used in templates)

BILINEAR = "a sum of products of the inputs' entries: proven by finite differences"

if signal is not None:
    @adjoint(signal.convolve, linear=("in1", "in2"), domain=("real", "real"), why=BILINEAR, examples=[
        ("convolve(x, y)", [(6,), (3,)]), ("convolve(x, y, mode='same')", [(5,), (4,)]),
        ("convolve(x, y, mode='valid')", [(3,), (5,)]), ("convolve(x, y, 'same')", [(4, 5), (3, 2)]),
        ("convolve(x, y, mode='valid', method='fft')", [(5, 4), (2, 3)])])
    @adjoint(signal.fftconvolve, linear=("in1", "in2"))
    @adjoint(signal.oaconvolve, linear=("in1", "in2"))
    def convolve(ans, in1, in2, dans, *, mode="full", method="auto"):
        din1, din2 = unconvolve_nd(dans, in1, in2, mode, False)

    @adjoint(signal.correlate, linear=("in1", "in2"), domain=("real", "real"), why=BILINEAR, examples=[
        ("correlate(x, y)", [(6,), (3,)]), ("correlate(x, y, mode='same')", [(5,), (4,)]),
        ("correlate(x, y, mode='valid')", [(3,), (5,)]), ("correlate(x, y, 'same')", [(4, 5), (3, 2)]),
        ("correlate(x, y, mode='valid')", [(5, 4), (2, 3)])])
    def correlate(ans, in1, in2, dans, *, mode="full", method="auto"):
        din1, din2 = unconvolve_nd(dans, in1, in2, mode, True)
