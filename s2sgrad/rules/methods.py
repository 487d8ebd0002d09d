"""Array methods and attributes, and the op each one is: `x.sum(axis=0)` is
`np.sum(x, axis=0)`, `x.T` is `np.transpose(x)`. Each rule declares its own
(`@adjoint(np.sum, methods=("sum",))`); the two tables here are filled as the
rules register. How two of them are called differs from their op's:"""

METHODS: dict = {}      # method name -> op
ATTRIBUTES: dict = {}   # attribute name -> op
PACKED = {"reshape", "transpose"}        # methods taking `*shape` as well as a tuple
COPIED = {"flatten"}                     # methods returning a new array where their op may give a view
