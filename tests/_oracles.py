"""Independent dense references, for tests only (they form nT x nT matrices)."""
import numpy as np


def dense_shared(K, A, Y, alpha, weights=None, fit_intercept=True):
    """Solve the shared-input problem on observed entries by a dense Kronecker
    build: returns fitted-function coefficients C (n, T), with 0 off the mask,
    and intercepts."""
    n, T = Y.shape
    G = np.kron(A, K)  # vec is column-major: entry (i, t) -> t * n + i
    y = Y.T.ravel()
    w = np.ones(n * T) if weights is None else np.asarray(weights).T.ravel()
    obs = (~np.isnan(y)) & (w > 0)
    E = np.kron(np.eye(T), np.ones((n, 1)))
    return _bordered(G, y, w, obs, E, alpha, fit_intercept, (T, n))


def dense_hetero(K, A, codes, y, alpha, weights=None, fit_intercept=True):
    N = len(y)
    T = A.shape[0]
    G = K * A[codes][:, codes]
    w = np.ones(N) if weights is None else np.asarray(weights, dtype=float)
    E = np.eye(T)[codes]
    c, b = _bordered(G, y, w, np.ones(N, bool), E, alpha, fit_intercept, None)
    return c, b


def _bordered(G, y, w, obs, E, alpha, fit_intercept, shape):
    Go = G[np.ix_(obs, obs)]
    Eo = E[obs]
    M = Go + alpha * np.diag(1.0 / w[obs])
    T = E.shape[1]
    if fit_intercept:
        big = np.block([[M, Eo], [Eo.T, np.zeros((T, T))]])
        sol = np.linalg.solve(big, np.r_[y[obs], np.zeros(T)])
        c_o, b = sol[:-T], sol[-T:]
    else:
        c_o, b = np.linalg.solve(M, y[obs]), np.zeros(T)
    c = np.zeros(len(y))
    c[obs] = c_o
    if shape is not None:
        c = c.reshape(shape).T
    return c, b
