"""Everything that knows bytes: limits, checks, spec tables, error messages, the reader and both kernels.

It imports nothing from the package above it but :mod:`accesstoken2.errors`, the ground floor.

The rest of the package talks to this subpackage in plain values (strings, ints, privilege maps):

- :mod:`.limits`: sizes and ranges of the formats;
- :mod:`.checks`: the value checks every entry point and both kernels' slow paths raise the documented errors from;
- :mod:`.values`: the plain values (type aliases) the kernels take and return;
- :mod:`.specs`: the 007 service table that drives packing and parsing in both kernels;
- :mod:`.stages`: the one message table both kernels raise from, by where decoding failed;
- :mod:`.reader`: canonical base64 and a cursor over decoded bytes (pure Python);
- :mod:`.packing`: the pure-Python packers (used by the pure kernel and by ``Service.pack``);
- :mod:`.shapes`: what each public builder writes, compiled once into the program ``build007_shape`` runs;
- :mod:`.salts`: random salts from :mod:`secrets`, drawn in bulk (the pure kernel's pool; the rule of both);
- :mod:`.kernel`: the kernel contract (a :class:`typing.Protocol`) and the one variable that selects it;
- :mod:`.pure`: the pure-Python kernel; ``_speedups``: the compiled one (C sources in ``src_c/``).
"""
