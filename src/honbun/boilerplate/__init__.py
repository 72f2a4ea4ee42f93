"""The block model: body or boilerplate for every block. Config, fitting, its numpy
export, the decision rules that run after it, and each block's role."""
