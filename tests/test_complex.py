"""Complex numbers, end to end: every rule that says it holds for complex arguments,
proven on complex values; and programs with complex parameters and intermediates.

The convention is JAX's (runtime/complex_numbers.py): for a real-valued f of a complex
z = x + 1j y, grad(f)(z) is df/dx - 1j df/dy; a vjp pulls a cotangent c back through
the transpose, so that Re(sum(c * df)) = Re(sum(vjp(c) * dz)) for every direction dz.
The finite differences here model that pairing on their own (real and imaginary steps,
never s2sgrad's rules), so they referee the convention as well as the rules.
"""
from __future__ import annotations

import numpy as np
import pytest

import s2sgrad
from s2sgrad.errors import NotDifferentiableError
from s2sgrad.rules import OPS

from .support import make_function
from .test_rules import COMPILER_ONLY, PREAMBLE, SCALAR_ONLY, TREES, _call, _rng, sample

COMPLEX_RULES = sorted(n for n, op in OPS.items() if op.complex and op.kind in ("elementwise", "adjoint")
                       and n not in COMPILER_ONLY | TREES)
KEPT_REAL = {"index", "distinct"}          # domains drawn as real numbers (conditions, orders)


def complex_sample(shape, domain, rng):
    """A value of `domain` with an imaginary part added (inside the domain's strip: log's
    and sqrt's cut along the negative reals stays away)."""
    real = sample(shape, "real" if domain == "complex" else domain, rng)
    if domain in KEPT_REAL:
        return real
    imag = np.round(rng.uniform(-0.5, 0.5, np.shape(real)) * 1024) / 1024
    return real + 1j * imag if np.ndim(real) else complex(real, float(imag))


def _pair(out, cotangent) -> float:
    """The real pairing Re(sum(c * out)), item by item for a tuple."""
    if isinstance(out, tuple):
        return sum(_pair(o, c) for o, c in zip(out, cotangent))
    return float(np.real(np.sum(np.asarray(out) * cotangent)))


def _moved(args, i, k, step):
    new = list(args)
    x = np.array(args[i], dtype=complex if np.iscomplexobj(args[i]) else float)
    x[k] += step
    new[i] = x if np.ndim(args[i]) else x.item()
    return new


def numeric_vjp(fn, args, i, cotangent, eps=1e-6):
    """d/dx - 1j d/dy of Re(sum(c * fn(args))), entry by entry of argument i."""
    complex_arg = np.iscomplexobj(args[i])
    grad = np.zeros(np.shape(args[i]), complex if complex_arg else float)
    for k in np.ndindex(np.shape(args[i])):
        for step, weight in ((eps, 1.0), (1j * eps, -1j))[:2 if complex_arg else 1]:
            up, down = _pair(fn(*_moved(args, i, k, step)), cotangent), _pair(fn(*_moved(args, i, k, -step)), cotangent)
            grad[k] += weight * (up - down) / (2 * eps)
    return grad if np.ndim(args[i]) else grad.item()


def numeric_jvp(fn, args, tangents, eps=1e-6):
    up = fn(*[a + eps * t for a, t in zip(args, tangents)])
    down = fn(*[a - eps * t for a, t in zip(args, tangents)])
    if isinstance(up, tuple):
        return tuple((u - d) / (2 * eps) for u, d in zip(up, down))
    return (np.asarray(up) - np.asarray(down)) / (2 * eps)


def _like(value, rng):
    """A random cotangent or tangent shaped (and typed: complex or real) like `value`."""
    if isinstance(value, tuple):
        return tuple(_like(v, rng) for v in value)
    shape = np.shape(value)
    out = rng.standard_normal(shape) + (1j * rng.standard_normal(shape) if np.iscomplexobj(value) else 0)
    return out if shape else out.item()


def check_complex(fn, args, wrt, rtol=1e-5, atol=1e-6):
    """s2sgrad's vjp and jvp of fn at args against finite differences, in both directions."""
    rng = np.random.default_rng(7)
    out, pullback = s2sgrad.vjp(fn, *args, wrt=wrt)
    expected = fn(*args)
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)
    cotangent = _like(out, rng)
    grads = pullback(cotangent)
    for i, g in zip(wrt, grads):
        assert np.iscomplexobj(g) == np.iscomplexobj(args[i]), f"argument {i}: the gradient's type"
        np.testing.assert_allclose(g, numeric_vjp(fn, args, i, cotangent), rtol=rtol, atol=atol,
                                   err_msg=f"vjp, argument {i}")
    tangents = [_like(args[i], rng) for i in wrt]
    _, tangent = s2sgrad.jvp(fn, tuple(args), tuple(tangents), wrt=wrt)
    full = [tangents[wrt.index(i)] if i in wrt else 0.0 * np.real(a) for i, a in enumerate(args)]
    np.testing.assert_allclose(tangent, numeric_jvp(fn, args, full), rtol=rtol, atol=atol, err_msg="jvp")


# -- every rule that says it holds for complex numbers ---------------------------------

def _rule_cases():
    for name in COMPLEX_RULES:
        op = OPS[name]
        if op.kind == "elementwise":
            arity = len(op.args)
            for shapes in [((3,), (3,), (3,)), ((2, 3), (3,), (2, 3)), ((), (), ())][2 if name in SCALAR_ONLY else 0:]:
                yield pytest.param(name, _call(name, "xyz"[:arity]), shapes[:arity], id=f"{name}-{shapes[:arity]}")
        else:
            for expr, shapes in op.spec.examples:
                if "float" in expr:          # a cast to reals: refused for complex numbers (below)
                    continue
                yield pytest.param(name, expr, shapes, id=f"{name}: {expr} {shapes}")


@pytest.mark.parametrize("name, expr, shapes", list(_rule_cases()))
def test_rule_holds_for_complex_numbers(tmp_path, name, expr, shapes):
    params = "xyzwv"[:len(shapes)]
    source = expr if expr.startswith("def ") else f"def f({', '.join(params)}):\n    return {expr}\n"
    fn = make_function(tmp_path, source, preamble=PREAMBLE)
    domain = OPS[name].spec.domain
    rng = _rng("complex", name, expr, shapes)
    args = [complex_sample(s, domain[min(i, len(domain) - 1)], rng) for i, s in enumerate(shapes)]
    if domain[0] == "spd":
        args[0] = args[0] + np.conj(args[0]).T
    wrt = tuple(i for i, a in enumerate(args) if np.asarray(a).dtype.kind in "fc")
    check_complex(fn, args, wrt, rtol=1e-4, atol=1e-6)


def test_the_complex_rules_cover_the_holomorphic_and_linear_ops():
    assert {"np.exp", "np.log", "np.sqrt", "mul", "div", "pow", "np.sum", "matmul", "np.linalg.inv",
            "np.real", "np.imag", "np.conjugate", "np.angle", "np.abs.complex"} <= set(COMPLEX_RULES)
    assert "np.maximum" not in COMPLEX_RULES and "np.linalg.norm" not in COMPLEX_RULES


# -- programs, written as people write them ----------------------------------------------

PROGRAMS = '''
import numpy as np


def array_power(theta, weights):
    """A uniform linear array steered by phases theta: the power it receives."""
    n = len(theta)
    steering = np.exp(1j * (theta + np.pi * np.arange(n) * 0.3))
    field = np.sum(weights * steering)
    return np.abs(field) ** 2


def least_squares(z, A, b):
    residual = A @ z - b
    return np.sum(np.abs(residual) ** 2)


def rayleigh(psi, H):
    """The energy <psi|H|psi> / <psi|psi> of a state psi (complex amplitudes)."""
    numerator = np.real(np.conj(psi) @ (H @ psi))
    denominator = np.real(np.sum(np.conj(psi) * psi))
    return numerator / denominator


def transfer(omega, params):
    """|H(i omega)|^2 of a second-order filter, summed over frequencies; params real."""
    total = 0.0
    for w in omega:
        s = 1j * w
        h = params[0] / (s ** 2 + params[1] * s + params[2])
        total = total + np.abs(h) ** 2
    return total


def phases(z):
    angles = np.angle(z)
    radii = np.abs(z)
    print("radii", radii.shape)
    return np.sum(np.sin(angles) * radii ** 2) + np.sum(np.imag(z) * np.real(z))


def holomorphic(z):
    return z ** 3 + np.sin(z) * np.exp(-z / 2)


def spectral_penalty(signal, kernel):
    """A smoothness penalty on the spectrum, and a circular convolution done by FFT."""
    n = len(signal)
    spectrum = np.fft.rfft(signal)
    freqs = np.fft.rfftfreq(n)
    penalty = np.sum(freqs ** 2 * np.abs(spectrum) ** 2)
    blurred = np.fft.irfft(spectrum * np.fft.rfft(kernel, n), n)
    return penalty + np.sum((blurred - signal) ** 2)


def centered_power(image):
    power = np.abs(np.fft.fftshift(np.fft.fft2(image))) ** 2
    rows, cols = power.shape
    return np.sum(power[rows // 2 - 1:rows // 2 + 1, :]) / power.size


def cast_then_rotate(x):
    z = x.astype(complex) * np.exp(0.25j)
    return np.sum(np.real(z) * np.imag(z))
'''


@pytest.fixture(scope="module")
def programs(tmp_path_factory):
    import types
    path = tmp_path_factory.mktemp("complex") / "complex_programs.py"
    path.write_text(PROGRAMS)
    module = types.ModuleType("complex_programs")
    module.__file__ = str(path)
    exec(compile(PROGRAMS, str(path), "exec"), module.__dict__)
    return module


def test_real_parameters_through_complex_intermediates(programs):
    rng = np.random.default_rng(0)
    theta, weights = rng.uniform(-1, 1, 5), rng.uniform(0.5, 1.5, 5)
    check_complex(programs.array_power, [theta, weights], (0, 1))
    g = s2sgrad.grad(programs.array_power, (0, 1))(theta, weights)
    assert g[0].dtype == np.float64 and g[1].dtype == np.float64
    check_complex(programs.transfer, [np.linspace(0.1, 3.0, 7), np.array([1.0, 0.4, 2.0])], (1,))
    check_complex(programs.cast_then_rotate, [rng.standard_normal(4)], (0,))


def test_fourier_transforms_in_real_programs(programs):
    rng = np.random.default_rng(3)
    signal, kernel = rng.standard_normal(8), rng.standard_normal(3)
    check_complex(programs.spectral_penalty, [signal, kernel], (0, 1))
    check_complex(programs.centered_power, [rng.standard_normal((4, 5))], (0,))
    spectrum = rng.standard_normal(5) + 1j * rng.standard_normal(5)
    check_complex(programs.spectral_penalty, [signal, kernel], (0,))
    hessian = s2sgrad.hessian(programs.spectral_penalty)(signal, kernel)
    gradient, eps, e = s2sgrad.grad(programs.spectral_penalty), 1e-5, np.eye(8)[2]
    column = (gradient(signal + eps * e, kernel) - gradient(signal - eps * e, kernel)) / (2 * eps)
    np.testing.assert_allclose(hessian[:, 2], column, rtol=1e-6, atol=1e-7)
    assert np.iscomplexobj(spectrum)


def test_complex_parameters_get_the_conjugate_of_the_descent_direction(programs):
    rng = np.random.default_rng(1)
    A = rng.standard_normal((4, 3)) + 1j * rng.standard_normal((4, 3))
    b = rng.standard_normal(4) + 1j * rng.standard_normal(4)
    z = rng.standard_normal(3) + 1j * rng.standard_normal(3)
    g = s2sgrad.grad(programs.least_squares)(z, A, b)
    np.testing.assert_allclose(g, 2 * A.T @ np.conj(A @ z - b), rtol=1e-12)   # df/dx - 1j df/dy
    check_complex(programs.least_squares, [z, A, b], (0, 1, 2))
    step = z - 0.01 * np.conj(g)                 # descending: along the conjugate
    assert programs.least_squares(step, A, b) < programs.least_squares(z, A, b)
    assert s2sgrad.grad(lambda_abs2)(1 + 2j) == pytest.approx(2 - 4j)


def lambda_abs2(z):
    return abs(z) ** 2


def test_a_quantum_expectation_value(programs):
    rng = np.random.default_rng(2)
    m = rng.standard_normal((4, 4)) + 1j * rng.standard_normal((4, 4))
    H = m + np.conj(m).T
    psi = rng.standard_normal(4) + 1j * rng.standard_normal(4)
    check_complex(programs.rayleigh, [psi, H], (0,))
    value, g = s2sgrad.value_and_grad(programs.rayleigh)(psi, H)
    np.testing.assert_allclose(np.vdot(psi, H @ psi).real / np.vdot(psi, psi).real, value)


def test_angles_moduli_and_parts(programs, capsys):
    z = np.array([1.0 + 0.5j, -0.3 + 1.2j, 0.7 - 0.9j])
    check_complex(programs.phases, [z], (0,))
    assert "radii (3,)" in capsys.readouterr().out


def test_holomorphic_functions_through_vjp_and_jvp(programs):
    z = np.array([0.3 + 0.2j, -1.0 + 0.5j])
    check_complex(programs.holomorphic, [z], (0,))
    out, pullback = s2sgrad.vjp(programs.holomorphic, z)
    derivative = 3 * z ** 2 + np.cos(z) * np.exp(-z / 2) - np.sin(z) * np.exp(-z / 2) / 2
    np.testing.assert_allclose(pullback(np.ones(2))[0], derivative, rtol=1e-12)
    np.testing.assert_allclose(s2sgrad.jvp(programs.holomorphic, (z,), (np.ones(2, complex),))[1], derivative,
                               rtol=1e-12)


REFUSED = '''
import numpy as np


def biggest(z):
    return np.sum(np.maximum(z, 0.5))


def complex_value(z):
    return np.sum(z ** 2)


def dropped(z):
    return np.sum(z.astype(float) ** 2)
'''


def test_ops_without_a_complex_rule_are_refused_at_their_line(tmp_path):
    biggest = make_function(tmp_path, REFUSED, "biggest", preamble="")
    with pytest.raises(NotDifferentiableError, match="np.maximum.*complex") as info:
        s2sgrad.grad(biggest)(np.array([1 + 1j, 2.0]))
    assert info.value.loc.line == 6 and "np.maximum(z, 0.5)" in str(info.value)
    with pytest.raises(NotDifferentiableError, match="real-valued output"):
        s2sgrad.grad(make_function(tmp_path, REFUSED, "complex_value", preamble=""))(np.array([1j]))
    with pytest.raises(NotDifferentiableError, match="imaginary part"):
        s2sgrad.grad(make_function(tmp_path, REFUSED, "dropped", preamble=""))(np.array([1j]))


def test_real_arguments_keep_the_real_derivative():
    """The same function given real numbers runs the real derivative (no complex ops in it)."""
    z = np.array([0.5, -1.5])
    assert np.isrealobj(s2sgrad.grad(lambda_abs2)(2.0))
    assert "np.real" not in s2sgrad.source(lambda_abs2)
    np.testing.assert_allclose(s2sgrad.grad(lambda_abs2)(z[0]), 2 * z[0])


def test_second_derivatives_through_complex_intermediates(programs):
    """Hessians of real functions of real arguments that compute with complex numbers
    (forward over reverse, and reverse over reverse), against differences of the gradient."""
    theta, weights = np.array([0.1, 0.5, -0.3]), np.array([1.0, 0.7, 1.2])
    gradient, eps = s2sgrad.grad(programs.array_power, (0, 1)), 1e-5
    hessian = s2sgrad.hessian(programs.array_power)(theta, weights)
    for k in range(3):
        e = np.eye(3)[k]
        column = (gradient(theta + eps * e, weights)[0] - gradient(theta - eps * e, weights)[0]) / (2 * eps)
        np.testing.assert_allclose(hessian[:, k], column, rtol=1e-6, atol=1e-8)
        np.testing.assert_allclose(s2sgrad.hvp(programs.array_power)(theta, weights, e), column, rtol=1e-6,
                                   atol=1e-8)
    with pytest.raises(NotDifferentiableError, match="second derivatives of complex arguments"):
        s2sgrad.hvp(lambda_abs2)(1 + 2j, 1.0)


UNSEEN = '''
import numpy as np
import scipy.fft

KERNEL = np.array([1.0, 0.5, -0.25])


def through_a_call_not_read(x):
    H = scipy.fft.fft(KERNEL)
    P = np.abs(np.fft.fft(x))
    return np.sum(np.abs(P * H) ** 2)


def from_a_list(x, zs):
    return np.sum(np.abs(np.abs(x * 1j) * zs[0]))
'''


def test_complex_numbers_the_build_cannot_see_are_followed_or_refused(tmp_path):
    """A list argument holding complex arrays gets the derivative built for them; the
    complex result of a call s2sgrad runs without reading is refused at its line where the
    code runs (its dtype is not known before), never run through rules built for reals."""
    x = np.array([0.3, -0.2, 0.9])
    listed = make_function(tmp_path, UNSEEN, "from_a_list", preamble="")
    zs = [np.array([1 + 1j, 2j, 1.0])]
    np.testing.assert_allclose(s2sgrad.grad(listed)(x, zs), np.sign(x) * np.abs(zs[0]))
    np.testing.assert_allclose(s2sgrad.vjp(listed, x, zs, wrt=(0,))[1](1.0)[0], np.sign(x) * np.abs(zs[0]))
    unread = make_function(tmp_path, UNSEEN, "through_a_call_not_read", preamble="")
    with pytest.raises(TypeError, match="returned complex numbers") as info:
        s2sgrad.grad(unread)(x)
    assert ":9:" in str(info.value) and "scipy.fft.fft(KERNEL)" in str(info.value)


REBOUND = '''
import numpy as np

C = 2.0


def scaled(x):
    return np.sum(np.abs(np.abs(x * 1j) * C))
'''


def test_a_global_rebound_to_complex_numbers_builds_the_derivative_again(tmp_path):
    scaled = make_function(tmp_path, REBOUND, "scaled", preamble="")
    x = np.array([0.3, -0.2, 0.9])
    g = s2sgrad.grad(scaled)
    np.testing.assert_allclose(g(x), 2.0 * np.sign(x))
    scaled.__globals__["C"] = 1.5j
    np.testing.assert_allclose(g(x), 1.5 * np.sign(x))      # (|1.5j| = 1.5: the rules for complex C)


HELD = '''
import numpy as np

C = 1 + 0.5j


def products(x):
    return np.real(np.prod(x * C)) + np.imag(np.sum(np.cumprod(x * C)))


def solved(x):
    return np.real(np.sum(np.linalg.solve(x * C + 3 * np.eye(3), np.arange(3.0) * C))) \\
        + np.real(np.linalg.det(x * C)) + np.imag(np.sum(np.linalg.inv(x * C + 3 * np.eye(3))))


def contracted(x):
    return np.real(np.vdot(x * C, x)) + np.real(np.sum(np.tensordot(x * C, x * C, axes=1))) \\
        + np.real(np.einsum("ij,jk->", x * C, x * C)) + np.imag(np.sum(np.kron(x * C, x[:2, :2] * C)))
'''


@pytest.mark.parametrize("name", ["products", "solved", "contracted"])
def test_hessians_through_the_helpers_of_complex_products_solves_and_contractions(tmp_path, name):
    """Forward mode over a gradient whose helpers meet complex values (their forward rules
    hold for them: registry.helper(complex=True)), against differences of the gradient."""
    f = make_function(tmp_path, HELD, name=name, preamble="")
    x = np.random.default_rng(0).normal(size=(3, 3)) * 0.5
    v = np.random.default_rng(1).normal(size=(3, 3))
    gradient, step = s2sgrad.grad(f), 1e-5
    column = (gradient(x + step * v) - gradient(x - step * v)) / (2 * step)
    np.testing.assert_allclose(s2sgrad.hvp(f)(x, v), column, rtol=1e-4, atol=1e-6)
