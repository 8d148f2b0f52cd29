"""The input-kernel matrix as an operator: stored, or recomputed in row blocks.

When N x N does not fit in memory, the matrix-free solver still needs
K @ V; we then recompute k(X_block, X) for one block of rows at a time, so
memory stays O(block * N) at the price of recomputing the kernel each matvec.
"""
from .._memory import available_memory


class KernelOperator:
    """K (N, N) given explicitly or as ``kernel_fn(X_rows, X)`` blocks."""

    def __init__(self, xp, X=None, kernel_fn=None, K=None, block_bytes=None):
        if K is None and (X is None or kernel_fn is None):
            raise ValueError("KernelOperator needs K, or X and kernel_fn.")
        self.xp, self.X, self.kernel_fn, self.K = xp, X, kernel_fn, K
        n = K.shape[0] if K is not None else X.shape[0]
        self.n = n
        if block_bytes is None:
            block_bytes = min(512 * 1024**2, available_memory(xp) / 8)
        self.block_rows = max(1, int(block_bytes // (8 * max(n, 1))))

    @property
    def stored(self):
        return self.K is not None

    def matmat(self, V):
        """K @ V for V of shape (N, m)."""
        if self.K is not None:
            return self.K @ V
        xp = self.xp
        out = []
        for start in range(0, self.n, self.block_rows):
            stop = min(start + self.block_rows, self.n)
            out.append(self.kernel_fn(self.X[start:stop, :], self.X) @ V)
        return out[0] if len(out) == 1 else xp.concat(out, axis=0)

    def block(self, start, stop):
        """The diagonal block K[start:stop, start:stop]."""
        if self.K is not None:
            return self.K[start:stop, start:stop]
        Xb = self.X[start:stop, :]
        return self.kernel_fn(Xb, Xb)
