"""The adjoints of NumPy's discrete Fourier transforms.

Every transform is linear, and the DFT matrix is symmetric, so in JAX's convention
(complex_numbers.py) the adjoint of `fftn` is `fftn` itself and that of `ifftn` is
`ifftn`, with the same `norm`; what changes is the length along each axis: a
transform given `n` (or `s`) pads the input with zeros or cuts it first, so its
adjoint cuts or pads back (`_fit`). The real transforms differ only in the half
spectrum: `rfft` keeps the first n // 2 + 1 entries of the full one (its adjoint
pads with zeros), and `irfft` reads the half spectrum as a Hermitian one (its
adjoint counts each entry twice but the first and, for even n, the last).
"""
from __future__ import annotations

import numpy as np

from .registry import helper


def _axes(ndim: int, s, axes) -> tuple:
    """The axes a transform runs along, as non-negative positions (`s`: the lengths asked
    for, a number for a one-axis transform)."""
    s = (s,) if isinstance(s, int) else s
    if axes is None:
        axes = range(ndim) if s is None else range(ndim - len(s), ndim)
    elif isinstance(axes, int):
        axes = (axes,)
    return tuple(a % ndim for a in axes)


def _fit(a, shape, axes):
    """`a` cut or padded with zeros to `shape` along `axes`."""
    for ax in axes:
        have, want = a.shape[ax], shape[ax]
        if have > want:
            a = np.take(a, np.arange(want), axis=ax)
        elif have < want:
            pad = [(0, 0)] * a.ndim
            pad[ax] = (0, want - have)
            a = np.pad(a, pad)
    return a


@helper(linear=(0,))
def unfft(g, x, s=None, axes=None, norm=None, inverse=False):
    """The adjoint of `np.fft.fftn(x, s, axes, norm)` (of ifftn with `inverse`) at `g`."""
    g = np.asarray(g)
    axes = _axes(g.ndim, s, axes)
    out = (np.fft.ifftn if inverse else np.fft.fftn)(g, axes=axes, norm=norm)
    return _fit(out, np.shape(x), axes)


@helper(linear=(0,))
def unrfft(g, x, s=None, axes=None, norm=None):
    """The adjoint of `np.fft.rfftn(x, s, axes, norm)` at the half spectrum `g` (for rfft,
    `s` is its `n`): the full spectrum's adjoint with zeros where rfft left entries out;
    real, as x is."""
    g = np.asarray(g)
    axes = _axes(g.ndim, s, axes)
    last = axes[-1]
    full = list(g.shape)
    full[last] = np.shape(x)[last] if s is None else ((s,) if isinstance(s, int) else s)[-1]
    out = np.fft.fftn(_fit(g, full, (last,)), axes=axes, norm=norm)
    return np.real(_fit(out, np.shape(x), axes))


@helper(linear=(0,))
def unirfft(g, x, s=None, axes=None, norm=None):
    """The adjoint of `np.fft.irfftn(x, s, axes, norm)` at the real `g` (whose shape gives
    the lengths transformed): each entry of the half spectrum counted for itself and its
    mirror image, the first (and, for an even length, the last) once; imaginary parts
    only where x has them."""
    g = np.asarray(g)
    axes = _axes(g.ndim, s, axes)
    last, n = axes[-1], g.shape[axes[-1]]
    half = np.take(np.fft.ifftn(g, axes=axes, norm=norm), np.arange(n // 2 + 1), axis=last)
    twice = np.full(n // 2 + 1, 2.0)
    twice[0] = 1.0
    if n % 2 == 0:
        twice[-1] = 1.0
    half = half * twice.reshape([-1 if ax == last else 1 for ax in range(g.ndim)])
    out = _fit(half, np.shape(x), axes)
    return out if np.iscomplexobj(x) else np.real(out)


_SWAPPED = {None: "forward", "backward": "forward", "forward": "backward", "ortho": "ortho"}


@helper(linear=(0,))
def unhfft(g, x, n=None, axis=-1, norm=None):
    """The adjoint of `np.fft.hfft(x, n, axis, norm)`, which is irfft of conj(x) with the
    direction of `norm` swapped."""
    return np.conj(unirfft(g, np.conj(x), n, axis, _SWAPPED[norm]))


@helper(linear=(0,))
def unihfft(g, x, n=None, axis=-1, norm=None):
    """The adjoint of `np.fft.ihfft(x, n, axis, norm)`, which is conj(rfft(x)) with the
    direction of `norm` swapped."""
    return unrfft(np.conj(g), x, n, axis, _SWAPPED[norm])
