"""Everything that knows bytes: limits, checks, spec tables, error messages and the kernel.

It imports nothing from the package above it but :mod:`accesstoken2.errors`, the ground floor.

The rest of the package talks to this subpackage in plain values (strings, ints, privilege maps):

- :mod:`.limits`: sizes and ranges of the formats;
- :mod:`.checks`: the value checks every entry point and the kernel's slow paths raise the documented errors from;
- :mod:`.values`: the plain values (type aliases) the kernel takes and returns;
- :mod:`.specs`: the 007 service table that drives packing and parsing;
- :mod:`.stages`: the one message table the kernel raises from, by where decoding failed;
- :mod:`.shapes`: what each public builder writes, compiled once into the program ``build007_shape`` runs;
- :mod:`._kernel_cy`: the kernel, written once in Cython's pure-Python mode: packers, shape programs, salts,
  reader, 006; compiled with the C core of ``src_c/`` (declared in ``_ccore.pxd``) when it was built, and run
  as plain Python otherwise (with :mod:`._cython` standing in for Cython when it is not installed);
- :mod:`.kernel`: the kernel contract (a :class:`typing.Protocol`), both forms of the kernel, and the one
  variable that selects the active one.
"""
