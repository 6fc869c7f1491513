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
