"""Adam, mini-batch sampling and the epoch loop.

The loop is written once for every loss-balancing strategy: a strategy object
(see :mod:`rkhsmtl.neural._balancing`) turns the per-task losses of a
mini-batch into a parameter gradient; this module adds weight decay, takes the
Adam step, and decides when to stop.
"""
import math
import warnings

import numpy as np

from .._backend import to_numpy
from .._validation import task_label
from ._network import forward, task_losses


class Adam:
    """Adam (Kingma & Ba, 2015) updating a list of arrays in place.

    Bias correction is folded into the step size, as in scikit-learn's
    ``AdamOptimizer``, so each step costs a few array operations per array.
    """

    def __init__(self, xp, params, learning_rate, beta_1=0.9, beta_2=0.999,
                 epsilon=1e-8):
        self.xp = xp
        self.learning_rate = learning_rate
        self.beta_1, self.beta_2, self.epsilon = beta_1, beta_2, epsilon
        self.t = 0
        self.m = [xp.zeros_like(p) for p in params]
        self.v = [xp.zeros_like(p) for p in params]

    def step(self, params, grads):
        xp, b1, b2 = self.xp, self.beta_1, self.beta_2
        self.t += 1
        lr = self.learning_rate * math.sqrt(1 - b2 ** self.t) / (1 - b1 ** self.t)
        for p, g, m, v in zip(params, grads, self.m, self.v):
            m *= b1
            m += (1 - b1) * g
            v *= b2
            v += (1 - b2) * (g * g)
            p -= lr * m / (xp.sqrt(v) + self.epsilon)


class BatchSampler:
    """Row indices of the mini-batches of one epoch.

    Parameters
    ----------
    pools : list of numpy arrays or None
        Training rows of each task.  None means every row serves every task
        (shared inputs with a complete Y), where a plain shuffle is already
        balanced.
    balanced : bool
        Draw ``batch_size / n_tasks`` rows from each task's pool per batch
        (cycling through a fresh permutation of the pool), so small tasks are
        seen as often as large ones.  Otherwise shuffle all rows.
    """

    def __init__(self, n_rows, batch_size, pools, balanced):
        self.n_rows = n_rows
        self.batch_size = min(batch_size, n_rows)
        self.pools = pools if (balanced and pools is not None and len(pools) > 1) else None
        self._cursors = None

    def epoch(self, rng):
        n_batches = math.ceil(self.n_rows / self.batch_size)
        if self.pools is None:
            order = rng.permutation(self.n_rows)
            return [order[k * self.batch_size:(k + 1) * self.batch_size]
                    for k in range(n_batches)]
        if self._cursors is None:
            self._orders = [rng.permutation(p) for p in self.pools]
            self._cursors = [0] * len(self.pools)
        per_task = max(1, self.batch_size // len(self.pools))
        return [np.concatenate([self._draw(t, per_task, rng)
                                for t in range(len(self.pools))])
                for _ in range(n_batches)]

    def _draw(self, t, k, rng):
        taken = []
        while k > 0:
            order, pos = self._orders[t], self._cursors[t]
            if pos == len(order):
                self._orders[t] = order = rng.permutation(self.pools[t])
                pos = 0
            chunk = order[pos:pos + k]
            taken.append(chunk)
            self._cursors[t] = pos + len(chunk)
            k -= len(chunk)
        return np.concatenate(taken)


def _non_finite_error(epoch, learning_rate):
    return FloatingPointError(
        f"The training loss became non-finite (NaN or infinity) at epoch "
        f"{epoch}: the optimization diverged. Lower learning_rate (currently "
        f"{learning_rate!r}), standardize X and y, or use dtype='float64'."
    )


def train(xp, spec, params, balancer, sampler, train_data, val_data, *, kind,
          learning_rate, weight_decay, dropout, max_epochs, early_stopping,
          n_iter_no_change, tol, rng, verbose=0, checkpoints=()):
    """Run the epochs; returns the learned parameters and the histories.

    ``train_data`` and ``val_data`` are ``(X, Y, weight)`` triples (``weight``
    may be None); ``val_data`` is None without early stopping.  Stopping
    follows scikit-learn's MLP: after ``n_iter_no_change`` epochs in a row
    without an improvement of at least ``tol`` of the validation loss (or the
    training loss without early stopping).  With early stopping the best
    parameters seen on the validation set are returned.  ``checkpoints``:
    epochs after which a copy of the parameters is kept (``"checkpoints"`` of
    the result), so one long run also yields the shorter ones.
    """
    X, Y, weight = train_data
    adam = Adam(xp, params, learning_rate)
    decayed = spec.weight_indices()
    loss_history, val_history, weight_history = [], [], []
    best, best_params, no_improvement, converged = math.inf, None, 0, False
    kept = {}
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for epoch in range(1, max_epochs + 1):
            batches = sampler.epoch(rng)
            total = None
            for idx in batches:
                idx = xp.asarray(idx)
                Wb = None if weight is None else xp.take(weight, idx, axis=0)
                Z, cache = forward(xp, spec, params, xp.take(X, idx, axis=0), dropout, rng)
                losses, dZ = task_losses(xp, Z, xp.take(Y, idx, axis=0), Wb, kind)
                grads = balancer.gradients(spec, params, cache, losses, dZ)
                for i in decayed:
                    grads[i] = grads[i] + weight_decay * params[i]
                adam.step(params, grads)
                total = losses if total is None else total + losses
            epoch_losses = np.asarray(to_numpy(total / len(batches)), dtype=np.float64)
            if not np.all(np.isfinite(epoch_losses)):
                raise _non_finite_error(epoch, learning_rate)
            loss_history.append(epoch_losses)
            if balancer.learned:
                weight_history.append(np.asarray(to_numpy(balancer.weights()),
                                                 dtype=np.float64))
            current = float(epoch_losses.sum())
            if val_data is not None:
                Xv, Yv, Wv = val_data
                Zv, _ = forward(xp, spec, params, Xv)
                val_losses = np.asarray(
                    to_numpy(task_losses(xp, Zv, Yv, Wv, kind)[0]), dtype=np.float64)
                if not np.all(np.isfinite(val_losses)):
                    raise _non_finite_error(epoch, learning_rate)
                val_history.append(val_losses)
                # mean over tasks: each task counts the same, whatever its size
                current = float(val_losses.mean())
            if verbose:
                what = "validation" if val_data is not None else "training"
                print(f"Epoch {epoch}: {what} loss = {current:.6g}")
            if epoch in checkpoints:
                kept[epoch] = [xp.asarray(p, copy=True) for p in params]
            no_improvement = no_improvement + 1 if current > best - tol else 0
            if current < best:
                best = current
                if early_stopping:
                    best_params = [xp.asarray(p, copy=True) for p in params]
            if no_improvement > n_iter_no_change:
                converged = True
                break
    return {
        "params": best_params if best_params is not None else params,
        "loss_history": np.array(loss_history),
        "validation_history": np.array(val_history) if val_data is not None else None,
        "weight_history": np.array(weight_history) if balancer.learned else None,
        "checkpoints": kept,
        "n_iter": epoch,
        "converged": converged,
    }



def validation_split(observed, tasks, fraction, rng):
    """Boolean (n, T) masks of the training and the validation entries.

    Each task holds out ``fraction`` of its observed rows (at least one, with
    a warning when the fraction rounds to none).  One row ranking serves all
    tasks, so with shared inputs and a complete Y the tasks hold out the same
    rows and training stays a dense problem.
    """
    val = np.zeros_like(observed)
    rank = rng.permutation(observed.shape[0])
    for t in range(observed.shape[1]):
        rows = np.flatnonzero(observed[:, t])
        rows = rows[np.argsort(rank[rows])]
        n_val = int(fraction * len(rows))
        if n_val == 0:
            if len(rows) < 2:
                raise ValueError(
                    f"Task {task_label(tasks[t])!r} has {len(rows)} row(s): early stopping "
                    "needs at least one training and one validation row per "
                    "task. Set early_stopping=False or give the task more data "
                    f"(validation_fraction={fraction})."
                )
            warnings.warn(
                f"validation_fraction={fraction} leaves no validation row for task "
                f"{task_label(tasks[t])!r} ({len(rows)} rows); holding out 1 row for it.",
                UserWarning, stacklevel=5)
            n_val = 1
        val[rows[:n_val], t] = True
    return observed & ~val, val


def fit_network(xp, X, Y, sw, tasks, spec, params, balancer, kind, options, rng,
                checkpoints=()):
    """Split, batch and train one network on ``X`` (xp) and host ``Y`` (NaN = missing).

    ``options`` are the estimator's parameters; ``sw`` host sample weights or
    None.  Returns the dictionary of :func:`train`.
    """
    dt = params[0].dtype
    observed = ~np.isnan(Y)
    early = options["early_stopping"]
    train_obs, val_obs = (validation_split(observed, tasks, options["validation_fraction"], rng)
                          if early else (observed, None))

    def pack(mask):
        rows = np.flatnonzero(mask.any(axis=1))
        m = mask[rows]
        W = None
        if sw is not None or not m.all():
            W = xp.asarray(m * (1.0 if sw is None else sw[rows, None]), dtype=dt)
        Yf = xp.asarray(np.where(m, Y[rows], 0.0), dtype=dt)
        return (xp.take(X, xp.asarray(rows), axis=0), Yf, W), rows, m

    train_data, rows, m = pack(train_obs)
    pools = None if m.all() else [np.flatnonzero(m[:, t]) for t in range(Y.shape[1])]
    sampler = BatchSampler(len(rows), options["batch_size"], pools,
                           options["task_balanced_batches"])
    return train(xp, spec, params, balancer, sampler, train_data,
                 pack(val_obs)[0] if early else None, kind=kind,
                 learning_rate=options["learning_rate"],
                 weight_decay=options["weight_decay"], dropout=options["dropout"],
                 max_epochs=options["max_epochs"], early_stopping=early,
                 n_iter_no_change=options["n_iter_no_change"], tol=options["tol"],
                 rng=rng, verbose=options["verbose"], checkpoints=checkpoints)


def long_to_wide(y, codes, n_tasks):
    """(N,) targets with task codes -> (N, T) with NaN outside each row's task."""
    Y = np.full((y.shape[0], n_tasks), np.nan)
    Y[np.arange(y.shape[0]), codes] = y
    return Y


def join_histories(fits, key):
    """(n_epochs, n_tasks) history of one or several (single-task) networks.

    Networks that stopped earlier are padded with NaN.
    """
    if fits[0][key] is None:
        return None
    n_iter = max(f["n_iter"] for f in fits)
    out = np.full((n_iter, sum(f[key].shape[1] for f in fits)), np.nan)
    col = 0
    for f in fits:
        h = f[key]
        out[:h.shape[0], col:col + h.shape[1]] = h
        col += h.shape[1]
    return out
