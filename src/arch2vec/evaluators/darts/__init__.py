"""Real training of DARTS cells on CIFAR-10: the network (``network``), the data (``data``), the
trainer (``trainer``) and the evaluator that trains each cell a search asks for
(``evaluator.TrainingEvaluator``, registered as ``train``). Imported on first use: torch only
when a cell is trained."""
