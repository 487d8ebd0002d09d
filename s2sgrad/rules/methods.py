"""Array methods and attributes, and the op each one is: `x.sum(axis=0)` is
`np.sum(x, axis=0)`, `x.T` is `np.transpose(x)`."""

METHODS = {"sum": "np.sum", "mean": "np.mean", "reshape": "np.reshape", "dot": "np.dot",
           "transpose": "np.transpose", "copy": "np.copy", "max": "np.max", "min": "np.min",
           "astype": "np.array", "prod": "np.prod", "var": "np.var", "std": "np.std",
           "cumsum": "np.cumsum", "cumprod": "np.cumprod", "clip": "np.clip", "ravel": "np.ravel",
           "flatten": "np.ravel", "squeeze": "np.squeeze", "swapaxes": "np.swapaxes",
           "repeat": "np.repeat", "take": "np.take", "diagonal": "np.diagonal", "trace": "np.trace",
           "round": "np.round", "argmax": "np.argmax", "argmin": "np.argmin", "argsort": "np.argsort",
           "all": "np.all", "any": "np.any"}
ATTRIBUTES = {"T": "np.transpose", "shape": "np.shape", "ndim": "np.ndim", "size": "np.size"}
PACKED = {"reshape", "transpose"}        # methods taking `*shape` as well as a tuple
COPIED = {"flatten"}                     # methods returning a new array where their op may give a view
