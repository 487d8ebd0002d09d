"""The gallery end to end: every function, every argument, every stage."""
import inspect

import numpy as np
import pytest

import s2sgrad
from s2sgrad import api, frontend, ir, passes
from s2sgrad.backend import calls
from s2sgrad.frontend import lower
from s2sgrad.ir import interpret
from s2sgrad.passes import normalize

from .functions import GALLERY
from .support import check_grads, derive

IDS = [fn.__name__ for fn, _ in GALLERY]


@pytest.mark.parametrize("fn, make_args", GALLERY, ids=IDS)
def test_gradients_match_finite_differences(fn, make_args):
    check_grads(fn, *make_args())


def _free(fn):
    source = frontend.parse(fn)
    return {name: source.lookup(name) for name in dir(__import__(fn.__module__, fromlist=["_"]))}


def _wrt(fn, args):
    return tuple(frontend.parse(fn).tree.args.args[i].arg for i in range(len(args)))


def _cotangent(out):
    return np.cos(np.arange(np.size(out)) + 0.5).reshape(np.shape(out)) if np.ndim(out) else 0.75


@pytest.mark.parametrize("fn, make_args", GALLERY, ids=IDS)
def test_every_stage_keeps_the_grammar_and_the_meaning(fn, make_args):
    args, free = make_args(), _free(fn)
    out, pullback = s2sgrad.vjp(fn, *args)
    cotangent = _cotangent(out)
    reference = pullback(cotangent)
    params = list(inspect.signature(fn).parameters)
    for shapes in (None, calls.abstract_arguments(params, calls.shape_key(args))):   # general, specialized
        request = passes.Request(_wrt(fn, args), passes.VJP, False, shapes=shapes, callees=api.callee_derivative)
        after: dict = {}
        passes.derivative(fn, request, record=after)
        ran = [name for name, _ in passes.pipeline(fn, request)]
        assert ("specialize" in ran) == (shapes is not None)
        for stage in ran:
            ir.verify(after[stage])
            value = interpret.run(after[stage], *args, free=free)
            if stage in passes.PRIMAL_STAGES:
                np.testing.assert_allclose(value, fn(*args), err_msg=stage)
                continue
            np.testing.assert_allclose(value[0], out, err_msg=stage)
            for got, want in zip(value[1](cotangent), reference):
                np.testing.assert_allclose(got, want, rtol=1e-12, err_msg=stage)


@pytest.mark.parametrize("fn, make_args", GALLERY, ids=IDS)
def test_optimized_and_unoptimized_code_agree(fn, make_args):
    args, free = make_args(), _free(fn)
    plain = derive(fn, _wrt(fn, args), "vjp", False, optimized=False)
    best = derive(fn, _wrt(fn, args), "vjp", False)
    (out, slow), (_, fast) = interpret.run(plain, *args, free=free), interpret.run(best, *args, free=free)
    for got, want in zip(slow(_cotangent(out)), fast(_cotangent(out))):
        np.testing.assert_allclose(got, want, rtol=1e-12)


def test_lowering_is_three_address_and_located():
    from .functions import mlp
    fn = lower.lower(frontend.parse(mlp))
    assigns = [s for s in fn.body if isinstance(s, ir.Assign)]
    assert all(isinstance(a, (ir.Var, ir.Const)) for s in assigns for a in s.args)
    assert {s.loc.line for s in assigns} == {mlp.__code__.co_firstlineno + 1,
                                             mlp.__code__.co_firstlineno + 2,
                                             mlp.__code__.co_firstlineno + 3}
    assert str(fn).splitlines()[0] == "def mlp(W1, b1, W2, x):"
    assert "matmul_x_W1 = matmul(x, W1)" in str(fn)


def test_normalize_gives_each_assignment_its_own_name():
    from .functions import reused_names
    fn = normalize.run(lower.lower(frontend.parse(reused_names)))
    targets = [s.target for s in fn.body if isinstance(s, ir.Assign)]
    assert len(targets) == len(set(targets))
    assert targets == ["y", "y_2", "y_3"]


def test_verify_rejects_broken_ir():
    loc = None
    undefined = ir.Function("f", ("x",), (ir.Assign("y", "add", (ir.Var("z"), ir.Const(1)), (), loc),
                                          ir.Return(ir.Var("y"))))
    with pytest.raises(ir.IRError, match="`z` read before it is assigned"):
        ir.verify(undefined)
    unknown = ir.Function("f", ("x",), (ir.Assign("y", "frobnicate", (ir.Var("x"),)), ir.Return(ir.Var("y"))))
    with pytest.raises(ir.IRError, match="unknown op"):
        ir.verify(unknown)
    nested = ir.Function("f", ("x",), (ir.Assign("y", "np.sin", (ir.Assign("t", "id", ()),)),))
    with pytest.raises(ir.IRError, match="not an atom"):
        ir.verify(nested)
    bad_index = ir.Function("f", ("x",), (ir.Assign("y", "add", (ir.Var("x"), ir.Index((ir.Const(0),)))),))
    with pytest.raises(ir.IRError, match="index"):
        ir.verify(bad_index)


def test_values_that_do_not_depend_on_the_argument_get_no_adjoint_code():
    from .functions import inactive_branch_of_code
    text = s2sgrad.source(inactive_branch_of_code)
    assert "dunused" not in text and "dn" not in text.replace("dn_", "")
    assert "unused" not in text          # and their values are not even computed
    np.testing.assert_allclose(s2sgrad.grad(inactive_branch_of_code)(np.ones(2), 3), [2.0, 2.0])
