"""Scripts of the worked examples in docs/, shipped with the package so that they run wherever
arch2vec is installed: ``python -m arch2vec.examples.cell6_rewards`` (docs/user-spaces.md)."""
