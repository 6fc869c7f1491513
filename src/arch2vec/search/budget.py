"""The budget of one search run: simulated seconds and/or distinct queries.

A *query* is the first evaluation of a cell at the search reward; it costs the evaluation's
seconds. A repeated cell is free. Evaluations at a lower fidelity cost seconds but are not
queries. Where an evaluator knows costs in advance (a table), a query or evaluation that would
pass ``seconds`` is refused and not charged, so the spent time never passes the budget; where
costs are known only afterwards (a surrogate, real training), the run ends once ``seconds`` are
spent, and its last evaluations may pass it.
"""

from __future__ import annotations

import math

from arch2vec import checks

MAX_SECONDS = 1e12
"""The largest budget in simulated seconds (about 31,700 years)."""
MAX_QUERIES = 10**9


class Budget:
    def __init__(self, seconds: float | None = None, queries: int | None = None) -> None:
        if seconds is None and queries is None:
            raise ValueError("a budget needs seconds or queries (budget_seconds, budget_queries)")
        if seconds is not None:
            seconds = checks.number("budget_seconds", seconds, 0, MAX_SECONDS, lo_open=True)
        if queries is not None:
            queries = checks.integer("budget_queries", queries, 1, MAX_QUERIES)
        self.seconds = seconds
        self.queries = queries
        self.spent = 0.0
        self.used = 0

    def exhausted(self) -> bool:
        return (self.queries is not None and self.used >= self.queries) or (
            self.seconds is not None and self.spent >= self.seconds
        )

    def queries_left(self) -> int | None:
        return None if self.queries is None else self.queries - self.used

    def fits(self, cost: float, spent: float | None = None) -> bool:
        """Whether ``cost`` more seconds (after ``spent``, default: what is spent) fit."""
        spent = self.spent if spent is None else spent
        return self.seconds is None or spent + cost <= self.seconds

    def charge(self, cost: float, query: bool = True) -> float:
        """Charge ``cost`` seconds for a query, or for a lower-fidelity evaluation (where a
        non-finite cost counts 0); returns the spent time (NaN after a query of unknown cost)."""
        if query:
            self.spent += cost
            self.used += 1
        elif math.isfinite(cost):
            self.spent += cost
        return self.spent

    def describe(self) -> dict[str, float | int | None]:
        return {"budget_seconds": self.seconds, "budget_queries": self.queries}
