"""Task-matrix steps of the learned-structure estimators.

Each step object owns one penalty on the task matrix and offers

* ``init_state(T)``: the starting point of the alternating loop;
* ``task_matrix(state)``: the A of the separable kernel for a state;
* ``update(M, state)``: the exact minimizer, for fixed task functions with
  Gram matrix ``M = B^T K B + eps I``, of ``alpha tr(A^+ M) + F(state)``;
* ``penalty(state)``: ``F(state)``, for the objective history;
* optionally ``project(state, reference)``: an extrapolated state mapped back
  into the step's domain (None if it cannot be); steps that have it are
  Anderson-accelerated by the alternating engine.

They work on small T x T numpy arrays; the estimators' alternating engine
moves M to the host once per iteration.
"""
from ._cluster import ClusterNormStep, ConvexClusterStep, cluster_labels, mean_free_basis
from ._relation import RelationStep
from ._sparse import SparseStep
from ._spectral import SpectralStep, frobenius_map, trace_frobenius_map, trace_map
from ._waterfill import waterfill

STRUCTURE_PENALTIES = ("trace", "frobenius", "trace_frobenius", "cluster", "sparse",
                       "low_rank")

__all__ = [
    "STRUCTURE_PENALTIES",
    "ClusterNormStep",
    "ConvexClusterStep",
    "RelationStep",
    "SparseStep",
    "SpectralStep",
    "cluster_labels",
    "frobenius_map",
    "mean_free_basis",
    "trace_frobenius_map",
    "trace_map",
    "waterfill",
]
