"""The helpers that generated code calls, by topic.

They undo what NumPy does implicitly (broadcasting, reductions) so that the rules
stay one line each: `broadcasting.py`, `reductions.py`, `shapes.py`, `linalg.py`, `decompositions.py`,
`tangents.py` (forward mode's), `complex_numbers.py`, `fourier.py`, `integrate.py`, `containers.py` (dicts, lists, recursive calls),
`profiles.py` (what the Array API's and Numba's code call in place of NumPy's implicit steps).
Each is marked where it is defined (`registry.helper`, with what forward mode
needs to know of it). Generated modules import them by name from here:
`from s2sgrad.runtime import unbroadcast, ...`.
"""
from .registry import HELPERS  # noqa: F401
from .broadcasting import (unbroadcast, zero_tangent, zero_grad, broadcast_like, unattr, attr_tangent, stored,
    cast_into)  # noqa: F401
from .reductions import (unsum, resum, unmax, max_tangent, unprod, unvar, unstd, uncumsum,
    unaverage, unnorm, untrace, uncumprod)  # noqa: F401
from .shapes import (untranspose, add_at, unindex, unassigned, unsplit, unconcatenate, unstacked,
    unhstack, unvstack, unroll, untile, unrepeat, COPYING_PADS, PAD_MODES, unpad, pad_tangent, undiagonal,
    undiag, untake, untake_along_axis, unsort, unsorted, resorted, ungradient, undiff, uncolumn_stack, unappend, convolve_margins,
    unquantile, unrot90, quantile_tangent, unrollaxis, untrapezoid, trapezoid_weights, untrapezoid_weights, as_column, one_item,
    unselect, unhsplit, unpartition, unmeshgrid,
    uninterp, uninterp_tangent, interp_tangent, partition_tangent, unconvolve_nd)  # noqa: F401
from .linalg import (matmul_dleft, matmul_dright, matmul_dleft_uniform, matmul_dright_uniform,
    matmul_dleft_sum, matmul_dright_sum, dot_dleft, dot_dright, untensordot, unkron, uneinsum,
    eigh_adjoint, cofactor, triangle, covariance_matrix, uncovariance, WELL_CONDITIONED, cholesky_adjoint, pinv_adjoint, solve_adjoint,
    unsolve_banded, solve_banded_tangent, uncholesky, cholesky_factor_tangent, from_triangle, to_triangle,
    uncho_factor, cho_factor_tangent, uncho_solve, cho_solve_tangent, unlu_factor, lu_factor_tangent, unlu_solve,
    lu_solve_tangent, undirichlet, dirichlet_tangent, unsolve_banded_tangent, uncho_solve_tangent,
    unlu_factor_tangent, unlu_solve_tangent, undirichlet_tangent)  # noqa: F401
from .tangents import (eigh_tangent, cumprod_tangent, average_tangent, unprod_tangent,
    unnorm_tangent, unaverage_tangent, solve_adjoint_tangent, uncumprod_tangent,
    cholesky_adjoint_tangent, pinv_adjoint_tangent, eigh_adjoint_tangent, uneinsum_tangent,
    cofactor_tangent, uncholesky_tangent, uncho_factor_tangent, pinv_tangent)  # noqa: F401
from .decompositions import (unsvd, svd_values_tangent, unqr, qr_tangent, uneigvals, eigvals_tangent,
    unlstsq, uneig, eig_tangent, svd_tangent, unsvd_tangent, uneigvals_tangent, unqr_tangent, uneig_tangent, lstsq_tangent,
    unlstsq_tangent)  # noqa: F401
from .integrate import (unodeint, odeint_tangent, ivp_solution, unsolve_ivp, solve_ivp_tangent, unodeint_tangent,
    unsolve_ivp_tangent)  # noqa: F401
from .fourier import unfft, unrfft, unirfft, unhfft, unihfft  # noqa: F401
from .complex_numbers import (complex_like, unimag, unangle, angle_tangent, unmodulus,
    modulus_tangent, real_valued, norm_operand)  # noqa: F401
from .profiles import as_floats, in_library, contiguous, int_add, int_sub, int_mul, int_pow, as_index, tape_push, trips  # noqa: F401
from .containers import (COMPILER, call_adjoint, call_jvp, common_length, dict_keys, like_result, GradAttrs, GradDict,
    GradList)  # noqa: F401
