"""mcuforge generator: model → IR → plan → C → project.

The pipeline, one module per arrow:
  frontends (model → IR)  ·  analysis (MACs, lifetimes)  ·  planner (arena offsets)
  ops/ (per-operator "prepare": parameters computed ahead of time)  ·  codegen (C library)
  hostbuild + reference + validate (bit-exact check against TFLite Micro)
"""

__version__ = "0.1.0"
