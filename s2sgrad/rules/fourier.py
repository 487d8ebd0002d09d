"""Rules of np.fft: the discrete Fourier transforms and their shifts.

Each transform is linear, so forward mode applies it to the tangent, and its
adjoint is a transform too (runtime/fourier.py says which, and how lengths
given by `n` or `s` are undone). The complex transforms hold for complex
arguments (`complex=True`); rfft takes real ones (it drops an imaginary part,
so a complex argument is refused), and its adjoint is real. The lengths `n` and `s`
are arguments, known when the code runs (`n = len(signal)`); the axes and `norm` are
static keywords.
"""
import numpy as np

from .table import adjoint
from ..runtime import unfft, unhfft, unihfft, unirfft, unrfft  # noqa: F401  (templates)

C = "complex"
LINEAR = "a linear map NumPy computes in floats: proven by finite differences, on real and on complex " \
         "values (test_complex.py)"


@adjoint(np.fft.fft, linear=True, result="complex", complex=True, domain=(C,), why=LINEAR, examples=[
    ("np.fft.fft(x)", [(8,)]), ("np.fft.fft(x, 6)", [(4,)]), ("np.fft.fft(x, n=3, axis=0)", [(5, 2)]),
    ("np.fft.fft(x, norm='ortho')", [(2, 5)]), ("np.fft.fft(x, norm='forward')", [(4,)])])
def fft(ans, x, n=None, dans=None, *, axis=-1, norm=None):
    dx = unfft(dans, x, n, axis, norm)


@adjoint(np.fft.ifft, linear=True, result="complex", complex=True, domain=(C,), why=LINEAR, examples=[
    ("np.fft.ifft(x)", [(8,)]), ("np.fft.ifft(x, 7)", [(4,)]), ("np.fft.ifft(x, axis=0, norm='ortho')", [(3, 2)])])
def ifft(ans, x, n=None, dans=None, *, axis=-1, norm=None):
    dx = unfft(dans, x, n, axis, norm, True)


@adjoint(np.fft.fft2, linear=True, result="complex", complex=True, domain=(C,), why=LINEAR, examples=[
    ("np.fft.fft2(x)", [(3, 4)]), ("np.fft.fft2(x, s=(2, 5))", [(3, 4)]), ("np.fft.fft2(x, axes=(0, 2))", [(2, 2, 3)])])
def fft2(ans, x, s=None, dans=None, *, axes=(-2, -1), norm=None):
    dx = unfft(dans, x, s, axes, norm)


@adjoint(np.fft.ifft2, linear=True, result="complex", complex=True, domain=(C,), why=LINEAR, examples=[
    ("np.fft.ifft2(x)", [(3, 4)]), ("np.fft.ifft2(x, s=(4, 2), norm='forward')", [(3, 3)])])
def ifft2(ans, x, s=None, dans=None, *, axes=(-2, -1), norm=None):
    dx = unfft(dans, x, s, axes, norm, True)


@adjoint(np.fft.fftn, linear=True, result="complex", complex=True, domain=(C,), why=LINEAR, examples=[
    ("np.fft.fftn(x)", [(2, 3, 2)]), ("np.fft.fftn(x, s=(3, 3), axes=(1, 2))", [(2, 2, 4)]), ("np.fft.fftn(x, axes=(0,))", [(3, 2)])])
def fftn(ans, x, s=None, dans=None, *, axes=None, norm=None):
    dx = unfft(dans, x, s, axes, norm)


@adjoint(np.fft.ifftn, linear=True, result="complex", complex=True, domain=(C,), why=LINEAR, examples=[
    ("np.fft.ifftn(x)", [(2, 3, 2)]), ("np.fft.ifftn(x, s=(4,), axes=(1,), norm='ortho')", [(3, 2)])])
def ifftn(ans, x, s=None, dans=None, *, axes=None, norm=None):
    dx = unfft(dans, x, s, axes, norm, True)


@adjoint(np.fft.rfft, linear=True, result="complex", domain=("real",), why=LINEAR, examples=[
    ("np.fft.rfft(x)", [(8,)]), ("np.fft.rfft(x)", [(7,)]), ("np.fft.rfft(x, 6)", [(4,)]),
    ("np.fft.rfft(x, n=5, axis=0, norm='ortho')", [(7, 2)])])
def rfft(ans, x, n=None, dans=None, *, axis=-1, norm=None):
    dx = unrfft(dans, x, n, axis, norm)


@adjoint(np.fft.rfft2, linear=True, result="complex", domain=("real",), why=LINEAR, examples=[
    ("np.fft.rfft2(x)", [(3, 4)]), ("np.fft.rfft2(x, s=(4, 5), norm='forward')", [(3, 4)])])
def rfft2(ans, x, s=None, dans=None, *, axes=(-2, -1), norm=None):
    dx = unrfft(dans, x, s, axes, norm)


@adjoint(np.fft.rfftn, linear=True, result="complex", domain=("real",), why=LINEAR, examples=[
    ("np.fft.rfftn(x)", [(2, 3, 4)]), ("np.fft.rfftn(x, axes=(0, 1))", [(3, 4, 2)])])
def rfftn(ans, x, s=None, dans=None, *, axes=None, norm=None):
    dx = unrfft(dans, x, s, axes, norm)


@adjoint(np.fft.irfft, linear=True, result="real", complex=True, domain=(C,), why=LINEAR, examples=[
    ("np.fft.irfft(x)", [(5,)]), ("np.fft.irfft(x, 7)", [(5,)]), ("np.fft.irfft(x, n=4, axis=0, norm='ortho')", [(4, 2)])])
def irfft(ans, x, n=None, dans=None, *, axis=-1, norm=None):
    dx = unirfft(dans, x, n, axis, norm)


@adjoint(np.fft.irfft2, linear=True, result="real", complex=True, domain=(C,), why=LINEAR, examples=[
    ("np.fft.irfft2(x)", [(3, 4)]), ("np.fft.irfft2(x, s=(4, 5))", [(3, 3)])])
def irfft2(ans, x, s=None, dans=None, *, axes=(-2, -1), norm=None):
    dx = unirfft(dans, x, s, axes, norm)


@adjoint(np.fft.irfftn, linear=True, result="real", complex=True, domain=(C,), why=LINEAR, examples=[
    ("np.fft.irfftn(x)", [(2, 3, 3)]), ("np.fft.irfftn(x, s=(3, 4), axes=(1, 2), norm='forward')", [(2, 3, 3)])])
def irfftn(ans, x, s=None, dans=None, *, axes=None, norm=None):
    dx = unirfft(dans, x, s, axes, norm)


@adjoint(np.fft.hfft, linear=True, result="real", complex=True, domain=(C,), why=LINEAR, examples=[
    ("np.fft.hfft(x)", [(5,)]), ("np.fft.hfft(x, 7, norm='ortho')", [(4,)])])
def hfft(ans, x, n=None, dans=None, *, axis=-1, norm=None):
    dx = unhfft(dans, x, n, axis, norm)


@adjoint(np.fft.ihfft, linear=True, result="complex", domain=("real",), why=LINEAR, examples=[
    ("np.fft.ihfft(x)", [(6,)]), ("np.fft.ihfft(x, 5, norm='forward')", [(4,)])])
def ihfft(ans, x, n=None, dans=None, *, axis=-1, norm=None):
    dx = unihfft(dans, x, n, axis, norm)


@adjoint(np.fft.fftshift, linear=True, complex=True, domain=(C,), why=LINEAR, examples=[
    ("np.fft.fftshift(x)", [(5,)]), ("np.fft.fftshift(x, axes=0)", [(4, 3)])])
def fftshift(ans, x, dans, *, axes=None):
    dx = np.fft.ifftshift(dans, axes=axes)


@adjoint(np.fft.ifftshift, linear=True, complex=True, domain=(C,), why=LINEAR, examples=[
    ("np.fft.ifftshift(x)", [(5,)]), ("np.fft.ifftshift(x, axes=(0, 1))", [(4, 3)])])
def ifftshift(ans, x, dans, *, axes=None):
    dx = np.fft.fftshift(dans, axes=axes)
