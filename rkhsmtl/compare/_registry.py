"""Registry of the methods that ``rkhsmtl compare`` can run.

A method is a name plus a *factory*: a callable that receives a
:class:`MethodContext` (what is known about the data set before any split is
drawn) and returns an unfitted estimator with ``fit(X, y, task=...)`` and
``predict(X, task=...)``.  The command's core only talks to this registry, so
a new method plugs in with one :func:`register_method` call and no edit of the
command itself.
"""
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Optional, Tuple

PROBLEM_TYPES = ("regression", "classification")


@dataclass(frozen=True)
class MethodContext:
    """What a method factory knows about the data set.

    Parameters
    ----------
    dataset : str
        Short name of the data set (``"synthetic"``, ``"school"``, a file name).
    problem_type : {"regression", "classification"}
    n_tasks : int
    n_features : int
        Number of input features (task column excluded).
    n_train_rows : int
        Training rows of one split (a size hint for cheap selection).
    random_state : int
        Seed for the estimator's own randomness.
    hyperparameters : mapping
        Published fixed hyperparameters of the data set's protocol, keyed by
        method name (empty when the methods should select their own), plus
        ``"kernel"``: keyword arguments shared by the kernel methods
        (e.g. ``{"kernel": "rbf", "gamma": 0.02}`` for School).

    Examples
    --------
    >>> from rkhsmtl.compare import MethodContext
    >>> context = MethodContext("school", "regression", n_tasks=139, n_features=27,
    ...                         n_train_rows=11000,
    ...                         hyperparameters={"kernel": {"gamma": 0.02}})
    >>> context.kernel_params
    {'gamma': 0.02}
    >>> context.fixed("mean") is None
    True
    """

    dataset: str
    problem_type: str
    n_tasks: int
    n_features: int
    n_train_rows: int
    random_state: int = 0
    hyperparameters: Mapping[str, Any] = field(default_factory=dict)

    def fixed(self, method):
        """Fixed hyperparameters published for ``method`` (None: select them)."""
        value = self.hyperparameters.get(method)
        return None if value is None else dict(value)

    @property
    def kernel_params(self):
        """Keyword arguments shared by the kernel methods of this data set."""
        return dict(self.hyperparameters.get("kernel", {}))


@dataclass(frozen=True)
class MethodSpec:
    """One registered method (see :func:`register_method`).

    Parameters
    ----------
    name : str
        Name used in ``--methods`` and in the tables.
    factory : callable
        ``factory(context) -> estimator`` (unfitted).
    problem_types : tuple of str
        ``"regression"`` and/or ``"classification"``.
    description : str, default=""
        One line shown by ``--list-methods``.
    learns_task_matrix : bool, default=False
        Whether the fitted estimator exposes ``task_matrix_`` (drawn as a heatmap).

    Examples
    --------
    >>> from rkhsmtl.compare import get_method
    >>> spec = get_method("mean")
    >>> spec.name, spec.applies_to("regression")
    ('mean', True)
    """

    name: str
    factory: Callable[[MethodContext], Any]
    problem_types: Tuple[str, ...]
    description: str = ""
    learns_task_matrix: bool = False

    def applies_to(self, problem_type):
        return problem_type in self.problem_types


_REGISTRY: "dict[str, MethodSpec]" = {}


def _check_spec_args(name, factory, problem_types):
    if not isinstance(name, str) or not name or any(c in name for c in ", \t\n"):
        raise ValueError(
            "The 'name' parameter of register_method must be a non-empty string "
            f"without commas or spaces; got {name!r}."
        )
    if not callable(factory):
        raise TypeError(
            "The 'factory' parameter of register_method must be a callable taking a "
            f"MethodContext and returning an unfitted estimator; got {factory!r}."
        )
    if isinstance(problem_types, str):
        problem_types = (problem_types,)
    problem_types = tuple(problem_types)
    unknown = [p for p in problem_types if p not in PROBLEM_TYPES]
    if not problem_types or unknown:
        raise ValueError(
            "The 'problem_types' parameter of register_method must list some of "
            f"{list(PROBLEM_TYPES)}; got {problem_types!r}."
        )
    return problem_types


def register_method(name, factory=None, *, problem_types=PROBLEM_TYPES, description="",
                    learns_task_matrix=False, replace=False):
    """Register a method for ``rkhsmtl compare``; usable as a decorator.

    Parameters
    ----------
    name : str
        Name used on the command line (``--methods name``), without commas.
    factory : callable, default=None
        ``factory(context)`` -> unfitted estimator, where ``context`` is a
        :class:`MethodContext`.  The estimator needs ``fit(X, y, task=...)``
        and ``predict(X, task=...)``; classifiers should also offer
        ``decision_function`` or ``predict_proba`` (for the AUC).  A factory
        may import optional code inside its body: an ``ImportError`` there
        skips the method with a note instead of stopping the run.  None
        returns a decorator.
    problem_types : tuple of {"regression", "classification"}, default=both
        Problem types the method applies to.
    description : str, default=""
        One line shown by ``rkhsmtl compare --list-methods`` and in the report.
    learns_task_matrix : bool, default=False
        True if the fitted estimator exposes a learned ``task_matrix_`` of
        shape (n_tasks, n_tasks); the command then draws its heatmap.
    replace : bool, default=False
        Allow replacing a method registered under the same name.

    Returns
    -------
    factory or decorator
        The factory itself (so the decorator leaves the function unchanged).

    Examples
    --------
    >>> from rkhsmtl import MultiTaskKernelRidge
    >>> from rkhsmtl.compare import register_method, unregister_method
    >>> @register_method("mean-fixed", problem_types=("regression",),
    ...                  description="mean-regularized, alpha=0.1, omega=0.5")
    ... def mean_fixed(context):
    ...     return MultiTaskKernelRidge(alpha=0.1, task_matrix="mean", omega=0.5)
    >>> from rkhsmtl.compare import get_method
    >>> get_method("mean-fixed").description
    'mean-regularized, alpha=0.1, omega=0.5'
    >>> unregister_method("mean-fixed")
    """
    if factory is None:
        def decorator(func):
            register_method(name, func, problem_types=problem_types,
                            description=description,
                            learns_task_matrix=learns_task_matrix, replace=replace)
            return func
        return decorator
    problem_types = _check_spec_args(name, factory, problem_types)
    _load_builtins()  # so that a user method never shadows a built-in silently
    if name in _REGISTRY and not replace:
        raise ValueError(
            f"A method named {name!r} is already registered; pick another name or "
            "pass replace=True."
        )
    _REGISTRY[name] = MethodSpec(name, factory, problem_types, str(description),
                                 bool(learns_task_matrix))
    return factory


def unregister_method(name):
    """Remove a registered method (a missing name is an error naming the known ones).

    Parameters
    ----------
    name : str

    Examples
    --------
    >>> from rkhsmtl import MultiTaskKernelRidge
    >>> from rkhsmtl.compare import list_methods, register_method, unregister_method
    >>> _ = register_method("ridge-0.1",
    ...                     lambda context: MultiTaskKernelRidge(alpha=0.1))
    >>> unregister_method("ridge-0.1")
    >>> "ridge-0.1" in [spec.name for spec in list_methods()]
    False
    """
    get_method(name)
    del _REGISTRY[name]


ENTRY_POINT_GROUP = "rkhsmtl.compare_methods"
_LOAD_NOTES = []  # why a plugin module could not be loaded, shown by the command
_loaded = False


def _load_builtins():
    """Built-in methods, then those of installed plugins (once per process).

    A package can add methods without touching rkhsmtl by declaring a module
    that calls :func:`register_method` under the entry-point group
    ``rkhsmtl.compare_methods``; a plugin whose import fails is skipped and
    the reason kept for the command to print.
    """
    global _loaded
    if _loaded:
        return
    _loaded = True
    # Imported on first use so that ``import rkhsmtl.compare`` stays light
    # (the built-in factories import the estimators).
    from ._builtin import BUILTIN_METHODS
    from importlib.metadata import entry_points

    for name, factory, options in BUILTIN_METHODS:
        if name not in _REGISTRY:   # a reload keeps what is there (and replacements)
            register_method(name, factory, **options)

    for entry in entry_points(group=ENTRY_POINT_GROUP):
        try:
            entry.load()
        except Exception as exc:  # a broken plugin must not break the command
            _LOAD_NOTES.append(f"skipped plugin {entry.name!r} ({entry.value}): "
                               f"{type(exc).__name__}: {exc}")


def load_notes():
    """Messages about plugins that could not be loaded."""
    _load_builtins()
    return list(_LOAD_NOTES)


def get_method(name):
    """The :class:`MethodSpec` registered under ``name``.

    Parameters
    ----------
    name : str

    Returns
    -------
    spec : MethodSpec

    Raises
    ------
    KeyError
        If no method has that name; the message lists the registered ones.

    Examples
    --------
    >>> from rkhsmtl.compare import get_method
    >>> get_method("independent").problem_types
    ('regression', 'classification')
    """
    _load_builtins()
    if name not in _REGISTRY:
        raise KeyError(
            f"Unknown method {name!r}; registered methods: {sorted(_REGISTRY)}. "
            "Run 'rkhsmtl compare --list-methods' to see them."
        )
    return _REGISTRY[name]


def list_methods(problem_type: Optional[str] = None):
    """Registered methods in registration order, optionally for one problem type.

    Parameters
    ----------
    problem_type : {"regression", "classification"}, default=None
        None lists every method.

    Returns
    -------
    specs : list of MethodSpec

    Examples
    --------
    >>> from rkhsmtl.compare import list_methods
    >>> names = [spec.name for spec in list_methods("regression")]
    >>> "mean" in names and "independent" in names
    True
    """
    _load_builtins()
    return [spec for spec in _REGISTRY.values()
            if problem_type is None or spec.applies_to(problem_type)]
