"""Figures reported in the arch2vec paper (Yan et al., NeurIPS 2020), to compare against.

Table 1 (pre-training quality), in percent: reconstruction accuracy on held-out cells, validity of
decoded prior samples and uniqueness among the valid ones.
"""

from __future__ import annotations

TABLE1: dict[tuple[str, str], dict[str, float]] = {
    ("gae", "nb101"): {"reconstruction_accuracy": 98.75, "validity": 29.88, "uniqueness": 99.25},
    ("vgae", "nb101"): {"reconstruction_accuracy": 97.45, "validity": 41.18, "uniqueness": 99.34},
    ("arch2vec", "nb101"): {
        "reconstruction_accuracy": 100.0,
        "validity": 51.33,
        "uniqueness": 99.36,
    },
    ("gae", "nb201"): {"reconstruction_accuracy": 99.52, "validity": 79.28, "uniqueness": 78.42},
    ("vgae", "nb201"): {"reconstruction_accuracy": 98.32, "validity": 79.30, "uniqueness": 88.42},
    ("arch2vec", "nb201"): {
        "reconstruction_accuracy": 100.0,
        "validity": 79.41,
        "uniqueness": 98.72,
    },
    ("gae", "darts"): {"reconstruction_accuracy": 97.80, "validity": 15.25, "uniqueness": 99.65},
    ("vgae", "darts"): {"reconstruction_accuracy": 96.80, "validity": 25.25, "uniqueness": 99.27},
    ("arch2vec", "darts"): {
        "reconstruction_accuracy": 99.79,
        "validity": 33.36,
        "uniqueness": 100.0,
    },
}

# Table 3 (NAS-Bench-201, mean and std of 500 runs): (method, dataset) -> valid, valid_std,
# test, test_std in percent. CIFAR-10 searched on 12-epoch validation with a 1.2e4 s budget;
# CIFAR-100 and ImageNet16-120 with 5e5 s and 1.4e6 s.
TABLE3: dict[tuple[str, str], tuple[float, float, float, float]] = {
    ("evolution", "cifar10"): (91.08, 0.43, 93.84, 0.43),
    ("evolution", "cifar100"): (73.02, 0.46, 72.86, 0.55),
    ("evolution", "imagenet16-120"): (45.78, 0.56, 45.63, 0.64),
    ("random", "cifar10"): (90.94, 0.38, 93.75, 0.37),
    ("random", "cifar100"): (72.17, 0.64, 72.05, 0.77),
    ("random", "imagenet16-120"): (45.47, 0.65, 45.33, 0.79),
    ("reinforce", "cifar10"): (91.03, 0.33, 93.82, 0.31),
    ("reinforce", "cifar100"): (72.35, 0.63, 72.13, 0.79),
    ("reinforce", "imagenet16-120"): (45.58, 0.62, 45.30, 0.86),
    ("bohb", "cifar10"): (90.82, 0.53, 93.61, 0.52),
    ("bohb", "cifar100"): (72.59, 0.82, 72.37, 0.90),
    ("bohb", "imagenet16-120"): (45.44, 0.70, 45.26, 0.83),
    ("arch2vec-rl", "cifar10"): (91.32, 0.42, 94.12, 0.42),
    ("arch2vec-rl", "cifar100"): (73.13, 0.72, 73.15, 0.78),
    ("arch2vec-rl", "imagenet16-120"): (46.22, 0.30, 46.16, 0.38),
    ("arch2vec-bo", "cifar10"): (91.41, 0.22, 94.18, 0.24),
    ("arch2vec-bo", "cifar100"): (73.35, 0.32, 73.37, 0.30),
    ("arch2vec-bo", "imagenet16-120"): (46.34, 0.18, 46.27, 0.37),
}
TABLE3_BUDGETS = {"cifar10": 1.2e4, "cifar100": 5e5, "imagenet16-120": 1.4e6}

# Table 2 (NAS-Bench-101, mean of 500 runs): method -> (queries, final test accuracy %).
TABLE2: dict[str, tuple[int, float]] = {
    "random": (1000, 93.54),
    "reinforce": (1000, 93.58),
    "evolution": (1000, 93.72),
    "arch2vec-rl": (400, 94.10),
    "arch2vec-bo": (400, 94.05),
}

# Table 4 (DARTS, CIFAR-10, each found cell trained 600 epochs): method -> (test error %, std).
# Our table scores the cells by the NB-301 surrogate instead, so these sit beside it as context.
TABLE4: dict[str, tuple[float, float]] = {
    "random": (3.29, 0.15),
    "arch2vec-rl": (2.65, 0.05),
    "arch2vec-bo": (2.56, 0.05),
}
TABLE4_QUERIES = 100
