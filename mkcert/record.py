"""The project's one value-object idiom: :class:`Record`.

Kept apart from :mod:`mkcert.request` (which loads datetime) so that the
commands' cheap paths ("already exists", ``--help``) can describe their
plans without loading more than this.
"""

REQUIRED = object()


class Record:
    """An immutable value: fields by keyword or position, compared and hashed by value.

    What ``dataclasses.dataclass(frozen=True)`` gave these classes, without
    it: importing dataclasses loads inspect, ast and dis, and making each
    class compiles code, about 10 ms of a run whose own budget is 60 ms.
    A subclass lists ``FIELDS``: (name, default) pairs in constructor order,
    ``REQUIRED`` for a field without a default.
    """

    __slots__ = ()
    FIELDS = ()

    def __init__(self, *args, **values):
        set_field = object.__setattr__
        if len(args) == len(self.FIELDS):  # every field by position (template options)
            for (name, _), value in zip(self.FIELDS, args):
                set_field(self, name, value)
            return
        if len(args) > len(self.FIELDS):
            raise TypeError(f"{type(self).__name__}() takes at most "
                            f"{len(self.FIELDS)} positional arguments")
        for (name, _), value in zip(self.FIELDS, args):
            if name in values:
                raise TypeError(f"{type(self).__name__}() got {name!r} twice")
            values[name] = value
        for name, default in self.FIELDS:
            value = values.pop(name, default)
            if value is REQUIRED:
                raise TypeError(f"{type(self).__name__}() needs {name!r}")
            set_field(self, name, value)
        if values:
            raise TypeError(f"{type(self).__name__}() has no field {next(iter(values))!r}")

    def _values(self):
        return tuple(getattr(self, name) for name, _ in self.FIELDS)

    def replace(self, **changes):
        """A copy with ``changes`` applied (``dataclasses.replace``)."""
        values = {name: getattr(self, name) for name, _ in self.FIELDS}
        values.update(changes)
        return type(self)(**values)

    def __eq__(self, other):
        if type(other) is not type(self):
            return NotImplemented
        return self._values() == other._values()

    def __hash__(self):
        return hash((type(self), self._values()))

    def __repr__(self):
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name, _ in self.FIELDS)
        return f"{type(self).__name__}({fields})"

    def __reduce__(self):  # copy and pickle: rebuilt through __init__, never setattr
        return type(self), self._values()

    def __setattr__(self, name, value):
        raise AttributeError(f"{type(self).__name__} is immutable: use .replace()")

    def __delattr__(self, name):
        raise AttributeError(f"{type(self).__name__} is immutable")
