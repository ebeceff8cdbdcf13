"""Architecture registry: ``ARCHES`` (name -> Arch instance) and ``get_arch``.

A user-defined configuration is a subclass, e.g. arm64 without RCU table
freeing even when a design asks for it::

    class Arm64NoRcu(Arm64):
        name = "arm64-no-rcu"
        rcu_table_free_available = False
"""

from __future__ import annotations

from ...errors import UnknownName
from .arm import Arm64, ArmClassic, ArmLpae
from .base import FLAG_NAMES, Arch
from .powerpc import PowerPC
from .x86 import X86_64, X86_PAE

ARCHES: dict[str, Arch] = {a.name: a() for a in (
    X86_64, X86_PAE, ArmLpae, ArmClassic, Arm64, PowerPC)}


def get_arch(name: str | Arch) -> Arch:
    """The arch called ``name`` (an ``Arch`` instance is returned as is)."""
    if isinstance(name, Arch):
        return name
    if name not in ARCHES:
        raise UnknownName("arch", name, ARCHES)
    return ARCHES[name]


__all__ = ["ARCHES", "Arch", "FLAG_NAMES", "get_arch", "X86_64", "X86_PAE", "ArmLpae",
           "ArmClassic", "Arm64", "PowerPC"]
