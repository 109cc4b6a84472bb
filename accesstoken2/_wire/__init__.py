"""Everything that knows bytes: limits, spec tables, error stages, the reader and both kernels.

The rest of the package talks to this subpackage in plain values (strings, ints, privilege maps):

- :mod:`.limits`: sizes and ranges of the formats;
- :mod:`.specs`: the 007 service table that drives packing and parsing in both kernels;
- :mod:`.stages`: where decoding failed, and the one message table both kernels raise from;
- :mod:`.reader`: canonical base64 and a cursor over decoded bytes (pure Python);
- :mod:`.packing`: the pure-Python packers (used by the pure kernel and by ``Service.pack``);
- :mod:`.shapes`: what each public builder writes, compiled once into the program ``build007_shape`` runs;
- :mod:`.salts`: random salts from :mod:`secrets`, drawn in bulk (the pure kernel's pool; the rule of both);
- :mod:`.kernel`: the kernel contract (a :class:`typing.Protocol`) and the one variable that selects it;
- :mod:`.pure`: the pure-Python kernel; ``_speedups``: the compiled one (C sources in ``src_c/``).
"""
