"""More user functions (tests/more_functions.py) against finite differences."""
import pytest

import s2sgrad

from .more_functions import KNOWN_LIMITS, MORE
from .support import check_grads

IDS = [f"{fn.__name__}{i}" for i, (fn, _, _) in enumerate(MORE)]


@pytest.mark.parametrize("fn, make_args, wrt", MORE, ids=IDS)
def test_more_gradients_match_finite_differences(fn, make_args, wrt):
    check_grads(fn, *make_args(), wrt=wrt)


@pytest.mark.parametrize("fn, make_args, wrt", KNOWN_LIMITS, ids=[f.__name__ for f, _, _ in KNOWN_LIMITS])
def test_known_limits_are_refused_at_the_users_line(fn, make_args, wrt):
    with pytest.raises(s2sgrad.S2SGradError) as info:
        s2sgrad.grad(fn, wrt=0 if wrt is None else wrt[0])
    assert info.value.loc is not None and info.value.loc.line > 0
