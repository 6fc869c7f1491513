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


class Budget:
    def __init__(self, seconds: float | None = None, queries: int | None = None) -> None:
        if seconds is None and queries is None:
            raise ValueError("a budget needs seconds or queries (budget_seconds, budget_queries)")
        if seconds is not None:
            try:
                seconds = float(seconds)
            except (TypeError, ValueError):
                raise ValueError(f"budget_seconds must be a number, got {seconds!r}") from None
            if not math.isfinite(seconds) or seconds <= 0:
                raise ValueError(f"budget_seconds must be positive and finite, got {seconds}")
        if queries is not None:
            if isinstance(queries, bool) or int(queries) != queries or queries < 1:
                raise ValueError(f"budget_queries must be a positive integer, got {queries!r}")
            queries = int(queries)
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
