"""
Learning and plotting task relations
====================================

Eight tasks in two planted clusters. Independent ridge ignores the
relations, pooled ridge ignores the differences; learned task structures
recover the clusters and predict better than both. The learned matrix can
be reused as a fixed task matrix.
"""
import matplotlib.pyplot as plt
import numpy as np

from rkhsmtl import (
    ClusteredMultiTaskLearning,
    MultiTaskKernelRidge,
    TaskRelationLearning,
    TaskStructureLearning,
)
from rkhsmtl.datasets import make_multitask_regression
from rkhsmtl.plotting import plot_objective, plot_task_relations

X, y, task, A_true = make_multitask_regression(
    n_samples=40, n_tasks=8, n_features=3, structure="clustered", n_clusters=2,
    noise=0.3, random_state=0)
X_test, y_test, task_test, _ = make_multitask_regression(
    n_samples=200, n_tasks=8, n_features=3, structure="clustered", n_clusters=2,
    noise=0.0, random_state=0)

models = {
    "independent": MultiTaskKernelRidge(alpha=0.1, gamma=0.3, task_matrix="independent"),
    "pooled": MultiTaskKernelRidge(alpha=0.1, gamma=0.3, task_matrix="pooled"),
    "trace structure": TaskStructureLearning(alpha=0.1, gamma=0.3),
    "MTRL": TaskRelationLearning(0.01, 0.05, gamma=0.3),
    "CMTL (k=2)": ClusteredMultiTaskLearning(n_clusters=2, rho_2=0.05, gamma=0.3,
                                             random_state=0),
}
for name, model in models.items():
    model.fit(X, y, task=task)
    mse = np.mean((model.predict(X_test, task=task_test) - y_test) ** 2)
    print(f"{name:<16} test MSE {mse:.3f}")
print("CMTL clusters:", models["CMTL (k=2)"].cluster_labels_)

fig, axes = plt.subplots(1, 3, figsize=(13, 4))
plot_task_relations(A_true, ax=axes[0])
axes[0].set_title("planted")
plot_task_relations(models["MTRL"], ax=axes[1])
axes[1].set_title("learned (MTRL)")
plot_objective(models["trace structure"], ax=axes[2])
fig.tight_layout()

# The learned matrix as a fixed task matrix of the core ridge:
refit = MultiTaskKernelRidge(alpha=0.1, gamma=0.3,
                             task_matrix=models["trace structure"].task_matrix_)
refit.fit(X, y, task=task)
plt.show()
