"""Forms whose fields Django copies quickly.

Django gives each form instance its own copy of every declared field and widget: BaseForm.__init__ deep-copies
`base_fields`, and Field.__deepcopy__ and Widget.__deepcopy__ start with copy.copy. Two things make that slower than
it needs to be. Without a `__copy__` method, copy.copy goes the pickle protocol's way (__reduce_ex__, copyreg,
copy._reconstruct), several times the work of copying the instance's attributes, which is all it does for these
classes. And copy.deepcopy of the dict goes through deepcopy's dispatch (memo, type checks, keep-alive list) for each
field before reaching the field's own __deepcopy__. Checkout start builds four forms, some 25 fields and as many
widgets: about 0.6 M instructions of 15 (bench/README.md, "Tenth session").

A form class built on QuickCopyForm has, once when the class is defined:
- each field and widget given a subclass of its own class that adds only that `__copy__` (the same class name,
  attributes and behaviour; a class whose instances copy.copy would treat differently, with its own __reduce__,
  __getstate__, __setstate__ or __slots__, is left as it is);
- `base_fields` in a dict whose deep copy calls each field's own __deepcopy__ with the same memo, as deepcopy would.
tests/registrations/test_form_copies.py holds the copies to Django's own for every field of these forms.

What differs from Django's own classes: `type(field) is forms.CharField` is False (isinstance holds, and the class
name is the same: crispy-forms and Django's templates look at neither the identity nor the module), and such a field
cannot be pickled (its class is not importable by name); nothing here pickles a form or its fields.
"""

from functools import cache

from django import forms
from django.forms.forms import DeclarativeFieldsMetaclass


def _copy(self):
    copied = object.__new__(type(self))
    copied.__dict__.update(self.__dict__)
    return copied


_OWN_COPYING = ("__reduce__", "__reduce_ex__", "__getstate__", "__setstate__", "__copy__", "__slots__")


@cache
def quick_copy_class(cls: type) -> type:
    """cls with a `__copy__` that copies the instance's attributes, or cls itself when copy.copy does more for it."""
    if any(name in vars(klass) for klass in cls.__mro__[:-1] for name in _OWN_COPYING):
        return cls
    return type(cls.__name__, (cls,), {"__copy__": _copy, "__module__": cls.__module__, "__qualname__": cls.__qualname__})


class _Fields(dict):
    """base_fields, deep-copied field by field with each field's own __deepcopy__ (into a plain dict, as deepcopy's
    copy of a dict is)."""

    def __deepcopy__(self, memo):
        return {name: field.__deepcopy__(memo) for name, field in self.items()}


class _QuickCopyMetaclass(DeclarativeFieldsMetaclass):
    def __new__(mcs, name, bases, attrs):
        new_class = super().__new__(mcs, name, bases, attrs)
        for field in new_class.base_fields.values():
            field.__class__ = quick_copy_class(type(field))
            field.widget.__class__ = quick_copy_class(type(field.widget))
        new_class.base_fields = _Fields(new_class.base_fields)
        return new_class


class QuickCopyForm(forms.Form, metaclass=_QuickCopyMetaclass):
    """A Form whose per-instance copy of its fields is cheaper; otherwise Django's Form."""
