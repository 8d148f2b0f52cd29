"""rkhsmtl: multi-task learning with kernel methods in vector-valued RKHSs."""
from .estimators import MultiTaskKernelRidge

__version__ = "0.1.0.dev0"

__all__ = ["MultiTaskKernelRidge", "__version__"]
