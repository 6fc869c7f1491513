"""Analysis: the paper's reported figures, reports and plots."""
