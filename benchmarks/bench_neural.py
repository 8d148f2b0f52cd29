"""Time per epoch: HardSharingNetRegressor vs scikit-learn's MLPRegressor.

Same architecture and optimizer on both sides: hidden layers (64, 64), relu,
Adam, batch_size 64, a fixed number of epochs with early stopping off, on
shared inputs (n=5000, d=20, T=10 output columns).  MLPRegressor fits the T
columns as one multi-output network, which is exactly hard parameter sharing
with linear heads, so the ratio measures our implementation's overhead.

Usage::

    python benchmarks/bench_neural.py            # full run
    python benchmarks/bench_neural.py --quick    # tiny smoke run
"""
import argparse
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPRegressor

from rkhsmtl.neural import HardSharingNetRegressor


def make_data(n, d, T, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, d))
    W = rng.normal(size=(d, T)) / np.sqrt(d)
    Y = np.tanh(X @ W) + 0.1 * rng.normal(size=(n, T))
    return X, Y


def time_fit(model, X, Y, epochs, repeats):
    best = np.inf
    for _ in range(repeats):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            start = time.perf_counter()
            model.fit(X, Y)
            best = min(best, time.perf_counter() - start)
    return best / epochs


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny problem, 2 epochs")
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    n, d, T = (500, 20, 10) if args.quick else (5000, 20, 10)
    epochs = args.epochs or (2 if args.quick else 10)
    repeats = 1 if args.quick else args.repeats
    X, Y = make_data(n, d, T)
    common = dict(hidden_layer_sizes=(64, 64), batch_size=64, learning_rate=1e-3,
                  random_state=0)
    # tol=0 with a large n_iter_no_change: every run does exactly `epochs` epochs
    mlp = MLPRegressor(activation="relu", solver="adam", alpha=1e-4, max_iter=epochs,
                       tol=0.0, n_iter_no_change=10**9, early_stopping=False,
                       shuffle=True, hidden_layer_sizes=common["hidden_layer_sizes"],
                       batch_size=common["batch_size"], learning_rate_init=1e-3,
                       random_state=0)
    print(f"shared inputs n={n}, d={d}, T={T}; hidden (64, 64) relu, Adam, "
          f"batch 64, {epochs} epochs, best of {repeats}")
    rows = []
    for dtype in ("float64", "float32"):
        Xd, Yd = X.astype(dtype), Y.astype(dtype)
        t_mlp = time_fit(mlp, Xd, Yd, epochs, repeats)
        ours = HardSharingNetRegressor(
            activation="relu", weight_decay=1e-4, max_epochs=epochs, tol=0.0,
            n_iter_no_change=10**9, early_stopping=False, dtype=dtype, **common)
        t_ours = time_fit(ours, Xd, Yd, epochs, repeats)
        assert ours.n_iter_ == epochs and mlp.n_iter_ == epochs
        rows.append((dtype, t_mlp, t_ours))
    print(f"{'dtype':<9}{'MLPRegressor s/epoch':>22}{'HardSharingNet s/epoch':>25}"
          f"{'ratio':>8}")
    for dtype, t_mlp, t_ours in rows:
        print(f"{dtype:<9}{t_mlp:>22.4f}{t_ours:>25.4f}{t_ours / t_mlp:>8.2f}")
    print("goal: ratio <= 1.5")


if __name__ == "__main__":
    main()
